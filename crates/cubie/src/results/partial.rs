//! Results files written whole or not at all: each is written through a
//! uniquely named temporary sibling (`.NAME.XXXXXX.partial`) that is
//! renamed into place once complete, and every temporary file or folder of
//! this process is known, so that an interrupt can delete them.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::ResultsError;

/// Temporary files and folders being written now, for
/// [`remove_partial_files`].
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
        if file.is_dir() {
            let _ = std::fs::remove_dir_all(file);
        } else {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Registers a temporary path while it exists.
#[derive(Debug)]
struct Registered(PathBuf);

impl Registered {
    fn new(path: &Path) -> Self {
        if let Ok(mut files) = PARTIAL_FILES.lock() {
            files.push(path.to_path_buf());
        }
        Registered(path.to_path_buf())
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut files) = PARTIAL_FILES.lock() {
            files.retain(|f| f != &self.0);
        }
    }
}

pub(crate) fn io_error(path: &Path) -> impl Fn(std::io::Error) -> ResultsError + '_ {
    move |source| ResultsError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The folder of `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn temporary_prefix(path: &Path) -> String {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{file_name}.")
}

/// A results file being written: a temporary sibling of its destination,
/// deleted unless [`commit`](Self::commit) renames it into place.
#[derive(Debug)]
pub(crate) struct PartialFile {
    destination: PathBuf,
    out: BufWriter<File>,
    temporary: tempfile::TempPath,
    _registered: Registered,
}

impl PartialFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> Result<Self, ResultsError> {
        let prefix = temporary_prefix(path);
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".partial");
        // As `File::create` would (the umask applies), not tempfile's 0600.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = builder
            .tempfile_in(parent_dir(path))
            .map_err(io_error(path))?;
        let registered = Registered::new(tmp.path());
        let (file, temporary) = tmp.into_parts();
        Ok(PartialFile {
            destination: path.to_path_buf(),
            out: BufWriter::new(file),
            temporary,
            _registered: registered,
        })
    }

    /// The buffered writer.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        &mut self.out
    }

    /// The destination.
    pub fn destination(&self) -> &Path {
        &self.destination
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(self) -> Result<(), ResultsError> {
        let PartialFile {
            destination,
            out,
            temporary,
            _registered,
        } = self;
        let result = (|| {
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            temporary.persist(&destination).map_err(|e| e.error)
        })();
        result.map_err(io_error(&destination))
    }
}

/// A temporary folder beside `path` (`.NAME.XXXXXX.partial.d`), deleted
/// when dropped or on interrupt: the chunk files a streamed writer
/// assembles its output from.
#[derive(Debug)]
pub(crate) struct PartialDir {
    dir: tempfile::TempDir,
    _registered: Registered,
}

impl PartialDir {
    /// Creates the folder beside `path`.
    pub fn beside(path: &Path) -> Result<Self, ResultsError> {
        let prefix = temporary_prefix(path);
        let dir = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".partial.d")
            .tempdir_in(parent_dir(path))
            .map_err(io_error(path))?;
        let registered = Registered::new(dir.path());
        Ok(PartialDir {
            dir,
            _registered: registered,
        })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Writes a file through a uniquely named temporary sibling and renames it
/// into place, so that a failure never leaves a partial file behind and
/// concurrent writers to one path each leave a whole file (the last rename
/// wins).
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), ResultsError> {
    let mut file = PartialFile::create(path)?;
    write(file.writer()).map_err(io_error(path))?;
    file.commit()
}
