//! Where a chunked solve's results go: a [`ResultSink`] takes the chunks of
//! a batch as they are solved, so that no more than one chunk of results is
//! ever held in memory.

use std::ops::Range;

use super::{ArrayData, NamedArray, ResultsError, SolveResult};

/// Receives a batch's results chunk by chunk, on a thread of its own
/// while the next chunk is solved (so it is `Send`).
///
/// A chunk is a [`SolveResult`] of its own runs: the arrays of the whole
/// batch's result with their first (run) axis cut to the chunk's runs, and
/// the arrays shared by every run (labels, save times) whole.
pub trait ResultSink: Send {
    /// Stores chunk `index`, the batch's runs `runs`.
    fn write_chunk(
        &mut self,
        index: usize,
        runs: Range<usize>,
        chunk: &SolveResult,
    ) -> Result<(), ResultsError>;

    /// Makes the output whole, once every chunk has been written; until
    /// then nothing is presented as a result.
    fn finish(&mut self) -> Result<(), ResultsError>;

    /// True when the output already holds chunk `index` whole (a resumed
    /// store); the pipeline then skips it.
    fn has_chunk(&self, index: usize) -> Result<bool, ResultsError> {
        let _ = index;
        Ok(false)
    }
}

/// True for an array with one row per run (its first axis is the runs);
/// false for labels and for the save and window times every run shares.
pub fn is_per_run(array: &NamedArray) -> bool {
    !matches!(array.data, ArrayData::Str(_))
        && !matches!(array.name.as_str(), "time" | "summary_time")
}

/// Refuses a chunk that does not start at run `next`: the streamed
/// writers take chunks in run order.
pub(crate) fn in_order(next: usize, runs: &Range<usize>) -> Result<(), ResultsError> {
    if runs.start != next {
        return Err(ResultsError::ChunkOrder {
            expected: next,
            got: runs.start,
        });
    }
    Ok(())
}

/// A sink that keeps every chunk in memory and joins them into one result:
/// the chunked pipeline's answer for a batch that fits in memory, and the
/// reference the streamed writers are tested against.
#[derive(Debug, Default)]
pub struct MemorySink {
    result: Option<SolveResult>,
    next_run: usize,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The joined result (`None` before any chunk).
    pub fn into_result(self) -> Option<SolveResult> {
        self.result
    }
}

fn extend(into: &mut ArrayData, from: &ArrayData) -> bool {
    match (into, from) {
        (ArrayData::F32(a), ArrayData::F32(b)) => a.extend_from_slice(b),
        (ArrayData::F64(a), ArrayData::F64(b)) => a.extend_from_slice(b),
        (ArrayData::I32(a), ArrayData::I32(b)) => a.extend_from_slice(b),
        (ArrayData::I64(a), ArrayData::I64(b)) => a.extend_from_slice(b),
        _ => return false,
    }
    true
}

impl ResultSink for MemorySink {
    fn write_chunk(
        &mut self,
        _index: usize,
        runs: Range<usize>,
        chunk: &SolveResult,
    ) -> Result<(), ResultsError> {
        in_order(self.next_run, &runs)?;
        self.next_run = runs.end;
        let Some(result) = &mut self.result else {
            self.result = Some(chunk.clone());
            return Ok(());
        };
        result.n_runs += chunk.n_runs;
        for array in chunk.arrays() {
            if !is_per_run(array) {
                continue;
            }
            let joined = result.arrays.iter_mut().find(|a| a.name == array.name);
            let Some(a) = joined.filter(|a| a.shape[1..] == array.shape[1..]) else {
                return Err(ResultsError::ChunkLayout(array.name.clone()));
            };
            if !extend(&mut a.data, &array.data) {
                return Err(ResultsError::ChunkLayout(array.name.clone()));
            }
            a.shape[0] += array.shape[0];
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ResultsError> {
        Ok(())
    }
}
