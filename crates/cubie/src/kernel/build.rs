//! Building the component tree and resolving its CPU form.

use std::sync::Arc;

use thiserror::Error;

use crate::controllers::{ControllerComponent, ControllerError, ControllerOptions};
use crate::drivers::{DriverError, DriverInterpolant, DriverSeries, DriverSettings};
use crate::memory::{
    ArenaLayout, BufferRegistry, ComponentId, KeyMismatch, LayoutReport, RegistryError,
};
use crate::outputs::{OutputError, OutputPlan, OutputSettings, SummaryComponent, SummaryError};
use crate::settings::{SettingsError, SettingsMap};
use crate::step::{Algorithm, ImplicitSolverSettings, StepComponent, StepError};
use crate::system::Model;
use crate::system::jit::{JitError, JitReal, NativeSystem};
use crate::time_loop::{
    COUNTER_LABELS, LoopComponent, LoopCpu, LoopError, LoopOutputs, LoopSettings,
};

use super::footprint::{Bytes, Footprint, MemoryBudget, MemoryError};

/// What can stop a kernel from being built.
#[derive(Debug, Error)]
pub enum KernelError {
    /// The registry refused a registration or a setting.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A step could not be built.
    #[error(transparent)]
    Step(#[from] StepError),
    /// Controller settings are invalid.
    #[error(transparent)]
    Controller(#[from] ControllerError),
    /// Loop settings are invalid.
    #[error(transparent)]
    Loop(#[from] LoopError),
    /// A named setting is unknown or malformed.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The output selection cannot be honoured.
    #[error(transparent)]
    Outputs(#[from] OutputError),
    /// The summaries could not be built.
    #[error(transparent)]
    Summaries(#[from] SummaryError),
    /// The drivers' series or interpolation settings are invalid.
    #[error(transparent)]
    Drivers(#[from] DriverError),
    /// The model could not be compiled. (Not a `source`: the message
    /// already holds the cause, and a chain printer would repeat it.)
    #[error("compiling the model: {0}")]
    Jit(JitError),
    /// A `<buffer>_location` setting names no buffer, or one owned by
    /// several components without saying which.
    #[error("{0}")]
    Location(String),
    /// Even one run does not fit in memory.
    #[error(transparent)]
    Memory(#[from] MemoryError),
}

impl From<JitError> for KernelError {
    fn from(e: JitError) -> Self {
        KernelError::Jit(e)
    }
}

/// One solve's kernel: the registry of its component tree and the CPU
/// forms resolved from it.
#[derive(Debug)]
pub struct BatchKernel<T: JitReal> {
    pub(crate) registry: BufferRegistry,
    pub(crate) arena: ArenaLayout,
    pub(crate) cpu: LoopCpu<T>,
    pub(crate) system: NativeSystem<T>,
    pub(crate) n_states: usize,
    pub(crate) location_keys: Vec<String>,
    pub(crate) plan: OutputPlan,
    pub(crate) summaries: SummaryComponent,
    pub(crate) footprint: Footprint,
}

impl<T: JitReal> BatchKernel<T> {
    /// Builds the tree for `algorithm` on `model`, applies the named
    /// settings (buffer locations included) and resolves the CPU form.
    /// One run's inputs and outputs must fit in `budget`.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        model: &Model,
        algorithm: &'static Algorithm,
        loop_settings: LoopSettings,
        controller: ControllerOptions,
        settings: &SettingsMap,
        drivers: &DriverSeries,
        outputs: &OutputSettings,
        budget: &MemoryBudget,
    ) -> Result<Self, KernelError> {
        loop_settings.validate()?;
        let driver_settings = DriverSettings::from_settings(settings)?;
        let n = model.n_states();
        let mut registry = BufferRegistry::new(T::PRECISION);
        let root = registry.add_component("kernel", None)?;
        let loop_id = registry.add_component("loop", Some(root))?;
        let step_id = registry.add_component("step", Some(loop_id))?;
        let controller_id = registry.add_component("controller", Some(loop_id))?;
        let outputs_id = registry.add_component("outputs", Some(loop_id))?;

        let adaptive_step = algorithm.adaptive;
        LoopComponent::register(
            &mut registry,
            loop_id,
            n,
            model.n_parameters(),
            model.n_drivers(),
            model.n_observables(),
            adaptive_step,
        )?;
        let controller = ControllerComponent::register(
            &mut registry,
            controller_id,
            controller,
            algorithm,
            n,
            settings,
            loop_settings.settling_time + loop_settings.duration,
        )?;
        // Implicit steps take Newton/linear settings whose default
        // tolerances follow the controller's.
        let solver = if algorithm.family.is_implicit() {
            Some(
                ImplicitSolverSettings::for_controller(
                    settings,
                    T::PRECISION,
                    n,
                    controller.settings(),
                )
                .map_err(StepError::from)?,
            )
        } else {
            None
        };
        let dense_jacobian = solver
            .as_ref()
            .is_some_and(ImplicitSolverSettings::needs_dense_jacobian);
        let reads_jacobian = solver
            .as_ref()
            .is_some_and(ImplicitSolverSettings::needs_jacobian);
        let step = StepComponent::register(&mut registry, step_id, algorithm, n, solver)?;
        let fixed_dt = if controller.settings().kind.is_adaptive() {
            None
        } else {
            controller.settings().dt0
        };
        if let Some(dt) = fixed_dt {
            loop_settings.check_fixed_step(dt)?;
        }
        let state_names: Vec<String> = model.states().iter().map(|s| s.name.clone()).collect();
        let plan = OutputPlan::resolve(
            outputs,
            &state_names,
            model.observables(),
            loop_settings.save_every,
            fixed_dt,
        )?;
        let summaries = SummaryComponent::register(
            &mut registry,
            outputs_id,
            &plan.metrics,
            plan.summarised_states.len(),
            plan.summarised_observables.len(),
        )?;

        let mut footprint = footprint::<T>(model, &plan, &summaries, &loop_settings)?;
        footprint.check(1, budget)?;

        // Aliases follow the final locations of their hosts by themselves.
        let location_keys = apply_locations(&mut registry, root, settings)?;
        // `fused_steps=false` keeps the generic ERK step (for comparisons).
        let fused_steps = settings
            .get::<bool>("fused_steps", "true or false")?
            .unwrap_or(true);
        settings.check_all_known()?;
        let interpolant = Arc::new(DriverInterpolant::new(drivers, &driver_settings)?);
        // The fused ERK step bakes in one derivative per stage with the
        // drivers loaded once, which holds only for constant drivers.
        let fused = fused_steps && interpolant.is_constant();
        // First: the step's form decides its buffers' sizes, and every
        // handle resolved after it sees the final layout.
        let step_cpu = step.cpu_with::<T>(&mut registry, fused.then(|| model.functions()))?;

        let (summaries_cpu, sample_times) = match &plan.timing {
            Some(timing) => (
                Some(summaries.cpu::<T>(
                    &registry,
                    timing,
                    &plan.summarised_states,
                    &plan.summarised_observables,
                )?),
                timing.sample_times(
                    loop_settings.t0 + loop_settings.settling_time,
                    loop_settings.duration,
                ),
            ),
            None => (None, Vec::new()),
        };
        let loop_outputs = LoopOutputs {
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
            summaries: summaries_cpu,
            sample_times,
            summarises_observables: !plan.summarised_observables.is_empty(),
        };
        let cpu = LoopCpu {
            save_times: if plan.save_state || plan.save_observables || plan.save_time {
                loop_settings.save_times()
            } else {
                Vec::new()
            },
            settings: loop_settings,
            state: registry.cpu_allocator(loop_id, "state")?,
            proposed: registry.cpu_allocator(loop_id, "proposed_state")?,
            error: registry.cpu_allocator(loop_id, "error")?,
            parameters: registry.cpu_allocator(loop_id, "parameters")?,
            drivers: registry.cpu_allocator(loop_id, "drivers")?,
            driver_rates: registry.cpu_allocator(loop_id, "driver_rates")?,
            interpolant,
            observables: registry.cpu_allocator(loop_id, "observables")?,
            step: step_cpu,
            controller: controller.cpu::<T>(&registry)?,
            outputs: loop_outputs,
        };
        let arena = registry.arena_layout(root)?;
        let working =
            check_working_memory::<T>(&registry, arena, dense_jacobian.then_some(n), budget)?;
        // One arena per worker; at least one exists whatever the threads.
        footprint.add_fixed(1, working);
        // The Jacobian is built and compiled only for the steps that read it.
        let functions = if dense_jacobian {
            model.functions_with_jacobian()
        } else if reads_jacobian {
            model.functions_with_jacobian_diagonal()
        } else {
            model.functions()
        };
        let system = NativeSystem::<T>::compile(functions)?;
        Ok(BatchKernel {
            registry,
            arena,
            cpu,
            system,
            n_states: n,
            location_keys,
            plan,
            summaries,
            footprint,
        })
    }

    /// What a batch of this kernel costs in memory.
    pub fn footprint(&self) -> &Footprint {
        &self.footprint
    }

    /// The registry's layout report of the whole tree.
    pub fn report(&self) -> Result<LayoutReport, RegistryError> {
        self.registry.report()
    }

    /// The registry of the tree.
    pub fn registry(&self) -> &BufferRegistry {
        &self.registry
    }

    /// Every valid `<buffer>_location` setting of this tree (qualified as
    /// `<component>.<buffer>_location` where a name is not unique).
    pub fn location_keys(&self) -> &[String] {
        &self.location_keys
    }

    /// One run's arena sizes.
    pub fn arena_layout(&self) -> ArenaLayout {
        self.arena
    }
}

/// One run's inputs and outputs, and the times shared by all runs, with
/// every count checked before anything of that size exists.
fn footprint<T: JitReal>(
    model: &Model,
    plan: &OutputPlan,
    summaries: &SummaryComponent,
    settings: &LoopSettings,
) -> Result<Footprint, KernelError> {
    let real = std::mem::size_of::<T>() as u128;
    let inputs = (model.n_states() + model.n_parameters()) as u128;
    let mut f = Footprint::new();
    // The f64 batch inputs, their copy in the solve's precision and the
    // copy written beside the results.
    f.add_per_run("inputs", inputs, 8 + 2 * real);
    f.add_per_run("final state", model.n_states() as u128, real);
    f.add_per_run(
        "status and counters",
        1,
        4 + 8 * COUNTER_LABELS.len() as u128,
    );
    let saves = settings.n_saves() as u128;
    if plan.save_state || plan.save_observables || plan.save_time {
        f.add_fixed(saves, 8 + real);
    }
    if plan.save_state {
        f.add_per_run(
            "saved states",
            saves,
            plan.saved_states.len() as u128 * real,
        );
    }
    if plan.save_observables {
        f.add_per_run(
            "saved observables",
            saves,
            plan.saved_observables.len() as u128 * real,
        );
    }
    if let Some(timing) = &plan.timing {
        settings.check_interval("sample_summaries_every", timing.sample_every())?;
        settings.check_interval("summarise_every", timing.summarise_every())?;
        let samples = settings.count_events(
            "sample_summaries_every",
            timing.sample_every(),
            settings.duration,
            "summary samples",
        )?;
        let windows = timing.n_windows(settings.duration) as u128;
        f.add_fixed(samples as u128 + 1, 8);
        f.add_fixed(windows, 8 + real);
        f.add_per_run("summaries", windows, summaries.row_len() as u128 * real);
    }
    Ok(f)
}

/// Bytes of one run's arena, refused before it is allocated when they
/// exceed `budget` (naming the largest buffers).
fn check_working_memory<T: JitReal>(
    registry: &BufferRegistry,
    arena: ArenaLayout,
    dense_jacobian: Option<usize>,
    budget: &MemoryBudget,
) -> Result<u128, KernelError> {
    let real = std::mem::size_of::<T>() as u128;
    let needed = (arena.total() as u128).saturating_mul(real);
    if needed <= u128::from(budget.bytes) {
        return Ok(needed);
    }
    let mut rows = registry.report()?.rows;
    // A `<child>_shared` or `<child>_persistent` entry only hosts the
    // child's buffers, which are listed themselves.
    let owners: std::collections::HashSet<String> = rows.iter().map(|r| r.owner.clone()).collect();
    rows.retain(|row| {
        let child = row
            .name
            .strip_suffix("_shared")
            .or_else(|| row.name.strip_suffix("_persistent"));
        !child.is_some_and(|c| owners.contains(&format!("{}/{c}", row.owner)))
    });
    rows.sort_by_key(|row| std::cmp::Reverse(row.size));
    let largest = rows
        .iter()
        .take(3)
        .map(|row| {
            let bytes = Bytes((row.size as u128).saturating_mul(real));
            format!("{bytes} {}/{}", row.owner, row.name)
        })
        .collect::<Vec<_>>()
        .join(", ");
    Err(MemoryError::WorkingMemory {
        needed,
        largest,
        dense_jacobian,
        budget: budget.clone(),
    }
    .into())
}

/// Applies every `<buffer>_location` setting (qualified by the end of the
/// owner's path where the bare key is not unique:
/// `<component>.<buffer>_location`, `newton.linear_solver.<buffer>_location`)
/// to the component that owns the buffer; returns each buffer's shortest
/// unambiguous key.
fn apply_locations(
    registry: &mut BufferRegistry,
    root: ComponentId,
    settings: &SettingsMap,
) -> Result<Vec<String>, KernelError> {
    let keys = registry.location_keys(root)?;
    // The forms worth listing are declared; a longer path form is known
    // once it names a buffer (declaring all would flood the messages).
    let listed = keys.listed();
    settings.declare(listed.iter().cloned());
    for (key, value) in settings.matching(|k| k.ends_with("_location")) {
        match keys.resolve(key) {
            Ok((id, buffer_key)) => {
                settings.declare([key.to_string()]);
                registry.apply_locations(id, [(buffer_key, value)])?;
            }
            Err(KeyMismatch::Unknown) => {
                return Err(KernelError::Location(format!(
                    "unknown setting `{key}`: no buffer of this solve has that name; valid location settings: {}",
                    listed.join(", ")
                )));
            }
            Err(KeyMismatch::Ambiguous(qualified)) => {
                return Err(KernelError::Location(format!(
                    "setting `{key}` is ambiguous: say which component, one of {}",
                    qualified.join(", ")
                )));
            }
        }
    }
    Ok(keys.shortest())
}
