//! The backend-neutral kernel tree of one solve: the registry, the
//! settings and every component (loop, step with its Newton and linear
//! solvers, controller, outputs and summaries, drivers), with the precision
//! as a run-time value. Sizes, the plan and the location settings are read
//! from it alone; each backend resolves its forms from it.

use thiserror::Error;

use crate::Precision;
use crate::controllers::{ControllerComponent, ControllerError, ControllerOptions, ControllerSpec};
use crate::drivers::{DriverError, DriverSeries, DriverSettings};
use crate::memory::{
    ArenaLayout, BufferRegistry, Component, ComponentId, KeyMismatch, LayoutReport, RegistryError,
};
use crate::outputs::{
    OutputError, OutputPlan, OutputSettings, SummaryComponent, SummaryError, SummarySpec,
};
use crate::settings::{SettingsError, SettingsMap};
use crate::step::{AlgorithmEntry, ImplicitSolverSettings, StepComponent, StepError, StepSpec};
use crate::system::{Model, SystemFunctions};
use crate::time_loop::events::EventTimes;
use crate::time_loop::{COUNTER_LABELS, LoopComponent, LoopError, LoopSettings, LoopSpec};

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
    /// A backend could not compile the model. (Not a `source`: the
    /// message already holds the cause, and a chain printer would repeat
    /// it.)
    #[error("compiling the model: {0}")]
    Compile(String),
    /// A `<buffer>_location` setting names no buffer, or one owned by
    /// several components without saying which.
    #[error("{0}")]
    Location(String),
    /// A lane width the CPU backend does not offer.
    #[error("lanes = {lanes} is invalid: use 1, 2, 4, 8, 16 or 32 runs per lane block")]
    Lanes {
        /// The width asked for.
        lanes: usize,
    },
    /// Even one run does not fit in memory.
    #[error(transparent)]
    Memory(#[from] MemoryError),
}

/// Which of the model's functions the solve's step reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFunctionSet {
    /// `dxdt`, observables, JVP and `df/dt`.
    Plain,
    /// Those and the Jacobian's diagonal (the Jacobi preconditioner).
    WithJacobianDiagonal,
    /// Those and the dense Jacobian (the `lu` linear solver).
    WithJacobian,
}

impl ModelFunctionSet {
    /// The model's functions of this set (each built once per model).
    pub fn of(self, model: &Model) -> &SystemFunctions {
        match self {
            ModelFunctionSet::Plain => model.functions(),
            ModelFunctionSet::WithJacobianDiagonal => model.functions_with_jacobian_diagonal(),
            ModelFunctionSet::WithJacobian => model.functions_with_jacobian(),
        }
    }
}

/// One solve's component tree: the registry and every component with its
/// numerics in f64, for any backend.
#[derive(Debug)]
pub struct KernelTree {
    pub(crate) algorithm: &'static AlgorithmEntry,
    pub(crate) registry: BufferRegistry,
    pub(crate) root: ComponentId,
    pub(crate) loop_component: LoopComponent,
    pub(crate) loop_settings: LoopSettings,
    pub(crate) step: StepComponent,
    pub(crate) controller: ControllerComponent,
    pub(crate) summaries: SummaryComponent,
    pub(crate) plan: OutputPlan,
    pub(crate) drivers: DriverSeries,
    pub(crate) driver_settings: DriverSettings,
    pub(crate) functions: ModelFunctionSet,
    pub(crate) fused_steps: bool,
    pub(crate) n_states: usize,
    pub(crate) location_keys: Vec<String>,
    /// The buffers a `<buffer>_location` setting placed: a backend's
    /// default placement never moves them.
    pub(crate) user_placed: Vec<(ComponentId, String)>,
    pub(crate) footprint: Footprint,
    pub(crate) budget: MemoryBudget,
}

