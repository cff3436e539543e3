//! Controller kinds, user settings, their validation, and the per-algorithm
//! defaults taken from OrdinaryDiffEq.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::number::Num;

/// The step-size controller of a solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControllerKind {
    /// Constant step `dt0`; every step is accepted.
    Fixed,
    /// Elementary (integral) controller.
    I,
    /// Proportional–integral controller (OrdinaryDiffEq's `PIController`).
    Pi,
    /// Söderlind's three-term PID digital filter.
    Pid,
    /// Gustafsson's predictive controller (OrdinaryDiffEq's
    /// `PredictiveController`, Hairer's Radau5).
    Gustafsson,
}

impl ControllerKind {
    /// Every kind, in the order of their names.
    pub const ALL: [ControllerKind; 5] = [
        ControllerKind::Fixed,
        ControllerKind::I,
        ControllerKind::Pi,
        ControllerKind::Pid,
        ControllerKind::Gustafsson,
    ];

    /// The user-facing name (`fixed`, `i`, `pi`, `pid`, `gustafsson`).
    pub fn name(self) -> &'static str {
        match self {
            ControllerKind::Fixed => "fixed",
            ControllerKind::I => "i",
            ControllerKind::Pi => "pi",
            ControllerKind::Pid => "pid",
            ControllerKind::Gustafsson => "gustafsson",
        }
    }

    /// Whether the controller needs an error estimate.
    pub fn is_adaptive(self) -> bool {
        self != ControllerKind::Fixed
    }

    /// Persistent elements the controller keeps between steps (registered
    /// by the loop as a persistent buffer; all zeros is the fresh state).
    pub fn memory_elements(self) -> usize {
        match self {
            ControllerKind::Fixed | ControllerKind::I => 0,
            // previous accepted error norm
            ControllerKind::Pi => 1,
            // the two previous accepted error norms
            ControllerKind::Pid => 2,
            // previous accepted dt and error norm
            ControllerKind::Gustafsson => 2,
        }
    }
}

impl fmt::Display for ControllerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ControllerKind {
    type Err = ControllerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        ControllerKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| ControllerError::UnknownKind {
                name: s.to_string(),
                valid: ControllerKind::ALL.map(|k| k.name()).join(", "),
            })
    }
}

/// Absolute or relative tolerance: one value for every state, or one per
/// state.
#[derive(Debug, Clone, PartialEq)]
pub enum Tolerance {
    /// The same tolerance for every state.
    Scalar(f64),
    /// One tolerance per state.
    PerState(Vec<f64>),
}

impl Tolerance {
    /// Tolerance of state `i` (a scalar applies to every state). `i` must
    /// be a valid state index for a per-state tolerance.
    pub fn get(&self, i: usize) -> f64 {
        match self {
            Tolerance::Scalar(v) => *v,
            Tolerance::PerState(v) => v[i],
        }
    }

    /// The values as given (one for a scalar).
    pub fn values(&self) -> &[f64] {
        match self {
            Tolerance::Scalar(v) => std::slice::from_ref(v),
            Tolerance::PerState(v) => v,
        }
    }

    /// One value per state.
    pub fn expand(&self, n_states: usize) -> Vec<f64> {
        (0..n_states).map(|i| self.get(i)).collect()
    }
}

impl From<f64> for Tolerance {
    fn from(v: f64) -> Self {
        Tolerance::Scalar(v)
    }
}

impl From<Vec<f64>> for Tolerance {
    fn from(v: Vec<f64>) -> Self {
        Tolerance::PerState(v)
    }
}

