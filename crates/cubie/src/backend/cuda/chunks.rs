//! How many runs one launch takes: every device array of a run counted
//! from the kernel's sizes, the batch split so that a chunk's arrays fit
//! the device's free memory with a margin. Pure arithmetic, checked.

use crate::time_loop::COUNTER_LABELS;

use super::{CudaError, CudaKernel};

/// Part of the free device memory never asked for: the driver, the
/// module and other processes may need it while the solve runs.
pub const FREE_MEMORY_MARGIN: f64 = 0.10;

/// At least this much of the free memory is left unasked for, in bytes.
pub const MIN_MARGIN_BYTES: u64 = 64 << 20;

/// The most runs of one launch: the kernel indexes runs with an `int`.
pub const MAX_LAUNCH_RUNS: usize = i32::MAX as usize;

/// Device bytes of one launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceBytes {
    /// Bytes per run: inputs, final state, saved series, summaries,
    /// status, counters.
    pub per_run: u64,
    /// Bytes whatever the runs: the save times.
    pub fixed: u64,
}

fn overflow(what: &'static str) -> CudaError {
    CudaError::SizeOverflow(what)
}

/// The device bytes of `kernel`'s arrays.
pub fn device_bytes(kernel: &CudaKernel) -> Result<DeviceBytes, CudaError> {
    let s = kernel.sizes;
    let n_saves = kernel.save_times.len() as u64;
    let real = kernel.element_bytes as u64;
    let per_save = (s.n_saved_states as u64)
        .checked_add(s.n_saved_observables as u64)
        .and_then(|n| n.checked_mul(n_saves))
        .ok_or(overflow("saved series"))?;
    let reals = (s.n_states as u64)
        .checked_mul(2) // initial values in, final state out
        .and_then(|n| n.checked_add(s.n_parameters as u64))
        .and_then(|n| n.checked_add(per_save))
        .and_then(|n| n.checked_add(s.summaries_per_run() as u64))
        .and_then(|n| n.checked_mul(real))
        .ok_or(overflow("a run's arrays"))?;
    let integers = 4 + 8 * COUNTER_LABELS.len() as u64; // status, counters
    let per_run = reals
        .checked_add(integers)
        .ok_or(overflow("a run's arrays"))?;
    let fixed = n_saves.checked_mul(8).ok_or(overflow("save times"))?;
    Ok(DeviceBytes { per_run, fixed })
}

/// Runs per launch for a batch of `n_runs`, given `free` device bytes and
/// `reserved` bytes the launch needs besides its arrays (the threads'
/// local memory): as many as fit in what is free after the margin, a
/// whole number of blocks of `runs_per_block` when the batch is split,
/// and never more than [`MAX_LAUNCH_RUNS`]. An error when not even one
/// block fits.
pub fn chunk_runs(
    n_runs: usize,
    bytes: DeviceBytes,
    free: u64,
    reserved: u64,
    runs_per_block: usize,
) -> Result<usize, CudaError> {
    if n_runs == 0 {
        return Ok(0);
    }
    let rpb = runs_per_block.max(1);
    let margin = ((free as f64 * FREE_MEMORY_MARGIN) as u64).max(MIN_MARGIN_BYTES);
    let usable = free
        .checked_sub(margin)
        .and_then(|b| b.checked_sub(reserved))
        .and_then(|b| b.checked_sub(bytes.fixed));
    let fit = usable.map_or(0, |b| b / bytes.per_run.max(1));
    let fit = usize::try_from(fit).unwrap_or(usize::MAX);
    let most = fit.min(MAX_LAUNCH_RUNS);
    if most >= n_runs {
        return Ok(n_runs);
    }
    let whole_blocks = most / rpb * rpb;
    if whole_blocks == 0 {
        let block = bytes
            .per_run
            .checked_mul(rpb as u64)
            .and_then(|b| b.checked_add(bytes.fixed))
            .and_then(|b| b.checked_add(reserved))
            .ok_or(overflow("one block's arrays"))?;
        return Err(CudaError::DeviceMemory {
            needed: block,
            free: free.saturating_sub(margin),
        });
    }
    Ok(whole_blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn bytes(per_run: u64) -> DeviceBytes {
        DeviceBytes { per_run, fixed: 0 }
    }

    #[test]
    fn a_batch_that_fits_is_one_launch() {
        let runs = |n| chunk_runs(n, bytes(100), 1024 * MIB, 0, 128).expect("fits");
        assert_eq!(runs(1000), 1000);
        assert_eq!(runs(0), 0);
    }

    #[test]
    fn chunks_leave_the_margin_and_are_whole_blocks() {
        let free = 1024 * MIB;
        let per_run = 1000;
        let runs = chunk_runs(usize::MAX / 2, bytes(per_run), free, 0, 128).expect("fits");
        assert_eq!(runs % 128, 0);
        let asked = runs as u64 * per_run;
        assert!(asked <= free - free / 10, "{asked} of {free}");
        // As many as fit: one more block would go past the margin.
        assert!(asked + 128 * per_run > free - free / 10);
    }

    #[test]
    fn the_reserve_and_fixed_bytes_come_off_first() {
        let free = 1024 * MIB;
        let all = chunk_runs(usize::MAX / 2, bytes(1000), free, 0, 1).expect("fits");
        let reserved = chunk_runs(usize::MAX / 2, bytes(1000), free, 500 * MIB, 1).expect("fits");
        let fixed = DeviceBytes {
            per_run: 1000,
            fixed: 500 * MIB,
        };
        assert!(reserved < all);
        let with_fixed = chunk_runs(usize::MAX / 2, fixed, free, 0, 1).expect("fits");
        assert_eq!(with_fixed, reserved);
    }

    #[test]
    fn small_free_memory_keeps_the_minimum_margin() {
        // 100 MiB free: 64 MiB are kept back, not 10 MiB.
        let runs = chunk_runs(usize::MAX / 2, bytes(MIB), 100 * MIB, 0, 1).expect("fits");
        assert_eq!(runs, 36);
    }

    #[test]
    fn no_block_fitting_is_an_error_with_the_sizes() {
        let err = chunk_runs(10_000, bytes(MIB), 100 * MIB, 0, 128).expect_err("too big");
        match err {
            CudaError::DeviceMemory { needed, free } => {
                assert_eq!(needed, 128 * MIB);
                assert_eq!(free, 36 * MIB);
            }
            other => panic!("{other}"),
        }
        // Less free than the margin is the same error, not an underflow.
        assert!(matches!(
            chunk_runs(10, bytes(1), MIB, 0, 1),
            Err(CudaError::DeviceMemory { .. })
        ));
        assert!(matches!(
            chunk_runs(10, bytes(1), 0, u64::MAX / 2, 1),
            Err(CudaError::DeviceMemory { .. })
        ));
    }

    #[test]
    fn a_launch_never_exceeds_the_kernels_int_index() {
        let runs = chunk_runs(usize::MAX / 2, bytes(1), u64::MAX, 0, 128).expect("fits");
        assert!(runs <= MAX_LAUNCH_RUNS);
        assert_eq!(runs % 128, 0);
    }

    #[test]
    fn overflowing_sizes_are_errors() {
        let huge = DeviceBytes {
            per_run: u64::MAX,
            fixed: u64::MAX,
        };
        assert!(matches!(
            chunk_runs(10, huge, u64::MAX, u64::MAX, 128),
            Err(CudaError::SizeOverflow(_))
        ));
    }
}
