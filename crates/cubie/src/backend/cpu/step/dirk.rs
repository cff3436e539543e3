//! The diagonally implicit step's CPU form (see [`crate::step::DirkStep`]).

use std::cell::Cell;

use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::solvers::NewtonKrylov;
use crate::backend::cpu::solvers::vector::{
    axpy, copy, fill, map1, map2, per_lane, rounded, scaled, update,
};
use crate::backend::cpu::{CpuForm, SystemCall};
use crate::memory::{BufferRegistry, CpuAllocator, LaneMask, MAX_LANES, PerLane, RunArena};
use crate::step::dirk::Variant;
use crate::step::{DirkStep, StepError};
use crate::time_loop::Status;

use super::implicit::{StageProblem, newton_status};
use super::{CpuStep, StepIo, StepReport};

impl CpuForm for DirkStep {
    type Form<T: JitReal> = DirkCpu<T>;
    type Error = StepError;

    /// The CPU form, coefficients rounded to `T`, buffers resolved.
    fn cpu<T: JitReal>(&self, registry: &BufferRegistry) -> Result<DirkCpu<T>, StepError> {
        let alloc = |name| registry.cpu_allocator::<T>(self.id, name);
        let r = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
        Ok(DirkCpu {
            n: self.n,
            a: self.a.iter().map(|row| r(row)).collect(),
            b: r(&self.b),
            c: self.c.clone(),
            error_weights: self.error_weights.as_deref().map(r),
            explicit_first: self.a[0][0] == 0.0,
            fsal: self.fsal,
            stiffly_accurate: self.stiffly_accurate,
            variant: self.variant,
            slope_change_error: self.slope_change_error,
            newton: self.newton.cpu(registry)?,
            stage_increment: alloc("stage_increment")?,
            stage_base: alloc("stage_base")?,
            accumulator: alloc("accumulator")?,
            increment_cache: alloc("increment_cache")?,
            rhs_cache: alloc("rhs_cache")?,
        })
    }
}

/// The diagonally implicit step's CPU form.
#[derive(Debug, Clone)]
pub struct DirkCpu<T: JitReal> {
    n: usize,
    a: Vec<Vec<T>>,
    b: Vec<T>,
    c: Vec<f64>,
    error_weights: Option<Vec<T>>,
    explicit_first: bool,
    fsal: bool,
    stiffly_accurate: bool,
    variant: Variant,
    slope_change_error: bool,
    newton: NewtonKrylov<T>,
    stage_increment: CpuAllocator<T>,
    stage_base: CpuAllocator<T>,
    accumulator: CpuAllocator<T>,
    increment_cache: CpuAllocator<T>,
    rhs_cache: CpuAllocator<T>,
}

