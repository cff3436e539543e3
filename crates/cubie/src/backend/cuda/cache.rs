//! The on-disk module cache: PTX keyed by a SHA-256 of the source, the
//! target architecture and the NVRTC version, so that a second solve of
//! the same kernel compiles nothing. Needs NVRTC only (no GPU), so it is
//! tested where there is none.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::nvrtc;
use super::{CudaError, CudaKernel};

/// The environment variable that overrides the cache directory.
pub const CACHE_DIR_VAR: &str = "CUBIE_CACHE_DIR";

/// The cache directory: `$CUBIE_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/cubie/kernels`, else `$HOME/.cache/cubie/kernels`;
/// `None` when none of them is set.
pub fn default_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var(CACHE_DIR_VAR) {
        return Some(PathBuf::from(dir));
    }
    let base = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("cubie").join("kernels"))
}

/// The cache key of `source` compiled for `arch` by NVRTC `version`
/// (major, minor): 64 hex digits.
pub fn key(source: &str, arch: &str, version: (i32, i32)) -> String {
    let mut hash = Sha256::new();
    // Lengths first, so that no two (source, arch) pairs hash the same
    // bytes.
    for part in [source.as_bytes(), arch.as_bytes()] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.update(version.0.to_le_bytes());
    hash.update(version.1.to_le_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// PTX from the cache or a fresh compile.
#[derive(Debug, Clone)]
pub struct CachedPtx {
    /// The PTX text.
    pub ptx: String,
    /// NVRTC's log (empty on a cache hit).
    pub log: String,
    /// True when the PTX was read from the cache and nothing was compiled.
    pub hit: bool,
    /// Time spent compiling, or reading the cache on a hit.
    pub time: Duration,
    /// The cache file (`None` when no cache directory is used).
    pub path: Option<PathBuf>,
    /// Why a fresh compile could not be stored (the solve goes on).
    pub store_error: Option<String>,
}

/// A cache directory; `None` compiles every time.
#[derive(Debug, Clone, Default)]
pub struct KernelCache {
    dir: Option<PathBuf>,
}

impl KernelCache {
    /// A cache in `dir` (created on first store).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        KernelCache {
            dir: Some(dir.into()),
        }
    }

    /// The cache in [`default_dir`].
    pub fn from_env() -> Self {
        KernelCache { dir: default_dir() }
    }

    /// No cache: every call compiles.
    pub fn disabled() -> Self {
        KernelCache { dir: None }
    }

    /// Its directory.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The PTX of `kernel` for `arch`: read from the cache when there,
    /// else compiled with NVRTC and stored (written to a temporary file
    /// and renamed, so a reader never sees half a module). A file that is
    /// not a module of the kernel's entry is ignored and replaced.
    pub fn compile(&self, kernel: &CudaKernel, arch: &str) -> Result<CachedPtx, CudaError> {
        let started = Instant::now();
        let version = nvrtc::version()?;
        let path = self
            .dir
            .as_ref()
            .map(|dir| dir.join(format!("{}.ptx", key(&kernel.source, arch, version))));
        if let Some(path) = &path
            && let Ok(ptx) = std::fs::read_to_string(path)
            && is_module(&ptx)
        {
            return Ok(CachedPtx {
                ptx,
                log: String::new(),
                hit: true,
                time: started.elapsed(),
                path: Some(path.clone()),
                store_error: None,
            });
        }
        let compiled = nvrtc::compile(kernel, arch)?;
        let time = started.elapsed();
        let store_error = path
            .as_ref()
            .and_then(|p| store(p, &compiled.ptx).err())
            .map(|e| e.to_string());
        Ok(CachedPtx {
            ptx: compiled.ptx,
            log: compiled.log,
            hit: false,
            time,
            path,
            store_error,
        })
    }
}

/// True when `ptx` looks like a whole module of the kernel.
fn is_module(ptx: &str) -> bool {
    ptx.contains(&format!(".entry {}", super::kernel::ENTRY))
}

/// Writes `ptx` to `path` atomically.
fn store(path: &Path, ptx: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("the cache file has no directory"))?;
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(ptx.as_bytes())?;
    file.flush()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_changes_with_source_arch_and_version() {
        let base = key("int x;", "compute_90", (13, 0));
        assert_eq!(base.len(), 64);
        assert!(base.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(base, key("int x;", "compute_90", (13, 0)));
        assert_ne!(base, key("int y;", "compute_90", (13, 0)));
        assert_ne!(base, key("int x;", "compute_80", (13, 0)));
        assert_ne!(base, key("int x;", "compute_90", (13, 1)));
        assert_ne!(base, key("int x;", "compute_90", (12, 0)));
        // Moving bytes between source and arch changes the key.
        assert_ne!(key("ab", "c", (13, 0)), key("a", "bc", (13, 0)));
    }

    #[test]
    fn a_store_replaces_the_file_whole() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("nested").join("k.ptx");
        store(&path, "first").expect("stores");
        store(&path, "second").expect("stores again");
        assert_eq!(std::fs::read_to_string(&path).expect("reads"), "second");
        // Only the module is left: no temporary file.
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("lists")
            .collect();
        assert_eq!(names.len(), 1);
    }
}
