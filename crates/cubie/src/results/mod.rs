//! A solve's results: labelled arrays, and writers for `.npz` and CSV.

mod array;
mod csv_writer;
mod disk;
mod npz_writer;
pub(crate) mod partial;
mod sink;
pub mod zarr;

pub use array::{ArrayData, NamedArray};
pub use csv_writer::{CsvStream, write_csv};
pub use disk::check_disk_space;
pub use npz_writer::{NpzStream, write_npz};
pub use partial::remove_partial_files;
pub use sink::{MemorySink, ResultSink, is_per_run};

use std::path::Path;

use thiserror::Error;

use crate::Precision;

/// What can go wrong writing results.
#[derive(Debug, Error)]
pub enum ResultsError {
    /// The file could not be written.
    #[error("cannot write `{path}`")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file name has an extension no writer handles.
    #[error("cannot tell the format of `{0}`: use a `.npz`, `.csv` or `.zarr` name")]
    UnknownFormat(String),
    /// A streamed writer given chunks out of order.
    #[error("results chunk starting at run {got} arrived where run {expected} was expected")]
    ChunkOrder {
        /// The run the writer expected next.
        expected: usize,
        /// The first run of the chunk it got.
        got: usize,
    },
    /// A streamed writer given more or fewer runs than it was made for.
    #[error("the results writer was made for {expected} runs but was given {got}")]
    RunCount {
        /// Runs the writer was made for.
        expected: usize,
        /// Runs it was given.
        got: usize,
    },
    /// The thread writing chunks panicked.
    #[error("the results writer stopped unexpectedly")]
    WriterPanicked,
    /// A chunk given to a writer that has already finished.
    #[error("results writer already finished")]
    Finished,
    /// A Zarr store that cannot be read or written.
    #[error("zarr store `{path}`: {message}")]
    Zarr {
        /// The store.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A path that holds something other than a cubie store.
    #[error("`{0}` is not a cubie results store (no `zarr.json` with cubie attributes)")]
    NotAStore(String),
    /// A new store asked for where one exists.
    #[error("`{0}` already exists: continue it with --resume, or choose another name")]
    StoreExists(String),
    /// A store made by a different solve.
    #[error("`{path}` was written by a different solve:\n  {}", differences.join("\n  "))]
    StoreMismatch {
        /// The store.
        path: String,
        /// What differs, one line each.
        differences: Vec<String>,
    },
    /// Stores to merge that do not hold every chunk between them.
    #[error(
        "the stores hold {have} of the {of} chunks: missing {missing}; solve the shards that hold them"
    )]
    MergeIncomplete {
        /// Chunks present.
        have: usize,
        /// Chunks in the batch.
        of: usize,
        /// The missing chunk ranges.
        missing: String,
    },
    /// An output larger than the free space of its disk.
    #[error(
        "`{path}` needs about {} but its disk has {} free; free some space, \
         write elsewhere, or save less",
        crate::kernel::Bytes(*.needed), crate::kernel::Bytes(u128::from(*.available))
    )]
    DiskFull {
        /// The output.
        path: String,
        /// Bytes it needs.
        needed: u128,
        /// Bytes free.
        available: u64,
    },
    /// A chunk whose arrays differ from the first chunk's.
    #[error("results chunk does not match the batch's layout (array `{0}`)")]
    ChunkLayout(String),
}

/// The results of one solve: every output as a named array, plus labels.
///
/// Arrays are stored in the solve's precision; their names and shapes are
/// those of the `.npz` file (`final_state` is `(runs, states)`, `state` is
/// `(runs, saves, states)`, `status` is `(runs,)`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct SolveResult {
    /// The precision the solve ran in.
    pub precision: Precision,
    /// Number of runs.
    pub n_runs: usize,
    pub(crate) arrays: Vec<NamedArray>,
}

impl SolveResult {
    /// An empty result for `n_runs` runs.
    pub fn new(precision: Precision, n_runs: usize) -> Self {
        SolveResult {
            precision,
            n_runs,
            arrays: Vec::new(),
        }
    }

    /// Adds (or replaces) an array.
    pub fn insert(&mut self, array: NamedArray) {
        match self.arrays.iter_mut().find(|a| a.name == array.name) {
            Some(slot) => *slot = array,
            None => self.arrays.push(array),
        }
    }

    /// Every array, in insertion order.
    pub fn arrays(&self) -> &[NamedArray] {
        &self.arrays
    }

    /// Every array, in insertion order, given away (no copy).
    pub fn into_arrays(self) -> Vec<NamedArray> {
        self.arrays
    }

    /// An array by name.
    pub fn get(&self, name: &str) -> Option<&NamedArray> {
        self.arrays.iter().find(|a| a.name == name)
    }

    /// A numeric array widened to f64, by name.
    pub fn values(&self, name: &str) -> Option<Vec<f64>> {
        self.get(name).and_then(|a| a.data.to_f64())
    }

    /// A label array, by name (`state_labels`, ...).
    pub fn labels(&self, name: &str) -> Option<&[String]> {
        match self.get(name).map(|a| &a.data) {
            Some(ArrayData::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The status word of every run (0 = success).
    pub fn status(&self) -> &[i32] {
        match self.get("status").map(|a| &a.data) {
            Some(ArrayData::I32(s)) => s,
            _ => &[],
        }
    }

    /// Final state of every run, row-major `(runs, states)`, as f64.
    pub fn final_state(&self) -> Vec<f64> {
        self.values("final_state").unwrap_or_default()
    }

    /// Writes the results to `path`; the format follows the extension
    /// (`.npz` or `.csv`). The file appears whole or not at all.
    pub fn write(&self, path: &Path) -> Result<(), ResultsError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("npz") => write_npz(self, path),
            Some("csv") => write_csv(self, path),
            _ => Err(ResultsError::UnknownFormat(path.display().to_string())),
        }
    }
}
