//! The runs of a batch: each run's initial values and parameters, built
//! from the model's defaults plus sweeps (a grid) or a CSV of runs.

mod csv_runs;
mod grid;
mod sweep;

pub use csv_runs::runs_from_csv;
pub use grid::{BatchInputs, GridKind, GridRuns, InputSpace, RunSource, build_grid, grid_size};
pub use sweep::Sweep;

use thiserror::Error;

/// What can be wrong with a batch's inputs.
#[derive(Debug, Error, PartialEq)]
pub enum BatchError {
    /// A sweep or CSV column names neither a state nor a parameter.
    #[error("unknown variable `{name}` in {context}: valid names are {valid}")]
    UnknownName {
        /// The offending name.
        name: String,
        /// Where it was found (a sweep, a CSV header).
        context: String,
        /// Comma-separated valid names.
        valid: String,
    },
    /// A sweep text that does not parse.
    #[error("bad sweep `{text}`: {reason} (expected NAME=START:STOP:COUNT or NAME=V1,V2,...)")]
    BadSweep {
        /// The sweep as given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The same variable swept twice.
    #[error("variable `{0}` is swept more than once")]
    DuplicateSweep(String),
    /// Verbatim sweeps of different lengths.
    #[error("verbatim grid needs sweeps of equal length, but {details}")]
    UnequalLengths {
        /// Each sweep with its length.
        details: String,
    },
    /// A CSV of runs that cannot be read.
    #[error("runs CSV: {0}")]
    Csv(String),
    /// A batch with no runs.
    #[error("the batch has no runs")]
    Empty,
    /// A combinatorial grid whose run count cannot even be counted.
    #[error("the grid has {sizes} runs, more than {} can be counted", usize::MAX)]
    TooManyRuns {
        /// The sweeps' lengths, multiplied.
        sizes: String,
    },
    /// A range of runs outside the batch.
    #[error("runs {start}..{end} are outside the batch of {n_runs} runs")]
    RunRange {
        /// First run asked for.
        start: usize,
        /// One past the last.
        end: usize,
        /// Runs in the batch.
        n_runs: usize,
    },
    /// The inputs of the batch could not be allocated.
    #[error("cannot allocate the inputs of {runs} runs ({bytes} bytes)")]
    OutOfMemory {
        /// Runs in the batch.
        runs: usize,
        /// Bytes asked for.
        bytes: u128,
    },
}