impl KernelTree {
    /// Builds the tree for `algorithm` on `model` in `precision`, applies
    /// the named settings (buffer locations included) and checks that one
    /// run's inputs and outputs fit in `budget`.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        model: &Model,
        algorithm: &'static AlgorithmEntry,
        precision: Precision,
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
        let mut registry = BufferRegistry::new(precision);
        let root = registry.add_component("kernel", None)?;
        let loop_component = LoopComponent::register(
            &mut registry,
            Some(root),
            LoopSpec {
                n_states: n,
                n_parameters: model.n_parameters(),
                n_drivers: model.n_drivers(),
                n_observables: model.n_observables(),
                adaptive: algorithm.adaptive,
            },
        )?;
        let loop_id = loop_component.id;
        let controller_settings = controller.resolve(
            &algorithm.controlled_step(),
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
                    precision,
                    n,
                    &controller_settings,
                )
                .map_err(StepError::from)?,
            )
        } else {
            None
        };
        let functions = match &solver {
            Some(s) if s.needs_dense_jacobian() => ModelFunctionSet::WithJacobian,
            Some(s) if s.needs_jacobian() => ModelFunctionSet::WithJacobianDiagonal,
            _ => ModelFunctionSet::Plain,
        };
        let step = StepComponent::register(
            &mut registry,
            Some(loop_id),
            StepSpec {
                algorithm,
                n_states: n,
                solver,
            },
        )?;
        let controller = ControllerComponent::register(
            &mut registry,
            Some(loop_id),
            ControllerSpec {
                settings: controller_settings,
                n_states: n,
            },
        )?;
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
            Some(loop_id),
            SummarySpec {
                metrics: &plan.metrics,
                n_state_vars: plan.summarised_states.len(),
                n_observable_vars: plan.summarised_observables.len(),
            },
        )?;

        let footprint = footprint(model, precision, &plan, &summaries, &loop_settings)?;
        footprint.check(1, budget)?;

        // Aliases follow the final locations of their hosts by themselves.
        let (location_keys, user_placed) = apply_locations(&mut registry, root, settings)?;
        // `fused_steps=false` keeps the generic ERK step (for comparisons).
        // A fused step bakes in one derivative per stage with the drivers
        // loaded once, which holds only for constant drivers.
        let fused_steps = settings
            .get::<bool>("fused_steps", "true or false")?
            .unwrap_or(true)
            && drivers.is_constant();
        settings.check_all_known()?;
        Ok(KernelTree {
            registry,
            root,
            loop_component,
            loop_settings,
            step,
            controller,
            summaries,
            plan,
            drivers: drivers.clone(),
            driver_settings,
            functions,
            fused_steps,
            algorithm,
            n_states: n,
            location_keys,
            user_placed,
            footprint,
            budget: budget.clone(),
        })
    }

    /// Sizes one run's arena once a backend has chosen its forms (and so
    /// every buffer's final size), refuses it when it exceeds the budget,
    /// and counts one arena per worker (at least one) in the footprint.
    pub fn settle_working_memory(&mut self) -> Result<ArenaLayout, KernelError> {
        let arena = self.registry.arena_layout(self.root)?;
        let dense = (self.functions == ModelFunctionSet::WithJacobian).then_some(self.n_states);
        let working = check_working_memory(&self.registry, arena, dense, &self.budget)?;
        self.footprint.add_fixed(1, working);
        Ok(arena)
    }

    /// The precision of the solve.
    pub fn precision(&self) -> Precision {
        self.registry.precision()
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

    /// Every valid `<buffer>_location` setting of this tree (qualified by
    /// the end of the owner's path where a name is not unique).
    pub fn location_keys(&self) -> &[String] {
        &self.location_keys
    }

    /// The model's functions the step reads.
    pub fn functions(&self) -> ModelFunctionSet {
        self.functions
    }

    /// The output plan: which series and summaries are recorded.
    pub fn output_plan(&self) -> &OutputPlan {
        &self.plan
    }

    /// One run's output event times: the save times when any series is
    /// saved, the summary sample times when any metric is chosen.
    pub fn event_times(&self) -> EventTimes {
        let plan = &self.plan;
        let s = &self.loop_settings;
        EventTimes {
            saves: if plan.save_state || plan.save_observables || plan.save_time {
                s.save_times()
            } else {
                Vec::new()
            },
            samples: plan.timing.as_ref().map_or_else(Vec::new, |timing| {
                timing.sample_times(s.t0 + s.settling_time, s.duration)
            }),
        }
    }

    /// Number of summary windows of one run.
    pub fn n_windows(&self) -> usize {
        self.plan
            .timing
            .as_ref()
            .map_or(0, |t| t.n_windows(self.loop_settings.duration))
    }
}

/// One run's inputs and outputs, and the times shared by all runs, with
/// every count checked before anything of that size exists.
fn footprint(
    model: &Model,
    precision: Precision,
    plan: &OutputPlan,
    summaries: &SummaryComponent,
    settings: &LoopSettings,
) -> Result<Footprint, KernelError> {
    let real = precision.bytes() as u128;
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
fn check_working_memory(
    registry: &BufferRegistry,
    arena: ArenaLayout,
    dense_jacobian: Option<usize>,
    budget: &MemoryBudget,
) -> Result<u128, KernelError> {
    let real = registry.precision().bytes() as u128;
    // The CPU keeps every integer element in an i64 cell.
    let needed = (arena.total() as u128)
        .saturating_mul(real)
        .saturating_add(arena.integer as u128 * 8);
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
            let bytes = Bytes((row.size as u128).saturating_mul(row.element.bytes() as u128));
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

/// The buffers a location setting placed, by owner and name.
type UserPlaced = Vec<(ComponentId, String)>;

/// Applies every `<buffer>_location` setting (qualified by the end of the
/// owner's path where the bare key is not unique:
/// `<component>.<buffer>_location`, `newton.linear_solver.<buffer>_location`)
/// to the component that owns the buffer; returns each buffer's shortest
/// unambiguous key and the buffers the settings placed.
fn apply_locations(
    registry: &mut BufferRegistry,
    root: ComponentId,
    settings: &SettingsMap,
) -> Result<(Vec<String>, UserPlaced), KernelError> {
    let mut placed = Vec::new();
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
                if let Some(buffer) = crate::memory::buffer_of_key(buffer_key) {
                    placed.push((id, buffer.to_string()));
                }
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
    Ok((keys.shortest(), placed))
}
