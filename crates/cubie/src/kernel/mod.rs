//! The batch kernel: builds the component tree of one solve (loop, step,
//! controller) with its buffer registry, and runs a batch of runs over all
//! cores, one arena per worker sized by the registry.

mod build;
mod footprint;
mod run;

pub use build::{BatchKernel, KernelError};
pub use footprint::{BudgetOrigin, Bytes, Footprint, MemoryBudget, MemoryError, parse_bytes};
pub(crate) use run::Labels;
