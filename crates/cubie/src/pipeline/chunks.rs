//! How a batch is cut into chunks of runs, and into shards of chunks.

use std::ops::Range;
use std::str::FromStr;

use thiserror::Error;

use crate::kernel::{Bytes, Footprint, MemoryBudget, MemoryError};

/// A batch that cannot be cut as asked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PipelineError {
    /// A batch of no runs, or chunks of none.
    #[error("a batch of {n_runs} runs cannot be cut into chunks of {chunk_runs} runs")]
    EmptyChunks {
        /// Runs in the batch.
        n_runs: usize,
        /// Runs per chunk.
        chunk_runs: usize,
    },
    /// One run's results alone exceed the budget.
    #[error(transparent)]
    Memory(#[from] MemoryError),
    /// Not even one run fits in the budget while solved and written.
    #[error(
        "one run needs {} while solved and written ({} fixed besides), but {budget}; \
         raise --memory-limit or save less",
        Bytes(*.per_run), Bytes(*.fixed)
    )]
    RunTooLarge {
        /// Bytes of one run in a chunk.
        per_run: u128,
        /// Bytes that do not depend on the runs.
        fixed: u128,
        /// The budget.
        budget: MemoryBudget,
    },
    /// A chunk fixed by the output (a store's chunks) that does not fit.
    #[error(
        "a chunk of {chunk_runs} runs needs {} while solved, but {budget}; \
         raise --memory-limit",
        Bytes(*.needed)
    )]
    ChunkTooLarge {
        /// Runs per chunk.
        chunk_runs: usize,
        /// Bytes it needs.
        needed: u128,
        /// The budget.
        budget: MemoryBudget,
    },
    /// A `--shard` that does not parse or is out of range.
    #[error("bad shard `{0}`: expected K/N with 1 <= K <= N (K counts from 1)")]
    BadShard(String),
}

/// A batch of `n_runs` runs cut into chunks of `chunk_runs` (the last may
/// be shorter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkPlan {
    n_runs: usize,
    chunk_runs: usize,
}

/// Copies of a chunk's results alive at once, at most: the chunk being
/// solved (packing moves its arrays, but splits the summaries of several
/// metrics into a copy), the previous chunk in the writer, and what the
/// writer encodes from it (a store's compressed chunks, CSV text).
pub const COPIES_IN_FLIGHT: u128 = 4;

impl ChunkPlan {
    /// Chunks of `chunk_runs` runs.
    pub fn new(n_runs: usize, chunk_runs: usize) -> Result<Self, PipelineError> {
        if n_runs == 0 || chunk_runs == 0 {
            return Err(PipelineError::EmptyChunks { n_runs, chunk_runs });
        }
        Ok(ChunkPlan {
            n_runs,
            chunk_runs: chunk_runs.min(n_runs),
        })
    }

    /// The largest chunks whose solve fits in `budget`, given what one run
    /// costs (`footprint`).
    pub fn for_budget(
        n_runs: usize,
        footprint: &Footprint,
        budget: &MemoryBudget,
    ) -> Result<Self, PipelineError> {
        let per_run = footprint.per_run.saturating_mul(COPIES_IN_FLIGHT).max(1);
        let room = u128::from(budget.bytes).saturating_sub(footprint.fixed);
        let fit = room / per_run;
        if fit == 0 {
            // Name the outputs that make one run too large.
            footprint.check(1, budget)?;
            return Err(PipelineError::RunTooLarge {
                per_run,
                fixed: footprint.fixed,
                budget: budget.clone(),
            });
        }
        Self::new(n_runs, fit.min(n_runs as u128) as usize)
    }

