//! A solve's results: labelled arrays, and writers for `.npz` and CSV.

mod array;
mod csv_writer;
mod npz_writer;

pub use array::{ArrayData, NamedArray};
pub use csv_writer::write_csv;
pub use npz_writer::write_npz;

use std::path::Path;

use thiserror::Error;

use crate::Precision;

/// What can go wrong writing results.
#[derive(Debug, Error)]
pub enum ResultsError {
    /// The file could not be written.
    #[error("cannot write `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file name has an extension no writer handles.
    #[error("cannot tell the format of `{0}`: use a `.npz` or `.csv` file name")]
    UnknownFormat(String),
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
    arrays: Vec<NamedArray>,
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

/// Writes a file through a temporary sibling and renames it into place, so
/// that a failure never leaves a partial file behind.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), ResultsError> {
    let io_err = |source| ResultsError::Io {
        path: path.display().to_string(),
        source,
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.partial"));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io_err)
}
