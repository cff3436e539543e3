//! The CPU backend: each component's CPU form (allocators into one run's
//! arena and numerics rounded to the solve's precision), the model and the
//! fused ERK step compiled to native code with Cranelift ([`jit`]), and the
//! batch run over every core.

pub mod controller;
pub mod jit;
mod kernel;
mod metrics;
mod run;
pub mod solvers;
pub mod step;
pub mod step_controller;
pub mod summaries;
pub(crate) mod system;
pub mod time_loop;

pub use kernel::{CpuKernel, default_lanes};
pub use summaries::SummariesCpu;
pub use system::{CpuSystem, LaneInputs, SystemCall};

use crate::memory::BufferRegistry;

use jit::JitReal;

/// A component's CPU form, resolved from the registry once every location
/// is final: its allocators and its numerics rounded to `T`.
pub trait CpuForm {
    /// The form in precision `T`.
    type Form<T: JitReal>;
    /// Why it cannot be resolved.
    type Error;

    /// Resolves the form from `registry`.
    fn cpu<T: JitReal>(&self, registry: &BufferRegistry) -> Result<Self::Form<T>, Self::Error>;
}
