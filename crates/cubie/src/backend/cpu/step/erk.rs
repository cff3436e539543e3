//! The explicit Runge–Kutta step's CPU forms (see [`crate::step::ErkStep`]):
//! the generic one (one `dxdt` call per stage, stages in the registry's
//! buffers) and, for a small model with constant drivers, the whole step
//! compiled as one native function ([`FusedErkStep`]).

use std::sync::Arc;

use crate::backend::cpu::controller::ControllerCpu;
use crate::backend::cpu::jit::{CodeGenerator, FusedErkStep, JitReal};
use crate::backend::cpu::{CpuForm, SystemCall};
use crate::memory::{
    BufferRegistry, CpuAllocator, LaneBuf, LaneMask, MAX_LANES, PerLane, RunArena,
};
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
/// (the state for stage states and the solution, zero for errors). A sum
/// is a fused multiply-add, `fma(w, k_j, target)`, on every backend and
/// code generator: OrdinaryDiffEq's `@muladd` stages, half the
/// operations of a multiply and an add, and one rounding each.
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
    /// model is small enough (see [`FusedErkStep::compile_lanes`]), for
    /// blocks of `lanes` lanes by `generator`; the generic
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
        lanes: usize,
        generator: CodeGenerator,
    ) -> Result<Self, StepError> {
        let fused = FusedErkStep::compile_with(functions, &step.scheme(), lanes, generator)
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

impl<T: JitReal> ErkCpu<T> {
    /// The step's reports: a non-finite second estimate (DOP853) makes the
    /// step non-finite as a non-finite first one would.
    fn report(
        &self,
        arena: &RunArena<T>,
        active: LaneMask,
        evaluations: &PerLane<u32>,
        reports: &mut PerLane<StepReport>,
    ) {
        let secondary = self.secondary_error.view(arena);
        for l in active.lanes() {
            let finite =
                !self.has_secondary || secondary.lane(l).iter().all(|e| e.get().is_finite());
            reports[l] = StepReport {
                status: if finite {
                    Status::SUCCESS
                } else {
                    Status::NON_FINITE_STATE
                },
                evaluations: evaluations[l],
                ..StepReport::default()
            };
        }
    }
}

impl<T: JitReal> CpuStep<T> for ErkCpu<T> {
    fn step(
        &self,
        sys: &SystemCall<'_, T>,
        arena: &RunArena<T>,
        io: &StepIo<'_, T>,
        reports: &mut PerLane<StepReport>,
    ) {
        // Time-varying drivers must be re-evaluated at every stage time,
        // which only the generic path does.
        if let Some(fused) = &self.fused
            && sys.interpolant.is_constant()
        {
            let evaluations = fused
                .step_lanes(
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
            return self.report(arena, io.active, &evaluations, reports);
        }
        let n = self.n;
        let w = io.state.width();
        let k = self.stage_rhs.view(arena);
        let acc = self.stage_accumulator.view(arena);
        let cache = self.stage_cache.view(arena);
        let secondary = self.secondary_error.view(arena);
        let active = io.active;
        let mut evaluations = [0u32; MAX_LANES];

        // First stage: from the cache in the lanes whose previous step left
        // a valid one (read before the accumulator, which the cache may
        // alias), from the model in the others.
        let cached = if self.fsal {
            io.first_stage_cached & active
        } else {
            LaneMask::NONE
        };
        if !self.cache_is_rhs {
            k.copy_from(cache, cached);
        }
        let fresh = active.without(cached);
        if fresh.any() {
            sys.dxdt(io.t, io.state, k, fresh);
        }
        for l in fresh.lanes() {
            evaluations[l] += 1;
        }
        let mut stage_t = [0.0; MAX_LANES];
        let mut weight = [T::zero(); MAX_LANES];
        for (j, contributions) in self.plan.iter().enumerate() {
            if j > 0 {
                let stage_state = if self.stage_reads_state[j] {
                    io.state
                } else {
                    acc.slice((j - 1) * n..j * n)
                };
                for ((st, t), &dt) in stage_t.iter_mut().zip(io.t).zip(io.dt).take(w) {
                    *st = t + self.c[j] * dt.to_f64();
                }
                sys.dxdt(&stage_t, stage_state, k, active);
                for l in active.lanes() {
                    evaluations[l] += 1;
                }
            }
            for c in contributions {
                let (target, base) = match c.target {
                    ErkTarget::Stage(i) => (acc.slice(i * n..(i + 1) * n), Some(io.state)),
                    ErkTarget::Solution => (io.proposed, Some(io.state)),
                    ErkTarget::Error => (io.error, None),
                    ErkTarget::Secondary => (secondary, None),
                };
                for (wl, dt) in weight.iter_mut().zip(io.dt).take(w) {
                    *wl = *dt * c.weight;
                }
                // Every lane is computed: lanes that have finished are
                // never read, and whole vectors are faster than masks.
                for i in 0..target.len() {
                    let (t, k) = (target.element(i), k.element(i));
                    match (c.first, base) {
                        (false, _) => {
                            for l in 0..w {
                                t[l].set(weight[l].mul_add(k[l].get(), t[l].get()));
                            }
                        }
                        (true, Some(base)) => {
                            let y = base.element(i);
                            for l in 0..w {
                                t[l].set(weight[l].mul_add(k[l].get(), y[l].get()));
                            }
                        }
                        (true, None) => {
                            for l in 0..w {
                                t[l].set(weight[l] * k[l].get());
                            }
                        }
                    }
                }
            }
        }
        // The last stage was evaluated at (t + dt, y_new): keep it for the
        // next step.
        if self.fsal && !self.cache_is_rhs {
            cache.copy_from(k, active);
        }
        self.report(arena, active, &evaluations, reports);
    }

    fn error_norm(
        &self,
        controller: &ControllerCpu<T>,
        arena: &RunArena<T>,
        io: &StepIo<'_, T>,
        mask: LaneMask,
    ) -> PerLane<T> {
        let mut norms = controller.error_norms(io.error, io.state, io.proposed, mask);
        if self.has_secondary {
            let e3 = self.secondary_error.view(arena);
            let second = controller.error_norms(e3, io.state, io.proposed, mask);
            for l in mask.lanes() {
                norms[l] = dop853_combined_error(norms[l], second[l]);
            }
        }
        norms
    }

    fn caches_first_stage(&self) -> bool {
        self.fsal
    }

    fn fixed_steps(
        &self,
        sys: &SystemCall<'_, T>,
        times: &[f64],
        dt: T,
        dt64: f64,
        state: LaneBuf<'_, T>,
        proposed: LaneBuf<'_, T>,
    ) -> Option<(usize, u32)> {
        let fused = self.fused.as_ref()?;
        if !sys.interpolant.is_constant() {
            return None;
        }
        let done = fused
            .fixed_steps(
                times,
                dt,
                dt64,
                state,
                sys.parameters,
                sys.drivers,
                proposed,
            )
            .expect("registry buffers are sized from the model")?;
        Some((done, fused.stages() as u32))
    }
}
