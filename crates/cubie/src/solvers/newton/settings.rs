//! Newton–Krylov settings: defaults (CuBIE's), validation, setting keys.

use crate::settings::SettingsMap;
use crate::solvers::error::SolverError;

/// Settings of the damped Newton iteration. Defaults are CuBIE's.
///
/// Convergence: `‖G(x)‖₂ ≤ newton_tolerance` (absolute, on the residual
/// norm, as CuBIE's `newton_tolerance`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonSettings {
    /// `newton_tolerance`: absolute residual norm (default 1e-3).
    pub tolerance: f64,
    /// `newton_max_iters`: Newton iterations, 1..=32767 (default 100).
    pub max_iters: u32,
    /// `newton_damping`: step shrink factor per backtrack, in (0, 1]
    /// (default 0.5).
    pub damping: f64,
    /// `newton_max_backtracks`: shrinks tried after the full step,
    /// 1..=32767 (default 8).
    pub max_backtracks: u32,
}

impl Default for NewtonSettings {
    fn default() -> Self {
        NewtonSettings {
            tolerance: 1e-3,
            max_iters: 100,
            damping: 0.5,
            max_backtracks: 8,
        }
    }
}

impl NewtonSettings {
    /// The setting keys the Newton solver understands (besides the
    /// `<buffer>_location` keys of its registered buffers).
    pub const KEYS: [&'static str; 4] = [
        "newton_tolerance",
        "newton_max_iters",
        "newton_damping",
        "newton_max_backtracks",
    ];

    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), SolverError> {
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(SolverError::InvalidSetting {
                key: "newton_tolerance",
                value: self.tolerance.to_string(),
                expected: "a finite number > 0",
            });
        }
        if !(1..=32767).contains(&self.max_iters) {
            return Err(SolverError::InvalidSetting {
                key: "newton_max_iters",
                value: self.max_iters.to_string(),
                expected: "an integer in 1..=32767",
            });
        }
        if !(self.damping > 0.0 && self.damping <= 1.0) {
            return Err(SolverError::InvalidSetting {
                key: "newton_damping",
                value: self.damping.to_string(),
                expected: "a number in (0, 1]",
            });
        }
        if !(1..=32767).contains(&self.max_backtracks) {
            return Err(SolverError::InvalidSetting {
                key: "newton_max_backtracks",
                value: self.max_backtracks.to_string(),
                expected: "an integer in 1..=32767",
            });
        }
        Ok(())
    }

    /// These settings overridden by any of [`KEYS`](Self::KEYS) given in
    /// `map` (declaring them known), then validated.
    pub fn updated_from(mut self, map: &SettingsMap) -> Result<Self, SolverError> {
        if let Some(v) = map.get_f64("newton_tolerance")? {
            self.tolerance = v;
        }
        if let Some(v) = map.get::<u32>("newton_max_iters", "a whole number")? {
            self.max_iters = v;
        }
        if let Some(v) = map.get_f64("newton_damping")? {
            self.damping = v;
        }
        if let Some(v) = map.get::<u32>("newton_max_backtracks", "a whole number")? {
            self.max_backtracks = v;
        }
        self.validate()?;
        Ok(self)
    }

    /// CuBIE's defaults overridden by `map`.
    pub fn from_settings(map: &SettingsMap) -> Result<Self, SolverError> {
        Self::default().updated_from(map)
    }
}
