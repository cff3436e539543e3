//! The fully implicit step's CPU form (see [`crate::step::FirkStep`]).

use std::cell::Cell;

use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::solvers::{LinearSolver, NewtonKrylov, NonlinearProblem};
use crate::backend::cpu::{CpuForm, SystemCall};
use crate::memory::{BufferRegistry, CpuAllocator, RunArena};
use crate::step::{FirkStep, StepError};
use crate::time_loop::Status;

use super::implicit::{ShiftedJacobian, copy, newton_status};
use super::{CpuStep, StepIo, StepReport};

impl CpuForm for FirkStep {
    type Form<T: JitReal> = FirkCpu<T>;
    type Error = StepError;

    /// The CPU form.
    fn cpu<T: JitReal>(&self, registry: &BufferRegistry) -> Result<FirkCpu<T>, StepError> {
        let t = &self.tableau;
        let alloc = |name| registry.cpu_allocator::<T>(self.id, name);
        let r = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
        let error_weights = self.error_weights().map(|w| r(&w));
        let filter = match &self.filter {
            Some(f) => Some(f.cpu(registry)?),
            None => None,
        };
        Ok(FirkCpu {
            n: self.n,
            a: t.a.iter().map(|row| r(row)).collect(),
            c: t.c.clone(),
            solution_weights: r(&self.solution_weights()),
            error_weights,
            gamma0: T::from_f64(t.b_hat_start),
            newton: self.newton.cpu(registry)?,
            filter,
            stage_increment: alloc("stage_increment")?,
            stage_rhs: alloc("stage_rhs")?,
            stage_state: alloc("stage_state")?,
            start_rhs: alloc("start_rhs")?,
            jacobian_scratch: alloc("jacobian_scratch")?,
        })
    }
}

/// The FIRK step's CPU form.
#[derive(Debug, Clone)]
pub struct FirkCpu<T: JitReal> {
    n: usize,
    a: Vec<Vec<T>>,
    c: Vec<f64>,
    solution_weights: Vec<T>,
    error_weights: Option<Vec<T>>,
    gamma0: T,
    newton: NewtonKrylov<T>,
    filter: Option<LinearSolver<T>>,
    stage_increment: CpuAllocator<T>,
    stage_rhs: CpuAllocator<T>,
    stage_state: CpuAllocator<T>,
    start_rhs: CpuAllocator<T>,
    jacobian_scratch: CpuAllocator<T>,
}

/// The coupled stage system `G(Z)_i = Z_i − h Σ_j a_ij f(t_j, y + Z_j)`.
struct CoupledStages<'a, 'b, T: JitReal> {
    sys: &'a SystemCall<'b, T>,
    n: usize,
    h: T,
    a: &'a [Vec<T>],
    t: Vec<T>,
    y: &'a [Cell<T>],
    state: &'a [Cell<T>],
    per_stage: &'a [Cell<T>],
    jac: &'a [Cell<T>],
    evaluations: Cell<u32>,
}

impl<T: JitReal> CoupledStages<'_, '_, T> {
    fn set_state(&self, z: &[Cell<T>], j: usize) {
        let n = self.n;
        for ((s, y), zj) in self.state.iter().zip(self.y).zip(&z[j * n..(j + 1) * n]) {
            s.set(y.get() + zj.get());
        }
    }

    /// `out_i = x_i − h Σ_j a_ij w_j` with `w` in `per_stage`.
    fn combine(&self, x: &[Cell<T>], out: &[Cell<T>]) {
        let n = self.n;
        for (i, row) in self.a.iter().enumerate() {
            for e in 0..n {
                let mut v = T::zero();
                for (j, &aij) in row.iter().enumerate() {
                    v = v + aij * self.per_stage[j * n + e].get();
                }
                out[i * n + e].set(x[i * n + e].get() - self.h * v);
            }
        }
    }
}

impl<T: JitReal> NonlinearProblem<T> for CoupledStages<'_, '_, T> {
    fn residual(&self, z: &[Cell<T>], out: &[Cell<T>]) {
        let n = self.n;
        for j in 0..self.a.len() {
            self.set_state(z, j);
            self.sys.dxdt(
                self.t[j].to_f64(),
                self.state,
                &self.per_stage[j * n..(j + 1) * n],
            );
        }
        self.evaluations
            .set(self.evaluations.get() + self.a.len() as u32);
        self.combine(z, out);
    }

