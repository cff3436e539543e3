//! The time loop: save cadence, settling time, status word, counters.

mod component;
mod status;

pub use component::{LoopComponent, LoopError, LoopSettings};
pub use status::Status;
