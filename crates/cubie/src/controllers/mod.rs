//! Step-size controllers: `fixed`, `i`, `pi`, `pid`, `gustafsson`.
//!
//! [`ControllerSettings`] holds what the user chooses (with OrdinaryDiffEq's
//! per-algorithm defaults on each algorithm's catalogue entry, also
//! reached by name with [`ControllerSettings::for_algorithm`]);
//! [`StepController`] is the validated, precision-specific controller the
//! loop calls once per step attempt. It never allocates while stepping: its
//! state between steps lives in a persistent registry buffer of
//! [`StepController::memory_elements`] elements.

mod component;
mod settings;
mod step_controller;

pub use component::{ControlledStep, ControllerComponent, ControllerOptions, ControllerSpec};
pub use settings::{
    ControllerDefaults, ControllerError, ControllerKind, ControllerSettings, Tolerance,
};
pub use step_controller::{StepController, StepDecision, scaled_rms_norm};
