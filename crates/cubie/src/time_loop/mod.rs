//! The time loop: save cadence, settling time, status word, counters.

mod status;

pub use status::Status;
