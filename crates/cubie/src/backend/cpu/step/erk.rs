//! The explicit Runge–Kutta step's CPU forms (see [`crate::step::ErkStep`]):
//! the generic one (one `dxdt` call per stage, stages in the registry's
//! buffers) and, for a small model with constant drivers, the whole step
//! compiled as one native function ([`FusedErkStep`]).

use std::cell::Cell;
use std::sync::Arc;

use crate::backend::cpu::controller::ControllerCpu;
use crate::backend::cpu::jit::{FusedErkStep, JitReal};
use crate::backend::cpu::{CpuForm, SystemCall};
use crate::memory::{BufferRegistry, CpuAllocator, RunArena};
use crate::step::{ErkPlan, ErkTarget};
use crate::step::{ErkStep, StepError, dop853_combined_error};
use crate::system::SystemFunctions;
use crate::time_loop::Status;

use super::{CpuStep, StepIo, StepReport};

impl CpuForm for ErkStep {
    type Form<T: JitReal> = ErkCpu<T>;
    type Error = StepError;

    /// The generic CPU form (one `dxdt` call per stage, stages in
    /// `stage_rhs`/`stage_accumulator`), with coefficients rounded to `T`
    /// and buffers resolved.
    fn cpu<T: JitReal>(&self, registry: &BufferRegistry) -> Result<ErkCpu<T>, StepError> {
        let scheme = self.scheme();
        let alloc = |name| registry.cpu_allocator::<T>(self.id, name);
        let stage_rhs = alloc("stage_rhs")?;
        let stage_cache = alloc("stage_cache")?;
        let ErkPlan {
            stages,
            stage_reads_state,
        } = scheme.contributions();
        let plan = stages
            .into_iter()
            .map(|stage| {
                stage
                    .into_iter()
                    .map(|c| Contribution {
                        target: c.target,
                        weight: T::from_f64(c.weight),
                        first: c.first,
                    })
                    .collect()
            })
            .collect();
        Ok(ErkCpu {
            n: self.n,
            c: scheme.c.clone(),
            plan,
            stage_reads_state,
            has_secondary: !scheme.secondary_weights.is_empty(),
            fsal: scheme.fsal,
            cache_is_rhs: stage_cache.range() == stage_rhs.range(),
            stage_rhs,
            stage_accumulator: alloc("stage_accumulator")?,
            stage_cache,
            secondary_error: alloc("secondary_error")?,
            fused: None,
        })
    }
}

/// `target (=|+=) dt * weight * k_j`, with `=` also adding the base value
/// (the state for stage states and the solution, zero for errors).
#[derive(Debug, Clone, Copy)]
struct Contribution<T> {
    target: ErkTarget,
    weight: T,
    first: bool,
}

/// The ERK step's CPU form: the tableau unrolled into, per stage, the
/// list of places its derivative contributes to.
#[derive(Debug, Clone)]
pub struct ErkCpu<T: JitReal> {
    n: usize,
    c: Vec<f64>,
    plan: Vec<Vec<Contribution<T>>>,
    /// Stages evaluated at the step's start state (no earlier stage feeds
    /// them).
    stage_reads_state: Vec<bool>,
    has_secondary: bool,
    fsal: bool,
    cache_is_rhs: bool,
    stage_rhs: CpuAllocator<T>,
    stage_accumulator: CpuAllocator<T>,
    stage_cache: CpuAllocator<T>,
    secondary_error: CpuAllocator<T>,
    /// The whole step as one native function, when compiled.
    fused: Option<Arc<FusedErkStep<T>>>,
}

impl<T: JitReal> ErkCpu<T> {
    /// The form with the fused step compiled for `functions` when the
    /// model is small enough (see [`FusedErkStep::compile`]); the generic
    /// form otherwise. The fused step is only taken while the drivers are
    /// constant (the caller only asks for it then).
    ///
    /// The fused step keeps its stages in registers, so when it compiles
    /// the step releases its stage buffers ([`ErkStep::release_stage_buffers`]):
    /// the registry, and every plan read from it, shows the memory of the
    /// form chosen. Call it before any other buffer of the tree is resolved.
    pub fn fused(
        step: &ErkStep,
        registry: &mut BufferRegistry,
        functions: &SystemFunctions,
    ) -> Result<Self, StepError> {
        let fused = FusedErkStep::compile(functions, &step.scheme())
            .map_err(|e| StepError::Compile(e.to_string()))?
            .map(Arc::new);
        if fused.is_some() {
            step.release_stage_buffers(registry)?;
        }
        let mut cpu = step.cpu::<T>(registry)?;
        cpu.fused = fused;
        Ok(cpu)
    }

