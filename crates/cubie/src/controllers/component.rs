//! The controller component: turns the user's options into validated
//! settings, registers the controller's persistent memory and the initial
//! step's scratch with the registry, and resolves the CPU form.

use std::cell::Cell;

use crate::memory::{BufferRegistry, BufferSpec, ComponentId, CpuAllocator, RunArena};
use crate::settings::SettingsMap;
use crate::step::{Algorithm, SystemCall};
use crate::system::jit::JitReal;
use crate::time_loop::Status;

use super::{
    ControllerError, ControllerKind, ControllerSettings, StepController, StepDecision, Tolerance,
};

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

/// The controller component.
#[derive(Debug, Clone)]
pub struct ControllerComponent {
    id: ComponentId,
    settings: ControllerSettings,
    n_states: usize,
}

impl ControllerComponent {
    /// Builds the settings for `algorithm` from its defaults, the options
    /// and the named settings, validates them, and registers the
    /// controller's buffers under `id`.
    pub fn register(
        registry: &mut BufferRegistry,
        id: ComponentId,
        options: ControllerOptions,
        algorithm: &Algorithm,
        n_states: usize,
        named: &SettingsMap,
        span: f64,
    ) -> Result<Self, super::ControllerError> {
        // OrdinaryDiffEq's defaults under the name or any alias (the
        // reference data names `rosenbrock23` `rosenbrock23_sciml`).
        let mut settings = std::iter::once(algorithm.name)
            .chain(algorithm.aliases.iter().copied())
            .find_map(|name| ControllerSettings::for_algorithm(name).ok())
            .unwrap_or_else(|| {
                ControllerSettings::fallback(
                    algorithm.order,
                    algorithm.error_order,
                    algorithm.family.is_implicit(),
                )
            });
        // OrdinaryDiffEq's version of a method may carry an error estimate
        // that cubie's tableau lacks (its Trapezoid): cubie then steps fixed.
        if !algorithm.adaptive && settings.kind.is_adaptive() {
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
        if algorithm.family.is_implicit() && algorithm.family != crate::step::StepFamily::Rosenbrock
        {
            let limit = named
                .get::<u32>("newton_max_iters", "a whole number")
                .map_err(|e| ControllerError::Setting(e.to_string()))?;
            settings.newton_max_iters =
                Some(limit.unwrap_or(crate::solvers::NewtonSettings::default().max_iters));
        }
        settings.validate_for(algorithm.adaptive)?;
        if !settings.kind.is_adaptive() && settings.dt0.is_none() {
            return Err(ControllerError::Setting(format!(
                "the fixed-step solve with `{}` needs a step size: give dt (--dt)",
                algorithm.name
            )));
        }
        settings.validate(n_states)?;

        let memory = settings.kind.memory_elements();
        registry.register(
            id,
            BufferSpec::local("timestep_memory", memory).persistent(),
        )?;
        let scratch = if settings.kind.is_adaptive() && settings.dt0.is_none() {
            StepController::<f64>::initial_step_scratch_elements(n_states)
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

    /// The validated settings.
    pub fn settings(&self) -> &ControllerSettings {
        &self.settings
    }

    /// The CPU form in precision `T`.
    pub fn cpu<T: JitReal>(
        &self,
        registry: &BufferRegistry,
    ) -> Result<ControllerCpu<T>, ControllerError> {
        Ok(ControllerCpu {
            inner: StepController::new(&self.settings, self.n_states)?,
            memory: registry.cpu_allocator(self.id, "timestep_memory")?,
            scratch: registry.cpu_allocator(self.id, "initial_step_scratch")?,
        })
    }
}

/// The controller's CPU form: the numeric controller plus its buffers.
#[derive(Debug, Clone)]
pub struct ControllerCpu<T: JitReal> {
    inner: StepController<T>,
    memory: CpuAllocator<T>,
    scratch: CpuAllocator<T>,
}

impl<T: JitReal> ControllerCpu<T> {
    /// Whether steps are accepted or rejected on an error estimate.
    pub fn is_adaptive(&self) -> bool {
        self.inner.is_adaptive()
    }

    /// The first step (the given one, or chosen from the derivative at
    /// the start) and the derivative evaluations that took.
    pub fn initial_dt(
        &self,
        sys: &SystemCall<'_, T>,
        arena: &RunArena<T>,
        t: f64,
        state: &[Cell<T>],
    ) -> (T, u32) {
        let evaluations = Cell::new(0);
        let dt = self.inner.initial_dt(
            |t, y, out| {
                evaluations.set(evaluations.get() + 1);
                sys.dxdt(t.to_f64(), y, out);
            },
            T::from_f64(t),
            state,
            self.scratch.view(arena),
        );
        (dt, evaluations.get())
    }

    /// The scaled RMS norm of an error estimate.
    #[inline]
    pub fn error_norm(&self, error: &[Cell<T>], previous: &[Cell<T>], proposed: &[Cell<T>]) -> T {
        self.inner.error_norm(error, previous, proposed)
    }

    /// [`propose`](Self::propose) with the Newton iterations the step
    /// took, which Gustafsson's controller uses to shorten the next step
    /// when Newton struggles (the other kinds ignore them).
    pub fn propose_step(
        &self,
        norm: T,
        dt: T,
        arena: &RunArena<T>,
        report: &crate::step::StepReport,
    ) -> StepDecision<T> {
        let norm = if report.status.is_success() {
            norm
        } else {
            T::infinity()
        };
        self.inner
            .propose_with_newton(norm, dt, report.newton_iterations, self.memory.view(arena))
    }

    /// Accept or reject a step of size `dt` with error norm `norm`. A step
    /// whose solver failed is rejected as if its error were infinite.
    pub fn propose(
        &self,
        norm: T,
        dt: T,
        arena: &RunArena<T>,
        step_status: Status,
    ) -> StepDecision<T> {
        let norm = if step_status.is_success() {
            norm
        } else {
            T::infinity()
        };
        self.inner.propose(norm, dt, self.memory.view(arena))
    }
}
