//! Plumbing shared by the implicit steps: the solver settings and their
//! tolerance defaults, the operator `I − h·γ·J` built from the model, the
//! nonlinear problem of one diagonally implicit stage, and the mapping of
//! solver outcomes to status flags.
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

use std::cell::Cell;

use crate::Precision;
use crate::controllers::ControllerSettings;
use crate::settings::SettingsMap;
use crate::solvers::{
    LinearOperator, LinearSolverKind, LinearSolverSettings, NewtonOutcome, NewtonSettings,
    NonlinearProblem, PreconditionerKind, SolverError,
};
use crate::system::jit::JitReal;
use crate::time_loop::Status;

use super::SystemCall;

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

/// The status flags of a Newton solve: none when it converged, else the
/// Newton flag, the linear flag too when some correction's linear solve
/// hit its limit, and the non-finite flag when a non-finite residual or
/// iterate made it fail.
pub(crate) fn newton_status(outcome: &NewtonOutcome) -> Status {
    if outcome.converged() {
        return Status::SUCCESS;
    }
    let mut status = Status::MAX_NEWTON_ITERATIONS;
    if outcome.linear_limit_hit {
        status.insert(Status::MAX_LINEAR_ITERATIONS);
    }
    if outcome.non_finite {
        status.insert(Status::NON_FINITE_STATE);
    }
    status
}

/// `A = I − gh·J(t, state)`, matrix-free from the model's JVP; its
/// diagonal and dense matrix from the model's Jacobian functions.
pub(crate) struct ShiftedJacobian<'a, 'b, T: JitReal> {
    pub sys: &'a SystemCall<'b, T>,
    pub t: T,
    pub state: &'a [Cell<T>],
    pub gh: T,
}

impl<T: JitReal> LinearOperator<T> for ShiftedJacobian<'_, '_, T> {
    fn apply(&self, v: &[Cell<T>], out: &[Cell<T>]) {
        self.sys.jvp(self.t.to_f64(), self.state, v, out);
        for (o, vi) in out.iter().zip(v) {
            o.set(vi.get() - self.gh * o.get());
        }
    }

    fn diagonal(&self, out: &[Cell<T>]) {
        self.sys.jacobian_diagonal(self.t.to_f64(), self.state, out);
        for o in out {
            o.set(T::one() - self.gh * o.get());
        }
    }

    fn dense(&self, out: &[Cell<T>]) {
        let n = self.state.len();
        self.sys.jacobian(self.t.to_f64(), self.state, out);
        for (k, o) in out.iter().enumerate() {
            let identity = if k / n == k % n { T::one() } else { T::zero() };
            o.set(identity - self.gh * o.get());
        }
    }
}

/// One diagonally implicit stage, in its increment `z`:
/// `G(z) = z − gh·f(t, base + z)`, with `G'(z) = I − gh·J(t, base + z)`.
/// `state` is scratch that receives `base + z`.
pub(crate) struct StageProblem<'a, 'b, T: JitReal> {
    pub sys: &'a SystemCall<'b, T>,
    pub t: T,
    pub gh: T,
    pub base: &'a [Cell<T>],
    pub state: &'a [Cell<T>],
    /// Derivative evaluations made, for the step's report.
    pub evaluations: Cell<u32>,
}

impl<'a, 'b, T: JitReal> StageProblem<'a, 'b, T> {
    fn at(&self, z: &[Cell<T>]) -> ShiftedJacobian<'a, 'b, T> {
        for ((s, b), zi) in self.state.iter().zip(self.base).zip(z) {
            s.set(b.get() + zi.get());
        }
        ShiftedJacobian {
            sys: self.sys,
            t: self.t,
            state: self.state,
            gh: self.gh,
        }
    }
}

impl<T: JitReal> NonlinearProblem<T> for StageProblem<'_, '_, T> {
    fn residual(&self, z: &[Cell<T>], out: &[Cell<T>]) {
        self.at(z);
        self.evaluations.set(self.evaluations.get() + 1);
        self.sys.dxdt(self.t.to_f64(), self.state, out);
        for (o, zi) in out.iter().zip(z) {
            o.set(zi.get() - self.gh * o.get());
        }
    }

    fn jacobian_apply(&self, z: &[Cell<T>], v: &[Cell<T>], out: &[Cell<T>]) {
        self.at(z).apply(v, out);
    }

    fn jacobian_diagonal(&self, z: &[Cell<T>], out: &[Cell<T>]) {
        self.at(z).diagonal(out);
    }

    fn jacobian_dense(&self, z: &[Cell<T>], out: &[Cell<T>]) {
        self.at(z).dense(out);
    }
}

/// `dst ← src`.
#[inline]
pub(crate) fn copy<T: Copy>(src: &[Cell<T>], dst: &[Cell<T>]) {
    for (d, s) in dst.iter().zip(src) {
        d.set(s.get());
    }
}