    /// True when steps may go through the fused native function.
    pub fn is_fused(&self) -> bool {
        self.fused.is_some()
    }
}

fn copy<T: Copy>(from: &[Cell<T>], to: &[Cell<T>]) {
    for (t, f) in to.iter().zip(from) {
        t.set(f.get());
    }
}

impl<T: JitReal> ErkCpu<T> {
    /// The step's report: a non-finite second estimate (DOP853) makes the
    /// step non-finite as a non-finite first one would.
    fn report(&self, arena: &RunArena<T>, evaluations: u32) -> StepReport {
        let secondary_finite = !self.has_secondary
            || self
                .secondary_error
                .view(arena)
                .iter()
                .all(|e| e.get().is_finite());
        StepReport {
            status: if secondary_finite {
                Status::SUCCESS
            } else {
                Status::NON_FINITE_STATE
            },
            evaluations,
            ..StepReport::default()
        }
    }
}

impl<T: JitReal> CpuStep<T> for ErkCpu<T> {
    fn step(&self, sys: &SystemCall<'_, T>, arena: &RunArena<T>, io: &StepIo<'_, T>) -> StepReport {
        // Time-varying drivers must be re-evaluated at every stage time,
        // which only the generic path does.
        if let Some(fused) = &self.fused
            && sys.interpolant.is_constant()
        {
            let evaluations = fused
                .step(
                    io.t,
                    io.dt,
                    io.state,
                    sys.parameters,
                    sys.drivers,
                    io.proposed,
                    io.error,
                    self.secondary_error.view(arena),
                    self.stage_cache.view(arena),
                    io.first_stage_cached,
                )
                .expect("registry buffers are sized from the model");
            return self.report(arena, evaluations);
        }
        let n = self.n;
        let k = self.stage_rhs.view(arena);
        let acc = self.stage_accumulator.view(arena);
        let cache = self.stage_cache.view(arena);
        let secondary = self.secondary_error.view(arena);
        let dt = io.dt;
        let dt64 = dt.to_f64();
        let mut evaluations = 0;

        // First stage: from the cache when the previous step left a valid
        // one (read before the accumulator, which the cache may alias).
        if self.fsal && io.first_stage_cached {
            if !self.cache_is_rhs {
                copy(cache, k);
            }
        } else {
            sys.dxdt(io.t, io.state, k);
            evaluations += 1;
        }
        for (j, contributions) in self.plan.iter().enumerate() {
            if j > 0 {
                let stage_state = if self.stage_reads_state[j] {
                    io.state
                } else {
                    &acc[(j - 1) * n..j * n]
                };
                sys.dxdt(io.t + self.c[j] * dt64, stage_state, k);
                evaluations += 1;
            }
            for c in contributions {
                let (target, base) = match c.target {
                    ErkTarget::Stage(i) => (&acc[i * n..(i + 1) * n], Some(io.state)),
                    ErkTarget::Solution => (io.proposed, Some(io.state)),
                    ErkTarget::Error => (io.error, None),
                    ErkTarget::Secondary => (secondary, None),
                };
                let w = dt * c.weight;
                match (c.first, base) {
                    (false, _) => {
                        for (t, k) in target.iter().zip(k) {
                            t.set(t.get() + w * k.get());
                        }
                    }
                    (true, Some(base)) => {
                        for ((t, y), k) in target.iter().zip(base).zip(k) {
                            t.set(y.get() + w * k.get());
                        }
                    }
                    (true, None) => {
                        for (t, k) in target.iter().zip(k) {
                            t.set(w * k.get());
                        }
                    }
                }
            }
        }
        // The last stage was evaluated at (t + dt, y_new): keep it for the
        // next step.
        if self.fsal && !self.cache_is_rhs {
            copy(k, cache);
        }
        self.report(arena, evaluations)
    }

    fn error_norm(
        &self,
        controller: &ControllerCpu<T>,
        arena: &RunArena<T>,
        io: &StepIo<'_, T>,
    ) -> T {
        let norm = controller.error_norm(io.error, io.state, io.proposed);
        if !self.has_secondary {
            return norm;
        }
        let e3 = self.secondary_error.view(arena);
        dop853_combined_error(norm, controller.error_norm(e3, io.state, io.proposed))
    }

    fn caches_first_stage(&self) -> bool {
        self.fsal
    }
}
