//! A solve's results: labelled arrays, and writers for `.npz` and CSV.

mod array;
mod csv_writer;
mod npz_writer;

pub use array::{ArrayData, NamedArray};
pub use csv_writer::write_csv;
pub use npz_writer::write_npz;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

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

/// Temporary files being written now, for [`remove_partial_files`].
static PARTIAL_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Deletes every results file still being written by this process. Call it
/// from a signal handler before exiting, so that an interrupted write
/// leaves nothing behind (the writers delete their own files on errors).
pub fn remove_partial_files() {
    let files = match PARTIAL_FILES.lock() {
        Ok(mut files) => std::mem::take(&mut *files),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    for file in files {
        let _ = std::fs::remove_file(file);
    }
}

/// Registers a temporary file while it exists.
struct PartialFile(PathBuf);

impl PartialFile {
    fn new(path: &Path) -> Self {
        if let Ok(mut files) = PARTIAL_FILES.lock() {
            files.push(path.to_path_buf());
        }
        PartialFile(path.to_path_buf())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if let Ok(mut files) = PARTIAL_FILES.lock() {
            files.retain(|f| f != &self.0);
        }
    }
}

/// Writes a file through a uniquely named temporary sibling
/// (`.NAME.XXXXXX.partial`) and renames it into place, so that a failure
/// never leaves a partial file behind and concurrent writers to one path
/// each leave a whole file (the last rename wins).
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
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = format!(".{file_name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".partial");
    // As `File::create` would (the umask applies), not tempfile's 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(dir).map_err(io_err)?;
    let registered = PartialFile::new(tmp.path());
    let (file, tmp_path) = tmp.into_parts();
    // Dropping `tmp_path` deletes the file, on every early return.
    let result = (|| {
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        tmp_path.persist(path).map_err(|e| e.error)
    })();
    drop(registered);
    result.map_err(io_err)
}
