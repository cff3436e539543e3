//! The time loop: save cadence, settling time, status word, counters, and
//! the output events every backend's loop lands on ([`events`]).
//! Its CPU form is `backend::cpu::time_loop`.

mod component;
pub mod events;
mod status;

pub use component::{LoopComponent, LoopError, LoopSettings, LoopSpec, MAX_EVENTS, MIN_SPACINGS};
pub use status::Status;

/// Counters kept per run, in `.npz` order.
pub const COUNTER_LABELS: [&str; 3] = ["accepted_steps", "rejected_steps", "dxdt_evaluations"];
