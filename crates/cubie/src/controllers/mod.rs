//! Step-size controllers: `fixed`, `i`, `pi`, `pid`, `gustafsson`.
//!
//! [`ControllerSettings`] holds what the user chooses (with OrdinaryDiffEq's
//! per-algorithm defaults on each algorithm's catalogue entry, also
//! reached by name with [`ControllerSettings::for_algorithm`]);
//! [`ControllerComponent`] registers the controller's memory (its state
//! between steps, [`ControllerKind::memory_elements`] elements, and the
//! automatic first step's scratch) and carries the settings each backend
//! builds its form from: on the CPU `backend::cpu::step_controller`, in
//! CUDA `backend::cuda::controller`.

mod component;
pub mod power;
mod settings;

pub use component::{
    ControlledStep, ControllerComponent, ControllerOptions, ControllerSpec,
    initial_step_scratch_elements,
};
pub use settings::{
    ControllerDefaults, ControllerError, ControllerKind, ControllerSettings, Tolerance,
};