    fn jacobian_apply(&self, z: &[Cell<T>], v: &[Cell<T>], out: &[Cell<T>]) {
        let n = self.n;
        for j in 0..self.a.len() {
            self.set_state(z, j);
            self.sys.jvp(
                self.t[j].to_f64(),
                self.state,
                &v[j * n..(j + 1) * n],
                &self.per_stage[j * n..(j + 1) * n],
            );
        }
        self.combine(v, out);
    }

    fn jacobian_diagonal(&self, z: &[Cell<T>], out: &[Cell<T>]) {
        let n = self.n;
        for (i, row) in self.a.iter().enumerate() {
            self.set_state(z, i);
            self.sys
                .jacobian_diagonal(self.t[i].to_f64(), self.state, &self.jac[..n]);
            for e in 0..n {
                out[i * n + e].set(T::one() - self.h * row[i] * self.jac[e].get());
            }
        }
    }

    fn jacobian_dense(&self, z: &[Cell<T>], out: &[Cell<T>]) {
        let n = self.n;
        let s = self.a.len();
        let big = s * n;
        for j in 0..s {
            self.set_state(z, j);
            self.sys.jacobian(self.t[j].to_f64(), self.state, self.jac);
            for (i, row) in self.a.iter().enumerate() {
                for r in 0..n {
                    for c in 0..n {
                        let identity = if i == j && r == c {
                            T::one()
                        } else {
                            T::zero()
                        };
                        out[(i * n + r) * big + j * n + c]
                            .set(identity - self.h * row[j] * self.jac[r * n + c].get());
                    }
                }
            }
        }
    }
}

impl<T: JitReal> CpuStep<T> for FirkCpu<T> {
    fn step(&self, sys: &SystemCall<'_, T>, arena: &RunArena<T>, io: &StepIo<'_, T>) -> StepReport {
        let n = self.n;
        let h = io.dt;
        let h64 = h.to_f64();
        let z = self.stage_increment.view(arena);
        let f0 = self.start_rhs.view(arena);
        let state = self.stage_state.view(arena);
        let jac = self.jacobian_scratch.view(arena);
        let mut status = Status::SUCCESS;

        // Explicit Euler predictor for every stage: Z_i = c_i h f(t, y).
        sys.dxdt(io.t, io.state, f0);
        for (i, &ci) in self.c.iter().enumerate() {
            let g = h * T::from_f64(ci);
            for (zi, fe) in z[i * n..(i + 1) * n].iter().zip(f0.iter()) {
                zi.set(g * fe.get());
            }
        }
        let problem = CoupledStages {
            sys,
            n,
            h,
            a: &self.a,
            t: self
                .c
                .iter()
                .map(|&c| T::from_f64(io.t + c * h64))
                .collect(),
            y: io.state,
            state,
            per_stage: self.stage_rhs.view(arena),
            jac,
            evaluations: Cell::new(1),
        };
        let outcome = self.newton.solve_with(&problem, z, arena, 1);
        let evaluations = problem.evaluations.get();
        let newton_iterations = outcome.iterations;
        status.insert(newton_status(&outcome));
        if !status.is_success() {
            copy(io.state, io.proposed);
            return StepReport {
                status,
                evaluations,
                newton_iterations,
            };
        }
        let combine = |w: &[T], e: usize| {
            w.iter()
                .enumerate()
                .fold(T::zero(), |acc, (j, &wj)| acc + wj * z[j * n + e].get())
        };
        for (e, p) in io.proposed.iter().enumerate() {
            p.set(io.state[e].get() + combine(&self.solution_weights, e));
        }
        if let (Some(w), false) = (&self.error_weights, io.error.is_empty()) {
            let g = h * self.gamma0;
            // The unfiltered estimate goes to `stage_state`, the filter's
            // right-hand side (which the solve clobbers).
            for (e, s) in state.iter().enumerate() {
                s.set(combine(w, e) - g * f0[e].get());
            }
            copy(state, io.error);
            if let Some(filter) = &self.filter {
                let op = ShiftedJacobian {
                    sys,
                    t: T::from_f64(io.t),
                    state: io.state,
                    gh: g,
                };
                let lin = filter.solve(&op, state, io.error, arena);
                if !lin.converged {
                    status.insert(Status::MAX_LINEAR_ITERATIONS);
                }
            }
        }
        StepReport {
            status,
            evaluations,
            newton_iterations,
        }
    }
}
