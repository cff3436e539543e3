//! Diagonally implicit steps: the DIRK family (any lower-triangular
//! tableau) and the named implicit methods built on the same machinery:
//! backward Euler (one implicit stage), its predictor-corrector form, and
//! Crank–Nicolson (the trapezoidal ESDIRK, its error estimated against a
//! backward Euler solve from the same start).
//!
//! Each implicit stage `i` solves for its increment `z` in
//! `z = h·a_ii·f(t + c_i h, base_i + z)`, `base_i = y + h Σ_{j<i} a_ij k_j`,
//! with the hosted Newton solver; its slope is then `k_i = z / (h·a_ii)`
//! (no extra evaluation, and no amplification of Newton's error by the
//! stiff part of `f`).
//!
//! Buffers (CuBIE's migration plan):
//! - `stage_increment` (n): Newton's unknown;
//! - `stage_base` (n): the current stage's base state;
//! - `accumulator` (s·n): the stage slopes `k_j`; stage `i`'s slot is
//!   Newton's scratch state while `k_i` is being solved for;
//! - `solver_scratch`: the entry hosting Newton's shared memory (the
//!   child's host entry, renamed);
//! - `increment_cache` (n, persistent): the last stage's slope, Newton's
//!   start for the next step's first implicit stage;
//! - `rhs_cache` (n, persistent, first-same-as-last tableaus only): the
//!   last stage's slope, the next step's first stage.
//!
//! Both caches alias `solver_scratch`: while Newton's scratch is shared
//! they overlay it and cost nothing; otherwise they fall back to
//! persistent-local slices. That is sound because a step reads the caches
//! before its first Newton solve and writes them after its last, and
//! they are only read after an accepted step.

use std::cell::Cell;

use crate::memory::{BufferRegistry, BufferSpec, ComponentId, CpuAllocator, RunArena};
use crate::solvers::{NewtonComponent, NewtonKrylov};
use crate::system::jit::JitReal;
use crate::time_loop::Status;

use super::implicit::{ImplicitSolverSettings, StageProblem, copy, newton_status};
use super::implicit_tableaus::RkTableau;
use super::{CpuStep, ImplicitMethod, StepError, StepIo, StepReport, SystemCall};

/// How Newton starts and whether a second solve estimates the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// A DIRK tableau (or backward Euler).
    Plain,
    /// Backward Euler started from an explicit Euler predictor.
    PredictCorrect,
    /// Trapezoid with a backward-Euler error estimate.
    CrankNicolson,
}

/// The diagonally implicit step component.
#[derive(Debug, Clone)]
pub struct DirkStep {
    id: ComponentId,
    n: usize,
    a: Vec<Vec<f64>>,
    b: Vec<f64>,
    c: Vec<f64>,
    error_weights: Option<Vec<f64>>,
    fsal: bool,
    stiffly_accurate: bool,
    variant: Variant,
    /// Backward Euler estimates its error from the change of slope over
    /// the step, `(h/2)(f(t + h, y₁) − f(t, y))` (about `h²y''/2`).
    slope_change_error: bool,
    newton: NewtonComponent,
}

fn one_stage_be() -> (Vec<Vec<f64>>, Vec<f64>, Vec<f64>) {
    (vec![vec![1.0]], vec![1.0], vec![1.0])
}

impl DirkStep {
    /// Registers a DIRK step with `tableau`.
    pub fn register_tableau(
        registry: &mut BufferRegistry,
        id: ComponentId,
        tableau: &RkTableau,
        n: usize,
        solver: ImplicitSolverSettings,
    ) -> Result<Self, StepError> {
        Self::register(
            registry,
            id,
            n,
            solver,
            (tableau.a.clone(), tableau.b.clone(), tableau.c.clone()),
            tableau.error_weights(),
            Variant::Plain,
        )
    }

    /// Registers one of the named implicit methods.
    pub fn register_named(
        registry: &mut BufferRegistry,
        id: ComponentId,
        method: ImplicitMethod,
        n: usize,
        solver: ImplicitSolverSettings,
    ) -> Result<Self, StepError> {
        let (coefficients, variant) = match method {
            ImplicitMethod::BackwardsEuler => (one_stage_be(), Variant::Plain),
            ImplicitMethod::BackwardsEulerPc => (one_stage_be(), Variant::PredictCorrect),
            ImplicitMethod::CrankNicolson => (
                (
                    vec![vec![0.0, 0.0], vec![0.5, 0.5]],
                    vec![0.5, 0.5],
                    vec![0.0, 1.0],
                ),
                Variant::CrankNicolson,
            ),
        };
        let mut step = Self::register(registry, id, n, solver, coefficients, None, variant)?;
        step.slope_change_error = method != ImplicitMethod::CrankNicolson;
        Ok(step)
    }

    fn register(
        registry: &mut BufferRegistry,
        id: ComponentId,
        n: usize,
        solver: ImplicitSolverSettings,
        (a, b, c): (Vec<Vec<f64>>, Vec<f64>, Vec<f64>),
        error_weights: Option<Vec<f64>>,
        variant: Variant,
    ) -> Result<Self, StepError> {
        let s = b.len();
        let explicit_first = a[0][0] == 0.0;
        let stiffly_accurate = a[s - 1] == b && a[s - 1][s - 1] != 0.0;
        let fsal = stiffly_accurate && explicit_first && c[s - 1] == 1.0;
        registry.register(id, BufferSpec::shared("stage_increment", n))?;
        registry.register(id, BufferSpec::shared("stage_base", n))?;
        registry.register(id, BufferSpec::shared("accumulator", s * n))?;
        let newton =
            NewtonComponent::register(registry, Some(id), n, solver.newton, solver.linear)?;
        registry.host_shared_as(newton.id(), "solver_scratch")?;
        registry.register(
            id,
            BufferSpec::local("increment_cache", n)
                .persistent()
                .aliasing("solver_scratch"),
        )?;
        registry.register(
            id,
            BufferSpec::local("rhs_cache", if fsal { n } else { 0 })
                .persistent()
                .aliasing("solver_scratch"),
        )?;
        Ok(DirkStep {
            id,
            n,
            a,
            b,
            c,
            error_weights,
            fsal,
            stiffly_accurate,
            variant,
            slope_change_error: false,
            newton,
        })
    }

    /// The hosted Newton solver.
    pub fn newton(&self) -> &NewtonComponent {
        &self.newton
    }

    /// The CPU form, coefficients rounded to `T`, buffers resolved.
    pub fn cpu<T: JitReal>(&self, registry: &BufferRegistry) -> Result<DirkCpu<T>, StepError> {
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
            newton: self.newton.build(registry)?,
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
