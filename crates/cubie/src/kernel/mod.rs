//! The kernel of one solve, backend-neutral: its component tree
//! ([`KernelTree`]: registry, settings, every component's numerics) and
//! what a batch of it costs in memory. Each backend (`crate::backend`)
//! resolves its forms from the tree.

mod footprint;
mod tree;

pub use footprint::{BudgetOrigin, Bytes, Footprint, MemoryBudget, MemoryError, parse_bytes};
pub use tree::{KernelError, KernelTree, ModelFunctionSet};
