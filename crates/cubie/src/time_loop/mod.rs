//! The time loop: save cadence, settling time, status word, counters.

mod component;
mod cpu_loop;
mod status;

pub use component::{LoopComponent, LoopError, LoopSettings, MAX_EVENTS, MIN_SPACINGS};
pub(crate) use cpu_loop::LoopOutputs;
pub use cpu_loop::{COUNTER_LABELS, LoopCpu, RunSlot};
pub use status::Status;
