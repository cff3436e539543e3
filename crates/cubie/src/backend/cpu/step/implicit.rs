//! Plumbing shared by the implicit steps' CPU forms: the operator
//! `I − h·γ·J` built from the model, the nonlinear problem of one
//! diagonally implicit stage, and the mapping of solver outcomes to status
//! flags.

use std::cell::Cell;

use crate::backend::cpu::SystemCall;
use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::solvers::{LinearOperator, NonlinearProblem};
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