/// Invalid controller settings.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ControllerError {
    /// A named controller setting that does not parse, or a missing step.
    #[error("{0}")]
    Setting(String),
    /// The registry refused the controller's buffers.
    #[error(transparent)]
    Registry(#[from] crate::memory::RegistryError),
    /// Unknown controller name.
    #[error("unknown step controller `{name}`; valid names: {valid}")]
    UnknownKind {
        /// The name given.
        name: String,
        /// The valid names.
        valid: String,
    },
    /// No defaults known for this algorithm name.
    #[error("no controller defaults for algorithm `{name}`; known algorithms: {valid}")]
    UnknownAlgorithm {
        /// The name given.
        name: String,
        /// The known names.
        valid: String,
    },
    /// A per-state tolerance vector of the wrong length.
    #[error("{which} has {len} entries but the system has {n_states} states")]
    ToleranceLength {
        /// `atol` or `rtol`.
        which: &'static str,
        /// Entries given.
        len: usize,
        /// States in the system.
        n_states: usize,
    },
    /// A tolerance that is negative, not finite, or (for `atol` with an
    /// adaptive controller) zero.
    #[error("{which}[{index}] = {} is invalid: {reason}", Num(*.value))]
    InvalidTolerance {
        /// `atol` or `rtol`.
        which: &'static str,
        /// Entry index.
        index: usize,
        /// The value.
        value: f64,
        /// What is required.
        reason: &'static str,
    },
    /// `dt_min`/`dt_max` out of order or not positive.
    #[error(
        "step bounds must satisfy 0 < dt_min <= dt_max < infinity, got dt_min = {}, dt_max = {}",
        Num(*.dt_min),
        Num(*.dt_max)
    )]
    StepBounds {
        /// Minimum step.
        dt_min: f64,
        /// Maximum step.
        dt_max: f64,
    },
    /// `dt0` not positive, or outside the step bounds of an adaptive
    /// controller.
    #[error("dt = {} is invalid: {reason}", Num(*.dt0))]
    InvalidDt0 {
        /// The value.
        dt0: f64,
        /// What is required.
        reason: &'static str,
    },
    /// The fixed controller needs its step.
    #[error("the fixed-step controller needs dt0 (the step size)")]
    FixedNeedsDt0,
    /// Gain bounds out of order.
    #[error(
        "gain bounds must satisfy 0 < min_gain <= 1 <= max_gain and min_gain < max_gain, got {}, {}",
        Num(*.min_gain),
        Num(*.max_gain)
    )]
    GainBounds {
        /// Smallest step-size factor.
        min_gain: f64,
        /// Largest step-size factor.
        max_gain: f64,
    },
    /// Safety factor outside (0, 1].
    #[error("safety must lie in (0, 1], got {}", Num(*.0))]
    Safety(f64),
    /// Deadband out of order.
    #[error("deadband must satisfy 0 < qsteady_min <= qsteady_max, got {}, {}", Num(*.min), Num(*.max))]
    Deadband {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// A gain that is not finite.
    #[error("gain {name} = {} is not finite", Num(*.value))]
    Gain {
        /// `kp`, `ki` or `kd`.
        name: &'static str,
        /// The value.
        value: f64,
    },
    /// Order zero.
    #[error("{which} must be at least 1")]
    Order {
        /// `order` or `error_order`.
        which: &'static str,
    },
    /// An adaptive controller with an algorithm that has no error estimate.
    #[error("controller `{kind}` needs an error estimate, but the algorithm has none; use `fixed`")]
    NeedsErrorEstimate {
        /// The controller asked for.
        kind: ControllerKind,
    },
}

