//! Checking, before a solve starts, that its output fits on the disk.

use std::path::Path;

use super::ResultsError;
use super::partial::parent_dir;

/// Refuses an output of `needed` bytes at `path` that the free space of
/// its file system cannot hold. The free space is read from the nearest
/// existing folder of `path`.
pub fn check_disk_space(path: &Path, needed: u128) -> Result<(), ResultsError> {
    let mut dir = if path.is_dir() {
        path
    } else {
        parent_dir(path)
    };
    while !dir.exists() {
        dir = parent_dir(dir);
        if dir == Path::new(".") {
            break;
        }
    }
    let available = fs4::available_space(dir).map_err(super::partial::io_error(dir))?;
    if needed > u128::from(available) {
        return Err(ResultsError::DiskFull {
            path: path.display().to_string(),
            needed,
            available,
        });
    }
    Ok(())
}