    /// Checks that chunks of this plan's size fit in `budget`.
    pub fn check(&self, footprint: &Footprint, budget: &MemoryBudget) -> Result<(), PipelineError> {
        let needed = footprint
            .per_run
            .saturating_mul(COPIES_IN_FLIGHT)
            .saturating_mul(self.chunk_runs as u128)
            .saturating_add(footprint.fixed);
        if needed > u128::from(budget.bytes) {
            return Err(PipelineError::ChunkTooLarge {
                chunk_runs: self.chunk_runs,
                needed,
                budget: budget.clone(),
            });
        }
        Ok(())
    }

    /// Runs in the batch.
    pub fn n_runs(&self) -> usize {
        self.n_runs
    }

    /// Runs per chunk (all but the last).
    pub fn chunk_runs(&self) -> usize {
        self.chunk_runs
    }

    /// Number of chunks.
    pub fn n_chunks(&self) -> usize {
        self.n_runs.div_ceil(self.chunk_runs)
    }

    /// The runs of chunk `index`.
    pub fn runs(&self, index: usize) -> Range<usize> {
        let start = (index * self.chunk_runs).min(self.n_runs);
        start..(start + self.chunk_runs).min(self.n_runs)
    }

    /// The chunks of shard `shard`: the `k`-th of `n` contiguous slices of
    /// the chunks, as even as whole chunks allow (the first `n_chunks % n`
    /// shards have one chunk more). A shard may be empty when there are
    /// fewer chunks than shards.
    pub fn shard(&self, k: usize, n: usize) -> Result<Range<usize>, PipelineError> {
        if n == 0 || k >= n {
            return Err(PipelineError::BadShard(format!("{}/{n}", k + 1)));
        }
        let chunks = self.n_chunks();
        let (base, extra) = (chunks / n, chunks % n);
        let start = k * base + k.min(extra);
        let len = base + usize::from(k < extra);
        Ok(start..start + len)
    }
}

/// A `--shard K/N` request: the K-th (from 1) of N slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, from 0.
    pub index: usize,
    /// How many slices.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = PipelineError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PipelineError::BadShard(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_batch_once_in_order() {
        let plan = ChunkPlan::new(10, 3).unwrap();
        let runs: Vec<_> = (0..plan.n_chunks()).map(|k| plan.runs(k)).collect();
        assert_eq!(runs, vec![0..3, 3..6, 6..9, 9..10]);
        assert_eq!(ChunkPlan::new(5, 9).unwrap().chunk_runs(), 5);
        assert!(ChunkPlan::new(0, 3).is_err());
    }

    #[test]
    fn shards_are_contiguous_and_cover_every_chunk_once() {
        for chunks in 1..12 {
            for n in 1..6 {
                let plan = ChunkPlan::new(chunks * 4, 4).unwrap();
                let mut next = 0;
                for k in 0..n {
                    let s = plan.shard(k, n).unwrap();
                    assert_eq!(s.start, next);
                    assert!(s.len() + 1 >= chunks / n && s.len() <= chunks / n + 1);
                    next = s.end;
                }
                assert_eq!(next, chunks);
            }
        }
        assert!(ChunkPlan::new(8, 4).unwrap().shard(2, 2).is_err());
    }

    #[test]
    fn shard_text_counts_from_one() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { index: 1, count: 5 }));
        for bad in ["0/3", "4/3", "1", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_budget_sets_the_chunk_size() {
        let mut f = Footprint::new();
        f.add_per_run("outputs", 10, 8);
        f.add_fixed(1, 1000);
        let ten = 10 * 80 * COPIES_IN_FLIGHT as u64;
        let plan = ChunkPlan::for_budget(1000, &f, &MemoryBudget::limit(1000 + ten)).unwrap();
        assert_eq!(plan.chunk_runs(), 10);
        assert!(plan.check(&f, &MemoryBudget::limit(1000 + ten)).is_ok());
        assert!(plan.check(&f, &MemoryBudget::limit(999 + ten)).is_err());
        assert!(matches!(
            ChunkPlan::for_budget(1000, &f, &MemoryBudget::limit(1100)),
            Err(PipelineError::RunTooLarge { .. })
        ));
    }
}
