//! The loop component: its settings and its registry buffers.

use thiserror::Error;

use crate::memory::{
    BufferRegistry, BufferSpec, Component, ComponentId, ElementType, RegistryError,
};
use crate::number::Num;

/// When and how long a run integrates, and what it saves.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopSettings {
    /// Start time.
    pub t0: f64,
    /// Length of the output interval (after the settling time).
    pub duration: f64,
    /// Time integrated before output starts (no saves, no summaries).
    pub settling_time: f64,
    /// Interval between saved samples; `None` saves nothing but the final
    /// state.
    pub save_every: Option<f64>,
    /// Step attempts after which a run stops with the max-steps flag.
    pub max_steps: u64,
}

impl Default for LoopSettings {
    fn default() -> Self {
        LoopSettings {
            t0: 0.0,
            duration: 1.0,
            settling_time: 0.0,
            save_every: None,
            max_steps: 10_000_000,
        }
    }
}

/// Loop settings that cannot be integrated.
#[derive(Debug, Error, PartialEq)]
pub enum LoopError {
    /// A time setting that must be finite is not.
    #[error("{0} must be a finite number")]
    NotFinite(&'static str),
    /// Duration zero or negative.
    #[error("duration must be positive, got {}", Num(*.0))]
    Duration(f64),
    /// Negative settling time.
    #[error("settling_time must be zero or positive, got {}", Num(*.0))]
    SettlingTime(f64),
    /// Save interval zero, negative or not finite.
    #[error("save_every must be a positive finite number, got {}", Num(*.0))]
    SaveEvery(f64),
    /// No step budget.
    #[error("max_steps must be at least 1")]
    MaxSteps,
    /// `t0 + settling_time + duration` overflows.
    #[error("the integration would end at t = {}, beyond the largest finite time", Num(*.0))]
    EndNotFinite(f64),
    /// An interval that the time values of the integration cannot resolve:
    /// the run would take no step, or land every event on the same time.
    #[error(
        "{what} = {} is too short to resolve at t = {}: f64 time values there are {:.2e} apart, \
         and {what} must span at least {MIN_SPACINGS} of them; move t0 nearer 0 or lengthen {what}",
        Num(*.value), Num(*.at), .spacing
    )]
    Unresolvable {
        /// The setting.
        what: &'static str,
        /// Its value.
        value: f64,
        /// The time of largest magnitude in the integration.
        at: f64,
        /// The distance between adjacent f64 values there.
        spacing: f64,
    },
    /// More events (saves, samples, windows) than can be counted exactly.
    #[error(
        "{what} = {} over {} gives {} {events} per run, more than the {} cubie can count",
        Num(*.value), Num(*.span), Num(*.count), Num(MAX_EVENTS)
    )]
    TooManyEvents {
        /// The interval setting.
        what: &'static str,
        /// Its value.
        value: f64,
        /// The span it divides.
        span: f64,
        /// What is counted.
        events: &'static str,
        /// How many there would be.
        count: f64,
    },
    /// A fixed step that needs more steps than `max_steps`.
    #[error(
        "a fixed step of dt = {} takes {} steps to cover {}, more than max_steps = {max_steps}; \
         use a larger dt or --set max_steps=N",
        Num(*.dt), Num(*.steps), Num(*.span)
    )]
    FixedStepsExceedBudget {
        /// The step.
        dt: f64,
        /// The span integrated (settling time and duration).
        span: f64,
        /// Steps needed.
        steps: f64,
        /// The budget.
        max_steps: u64,
    },
}

/// An interval must span at least this many adjacent f64 time values.
pub const MIN_SPACINGS: f64 = 64.0;

/// Counts of events per run stay below 2^53, where f64 still counts every
/// integer exactly.
pub const MAX_EVENTS: f64 = 9_007_199_254_740_992.0;

impl LoopSettings {
    /// Checks the settings: every time finite, the span and the save
    /// interval resolvable by f64 times, the saves countable.
    pub fn validate(&self) -> Result<(), LoopError> {
        for (name, v) in [
            ("t0", self.t0),
            ("duration", self.duration),
            ("settling_time", self.settling_time),
        ] {
            if !v.is_finite() {
                return Err(LoopError::NotFinite(name));
            }
        }
        if self.duration <= 0.0 {
            return Err(LoopError::Duration(self.duration));
        }
        if self.settling_time < 0.0 {
            return Err(LoopError::SettlingTime(self.settling_time));
        }
        let end = self.t_end();
        if !end.is_finite() {
            return Err(LoopError::EndNotFinite(end));
        }
        self.check_interval("duration", self.duration)?;
        if let Some(every) = self.save_every {
            if !(every.is_finite() && every > 0.0) {
                return Err(LoopError::SaveEvery(every));
            }
            self.check_interval("save_every", every)?;
            self.count_events("save_every", every, self.duration, "saves")?;
        }
        if self.max_steps == 0 {
            return Err(LoopError::MaxSteps);
        }
        Ok(())
    }

    /// The end of the integration, `t0 + settling_time + duration`.
    pub fn t_end(&self) -> f64 {
        self.t0 + self.settling_time + self.duration
    }

    /// The time of largest magnitude in the integration.
    fn extreme_time(&self) -> f64 {
        if self.t0.abs() > self.t_end().abs() {
            self.t0
        } else {
            self.t_end()
        }
    }

    /// Checks that an interval (a step, a save or sample interval) is
    /// finite and spans at least [`MIN_SPACINGS`] adjacent f64 values at
    /// every time of the integration.
    pub fn check_interval(&self, what: &'static str, value: f64) -> Result<(), LoopError> {
        if !value.is_finite() {
            return Err(LoopError::NotFinite(what));
        }
        let at = self.extreme_time();
        let spacing = spacing_at(at.abs());
        if value.is_nan() || value < MIN_SPACINGS * spacing {
            return Err(LoopError::Unresolvable {
                what,
                value,
                at,
                spacing,
            });
        }
        Ok(())
    }

