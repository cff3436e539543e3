//! Damped Newton–Krylov's CPU form: the Newton iteration with
//! backtracking on a lane block's arena, each correction by the hosted
//! linear solver's CPU form.
//!
//! Every lane of the solve's mask runs its own iteration, exactly as the
//! solve of its run alone would (per-lane norms, step lengths and
//! counts). Lanes leave as they converge or fail; the others go on, and a
//! lane that has left sees no further writes to its `x` or outcome.

use crate::backend::cpu::CpuForm;
use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::solvers::linear::{LinearOperator, LinearSolver};
use crate::backend::cpu::solvers::vector::{all_finite, copy, fill, map1, map2, norm, splat};
use crate::memory::{
    BufferRegistry, Component, CpuAllocator, LaneBuf, LaneMask, PerLane, RunArena,
};
use crate::precision::Real;
use crate::solvers::{NewtonComponent, NewtonOutcome, NewtonStatus, SolverError};

/// The nonlinear system `G(x) = 0` of one implicit stage (or step), one
/// per lane of a block.
///
/// The implicit steps implement it from the model: `G` from `dxdt`, the
/// Jacobian of `G` from the Jacobian-vector product and the symbolic
/// Jacobian. Buffers are lane blocks of `n` elements per lane (the dense
/// Jacobian `n²`); outputs never overlap inputs. Every method writes only
/// the lanes of `mask` of `out` (and of any scratch it uses).
pub trait NonlinearProblem<T: Real> {
    /// `out ← G(x)` in the lanes of `mask`.
    fn residual(&self, x: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask);

    /// `out ← G'(x) v` in the lanes of `mask`.
    fn jacobian_apply(
        &self,
        x: LaneBuf<'_, T>,
        v: LaneBuf<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    );

    /// `out ← diag G'(x)` in the lanes of `mask` (for the `jacobi`
    /// preconditioner).
    fn jacobian_diagonal(&self, x: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask);

    /// `out ← G'(x)`, row-major, in the lanes of `mask` (for the `lu`
    /// linear solver).
    fn jacobian_dense(&self, x: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask);
}

/// `G'(x)` as the linear solver's operator.
struct JacobianAt<'a, 'x, P: ?Sized, T> {
    problem: &'a P,
    x: LaneBuf<'x, T>,
}

impl<T: Real, P: NonlinearProblem<T> + ?Sized> LinearOperator<T> for JacobianAt<'_, '_, P, T> {
    fn apply(&self, v: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask) {
        self.problem.jacobian_apply(self.x, v, out, mask);
    }

    fn diagonal(&self, out: LaneBuf<'_, T>, mask: LaneMask) {
        self.problem.jacobian_diagonal(self.x, out, mask);
    }

    fn dense(&self, out: LaneBuf<'_, T>, mask: LaneMask) {
        self.problem.jacobian_dense(self.x, out, mask);
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

/// A fresh outcome: converged after no iteration.
const START: NewtonOutcome = NewtonOutcome {
    status: NewtonStatus::Converged,
    iterations: 0,
    linear_iterations: 0,
    linear_limit_hit: false,
    non_finite: false,
};

impl<T: Real> NewtonKrylov<T> {
    /// Unknowns per system.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The hosted linear solver.
    pub fn linear(&self) -> &LinearSolver<T> {
        &self.linear
    }

    /// Solves `G(x) = 0` in every lane of `mask` from the initial guess
    /// in `x` (a block of the arena's width with at least `n` elements,
    /// not overlapping the solver's buffers), leaving each lane's last
    /// accepted iterate in `x`. Returns each lane's outcome (those of
    /// lanes outside `mask` are meaningless); lanes outside `mask` are not
    /// touched.
    pub fn solve<P: NonlinearProblem<T> + ?Sized>(
        &self,
        problem: &P,
        x: LaneBuf<'_, T>,
        arena: &RunArena<T>,
        mask: LaneMask,
    ) -> PerLane<NewtonOutcome> {
        self.solve_with(problem, x, arena, mask, 0)
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
        x: LaneBuf<'_, T>,
        arena: &RunArena<T>,
        mask: LaneMask,
        min_iters: u32,
    ) -> PerLane<NewtonOutcome> {
        let x = x.first(self.n);
        let w = x.width();
        let delta = self.delta.view(arena);
        let residual = self.residual.view(arena);
        let trial = self.residual_temp.view(arena);
        let base = self.stage_base_bt.view(arena);
        let mut out = splat(START);

        problem.residual(x, residual, mask);
        let mut norm_prev = norm(residual);
        // The lanes still iterating.
        let mut live = mask;
        for l in mask.lanes() {
            if !norm_prev[l].is_finite() {
                out[l].status = NewtonStatus::Diverged;
                out[l].non_finite = true;
                live.remove(l);
            }
        }
        let mut alpha = splat(T::one());
        loop {
            for l in live.lanes() {
                if !(norm_prev[l] > self.tolerance || out[l].iterations < min_iters) {
                    live.remove(l); // converged
                } else if out[l].iterations == self.max_iters {
                    out[l].status = NewtonStatus::MaxIterations;
                    live.remove(l);
                }
            }
            if live.is_empty() {
                return out;
            }
            for l in live.lanes() {
                out[l].iterations += 1;
            }
            // Solve G'(x) δ = −G(x) from δ = 0.
            map1(residual, residual, live, |_, _, r| -r);
            fill(delta, T::zero(), live);
            let lin = self
                .linear
                .solve(&JacobianAt { problem, x }, residual, delta, arena, live);
            for l in live.lanes() {
                out[l].linear_iterations += lin[l].iterations;
                out[l].linear_limit_hit |= !lin[l].converged;
            }

            // Backtrack: the first of α = 1, d, d², … that lowers ‖G‖.
            copy(x, base, live);
            for a in alpha.iter_mut().take(w) {
                *a = T::one();
            }
            // The lanes still searching, and those that met a non-finite
            // trial.
            let mut searching = live;
            let mut met_non_finite = LaneMask::NONE;
            for _ in 0..=self.max_backtracks {
                if searching.is_empty() {
                    break;
                }
                map2(base, delta, x, searching, |_, l, b, d| b + alpha[l] * d);
                problem.residual(x, trial, searching);
                let trial_norm = norm(trial);
                let finite_x = all_finite(x, searching);
                let mut accepted = LaneMask::NONE;
                for l in searching.lanes() {
                    let finite = trial_norm[l].is_finite() && finite_x.contains(l);
                    if finite && trial_norm[l] < norm_prev[l] {
                        norm_prev[l] = trial_norm[l];
                        accepted.insert(l);
                    } else {
                        if !finite {
                            met_non_finite.insert(l);
                        }
                        alpha[l] = alpha[l] * self.damping;
                    }
                }
                copy(trial, residual, accepted);
                searching = searching.without(accepted);
            }
            // No step length lowered the residual: back to the last iterate.
            copy(base, x, searching);
            for l in searching.lanes() {
                if norm_prev[l] > self.tolerance {
                    out[l].status = NewtonStatus::Diverged;
                    out[l].non_finite = met_non_finite.contains(l);
                }
                live.remove(l);
            }
        }
    }
}
