//! The CPU form of a kernel tree: every component's CPU form resolved from
//! the tree's registry in precision `T`, and the model compiled once.

use std::sync::Arc;

use crate::drivers::DriverInterpolant;
use crate::kernel::{KernelError, KernelTree};
use crate::memory::{ArenaLayout, LANE_WIDTHS, MAX_LANES};
use crate::system::Model;

use super::CpuForm;
use super::jit::{CodeGenerator, JitOptions, JitReal, NativeSystem};
use super::step::step_form;
use super::time_loop::{LoopCpu, LoopOutputs};

/// One solve's CPU kernel.
#[derive(Debug)]
pub struct CpuKernel<T: JitReal> {
    pub(crate) arena: ArenaLayout,
    /// Runs integrated together in one lane block.
    pub(crate) lanes: usize,
    pub(crate) cpu: LoopCpu<T>,
    pub(crate) system: NativeSystem<T>,
}

impl<T: JitReal> CpuKernel<T> {
    /// Resolves the CPU forms of `tree` for `model`, integrating `lanes`
    /// runs per lane block (one of [`LANE_WIDTHS`]; see [`default_lanes`]).
    /// The step's form is chosen first (a fused ERK step releases its
    /// stage buffers), so the tree's plan shows the memory of the forms
    /// used; then one run's arena is sized and checked against the tree's
    /// budget. `generator` compiles the fused ERK step's lane code.
    pub fn build(
        tree: &mut KernelTree,
        model: &Model,
        lanes: usize,
        generator: CodeGenerator,
    ) -> Result<Self, KernelError> {
        if !LANE_WIDTHS.contains(&lanes) {
            return Err(KernelError::Lanes { lanes });
        }
        let interpolant = Arc::new(DriverInterpolant::new(
            &tree.drivers,
            &tree.driver_settings,
        )?);
        let step = step_form::<T>(
            &tree.step,
            &mut tree.registry,
            tree.fused_steps.then(|| model.functions()),
            lanes,
            generator,
        )?;
        let registry = &tree.registry;
        let plan = &tree.plan;
        let settings = &tree.loop_settings;
        let summaries = match &plan.timing {
            Some(timing) => Some(tree.summaries.cpu::<T>(
                registry,
                timing,
                &plan.summarised_states,
                &plan.summarised_observables,
            )?),
            None => None,
        };
        let outputs = LoopOutputs {
            saved_states: if plan.save_state {
                plan.saved_states.clone()
            } else {
                Vec::new()
            },
            saved_observables: if plan.save_observables {
                plan.saved_observables.clone()
            } else {
                Vec::new()
            },
            summaries,
            summarises_observables: !plan.summarised_observables.is_empty(),
        };
        let loop_id = tree.loop_component.id;
        let alloc = |name| registry.cpu_allocator::<T>(loop_id, name);
        let cpu = LoopCpu {
            events: tree.event_times(),
            settings: settings.clone(),
            state: alloc("state")?,
            proposed: alloc("proposed_state")?,
            error: alloc("error")?,
            parameters: alloc("parameters")?,
            drivers: alloc("drivers")?,
            driver_rates: alloc("driver_rates")?,
            interpolant,
            observables: alloc("observables")?,
            dt: alloc("dt")?,
            accept: registry.cpu_integer_allocator(loop_id, "accept")?,
            counters: registry.cpu_integer_allocator(loop_id, "counters")?,
            step,
            controller: tree.controller.cpu::<T>(registry)?,
            outputs,
        };
        let arena = tree.settle_working_memory()?;
        let system = NativeSystem::<T>::compile_lanes(
            tree.functions.of(model),
            &JitOptions::default(),
            lanes,
        )
        .map_err(|e| KernelError::Compile(e.to_string()))?;
        Ok(CpuKernel {
            arena,
            lanes,
            cpu,
            system,
        })
    }

    /// Stack bytes a worker needs beyond its default for the model's
    /// streamed functions.
    pub fn stack_bytes(&self) -> usize {
        self.system.stack_bytes()
    }

    /// Runs per lane block.
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// One run's arena sizes.
    pub fn arena_layout(&self) -> ArenaLayout {
        self.arena
    }
}

/// The lane width that fills the host's widest vector registers with `T`
/// (512-bit with AVX-512, 256-bit with AVX2, else 128-bit), at most
/// [`MAX_LANES`].
pub fn default_lanes<T: JitReal>() -> usize {
    (vector_bytes() / size_of::<T>()).clamp(1, MAX_LANES)
}

/// Bytes of the host's widest vector registers.
fn vector_bytes() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return 64;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            return 32;
        }
    }
    16
}