    /// `floor(span / every)` (to a relative 1e-9), checked to be countable.
    pub fn count_events(
        &self,
        what: &'static str,
        every: f64,
        span: f64,
        events: &'static str,
    ) -> Result<usize, LoopError> {
        let count = (span / every * (1.0 + 1e-9)).floor();
        if count.is_nan() || count >= MAX_EVENTS {
            return Err(LoopError::TooManyEvents {
                what,
                value: every,
                span,
                events,
                count,
            });
        }
        Ok(count as usize)
    }

    /// Checks that a fixed step `dt` is resolvable and covers the whole
    /// span within `max_steps`.
    pub fn check_fixed_step(&self, dt: f64) -> Result<(), LoopError> {
        self.check_interval("dt", dt)?;
        let span = self.settling_time + self.duration;
        let steps = (span / dt).ceil();
        if steps > self.max_steps as f64 {
            return Err(LoopError::FixedStepsExceedBudget {
                dt,
                span,
                steps,
                max_steps: self.max_steps,
            });
        }
        Ok(())
    }

    /// Number of saved samples: the start of the output interval and every
    /// `save_every` after it, up to and including its end (for settings
    /// that [`validate`](Self::validate) accepts).
    pub fn n_saves(&self) -> usize {
        match self.save_every {
            None => 0,
            Some(every) => ((self.duration / every) * (1.0 + 1e-12)).floor() as usize + 1,
        }
    }

    /// The save times.
    pub fn save_times(&self) -> Vec<f64> {
        let start = self.t0 + self.settling_time;
        let end = start + self.duration;
        let every = self.save_every.unwrap_or(0.0);
        super::events::evenly_spaced(start, end, every, self.n_saves(), 1e-10)
    }
}

/// The gap between `at` (non-negative, finite) and the next f64 above it.
fn spacing_at(at: f64) -> f64 {
    f64::from_bits(at.to_bits() + 1) - at
}

/// What the loop component is built from: the model's sizes and whether
/// the step estimates its error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopSpec {
    /// States per run.
    pub n_states: usize,
    /// Parameters per run.
    pub n_parameters: usize,
    /// Drivers (forcing series).
    pub n_drivers: usize,
    /// Observables per run.
    pub n_observables: usize,
    /// The step is adaptive: the loop keeps an error estimate.
    pub adaptive: bool,
}

/// The loop component: owns the run's state, proposal, error estimate,
/// parameters, driver values and observables, and its working values (the
/// step size, the accept flag and the counters) as registry buffers, and
/// hosts the step, the controller and the outputs.
///
/// The step size has the solve's precision; the accept flag (`i32`) and
/// the counters (`i64`, one per [`COUNTER_LABELS`](super::COUNTER_LABELS)
/// entry) are integer local arrays. Time itself stays an `f64` scalar of
/// each backend's loop: it is never a buffer of the solve's precision.
#[derive(Debug, Clone, Copy)]
pub struct LoopComponent {
    /// The loop's node in the registry.
    pub id: ComponentId,
}

impl Component for LoopComponent {
    const NAME: &'static str = "loop";
    type Spec<'a> = LoopSpec;
    type Error = RegistryError;

    /// Adds the `loop` node and registers the loop's buffers.
    fn register(
        registry: &mut BufferRegistry,
        parent: Option<ComponentId>,
        spec: LoopSpec,
    ) -> Result<Self, RegistryError> {
        let id = registry.add_component(Self::NAME, parent)?;
        let LoopSpec {
            n_states,
            n_parameters,
            n_drivers,
            n_observables,
            adaptive,
        } = spec;
        registry.register(id, BufferSpec::local("state", n_states))?;
        registry.register(id, BufferSpec::local("proposed_state", n_states))?;
        registry.register(
            id,
            BufferSpec::local("error", if adaptive { n_states } else { 0 }),
        )?;
        registry.register(id, BufferSpec::local("parameters", n_parameters))?;
        registry.register(id, BufferSpec::local("drivers", n_drivers))?;
        registry.register(id, BufferSpec::local("driver_rates", n_drivers))?;
        registry.register(id, BufferSpec::local("observables", n_observables))?;
        registry.register(id, BufferSpec::local("dt", 1))?;
        registry.register(id, BufferSpec::local("accept", 1).element(ElementType::I32))?;
        registry.register(
            id,
            BufferSpec::local("counters", super::COUNTER_LABELS.len()).element(ElementType::I64),
        )?;
        Ok(LoopComponent { id })
    }

    fn id(&self) -> ComponentId {
        self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_count_includes_both_ends() {
        let s = LoopSettings {
            duration: 1.0,
            save_every: Some(0.1),
            ..LoopSettings::default()
        };
        assert_eq!(s.n_saves(), 11);
        let times = s.save_times();
        assert_eq!(times[10], 1.0);
        assert!((times[3] - 0.3).abs() < 1e-15);
    }

    #[test]
    fn bad_settings_are_rejected() {
        let base = LoopSettings::default();
        let neg = LoopSettings {
            duration: -1.0,
            ..base.clone()
        };
        assert_eq!(neg.validate(), Err(LoopError::Duration(-1.0)));
        let save = LoopSettings {
            save_every: Some(0.0),
            ..base.clone()
        };
        assert_eq!(save.validate(), Err(LoopError::SaveEvery(0.0)));
        assert!(base.validate().is_ok());
    }
}
