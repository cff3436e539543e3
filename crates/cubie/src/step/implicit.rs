//! The implicit steps' Newton and linear-solver settings and their
//! tolerance defaults.
//!
//! # Tolerance defaults
//! Newton and the Krylov solvers stop on an absolute residual norm. The
//! implicit steps solve for stage *increments* (`z = Y − base`), whose
//! residual `z − hγ f(base + z)` is small and rounds at the scale of the
//! increment, not of the state. When the user gives no `newton_tolerance`:
//! - adaptive solves: `newton_tolerance = max(floor, 0.01 · min(atol, rtol))`;
//! - fixed-step solves: `newton_tolerance = floor`;
//!
//! with `floor = 4e-6` in f32 and `1e-12` in f64 (just above round-off of
//! increments of order one). When no `krylov_tolerance` is given it is
//! `max(floor / 4, 0.1 · newton_tolerance)`, so inexact corrections do not
//! slow Newton down. Newton always takes at least one iteration, so a good
//! predictor that already meets the tolerance is still refined.
//!
//! The default `linear_solver` is `lu` for systems of up to
//! [`DENSE_DEFAULT_MAX_STATES`] states and CuBIE's `minimal_residual`
//! (with its Neumann preconditioner) above. A one-dimensional projection
//! stalls when `I − hγJ` is far from the identity and not positive definite
//! (large steps on unstable or oscillatory dynamics, the usual case for
//! stiff solvers), while a dense LU of a small matrix is cheap and exact.
//! Everything else keeps CuBIE's defaults.

use crate::Precision;
use crate::controllers::ControllerSettings;
use crate::settings::SettingsMap;
use crate::solvers::{
    LinearSolverKind, LinearSolverSettings, NewtonSettings, PreconditionerKind, SolverError,
};

/// Up to this many states the implicit steps default to the dense `lu`
/// linear solver.
pub const DENSE_DEFAULT_MAX_STATES: usize = 32;

/// The Newton and linear-solver settings of an implicit step, after
/// defaults and the user's named settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImplicitSolverSettings {
    /// Newton's settings.
    pub newton: NewtonSettings,
    /// The linear solver's settings.
    pub linear: LinearSolverSettings,
}

impl ImplicitSolverSettings {
    /// The defaults described in the module documentation for a solve in
    /// `precision` whose controller tolerance is `tolerance` (`None` for a
    /// fixed-step solve), overridden by the keys given in `map` (which are
    /// thereby declared known).
    pub fn resolve(
        map: &SettingsMap,
        precision: Precision,
        n_states: usize,
        tolerance: Option<f64>,
    ) -> Result<Self, SolverError> {
        let floor = match precision {
            Precision::F32 => 4e-6,
            Precision::F64 => 1e-12,
        };
        let newton_tol = tolerance.map_or(floor, |t| (0.01 * t).max(floor));
        let newton = NewtonSettings {
            tolerance: newton_tol,
            ..NewtonSettings::default()
        }
        .updated_from(map)?;
        let kind = if n_states <= DENSE_DEFAULT_MAX_STATES {
            LinearSolverKind::Lu
        } else {
            LinearSolverKind::MinimalResidual
        };
        let linear = LinearSolverSettings {
            kind,
            krylov_tolerance: (0.1 * newton.tolerance).max(floor / 4.0),
            ..LinearSolverSettings::default()
        }
        .updated_from(map)?;
        Ok(ImplicitSolverSettings { newton, linear })
    }

    /// [`resolve`](Self::resolve) with the tolerance of `controller`.
    pub fn for_controller(
        map: &SettingsMap,
        precision: Precision,
        n_states: usize,
        controller: &ControllerSettings,
    ) -> Result<Self, SolverError> {
        let tolerance = controller.kind.is_adaptive().then(|| {
            controller
                .atol
                .values()
                .iter()
                .chain(controller.rtol.values())
                .copied()
                .fold(f64::INFINITY, f64::min)
        });
        Self::resolve(map, precision, n_states, tolerance)
    }

    /// Whether the operator's dense matrix is needed (the `lu` solver).
    pub fn needs_dense_jacobian(&self) -> bool {
        self.linear.kind == LinearSolverKind::Lu
    }

    /// Whether the model's Jacobian is read at all: the dense matrix for
    /// `lu`, its diagonal for the `jacobi` preconditioner.
    pub fn needs_jacobian(&self) -> bool {
        self.needs_dense_jacobian() || self.linear.preconditioner == PreconditionerKind::Jacobi
    }
}
