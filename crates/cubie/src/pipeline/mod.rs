//! The chunk pipeline every backend solves through: a batch's runs are cut
//! into chunks sized from a memory budget ([`ChunkPlan`]), each chunk's
//! inputs are made on demand ([`RunSource`](crate::batch::RunSource)),
//! solved, and handed to a [`ResultSink`](crate::results::ResultSink) as
//! soon as it is done, so peak memory does not grow with the number of runs.
//!
//! ```
//! use cubie::pipeline::ChunkPlan;
//! let plan = ChunkPlan::new(10, 4).unwrap();
//! assert_eq!(plan.n_chunks(), 3);
//! assert_eq!(plan.runs(2), 8..10);
//! // Shards are contiguous slices of whole chunks.
//! assert_eq!(plan.shard(1, 2).unwrap(), 2..3);
//! ```

mod chunks;

pub use chunks::{ChunkPlan, PipelineError, Shard};

use std::sync::atomic::AtomicBool;

/// What a chunked solve reports while it runs, and how it is stopped.
#[derive(Clone, Copy, Default)]
pub struct SolveControl<'a> {
    /// Called with the number of runs of the whole batch finished so far
    /// (runs of chunks kept from an earlier solve included).
    pub progress: Option<&'a (dyn Fn(usize) + Sync)>,
    /// Set (from a signal handler, say) to stop: the chunk in progress is
    /// dropped unfinished and nothing after it is started.
    pub cancel: Option<&'a AtomicBool>,
}

impl std::fmt::Debug for SolveControl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SolveControl")
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel)
            .finish()
    }
}

/// What a chunked solve did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkedOutcome {
    /// Chunks solved and written by this solve.
    pub chunks_solved: usize,
    /// Chunks skipped because the output already held them.
    pub chunks_kept: usize,
    /// Runs solved by this solve.
    pub runs_solved: usize,
    /// Of those, runs whose status is not success.
    pub runs_failed: usize,
    /// For each status flag, the runs of this solve that carry it.
    pub flag_counts: Vec<(i32, usize)>,
    /// The solve was cancelled before every chunk was written.
    pub interrupted: bool,
}