/// A step-size controller's settings.
///
/// ## Gains
/// `kp`, `ki`, `kd` are the exponents of Söderlind's digital filter on the
/// scaled error norms `E` of the current and the two previous accepted
/// steps, already divided by the order constant `k` (CuBIE divides by `k`
/// when it builds; cubie does not, so that OrdinaryDiffEq's rational
/// constants are used exactly):
///
/// `dt_new = dt · safety · (1/E_n)^kp · (1/E_{n-1})^ki · (1/E_{n-2})^kd`
///
/// - `i`: `kp` only (default `1/(error_order+1)`);
/// - `pi`: `kp` = OrdinaryDiffEq's `beta1`, `ki` = `-beta2` (default
///   `7/(10·order)`, `-2/(5·order)`, or the per-algorithm constants);
/// - `pid`: all three (default Söderlind's H312PID, `(1/18, 1/9, 1/18)/k`,
///   `k = error_order + 1`);
/// - `gustafsson`: `kp` is the exponent (default `1/(error_order+1)`);
/// - `fixed`: none.
///
/// ## Gain limits and deadband
/// `min_gain`/`max_gain` bound `dt_new/dt` (OrdinaryDiffEq's `qmin`/`qmax`),
/// `safety` is OrdinaryDiffEq's `gamma`. The deadband is on
/// `q = dt/dt_new` as in OrdinaryDiffEq: when
/// `qsteady_min <= q <= qsteady_max` an accepted step keeps its `dt`.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerSettings {
    /// Which controller.
    pub kind: ControllerKind,
    /// Absolute tolerance.
    pub atol: Tolerance,
    /// Relative tolerance.
    pub rtol: Tolerance,
    /// First step (the step of the fixed controller); `None`: chosen
    /// automatically (`StepController::initial_dt` on the CPU).
    pub dt0: Option<f64>,
    /// Smallest step; a rejected step that is already this small stops the
    /// run with "step too small".
    pub dt_min: f64,
    /// Largest step.
    pub dt_max: f64,
    /// Smallest factor `dt_new/dt` (`qmin`).
    pub min_gain: f64,
    /// Largest factor `dt_new/dt` (`qmax`).
    pub max_gain: f64,
    /// Safety factor (`gamma`).
    pub safety: f64,
    /// Exponent of the current error norm.
    pub kp: f64,
    /// Exponent of the previous error norm.
    pub ki: f64,
    /// Exponent of the error norm before that.
    pub kd: f64,
    /// Lower end of the deadband on `q = dt/dt_new`.
    pub qsteady_min: f64,
    /// Upper end of the deadband on `q = dt/dt_new`.
    pub qsteady_max: f64,
    /// Classical order of the algorithm (initial-step heuristic, `pi`
    /// default gains).
    pub order: u32,
    /// Order of the algorithm's error estimate (exponent `1/(error_order+1)`
    /// of `i`, `pid`, `gustafsson`).
    pub error_order: u32,
    /// Gustafsson only: the Newton solver's iteration limit. When set, the
    /// safety factor shrinks with the iterations the step needed, as in
    /// Radau5 / OrdinaryDiffEq (`min(γ, (1+2m)γ/(iters+2m))`).
    pub newton_max_iters: Option<u32>,
}

/// OrdinaryDiffEq's default controller constants for one algorithm (from
/// `OrdinaryDiffEqCore` and each algorithm's `*_default` overrides); each
/// algorithm's catalogue entry holds its own
/// (`cubie::step::Algorithm::controller_defaults`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControllerDefaults {
    /// OrdinaryDiffEq's default controller.
    pub kind: ControllerKind,
    /// `PIController` `beta1` (0 for the predictive controller).
    pub beta1: f64,
    /// `PIController` `beta2`.
    pub beta2: f64,
    /// `qmin`.
    pub qmin: f64,
    /// `qmax`.
    pub qmax: f64,
    /// `gamma` (safety).
    pub gamma: f64,
    /// `qsteady_min`.
    pub qsteady_min: f64,
    /// `qsteady_max`.
    pub qsteady_max: f64,
    /// Classical order.
    pub order: u32,
    /// Order of the error estimate.
    pub error_order: u32,
    /// Whether cubie's version of the algorithm has an error estimate
    /// (OrdinaryDiffEq's `RK4` has a bespoke one that cubie's classical RK4
    /// lacks, so it defaults to `fixed` here).
    pub has_error_estimate: bool,
}

impl ControllerDefaults {
    /// OrdinaryDiffEq's PI defaults (`qmin = 1/5`, `qmax = 10`,
    /// `gamma = 9/10`, no deadband).
    pub const fn pi(beta1: f64, beta2: f64, order: u32, error_order: u32) -> Self {
        ControllerDefaults {
            kind: ControllerKind::Pi,
            beta1,
            beta2,
            qmin: 1.0 / 5.0,
            qmax: 10.0,
            gamma: 9.0 / 10.0,
            qsteady_min: 1.0,
            qsteady_max: 1.0,
            order,
            error_order,
            has_error_estimate: true,
        }
    }

