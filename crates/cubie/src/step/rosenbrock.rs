//! Rosenbrock(-W) steps: no Newton iteration, one linear solve per stage
//! with the step's own linear solver (the child `linear_solver`), in the
//! transformed form of [`RosenbrockTableau`]:
//!
//! ```text
//! (I − hγJ) U_i = hγ [ f(t + c_i h, y + Σ_{j<i} a_ij U_j) + Σ_{j<i} (C_ij/h) U_j + hγ_i ∂f/∂t ]
//! ```
//!
//! with `J` and `∂f/∂t` at the start of the step (`∂f/∂t` includes the
//! drivers through their interpolants' rates). Each solve starts from
//! `U_i = hγ·rhs`, the solution when `J = 0`.
//!
//! Buffers: `stage_increments` (s·n), `stage_state` (n), `stage_rhs` (n;
//! the linear solver clobbers it), and `time_derivative` (n); the drivers'
//! rates come from the loop's `driver_rates`.

use crate::memory::{BufferRegistry, BufferSpec, Component, ComponentId};
use crate::solvers::{LinearSolverComponent, LinearSolverSpec};

use super::StepError;
use super::implicit::ImplicitSolverSettings;
use super::implicit_tableaus::rosenbrock::RosenbrockTableau;

/// The Rosenbrock step component.
#[derive(Debug, Clone)]
pub struct RosenbrockStep {
    pub(crate) id: ComponentId,
    pub(crate) n: usize,
    pub(crate) tableau: RosenbrockTableau,
    pub(crate) linear: LinearSolverComponent,
}

impl RosenbrockStep {
    /// Registers the step's buffers and its linear solver.
    pub fn register(
        registry: &mut BufferRegistry,
        id: ComponentId,
        tableau: &RosenbrockTableau,
        n: usize,
        solver: ImplicitSolverSettings,
    ) -> Result<Self, StepError> {
        let s = tableau.stages();
        registry.register(id, BufferSpec::shared("stage_increments", s * n))?;
        registry.register(id, BufferSpec::shared("stage_state", n))?;
        registry.register(id, BufferSpec::shared("stage_rhs", n))?;
        registry.register(id, BufferSpec::shared("time_derivative", n))?;
        let linear = LinearSolverComponent::register(
            registry,
            Some(id),
            LinearSolverSpec {
                n,
                settings: solver.linear,
            },
        )?;
        Ok(RosenbrockStep {
            id,
            n,
            tableau: tableau.clone(),
            linear,
        })
    }
}
