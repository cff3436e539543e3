//! The Rosenbrock step's CPU form (see [`crate::step::RosenbrockStep`]).

use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::solvers::LinearSolver;
use crate::backend::cpu::{CpuForm, SystemCall};
use crate::memory::{BufferRegistry, CpuAllocator, RunArena};
use crate::step::{RosenbrockStep, StepError};
use crate::time_loop::Status;

use super::implicit::ShiftedJacobian;
use super::{CpuStep, StepIo, StepReport};

impl CpuForm for RosenbrockStep {
    type Form<T: JitReal> = RosenbrockCpu<T>;
    type Error = StepError;

    /// The CPU form.
    fn cpu<T: JitReal>(&self, registry: &BufferRegistry) -> Result<RosenbrockCpu<T>, StepError> {
        let t = &self.tableau;
        let alloc = |name| registry.cpu_allocator::<T>(self.id, name);
        let r = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
        Ok(RosenbrockCpu {
            n: self.n,
            a: t.a.iter().map(|row| r(row)).collect(),
            c_matrix: t.c_matrix.iter().map(|row| r(row)).collect(),
            gamma: T::from_f64(t.gamma),
            gamma_stages: r(&t.gamma_stages),
            b: r(&t.b),
            error_weights: t.error_weights().map(|w| r(&w)),
            c: t.c.clone(),
            linear: self.linear.cpu(registry)?,
            stage_increments: alloc("stage_increments")?,
            stage_state: alloc("stage_state")?,
            stage_rhs: alloc("stage_rhs")?,
            time_derivative: alloc("time_derivative")?,
        })
    }
}

/// The Rosenbrock step's CPU form.
#[derive(Debug, Clone)]
pub struct RosenbrockCpu<T: JitReal> {
    n: usize,
    a: Vec<Vec<T>>,
    c_matrix: Vec<Vec<T>>,
    gamma: T,
    gamma_stages: Vec<T>,
    b: Vec<T>,
    error_weights: Option<Vec<T>>,
    c: Vec<f64>,
    linear: LinearSolver<T>,
    stage_increments: CpuAllocator<T>,
    stage_state: CpuAllocator<T>,
    stage_rhs: CpuAllocator<T>,
    time_derivative: CpuAllocator<T>,
}

impl<T: JitReal> CpuStep<T> for RosenbrockCpu<T> {
    fn step(&self, sys: &SystemCall<'_, T>, arena: &RunArena<T>, io: &StepIo<'_, T>) -> StepReport {
        let n = self.n;
        let h = io.dt;
        let h64 = h.to_f64();
        let u = self.stage_increments.view(arena);
        let state = self.stage_state.view(arena);
        let rhs = self.stage_rhs.view(arena);
        let ft = self.time_derivative.view(arena);
        let mut status = Status::SUCCESS;
        let mut evaluations = 0u32;
        let t0 = T::from_f64(io.t);
        let gh = h * self.gamma;
        sys.dfdt(io.t, io.state, ft);
        let op = ShiftedJacobian {
            sys,
            t: t0,
            state: io.state,
            gh,
        };
        for i in 0..self.b.len() {
            for (e, s) in state.iter().enumerate() {
                let mut v = io.state[e].get();
                for (j, &aij) in self.a[i][..i].iter().enumerate() {
                    if aij != T::zero() {
                        v = v + aij * u[j * n + e].get();
                    }
                }
                s.set(v);
            }
            sys.dxdt(io.t + self.c[i] * h64, state, rhs);
            evaluations += 1;
            let ui = &u[i * n..(i + 1) * n];
            let g_t = h * self.gamma_stages[i];
            for (e, r) in rhs.iter().enumerate() {
                let mut v = r.get() + g_t * ft[e].get();
                for (j, &cij) in self.c_matrix[i][..i].iter().enumerate() {
                    if cij != T::zero() {
                        v = v + (cij / h) * u[j * n + e].get();
                    }
                }
                let v = gh * v;
                r.set(v);
                ui[e].set(v);
            }
            // A non-finite derivative (or time derivative) is no linear
            // solver's failure: report it as such, the state unchanged.
            let finite = rhs.iter().all(|v| v.get().is_finite());
            let outcome = if finite {
                Some(self.linear.solve(&op, rhs, ui, arena))
            } else {
                None
            };
            if outcome.as_ref().is_none_or(|o| !o.converged) {
                match outcome {
                    None => status.insert(Status::NON_FINITE_STATE),
                    Some(_) => status.insert(Status::MAX_LINEAR_ITERATIONS),
                }
                if ui.iter().any(|v| !v.get().is_finite()) {
                    status.insert(Status::NON_FINITE_STATE);
                }
                for (p, y) in io.proposed.iter().zip(io.state) {
                    p.set(y.get());
                }
                return StepReport {
                    status,
                    evaluations,
                    ..StepReport::default()
                };
            }
        }
        let combine = |w: &[T], e: usize| {
            w.iter()
                .enumerate()
                .fold(T::zero(), |acc, (j, &wj)| acc + wj * u[j * n + e].get())
        };
        for (e, p) in io.proposed.iter().enumerate() {
            p.set(io.state[e].get() + combine(&self.b, e));
        }
        if let Some(w) = &self.error_weights {
            for (e, err) in io.error.iter().enumerate() {
                err.set(combine(w, e));
            }
        }
        StepReport {
            status,
            evaluations,
            ..StepReport::default()
        }
    }
}