    /// The implicit methods' deadband `[1, 6/5]`.
    pub const fn with_implicit_deadband(self) -> Self {
        ControllerDefaults {
            qsteady_max: 6.0 / 5.0,
            ..self
        }
    }
}

impl ControllerSettings {
    /// Defaults shared by every algorithm before its own constants apply:
    /// CuBIE's `atol = rtol = 1e-6`, but `dt_min = 1e-12` (CuBIE's 1e-6
    /// stops stiff problems at their first transient) and `dt_max = 1`
    /// (the solve widens it to the integration span, as OrdinaryDiffEq
    /// does).
    fn base(kind: ControllerKind, order: u32, error_order: u32) -> Self {
        let mut s = ControllerSettings {
            kind,
            atol: Tolerance::Scalar(1e-6),
            rtol: Tolerance::Scalar(1e-6),
            dt0: None,
            dt_min: 1e-12,
            dt_max: 1.0,
            min_gain: 1.0 / 5.0,
            max_gain: 10.0,
            safety: 9.0 / 10.0,
            kp: 0.0,
            ki: 0.0,
            kd: 0.0,
            qsteady_min: 1.0,
            qsteady_max: 1.0,
            order,
            error_order,
            newton_max_iters: None,
        };
        [s.kp, s.ki, s.kd] = Self::default_gains(kind, order, error_order);
        s
    }

    /// The settings of OrdinaryDiffEq's defaults `d`; without an error
    /// estimate, `fixed`.
    pub fn from_defaults(d: &ControllerDefaults) -> Self {
        let kind = if d.has_error_estimate {
            d.kind
        } else {
            ControllerKind::Fixed
        };
        let mut s = Self::base(kind, d.order, d.error_order);
        s.min_gain = d.qmin;
        s.max_gain = d.qmax;
        s.safety = d.gamma;
        s.qsteady_min = d.qsteady_min;
        s.qsteady_max = d.qsteady_max;
        if d.kind == ControllerKind::Pi && kind == ControllerKind::Pi {
            s.kp = d.beta1;
            s.ki = -d.beta2;
            s.kd = 0.0;
        }
        s
    }

    /// OrdinaryDiffEq's general rule for an algorithm without specific
    /// defaults: `PIController` with `beta1 = 7/(10p)`, `beta2 = 2/(5p)`
    /// (`p` = order), `qmin = 1/5`, `qmax = 10`, `gamma = 9/10`, deadband
    /// `[1, 1]` (explicit) or `[1, 6/5]` (implicit). Without an error
    /// estimate the controller is `fixed` (OrdinaryDiffEq: not adaptive).
    pub fn fallback(order: u32, error_order: Option<u32>, implicit: bool) -> Self {
        let kind = if error_order.is_some() {
            ControllerKind::Pi
        } else {
            ControllerKind::Fixed
        };
        let eo = error_order.unwrap_or(order.saturating_sub(1).max(1));
        let mut s = Self::base(kind, order, eo);
        if implicit {
            s.qsteady_max = 6.0 / 5.0;
        }
        s
    }

    /// Switches to another controller kind and resets the gains to that
    /// kind's defaults for this order (other settings are kept).
    pub fn with_kind(mut self, kind: ControllerKind) -> Self {
        self.kind = kind;
        [self.kp, self.ki, self.kd] = Self::default_gains(kind, self.order, self.error_order);
        self
    }

