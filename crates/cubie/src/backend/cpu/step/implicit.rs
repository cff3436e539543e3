//! Plumbing shared by the implicit steps' CPU forms: the operator
//! `I − h·γ·J` built from the model, the nonlinear problem of one
//! diagonally implicit stage, and the mapping of solver outcomes to status
//! flags. Everything covers a lane block: per-lane times and factors, and
//! only the lanes of a mask written.

use std::cell::Cell;

use crate::backend::cpu::SystemCall;
use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::solvers::vector::{map1, map2};
use crate::backend::cpu::solvers::{LinearOperator, NonlinearProblem};
use crate::memory::{LaneBuf, LaneMask, PerLane};
use crate::solvers::NewtonOutcome;
use crate::time_loop::Status;

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

/// Adds `by` to the counts of the lanes of `mask`.
#[inline]
pub(crate) fn count(counts: &Cell<PerLane<u32>>, mask: LaneMask, by: u32) {
    let mut c = counts.get();
    for l in mask.lanes() {
        c[l] += by;
    }
    counts.set(c);
}

/// `A = I − gh·J(t, state)` in every lane (its own `t`, `state` and
/// `gh`), matrix-free from the model's JVP; its diagonal and dense matrix
/// from the model's Jacobian functions.
pub(crate) struct ShiftedJacobian<'a, 'b, T: JitReal> {
    pub sys: &'a SystemCall<'b, T>,
    /// Each lane's time, as the model sees it.
    pub t: PerLane<f64>,
    pub state: LaneBuf<'a, T>,
    pub gh: PerLane<T>,
}

impl<T: JitReal> LinearOperator<T> for ShiftedJacobian<'_, '_, T> {
    fn apply(&self, v: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask) {
        self.sys.jvp(&self.t, self.state, v, out, mask);
        map2(v, out, out, mask, |_, l, v, o| v - self.gh[l] * o);
    }

    fn diagonal(&self, out: LaneBuf<'_, T>, mask: LaneMask) {
        self.sys.jacobian_diagonal(&self.t, self.state, out, mask);
        map1(out, out, mask, |_, l, o| T::one() - self.gh[l] * o);
    }

    fn dense(&self, out: LaneBuf<'_, T>, mask: LaneMask) {
        let n = self.state.len();
        self.sys.jacobian(&self.t, self.state, out, mask);
        map1(out, out, mask, |k, l, o| {
            let identity = if k / n == k % n { T::one() } else { T::zero() };
            identity - self.gh[l] * o
        });
    }
}

/// One diagonally implicit stage, in its increment `z`:
/// `G(z) = z − gh·f(t, base + z)`, with `G'(z) = I − gh·J(t, base + z)`.
/// `state` is scratch that receives `base + z`.
pub(crate) struct StageProblem<'a, 'b, T: JitReal> {
    pub sys: &'a SystemCall<'b, T>,
    /// Each lane's time, as the model sees it.
    pub t: PerLane<f64>,
    pub gh: PerLane<T>,
    pub base: LaneBuf<'a, T>,
    pub state: LaneBuf<'a, T>,
    /// Derivative evaluations made in each lane, for the step's report.
    pub evaluations: Cell<PerLane<u32>>,
}

impl<'a, 'b, T: JitReal> StageProblem<'a, 'b, T> {
    fn at(&self, z: LaneBuf<'_, T>, mask: LaneMask) -> ShiftedJacobian<'a, 'b, T> {
        map2(self.base, z, self.state, mask, |_, _, b, z| b + z);
        ShiftedJacobian {
            sys: self.sys,
            t: self.t,
            state: self.state,
            gh: self.gh,
        }
    }
}

impl<T: JitReal> NonlinearProblem<T> for StageProblem<'_, '_, T> {
    fn residual(&self, z: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask) {
        self.at(z, mask);
        count(&self.evaluations, mask, 1);
        self.sys.dxdt(&self.t, self.state, out, mask);
        map2(z, out, out, mask, |_, l, z, o| z - self.gh[l] * o);
    }

    fn jacobian_apply(
        &self,
        z: LaneBuf<'_, T>,
        v: LaneBuf<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    ) {
        self.at(z, mask).apply(v, out, mask);
    }

    fn jacobian_diagonal(&self, z: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask) {
        self.at(z, mask).diagonal(out, mask);
    }

    fn jacobian_dense(&self, z: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask) {
        self.at(z, mask).dense(out, mask);
    }
}
