//! The Rosenbrock step's CPU form (see [`crate::step::RosenbrockStep`]).

use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::solvers::vector::{
    all_finite, copy, map1, map2, per_lane, rounded, update,
};
use crate::backend::cpu::solvers::{Factorisation, LinearSolver};
use crate::backend::cpu::{CpuForm, SystemCall};
use crate::memory::{BufferRegistry, CpuAllocator, LaneMask, MAX_LANES, PerLane, RunArena};
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
    fn step(
        &self,
        sys: &SystemCall<'_, T>,
        arena: &RunArena<T>,
        io: &StepIo<'_, T>,
        reports: &mut PerLane<StepReport>,
    ) {
        let n = self.n;
        let w = io.state.width();
        let h = io.dt;
        let u = self.stage_increments.view(arena);
        let state = self.stage_state.view(arena);
        let rhs = self.stage_rhs.view(arena);
        let ft = self.time_derivative.view(arena);
        let active = io.active;
        let mut status = [Status::SUCCESS; MAX_LANES];
        let mut evaluations = [0u32; MAX_LANES];
        let h64 = per_lane(w, |l| h[l].to_f64());
        let gh = per_lane(w, |l| h[l] * self.gamma);
        // The lanes still in the step: a failed stage ends a lane's step
        // (its state proposed unchanged), as the scalar step returns.
        let mut live = active;
        if live.any() {
            sys.dfdt(io.t, io.state, ft, live);
        }
        let op = ShiftedJacobian {
            sys,
            t: per_lane(w, |l| rounded::<T>(io.t[l])),
            state: io.state,
            gh,
        };
        // Every stage solves with the same `A`: `lu` factorises it once.
        let mut kept = Factorisation::default();
        for i in 0..self.b.len() {
            if live.is_empty() {
                break;
            }
            // The stage's state: y + Σ_j a_ij u_j, term by term in j.
            copy(io.state, state, live);
            for (j, &aij) in self.a[i][..i].iter().enumerate() {
                if aij != T::zero() {
                    let uj = u.slice(j * n..(j + 1) * n);
                    map2(state, uj, state, live, |_, _, s, u| s + aij * u);
                }
            }
            let t_i = per_lane(w, |l| io.t[l] + self.c[i] * h64[l]);
            sys.dxdt(&t_i, state, rhs, live);
            for l in live.lanes() {
                evaluations[l] += 1;
            }
            let ui = u.slice(i * n..(i + 1) * n);
            // rhs = gh (f + h γ_i f_t + Σ_j (c_ij / h) u_j), term by term.
            // Factors computed in the kernel: a per-lane array written just
            // before a vector kernel reads it stalls store forwarding.
            let g = self.gamma_stages[i];
            map2(rhs, ft, rhs, live, |_, l, r, f| r + h[l] * g * f);
            for (j, &cij) in self.c_matrix[i][..i].iter().enumerate() {
                if cij != T::zero() {
                    let uj = u.slice(j * n..(j + 1) * n);
                    map2(rhs, uj, rhs, live, |_, l, r, u| r + cij / h[l] * u);
                }
            }
            map1(rhs, rhs, live, |_, l, r| gh[l] * r);
            copy(rhs, ui, live);
            // A non-finite derivative (or time derivative) is no linear
            // solver's failure: report it as such, the state unchanged.
            let finite = all_finite(rhs, live);
            let unconverged = if finite.any() {
                let outcome = self
                    .linear
                    .solve_kept(&op, &mut kept, rhs, ui, arena, finite);
                LaneMask::from_fn(w, |l| !outcome[l].converged) & finite
            } else {
                LaneMask::NONE
            };
            let failed = live.without(finite) | unconverged;
            let bad_u = failed.without(all_finite(ui, failed));
            for l in failed.lanes() {
                if finite.contains(l) {
                    status[l].insert(Status::MAX_LINEAR_ITERATIONS);
                } else {
                    status[l].insert(Status::NON_FINITE_STATE);
                }
                if bad_u.contains(l) {
                    status[l].insert(Status::NON_FINITE_STATE);
                }
            }
            copy(io.state, io.proposed, failed);
            live = live.without(failed);
        }
        let combine = |wts: &[T], e: usize, l: usize| {
            wts.iter()
                .enumerate()
                .fold(T::zero(), |acc, (j, &wj)| acc + wj * u.get(j * n + e, l))
        };
        update(io.proposed, live, |e, l| {
            io.state.get(e, l) + combine(&self.b, e, l)
        });
        if let Some(wts) = &self.error_weights {
            update(io.error, live, |e, l| combine(wts, e, l));
        }
        for l in active.lanes() {
            reports[l] = StepReport {
                status: status[l],
                evaluations: evaluations[l],
                ..StepReport::default()
            };
        }
    }
}
