//! Damped Newton–Krylov's CPU form: the Newton iteration with
//! backtracking on one run's arena, each correction by the hosted linear
//! solver's CPU form.

use std::cell::Cell;

use crate::backend::cpu::CpuForm;
use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::solvers::linear::{LinearOperator, LinearSolver};
use crate::backend::cpu::solvers::vector::{all_finite, copy, fill, norm};
use crate::memory::{BufferRegistry, Component, CpuAllocator, RunArena};
use crate::precision::Real;
use crate::solvers::{NewtonComponent, NewtonOutcome, NewtonStatus, SolverError};

/// The nonlinear system `G(x) = 0` of one implicit stage (or step).
///
/// The implicit steps implement it from the model: `G` from `dxdt`, the
/// Jacobian of `G` from the Jacobian-vector product and the symbolic
/// Jacobian. All slices have length `n`; outputs never overlap inputs.
pub trait NonlinearProblem<T: Real> {
    /// `out ← G(x)`.
    fn residual(&self, x: &[Cell<T>], out: &[Cell<T>]);

    /// `out ← G'(x) v`.
    fn jacobian_apply(&self, x: &[Cell<T>], v: &[Cell<T>], out: &[Cell<T>]);

    /// `out ← diag G'(x)` (for the `jacobi` preconditioner).
    fn jacobian_diagonal(&self, x: &[Cell<T>], out: &[Cell<T>]);

    /// `out ← G'(x)`, row-major (for the `lu` linear solver).
    fn jacobian_dense(&self, x: &[Cell<T>], out: &[Cell<T>]);
}

/// `G'(x)` as the linear solver's operator.
struct JacobianAt<'a, P: ?Sized, T> {
    problem: &'a P,
    x: &'a [Cell<T>],
}

impl<T: Real, P: NonlinearProblem<T> + ?Sized> LinearOperator<T> for JacobianAt<'_, P, T> {
    fn apply(&self, v: &[Cell<T>], out: &[Cell<T>]) {
        self.problem.jacobian_apply(self.x, v, out);
    }

    fn diagonal(&self, out: &[Cell<T>]) {
        self.problem.jacobian_diagonal(self.x, out);
    }

    fn dense(&self, out: &[Cell<T>]) {
        self.problem.jacobian_dense(self.x, out);
    }
}

impl CpuForm for NewtonComponent {
    type Form<T: JitReal> = NewtonKrylov<T>;
    type Error = SolverError;

    /// Resolves Newton's and the linear solver's buffers into handles on
    /// the run arena. Call it once the whole tree is registered and located.
    fn cpu<T: JitReal>(&self, reg: &BufferRegistry) -> Result<NewtonKrylov<T>, SolverError> {
        let h = |name: &str| reg.cpu_allocator::<T>(self.id(), name);
        Ok(NewtonKrylov {
            n: self.n(),
            tolerance: T::from_f64(self.settings().tolerance),
            max_iters: self.settings().max_iters,
            damping: T::from_f64(self.settings().damping),
            max_backtracks: self.settings().max_backtracks,
            delta: h("delta")?,
            residual: h("residual")?,
            residual_temp: h("residual_temp")?,
            stage_base_bt: h("stage_base_bt")?,
            linear: self.linear().cpu(reg)?,
        })
    }
}

/// A built Newton–Krylov solver. `Copy`, so a worker holds it by value.
#[derive(Debug, Clone, Copy)]
pub struct NewtonKrylov<T> {
    n: usize,
    tolerance: T,
    max_iters: u32,
    damping: T,
    max_backtracks: u32,
    delta: CpuAllocator<T>,
    residual: CpuAllocator<T>,
    residual_temp: CpuAllocator<T>,
    stage_base_bt: CpuAllocator<T>,
    linear: LinearSolver<T>,
}

impl<T: Real> NewtonKrylov<T> {
    /// Unknowns per system.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The hosted linear solver.
    pub fn linear(&self) -> &LinearSolver<T> {
        &self.linear
    }

    /// Solves `G(x) = 0` from the initial guess in `x` (length `n`, not
    /// overlapping the solver's buffers), leaving the last accepted
    /// iterate in `x`.
    pub fn solve<P: NonlinearProblem<T> + ?Sized>(
        &self,
        problem: &P,
        x: &[Cell<T>],
        arena: &RunArena<T>,
    ) -> NewtonOutcome {
        self.solve_with(problem, x, arena, 0)
    }

    /// As [`solve`](Self::solve), but takes at least `min_iters`
    /// iterations even when the initial guess already meets the
    /// tolerance. The implicit steps take one: a good predictor can meet an
    /// absolute tolerance without being accurate to it, and over many small
    /// steps those errors add up. An extra iteration that cannot lower an
    /// already converged residual (round-off) keeps the converged iterate.
    pub fn solve_with<P: NonlinearProblem<T> + ?Sized>(
        &self,
        problem: &P,
        x: &[Cell<T>],
        arena: &RunArena<T>,
        min_iters: u32,
    ) -> NewtonOutcome {
        let x = &x[..self.n];
        let delta = self.delta.view(arena);
        let residual = self.residual.view(arena);
        let trial = self.residual_temp.view(arena);
        let base = self.stage_base_bt.view(arena);
        let mut out = NewtonOutcome {
            status: NewtonStatus::Converged,
            iterations: 0,
            linear_iterations: 0,
            linear_limit_hit: false,
            non_finite: false,
        };

        problem.residual(x, residual);
        let mut norm_prev = norm(residual);
        if !norm_prev.is_finite() {
            out.status = NewtonStatus::Diverged;
            out.non_finite = true;
            return out;
        }
        while norm_prev > self.tolerance || out.iterations < min_iters {
            if out.iterations == self.max_iters {
                out.status = NewtonStatus::MaxIterations;
                return out;
            }
            out.iterations += 1;
            // Solve G'(x) δ = −G(x) from δ = 0.
            for r in residual {
                r.set(-r.get());
            }
            fill(delta, T::zero());
            let lin = self
                .linear
                .solve(&JacobianAt { problem, x }, residual, delta, arena);
            out.linear_iterations += lin.iterations;
            out.linear_limit_hit |= !lin.converged;

            // Backtrack: the first of α = 1, d, d², … that lowers ‖G‖.
            copy(x, base);
            let mut alpha = T::one();
            let mut accepted = false;
            let mut met_non_finite = false;
            for _ in 0..=self.max_backtracks {
                for ((xi, bi), di) in x.iter().zip(base).zip(delta) {
                    xi.set(bi.get() + alpha * di.get());
                }
                problem.residual(x, trial);
                let trial_norm = norm(trial);
                if trial_norm.is_finite() && all_finite(x) && trial_norm < norm_prev {
                    copy(trial, residual);
                    norm_prev = trial_norm;
                    accepted = true;
                    break;
                }
                met_non_finite |= !trial_norm.is_finite() || !all_finite(x);
                alpha = alpha * self.damping;
            }
            if !accepted {
                copy(base, x);
                if norm_prev > self.tolerance {
                    out.status = NewtonStatus::Diverged;
                    out.non_finite = met_non_finite;
                }
                return out;
            }
        }
        out
    }
}
