//! Results files written whole or not at all: each is written through a
//! uniquely named temporary sibling (`.NAME.XXXXXX.partial`) that is
//! renamed into place once complete, and every temporary file or folder of
//! this process is known, so that an interrupt can delete them.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
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
    /// Bytes written through the page cache since the disk last took them.
    unsynced: u64,
    /// Writes that bypass the page cache (see [`write_at`](Self::write_at)).
    direct: Direct,
}

/// Bytes a results file is written by before the disk is asked to take
/// them (see [`PartialFile::wrote`]).
const SYNC_EVERY: u64 = 4 << 20;

/// Offsets, lengths and buffers of direct writes are multiples of this (the
/// page size, a multiple of every disk's logical block).
const DIRECT_ALIGN: usize = 4096;
/// Bytes per direct write: the aligned buffer they are copied through.
const DIRECT_PIECE: usize = 1 << 20;
/// Writes shorter than this go through the page cache.
const DIRECT_FROM: usize = 256 << 10;

/// The temporary file opened a second time to write whole pages straight
/// to the disk (`O_DIRECT`, on Linux, where the file system takes it).
#[derive(Debug)]
enum Direct {
    /// Not opened yet: opened on the first large write.
    Untried,
    /// The file, and a buffer of `DIRECT_PIECE + DIRECT_ALIGN` bytes whose
    /// aligned part the data is copied through.
    Open(File, Vec<u8>),
    /// Not available: every write goes through the page cache.
    Off,
}

/// The file of `file` opened again (through `/proc/self/fd`, so the same
/// file whatever its name) for writes that bypass the page cache.
#[cfg(target_os = "linux")]
fn open_direct(file: &File) -> Option<File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_file: &File) -> Option<File> {
    None
}

#[cfg(unix)]
fn write_all_at(file: &File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(bytes, offset)
}

#[cfg(not(unix))]
fn write_all_at(_file: &File, _bytes: &[u8], _offset: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
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
            unsynced: 0,
            direct: Direct::Untried,
        })
    }

    /// The buffered writer.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        &mut self.out
    }

    /// Writes `bytes` at `offset`, handing `each` the bytes in order, in
    /// pieces (to checksum them, say). The whole pages of a large write go
    /// straight to the disk, copied through an aligned buffer (`O_DIRECT`,
    /// on Linux, where the file system takes it): no page-cache pages to
    /// fill and write back, which would cost the solve about as much CPU
    /// as the copy itself. The rest, and every write where that is not
    /// available, goes through the page cache.
    pub fn write_at(
        &mut self,
        offset: u64,
        bytes: &[u8],
        each: &mut dyn FnMut(&[u8]),
    ) -> std::io::Result<()> {
        let align = DIRECT_ALIGN as u64;
        let end = offset + bytes.len() as u64;
        let (first, last) = (offset.next_multiple_of(align), end / align * align);
        if bytes.len() < DIRECT_FROM || last <= first || !self.direct_open() {
            each(bytes);
            return self.buffered_at(offset, bytes);
        }
        let (head, rest) = bytes.split_at((first - offset) as usize);
        let (middle, tail) = rest.split_at((last - first) as usize);
        each(head);
        self.buffered_at(offset, head)?;
        let mut at = first;
        for piece in middle.chunks(DIRECT_PIECE) {
            let written = match &mut self.direct {
                Direct::Open(file, buffer) => {
                    let start = buffer.as_ptr().align_offset(DIRECT_ALIGN);
                    let aligned = &mut buffer[start..start + piece.len()];
                    aligned.copy_from_slice(piece);
                    each(aligned);
                    match write_all_at(file, aligned, at) {
                        Ok(()) => true,
                        // Refused (alignment the disk wants larger, say):
                        // the page cache from here on.
                        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                            self.direct = Direct::Off;
                            false
                        }
                        Err(e) => return Err(e),
                    }
                }
                _ => {
                    each(piece);
                    false
                }
            };
            if !written {
                self.buffered_at(at, piece)?;
            }
            at += piece.len() as u64;
        }
        each(tail);
        self.buffered_at(last, tail)
    }

    /// True once the file is open for direct writes (opened on first use).
    fn direct_open(&mut self) -> bool {
        if matches!(self.direct, Direct::Untried) {
            self.direct = match open_direct(self.out.get_ref()) {
                Some(file) => Direct::Open(file, vec![0; DIRECT_PIECE + DIRECT_ALIGN]),
                None => Direct::Off,
            };
        }
        matches!(self.direct, Direct::Open(..))
    }

    /// Writes `bytes` at `offset` through the page cache.
    fn buffered_at(&mut self, offset: u64, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.out.seek(SeekFrom::Start(offset))?;
        self.out.write_all(bytes)?;
        self.unsynced += bytes.len() as u64;
        Ok(())
    }

    /// Notes that `bytes` more were written through [`writer`](Self::writer)
    /// and has the disk take what went through the page cache once
    /// [`SYNC_EVERY`] bytes have. A streamed writer calls it after each
    /// chunk, so that the disk writes while the next chunks are solved, and
    /// [`commit`](Self::commit) waits for the last ones only.
    pub fn wrote(&mut self, bytes: u64) -> std::io::Result<()> {
        self.unsynced += bytes;
        if self.unsynced >= SYNC_EVERY {
            self.out.flush()?;
            self.out.get_ref().sync_data()?;
            self.unsynced = 0;
        }
        Ok(())
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
            unsynced: _,
            direct: _,
        } = self;
        let result = (|| {
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            temporary.persist(&destination).map_err(|e| e.error)
        })();
        result.map_err(io_error(&destination))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positioned_writes_direct_or_not_give_the_bytes_written() {
        let dir = std::env::temp_dir().join(format!("cubie-partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.bin");
        let mut file = PartialFile::create(&path).unwrap();
        let mut expected = vec![0u8; 7_340_033];
        let mut seen = Vec::new();
        // Pieces out of order, at odd offsets, small and large (whole
        // pages of the large ones go straight to the disk where it can),
        // then a small one over the start of a large one.
        let pieces = [
            (0, 1000),
            (3_000_017, 4_340_016),
            (1000, 2_999_017),
            (4_000, 300),
            (7_340_033 - 5, 5),
        ];
        for (k, &(at, len)) in pieces.iter().enumerate() {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + k * 13) as u8).collect();
            expected[at..at + len].copy_from_slice(&bytes);
            let mut got = Vec::new();
            file.write_at(at as u64, &bytes, &mut |b| got.extend_from_slice(b))
                .unwrap();
            // `each` sees the bytes in order, whole.
            assert!(got == bytes, "piece {k}");
            seen.push(got.len());
            file.wrote(0).unwrap();
        }
        file.commit().unwrap();
        assert!(std::fs::read(&path).unwrap() == expected);
        assert_eq!(
            seen.iter().sum::<usize>(),
            pieces.iter().map(|p| p.1).sum::<usize>()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
