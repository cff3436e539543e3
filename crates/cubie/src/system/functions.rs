//! The functions a model provides to the solver, as roots in one shared
//! expression graph. This is the contract between the model front-end
//! (which builds the roots) and each lowering (native JIT, CUDA C), which
//! turns every [`SystemFunction`] into code with one calling convention:
//!
//! ```text
//! fn(t, state, parameters, drivers, driver_rates, direction, out)
//! ```
//!
//! where `out` receives one value per root, in order.

use serde::Serialize;

use super::expr::{ExprGraph, ExprId};

/// One generated function of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemFunction {
    /// `f(t, x)`: one derivative per state.
    Dxdt,
    /// The observables (auxiliaries saved like states), one per observable.
    Observables,
    /// `J(t, x) * v`, one entry per state; `v` is the `direction` input.
    Jvp,
    /// `df/dt` at fixed state, including drivers through the chain rule
    /// (`driver_rates` holds each driver's time derivative).
    Dfdt,
    /// The dense Jacobian `df_i/dx_j`, row-major (`n_states * n_states`).
    Jacobian,
}

impl SystemFunction {
    /// Every function, in a fixed order.
    pub const ALL: [SystemFunction; 5] = [
        SystemFunction::Dxdt,
        SystemFunction::Observables,
        SystemFunction::Jvp,
        SystemFunction::Dfdt,
        SystemFunction::Jacobian,
    ];

    /// A short name for generated symbols and messages.
    pub fn name(self) -> &'static str {
        match self {
            SystemFunction::Dxdt => "dxdt",
            SystemFunction::Observables => "observables",
            SystemFunction::Jvp => "jvp",
            SystemFunction::Dfdt => "dfdt",
            SystemFunction::Jacobian => "jacobian",
        }
    }
}

/// A model's functions: one graph and the roots of each function.
#[derive(Debug, Clone, Default)]
pub struct SystemFunctions {
    /// The graph every root lives in (shared subexpressions are computed
    /// once per generated function).
    pub graph: ExprGraph,
    /// Number of states.
    pub n_states: usize,
    /// Number of parameters.
    pub n_parameters: usize,
    /// Number of drivers.
    pub n_drivers: usize,
    /// Roots of `dxdt` (`n_states`).
    pub dxdt: Vec<ExprId>,
    /// Roots of the observables.
    pub observables: Vec<ExprId>,
    /// Roots of `J * v` (`n_states`).
    pub jvp: Vec<ExprId>,
    /// Roots of `df/dt` (`n_states`).
    pub dfdt: Vec<ExprId>,
    /// Roots of the dense Jacobian, row-major (`n_states * n_states`).
    pub jacobian: Vec<ExprId>,
}

impl SystemFunctions {
    /// The roots of one function.
    pub fn roots(&self, function: SystemFunction) -> &[ExprId] {
        match function {
            SystemFunction::Dxdt => &self.dxdt,
            SystemFunction::Observables => &self.observables,
            SystemFunction::Jvp => &self.jvp,
            SystemFunction::Dfdt => &self.dfdt,
            SystemFunction::Jacobian => &self.jacobian,
        }
    }

    /// Number of observables.
    pub fn n_observables(&self) -> usize {
        self.observables.len()
    }
}
