//! The loop component: its settings and its registry buffers.

use thiserror::Error;

use crate::memory::{BufferRegistry, BufferSpec, ComponentId, RegistryError};

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
    #[error("duration must be positive, got {0}")]
    Duration(f64),
    /// Negative settling time.
    #[error("settling_time must be zero or positive, got {0}")]
    SettlingTime(f64),
    /// Save interval zero or negative.
    #[error("save_every must be positive, got {0}")]
    SaveEvery(f64),
    /// No step budget.
    #[error("max_steps must be at least 1")]
    MaxSteps,
}

impl LoopSettings {
    /// Checks the settings.
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
        if let Some(every) = self.save_every
            && !(every.is_finite() && every > 0.0)
        {
            return Err(LoopError::SaveEvery(every));
        }
        if self.max_steps == 0 {
            return Err(LoopError::MaxSteps);
        }
        Ok(())
    }

    /// Number of saved samples: the start of the output interval and every
    /// `save_every` after it, up to and including its end.
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
        (0..self.n_saves())
            .map(|k| {
                let at = start + k as f64 * every;
                if (at - end).abs() <= 1e-10 * every {
                    end
                } else {
                    at
                }
            })
            .collect()
    }
}

/// The loop component: owns the run's state, proposal, error estimate,
/// parameters, driver values and observables as registry buffers, and
/// hosts the step, the controller and the outputs.
#[derive(Debug, Clone, Copy)]
pub struct LoopComponent {
    /// The loop's node in the registry.
    pub id: ComponentId,
}

impl LoopComponent {
    /// Registers the loop's buffers.
    pub fn register(
        registry: &mut BufferRegistry,
        id: ComponentId,
        n_states: usize,
        n_parameters: usize,
        n_drivers: usize,
        n_observables: usize,
        adaptive: bool,
    ) -> Result<Self, RegistryError> {
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
        Ok(LoopComponent { id })
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
