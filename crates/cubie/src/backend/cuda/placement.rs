//! Placement for the GPU: a block's dynamic shared memory (shared
//! elements per run × runs per block) must fit the device. The buffers
//! the user placed (`<buffer>_location`) always stay where they were put,
//! up to the device's maximum; the default placements are moved from
//! shared to local, largest first, until the block fits the default
//! budget, which is kept at 48 KiB so that several blocks share a
//! multiprocessor (occupancy) even where a block could opt in to more. A
//! placement that still cannot fit the maximum is an error naming the
//! shared buffers and the budget.

use crate::kernel::KernelTree;
use crate::memory::Location;

use super::CudaError;

/// The shared-memory budget of a block where no device is asked: what
/// every CUDA device gives a block without opting in.
pub const DEFAULT_SHARED_BUDGET: usize = 48 << 10;

/// How much shared memory a block may use, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedBudget {
    /// What the default placements are moved to fit.
    pub default: usize,
    /// What the user's placements may use: the device's opt-in maximum.
    pub max: usize,
}

impl SharedBudget {
    /// [`DEFAULT_SHARED_BUDGET`] for both: what `emit` and `plan` assume
    /// where no device is asked.
    pub const WITHOUT_DEVICE: SharedBudget = SharedBudget {
        default: DEFAULT_SHARED_BUDGET,
        max: DEFAULT_SHARED_BUDGET,
    };

    /// The budget of a device whose blocks may opt in to `max` bytes.
    pub fn device(max: usize) -> Self {
        SharedBudget {
            default: DEFAULT_SHARED_BUDGET.min(max),
            max,
        }
    }
}

/// Dynamic shared bytes of one block of `runs_per_block` runs of `tree`.
pub fn shared_bytes(tree: &KernelTree, runs_per_block: usize) -> Result<usize, CudaError> {
    let elements = tree.registry.shared_elements(tree.root)?;
    super::kernel::shared_stride(elements)
        .checked_mul(tree.precision().bytes())
        .and_then(|b| b.checked_mul(runs_per_block))
        .ok_or(CudaError::SizeOverflow("shared memory per block"))
}

/// Moves default-placed shared buffers of `tree` to local memory until a
/// block of `runs_per_block` runs fits `budget.default` bytes of shared
/// memory; returns the buffers moved (`component.buffer`). Buffers the
/// user placed are never moved; with them the block must fit
/// `budget.max`.
pub fn fit_shared(
    tree: &mut KernelTree,
    runs_per_block: usize,
    budget: SharedBudget,
) -> Result<Vec<String>, CudaError> {
    let mut moved = Vec::new();
    if shared_bytes(tree, runs_per_block)? <= budget.default {
        return Ok(moved);
    }
    let registry = &tree.registry;
    let mut candidates = Vec::new();
    for component in registry.subtree(tree.root)? {
        for buffer in registry.buffers(component)? {
            let placed = tree
                .user_placed
                .iter()
                .any(|(id, name)| *id == component && *name == buffer.name);
            if buffer.location == Location::Shared && !placed {
                candidates.push((buffer.size, component, buffer.name.clone()));
            }
        }
    }
    // Largest first: the fewest buffers moved.
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (_, component, name) in candidates {
        // A buffer that may not be local (by its element type) stays.
        if tree
            .registry
            .set_location(component, &name, Location::Local)
            .is_ok()
        {
            moved.push(format!("{}.{name}", tree.registry.path(component)?));
            if shared_bytes(tree, runs_per_block)? <= budget.default {
                return Ok(moved);
            }
        }
    }
    if shared_bytes(tree, runs_per_block)? <= budget.max {
        return Ok(moved);
    }
    Err(over_budget(tree, runs_per_block, budget.max)?)
}

/// The error of a placement over `budget`, naming every shared buffer.
fn over_budget(
    tree: &KernelTree,
    runs_per_block: usize,
    budget: usize,
) -> Result<CudaError, CudaError> {
    let registry = &tree.registry;
    let bytes = tree.precision().bytes();
    let mut buffers = Vec::new();
    for component in registry.subtree(tree.root)? {
        for buffer in registry.buffers(component)? {
            if buffer.location == Location::Shared {
                buffers.push(format!(
                    "{}.{} ({} B per run)",
                    registry.path(component)?,
                    buffer.name,
                    buffer.size.saturating_mul(bytes)
                ));
            }
        }
    }
    Ok(CudaError::SharedMemory {
        needed: shared_bytes(tree, runs_per_block)?,
        budget,
        runs_per_block,
        buffers: buffers.join(", "),
    })
}
