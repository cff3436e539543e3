//! The controller component: turns the user's options into validated
//! settings and registers the controller's persistent memory and the
//! initial step's scratch with the registry.

use crate::memory::{BufferRegistry, BufferSpec, Component, ComponentId};
use crate::settings::SettingsMap;

use super::{ControllerError, ControllerKind, ControllerSettings, Tolerance};

/// Step-control options given directly (the CLI's flags); everything else
/// is a named setting.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControllerOptions {
    /// Controller kind; the algorithm's default when `None` (parse a name
    /// with [`str::parse`], whose error lists the valid names).
    pub kind: Option<ControllerKind>,
    /// Fixed step, or an adaptive solve's first step (automatic if `None`).
    pub dt: Option<f64>,
    /// Smallest adaptive step.
    pub dt_min: Option<f64>,
    /// Largest adaptive step.
    pub dt_max: Option<f64>,
    /// Absolute tolerance: one value, or one per state.
    pub atol: Option<Vec<f64>>,
    /// Relative tolerance: one value, or one per state.
    pub rtol: Option<Vec<f64>>,
}

/// Named settings the controller reads, with the field each sets.
const GAIN_KEYS: [&str; 8] = [
    "kp",
    "ki",
    "kd",
    "safety",
    "min_gain",
    "max_gain",
    "deadband_min",
    "deadband_max",
];

fn tolerance(values: &[f64]) -> Tolerance {
    match values {
        [v] => Tolerance::Scalar(*v),
        v => Tolerance::PerState(v.to_vec()),
    }
}

/// What the controller needs to know of the step it controls (built from
/// the algorithm's catalogue entry, so the controller does not depend on
/// the steps).
#[derive(Debug, Clone, PartialEq)]
pub struct ControlledStep {
    /// The algorithm's name, for messages.
    pub name: &'static str,
    /// The algorithm's default controller settings.
    pub defaults: ControllerSettings,
    /// Whether the step estimates its error.
    pub adaptive: bool,
    /// Whether the step reports Newton iterations (Gustafsson's factor).
    pub newton: bool,
}

impl ControllerOptions {
    /// The controller's settings for `step`: its defaults, these
    /// options and the named settings, validated for `n_states` states.
    /// `span` (the integration span) is the default largest step.
    pub fn resolve(
        &self,
        step: &ControlledStep,
        n_states: usize,
        named: &SettingsMap,
        span: f64,
    ) -> Result<ControllerSettings, ControllerError> {
        let options = self;
        let mut settings = step.defaults.clone();
        // OrdinaryDiffEq's version of a method may carry an error estimate
        // that cubie's tableau lacks (its Trapezoid): cubie then steps fixed.
        if !step.adaptive && settings.kind.is_adaptive() {
            settings = settings.with_kind(ControllerKind::Fixed);
        }
        if let Some(kind) = options.kind
            && kind != settings.kind
        {
            settings = settings.with_kind(kind);
        }
        settings.dt0 = options.dt;
        if let Some(v) = options.dt_min {
            settings.dt_min = v;
        }
        // By default a step may cover the whole integration span.
        settings.dt_max = options.dt_max.unwrap_or(span);
        if let Some(v) = &options.atol {
            settings.atol = tolerance(v);
        }
        if let Some(v) = &options.rtol {
            settings.rtol = tolerance(v);
        }
        for key in GAIN_KEYS {
            let value = named
                .get_f64(key)
                .map_err(|e| ControllerError::Setting(e.to_string()))?;
            if let Some(v) = value {
                *match key {
                    "kp" => &mut settings.kp,
                    "ki" => &mut settings.ki,
                    "kd" => &mut settings.kd,
                    "safety" => &mut settings.safety,
                    "min_gain" => &mut settings.min_gain,
                    "max_gain" => &mut settings.max_gain,
                    "deadband_min" => &mut settings.qsteady_min,
                    _ => &mut settings.qsteady_max,
                } = v;
            }
        }
        // Gustafsson's factor needs Newton's iteration limit (only the
        // implicit steps take the setting).
        if step.newton {
            let limit = named
                .get::<u32>("newton_max_iters", "a whole number")
                .map_err(|e| ControllerError::Setting(e.to_string()))?;
            settings.newton_max_iters =
                Some(limit.unwrap_or(crate::solvers::NewtonSettings::default().max_iters));
        }
        settings.validate_for(step.adaptive)?;
        if !settings.kind.is_adaptive() && settings.dt0.is_none() {
            return Err(ControllerError::Setting(format!(
                "the fixed-step solve with `{}` needs a step size: give dt (--dt)",
                step.name
            )));
        }
        settings.validate(n_states)?;
        Ok(settings)
    }
}

/// What the controller component is built from: settings already resolved
/// (see [`ControllerOptions::resolve`]), so that a step can read them
/// before the controller's node is added after it.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerSpec {
    /// The controller's settings.
    pub settings: ControllerSettings,
    /// States per run.
    pub n_states: usize,
}

/// The controller component.
#[derive(Debug, Clone)]
pub struct ControllerComponent {
    pub(crate) id: ComponentId,
    pub(crate) settings: ControllerSettings,
    pub(crate) n_states: usize,
}

impl Component for ControllerComponent {
    const NAME: &'static str = "controller";
    type Spec<'a> = ControllerSpec;
    type Error = ControllerError;

    /// Adds the `controller` node and registers the controller's
    /// persistent memory and the initial step's scratch.
    fn register(
        registry: &mut BufferRegistry,
        parent: Option<ComponentId>,
        spec: ControllerSpec,
    ) -> Result<Self, ControllerError> {
        let ControllerSpec { settings, n_states } = spec;
        settings.validate(n_states)?;
        let id = registry.add_component(Self::NAME, parent)?;
        let memory = settings.kind.memory_elements();
        registry.register(
            id,
            BufferSpec::local("timestep_memory", memory).persistent(),
        )?;
        let scratch = if settings.kind.is_adaptive() && settings.dt0.is_none() {
            initial_step_scratch_elements(n_states)
        } else {
            0
        };
        registry.register(id, BufferSpec::local("initial_step_scratch", scratch))?;
        Ok(ControllerComponent {
            id,
            settings,
            n_states,
        })
    }

    fn id(&self) -> ComponentId {
        self.id
    }
}

impl ControllerComponent {
    /// The validated settings.
    pub fn settings(&self) -> &ControllerSettings {
        &self.settings
    }
}

/// Scratch elements the automatic first step needs for a system of
/// `n_states` states (`f0`, `y1`, `f1`), whatever the backend.
pub fn initial_step_scratch_elements(n_states: usize) -> usize {
    3 * n_states
}
