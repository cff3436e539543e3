//! The diagonally implicit step's CPU form (see [`crate::step::DirkStep`]).

use std::cell::Cell;

use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::solvers::NewtonKrylov;
use crate::backend::cpu::{CpuForm, SystemCall};
use crate::memory::{BufferRegistry, CpuAllocator, RunArena};
use crate::step::dirk::Variant;
use crate::step::{DirkStep, StepError};
use crate::time_loop::Status;

use super::implicit::{StageProblem, copy, newton_status};
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

fn scaled<T: JitReal>(factor: T, src: &[Cell<T>], dst: &[Cell<T>]) {
    for (d, s) in dst.iter().zip(src) {
        d.set(factor * s.get());
    }
}

impl<T: JitReal> CpuStep<T> for DirkCpu<T> {
    fn step(&self, sys: &SystemCall<'_, T>, arena: &RunArena<T>, io: &StepIo<'_, T>) -> StepReport {
        let n = self.n;
        let s = self.b.len();
        let h = io.dt;
        let h64 = h.to_f64();
        let z = self.stage_increment.view(arena);
        let base = self.stage_base.view(arena);
        let acc = self.accumulator.view(arena);
        let k = |j: usize| &acc[j * n..(j + 1) * n];
        let mut evaluations = 0u32;
        let mut status = Status::SUCCESS;
        let mut newton_iterations = 0u32;
        let first_implicit = usize::from(self.explicit_first);
        let warm = io.first_stage_cached && self.variant == Variant::Plain;

        // Caches first: they may share memory with Newton's scratch.
        if warm {
            scaled(
                h * self.a[first_implicit][first_implicit],
                self.increment_cache.view(arena),
                z,
            );
        }
        for i in 0..s {
            for (e, bi) in base.iter().enumerate() {
                let mut v = io.state[e].get();
                for (j, &aij) in self.a[i][..i].iter().enumerate() {
                    if aij != T::zero() {
                        v = v + h * aij * acc[j * n + e].get();
                    }
                }
                bi.set(v);
            }
            let t_i = io.t + self.c[i] * h64;
            let aii = self.a[i][i];
            if aii == T::zero() {
                if i == 0 && self.fsal && io.first_stage_cached {
                    copy(self.rhs_cache.view(arena), k(0));
                } else {
                    sys.dxdt(t_i, base, k(i));
                    evaluations += 1;
                }
                continue;
            }
            let gh = h * aii;
            if i > first_implicit {
                // Predict from the previous stage's slope.
                scaled(gh, k(i - 1), z);
            } else if !warm {
                if i > 0 {
                    scaled(gh, k(0), z);
                } else if self.variant == Variant::PredictCorrect {
                    // Explicit Euler predictor.
                    sys.dxdt(io.t, io.state, k(0));
                    evaluations += 1;
                    scaled(gh, k(0), z);
                } else {
                    for zi in z {
                        zi.set(T::zero());
                    }
                }
            }
            let problem = StageProblem {
                sys,
                t: T::from_f64(t_i),
                gh,
                base,
                state: k(i),
                evaluations: Cell::new(0),
            };
            let outcome = self.newton.solve_with(&problem, z, arena, 1);
            evaluations += problem.evaluations.get();
            newton_iterations = newton_iterations.max(outcome.iterations);
            status.insert(newton_status(&outcome));
            if !status.is_success() {
                copy(io.state, io.proposed);
                return StepReport {
                    status,
                    evaluations,
                    newton_iterations,
                };
            }
            for (ki, zi) in k(i).iter().zip(z.iter()) {
                ki.set(zi.get() / gh);
            }
        }

        // The solution: the last stage's value when stiffly accurate.
        if self.stiffly_accurate {
            for ((p, bi), zi) in io.proposed.iter().zip(base).zip(z.iter()) {
                p.set(bi.get() + zi.get());
            }
        } else {
            for (e, p) in io.proposed.iter().enumerate() {
                let mut v = io.state[e].get();
                for (j, &bj) in self.b.iter().enumerate() {
                    if bj != T::zero() {
                        v = v + h * bj * acc[j * n + e].get();
                    }
                }
                p.set(v);
            }
        }
        if let Some(w) = &self.error_weights {
            for (e, err) in io.error.iter().enumerate() {
                let mut v = T::zero();
                for (j, &wj) in w.iter().enumerate() {
                    if wj != T::zero() {
                        v = v + h * wj * acc[j * n + e].get();
                    }
                }
                err.set(v);
            }
        }
        if self.slope_change_error && !io.error.is_empty() {
            // Backward Euler: the stage slope is f(t + h, y₁); `stage_base`
            // (y) is free now and receives f(t, y).
            sys.dxdt(io.t, io.state, base);
            evaluations += 1;
            let half = h * T::from_f64(0.5);
            for ((err, k1), f0) in io.error.iter().zip(k(0)).zip(base) {
                err.set(half * (k1.get() - f0.get()));
            }
        }
        if self.variant == Variant::CrankNicolson && !io.error.is_empty() {
            // Backward Euler from the same start, Newton started at the
            // trapezoid's increment; the difference estimates the error.
            copy(io.state, base);
            for ((zi, p), y) in z.iter().zip(io.proposed).zip(io.state) {
                zi.set(p.get() - y.get());
            }
            let problem = StageProblem {
                sys,
                t: T::from_f64(io.t + h64),
                gh: h,
                base,
                state: k(0),
                evaluations: Cell::new(0),
            };
            let outcome = self.newton.solve_with(&problem, z, arena, 1);
            evaluations += problem.evaluations.get();
            newton_iterations = newton_iterations.max(outcome.iterations);
            status.insert(newton_status(&outcome));
            for (((err, p), y), zi) in io.error.iter().zip(io.proposed).zip(io.state).zip(z.iter())
            {
                err.set(p.get() - (y.get() + zi.get()));
            }
        }
        // Caches last: after every Newton solve of the step.
        let last = k(s - 1);
        copy(last, self.increment_cache.view(arena));
        if self.fsal {
            copy(last, self.rhs_cache.view(arena));
        }
        StepReport {
            status,
            evaluations,
            newton_iterations,
        }
    }

    fn caches_first_stage(&self) -> bool {
        true
    }
}