impl<T: JitReal> CpuStep<T> for DirkCpu<T> {
    fn step(
        &self,
        sys: &SystemCall<'_, T>,
        arena: &RunArena<T>,
        io: &StepIo<'_, T>,
        reports: &mut PerLane<StepReport>,
    ) {
        let n = self.n;
        let s = self.b.len();
        let w = io.state.width();
        let h = io.dt;
        let h64 = per_lane(w, |l| h[l].to_f64());
        let z = self.stage_increment.view(arena);
        let base = self.stage_base.view(arena);
        let acc = self.accumulator.view(arena);
        let k = |j: usize| acc.slice(j * n..(j + 1) * n);
        let mut evaluations = [0u32; MAX_LANES];
        let mut status = [Status::SUCCESS; MAX_LANES];
        let mut newton_iterations = [0u32; MAX_LANES];
        let first_implicit = usize::from(self.explicit_first);
        let warm = if self.variant == Variant::Plain {
            io.first_stage_cached & io.active
        } else {
            LaneMask::NONE
        };
        // The lanes still in the step: a failed stage ends a lane's step
        // (its state proposed unchanged), as the scalar step returns.
        let mut live = io.active;

        // Caches first: they may share memory with Newton's scratch.
        if warm.any() {
            let a = self.a[first_implicit][first_implicit];
            let factor = per_lane(w, |l| h[l] * a);
            scaled(&factor, self.increment_cache.view(arena), z, warm);
        }
        for i in 0..s {
            if live.is_empty() {
                break;
            }
            // base = y + Σ_j h a_ij k_j, term by term in j.
            copy(io.state, base, live);
            for (j, &aij) in self.a[i][..i].iter().enumerate() {
                if aij != T::zero() {
                    // The factor in the kernel: a per-lane array written
                    // just before a vector kernel reads it stalls store
                    // forwarding.
                    map2(base, k(j), base, live, |_, l, b, k| b + h[l] * aij * k);
                }
            }
            let t_i = per_lane(w, |l| io.t[l] + self.c[i] * h64[l]);
            let aii = self.a[i][i];
            if aii == T::zero() {
                let cached = if i == 0 && self.fsal {
                    io.first_stage_cached & live
                } else {
                    LaneMask::NONE
                };
                copy(self.rhs_cache.view(arena), k(0), cached);
                let fresh = live.without(cached);
                if fresh.any() {
                    sys.dxdt(&t_i, base, k(i), fresh);
                }
                for l in fresh.lanes() {
                    evaluations[l] += 1;
                }
                continue;
            }
            let gh = per_lane(w, |l| h[l] * aii);
            if i > first_implicit {
                // Predict from the previous stage's slope.
                scaled(&gh, k(i - 1), z, live);
            } else {
                let cold = live.without(warm);
                if i > 0 {
                    scaled(&gh, k(0), z, cold);
                } else if self.variant == Variant::PredictCorrect {
                    // Explicit Euler predictor.
                    if cold.any() {
                        sys.dxdt(io.t, io.state, k(0), cold);
                    }
                    for l in cold.lanes() {
                        evaluations[l] += 1;
                    }
                    scaled(&gh, k(0), z, cold);
                } else {
                    fill(z, T::zero(), cold);
                }
            }
            let problem = StageProblem {
                sys,
                t: per_lane(w, |l| rounded::<T>(t_i[l])),
                gh,
                base,
                state: k(i),
                evaluations: Cell::new([0; MAX_LANES]),
            };
            let outcome = self.newton.solve_with(&problem, z, arena, live, 1);
            let made = problem.evaluations.get();
            let mut failed = LaneMask::NONE;
            for l in live.lanes() {
                evaluations[l] += made[l];
                newton_iterations[l] = newton_iterations[l].max(outcome[l].iterations);
                status[l].insert(newton_status(&outcome[l]));
                if !status[l].is_success() {
                    failed.insert(l);
                }
            }
            copy(io.state, io.proposed, failed);
            live = live.without(failed);
            map1(z, k(i), live, |_, l, z| z / gh[l]);
        }

        // The solution: the last stage's value when stiffly accurate.
        if self.stiffly_accurate {
            map2(base, z, io.proposed, live, |_, _, b, z| b + z);
        } else {
            copy(io.state, io.proposed, live);
            for (j, &bj) in self.b.iter().enumerate() {
                if bj != T::zero() {
                    let factor = per_lane(w, |l| h[l] * bj);
                    axpy(&factor, k(j), io.proposed, live);
                }
            }
        }
        if let Some(wts) = &self.error_weights {
            fill(io.error, T::zero(), live);
            for (j, &wj) in wts.iter().enumerate() {
                if wj != T::zero() {
                    let factor = per_lane(w, |l| h[l] * wj);
                    axpy(&factor, k(j), io.error, live);
                }
            }
        }
        if self.slope_change_error && !io.error.is_empty() && live.any() {
            // Backward Euler: the stage slope is f(t + h, y₁); `stage_base`
            // (y) is free now and receives f(t, y).
            sys.dxdt(io.t, io.state, base, live);
            for l in live.lanes() {
                evaluations[l] += 1;
            }
            let half = per_lane(w, |l| h[l] * T::from_f64(0.5));
            let k0 = k(0);
            update(io.error, live, |e, l| {
                half[l] * (k0.get(e, l) - base.get(e, l))
            });
        }
        if self.variant == Variant::CrankNicolson && !io.error.is_empty() && live.any() {
            // Backward Euler from the same start, Newton started at the
            // trapezoid's increment; the difference estimates the error.
            copy(io.state, base, live);
            update(z, live, |e, l| io.proposed.get(e, l) - io.state.get(e, l));
            let problem = StageProblem {
                sys,
                t: per_lane(w, |l| rounded::<T>(io.t[l] + h64[l])),
                gh: *h,
                base,
                state: k(0),
                evaluations: Cell::new([0; MAX_LANES]),
            };
            let outcome = self.newton.solve_with(&problem, z, arena, live, 1);
            let made = problem.evaluations.get();
            for l in live.lanes() {
                evaluations[l] += made[l];
                newton_iterations[l] = newton_iterations[l].max(outcome[l].iterations);
                status[l].insert(newton_status(&outcome[l]));
            }
            update(io.error, live, |e, l| {
                io.proposed.get(e, l) - (io.state.get(e, l) + z.get(e, l))
            });
        }
        // Caches last: after every Newton solve of the step.
        let last = k(s - 1);
        copy(last, self.increment_cache.view(arena), live);
        if self.fsal {
            copy(last, self.rhs_cache.view(arena), live);
        }
        for l in io.active.lanes() {
            reports[l] = StepReport {
                status: status[l],
                evaluations: evaluations[l],
                newton_iterations: newton_iterations[l],
            };
        }
    }

    fn caches_first_stage(&self) -> bool {
        true
    }
}