    /// Default `[kp, ki, kd]` of a kind (see the type's documentation).
    pub fn default_gains(kind: ControllerKind, order: u32, error_order: u32) -> [f64; 3] {
        let p = order.max(1) as f64;
        let k = (error_order.max(1) + 1) as f64;
        match kind {
            ControllerKind::Fixed => [0.0, 0.0, 0.0],
            ControllerKind::I | ControllerKind::Gustafsson => [1.0 / k, 0.0, 0.0],
            ControllerKind::Pi => [7.0 / (10.0 * p), -2.0 / (5.0 * p), 0.0],
            ControllerKind::Pid => [1.0 / (18.0 * k), 1.0 / (9.0 * k), 1.0 / (18.0 * k)],
        }
    }

    /// Checks the settings for a system of `n_states` states.
    pub fn validate(&self, n_states: usize) -> Result<(), ControllerError> {
        let adaptive = self.kind.is_adaptive();
        for (which, tol) in [("atol", &self.atol), ("rtol", &self.rtol)] {
            if let Tolerance::PerState(v) = tol
                && v.len() != n_states
            {
                return Err(ControllerError::ToleranceLength {
                    which,
                    len: v.len(),
                    n_states,
                });
            }
            for (index, &value) in tol.values().iter().enumerate() {
                let reason = if !value.is_finite() {
                    Some("must be finite")
                } else if value < 0.0 {
                    Some("must not be negative")
                } else if adaptive && which == "atol" && value == 0.0 {
                    // atol is the floor of each error scale; zero divides by
                    // zero wherever a state passes through zero.
                    Some("must be positive for an adaptive controller")
                } else {
                    None
                };
                if let Some(reason) = reason {
                    return Err(ControllerError::InvalidTolerance {
                        which,
                        index,
                        value,
                        reason,
                    });
                }
            }
        }
        if self.kind == ControllerKind::Fixed {
            return match self.dt0 {
                None => Err(ControllerError::FixedNeedsDt0),
                Some(dt0) if !(dt0 > 0.0 && dt0.is_finite()) => Err(ControllerError::InvalidDt0 {
                    dt0,
                    reason: "must be positive and finite",
                }),
                Some(_) => Ok(()),
            };
        }
        if !(self.dt_min > 0.0
            && self.dt_min <= self.dt_max
            && self.dt_min.is_finite()
            && self.dt_max.is_finite())
        {
            return Err(ControllerError::StepBounds {
                dt_min: self.dt_min,
                dt_max: self.dt_max,
            });
        }
        if let Some(dt0) = self.dt0
            && !(dt0 >= self.dt_min && dt0 <= self.dt_max)
        {
            return Err(ControllerError::InvalidDt0 {
                dt0,
                reason: "must lie within [dt_min, dt_max]",
            });
        }
        if !(self.min_gain > 0.0
            && self.min_gain <= 1.0
            && self.max_gain >= 1.0
            && self.min_gain < self.max_gain
            && self.max_gain.is_finite())
        {
            return Err(ControllerError::GainBounds {
                min_gain: self.min_gain,
                max_gain: self.max_gain,
            });
        }
        if !(self.safety > 0.0 && self.safety <= 1.0) {
            return Err(ControllerError::Safety(self.safety));
        }
        if !(self.qsteady_min > 0.0
            && self.qsteady_min <= self.qsteady_max
            && self.qsteady_max.is_finite())
        {
            return Err(ControllerError::Deadband {
                min: self.qsteady_min,
                max: self.qsteady_max,
            });
        }
        for (name, value) in [("kp", self.kp), ("ki", self.ki), ("kd", self.kd)] {
            if !value.is_finite() {
                return Err(ControllerError::Gain { name, value });
            }
        }
        if self.order == 0 {
            return Err(ControllerError::Order { which: "order" });
        }
        if self.error_order == 0 {
            return Err(ControllerError::Order {
                which: "error_order",
            });
        }
        Ok(())
    }

    /// Checks that the controller fits an algorithm: an adaptive controller
    /// needs an algorithm with an error estimate (`adaptive == true`).
    pub fn validate_for(&self, adaptive: bool) -> Result<(), ControllerError> {
        if self.kind.is_adaptive() && !adaptive {
            Err(ControllerError::NeedsErrorEstimate { kind: self.kind })
        } else {
            Ok(())
        }
    }
}
