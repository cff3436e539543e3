//! Placement for the GPU: a block's dynamic shared memory (shared
//! elements per run × runs per block) must fit the device's budget. The
//! buffers the user placed (`<buffer>_location`) always stay where they
//! were put; the default placements are moved from shared to local,
//! largest first, until the block fits. A placement that still cannot fit
//! is an error naming the shared buffers and the budget.

use crate::kernel::KernelTree;
use crate::memory::Location;

use super::CudaError;

/// The shared-memory budget of a block where no device is asked: what
/// every CUDA device gives a block without opting in.
pub const DEFAULT_SHARED_BUDGET: usize = 48 << 10;

/// Dynamic shared bytes of one block of `runs_per_block` runs of `tree`.
pub fn shared_bytes(tree: &KernelTree, runs_per_block: usize) -> Result<usize, CudaError> {
    let elements = tree.registry.shared_elements(tree.root)?;
    elements
        .checked_mul(tree.precision().bytes())
        .and_then(|b| b.checked_mul(runs_per_block))
        .ok_or(CudaError::SizeOverflow("shared memory per block"))
}

/// Moves default-placed shared buffers of `tree` to local memory until a
/// block of `runs_per_block` runs fits `budget` bytes of shared memory;
/// returns the buffers moved (`component.buffer`). Buffers the user
/// placed are never moved.
pub fn fit_shared(
    tree: &mut KernelTree,
    runs_per_block: usize,
    budget: usize,
) -> Result<Vec<String>, CudaError> {
    let mut moved = Vec::new();
    if shared_bytes(tree, runs_per_block)? <= budget {
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
            if shared_bytes(tree, runs_per_block)? <= budget {
                return Ok(moved);
            }
        }
    }
    Err(over_budget(tree, runs_per_block, budget)?)
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
