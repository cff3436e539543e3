//! Shared libraries built from generated C by the host's C compiler
//! (`$CC`, else `cc`) and loaded into the process: the optional faster
//! code generator of the lane kernels (see [`CodeGenerator`]).
//!
//! Libraries are cached on disk (the kernel cache's directory, see
//! [`default_dir`]) under a SHA-256 of the source, the compiler's
//! identity, the flags and the host CPU's features, so a second solve of
//! the same model compiles nothing (the source is kept beside each library,
//! `cpu-KEY.c`, to read what was compiled). The flags keep every operation the
//! one written (`-ffp-contract=off`, no fast-math), which is what makes
//! the compiled code give Cranelift's bits.
//!
//! [`CodeGenerator`]: super::CodeGenerator

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::JitError;
use crate::backend::cuda::cache::default_dir;

/// The compiler's flags. `-O3 -march=native` vectorizes the loops over
/// lanes for the host's widest registers; contraction and fast-math stay
/// off so that results are the scalar code's, bit for bit.
/// `-fno-math-errno` only lets `sqrt` compile to one instruction.
pub const FLAGS: &[&str] = &[
    "-std=c11",
    "-O3",
    "-march=native",
    #[cfg(target_arch = "x86_64")]
    "-mprefer-vector-width=512",
    "-ffp-contract=off",
    "-fno-fast-math",
    "-fno-math-errno",
    "-fopenmp-simd",
    "-fPIC",
    "-shared",
    "-w",
];

/// The C compiler: `$CC`, else `cc`.
pub fn compiler() -> String {
    std::env::var("CC")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "cc".to_string())
}

/// The compiler's `--version` banner, or `None` when it cannot run: the
/// run-time check of [`CodeGenerator::Auto`](super::CodeGenerator::Auto).
/// Asked once per process.
pub fn compiler_version() -> Option<&'static str> {
    static VERSION: OnceLock<Option<String>> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            let out = Command::new(compiler()).arg("--version").output().ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
        })
        .as_deref()
}

/// What `-march=native` compiles for: the CPU's feature flags, so that a
/// cache shared between machines never hands one code built for another.
fn host_features() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let line = |key: &str| {
        cpuinfo
            .lines()
            .find(|l| l.starts_with(key))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    format!(
        "{}\n{}\n{}\n{}",
        std::env::consts::ARCH,
        line("model name"),
        line("flags"),
        line("Features")
    )
}

/// A compiled and loaded library.
#[derive(Debug)]
pub struct HostLibrary {
    library: libloading::Library,
    /// True when it came from the cache and nothing was compiled.
    pub hit: bool,
    /// Time spent compiling (or finding the cached library).
    pub time: Duration,
}

impl HostLibrary {
    /// Compiles `source` (or takes it from the cache) and loads it.
    pub fn build(source: &str) -> Result<Self, JitError> {
        let start = Instant::now();
        let version = compiler_version().ok_or_else(|| {
            JitError::HostCompiler(format!("the C compiler `{}` cannot run", compiler()))
        })?;
        let key = cache_key(source, version);
        let cached = default_dir().and_then(|dir| {
            std::fs::create_dir_all(&dir).ok()?;
            Some(dir.join(format!("cpu-{key}.so")))
        });
        if let Some(path) = &cached
            && path.is_file()
            && let Ok(library) = load(path)
        {
            return Ok(Self {
                library,
                hit: true,
                time: start.elapsed(),
            });
        }
        let scratch = tempfile::Builder::new().prefix("cubie-cc-").tempdir()?;
        let built = compile(source, scratch.path())?;
        // Into the cache by rename, so no reader sees half a file; a cache
        // that cannot be written only costs the next solve a compile.
        let path = match &cached {
            Some(path) => {
                let staged = path.with_extension(format!("{}.tmp", std::process::id()));
                let moved = std::fs::copy(&built, &staged)
                    .and_then(|_| std::fs::rename(&staged, path))
                    .is_ok();
                // The source beside it, to read what was compiled.
                let _ = std::fs::write(path.with_extension("c"), source);
                let _ = std::fs::remove_file(&staged);
                if moved { path.clone() } else { built }
            }
            None => built,
        };
        let library = load(&path)?;
        Ok(Self {
            library,
            hit: false,
            time: start.elapsed(),
        })
    }

    /// The address of the exported function `name`.
    pub fn function(&self, name: &str) -> Result<*const u8, JitError> {
        // SAFETY: only the symbol's address is read here; callers give it
        // the signature the generated source declares.
        let symbol = unsafe { self.library.get::<*const u8>(name.as_bytes()) }
            .map_err(|e| JitError::HostCompiler(format!("`{name}` not found: {e}")))?;
        Ok(*symbol)
    }
}

/// 64 hex digits naming `source` compiled by the compiler `version`.
fn cache_key(source: &str, version: &str) -> String {
    let mut hash = Sha256::new();
    let flags = FLAGS.join(" ");
    let features = host_features();
    let compiler = compiler();
    for part in [source, version, &compiler, &flags, &features] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Compiles `source` into a library in `dir`.
fn compile(source: &str, dir: &Path) -> Result<PathBuf, JitError> {
    let input = dir.join("kernel.c");
    std::fs::write(&input, source)?;
    let output = dir.join("kernel.so");
    let cc = compiler();
    let result = Command::new(&cc)
        .args(FLAGS)
        .arg("-o")
        .arg(&output)
        .arg(&input)
        .output()
        .map_err(|e| JitError::HostCompiler(format!("`{cc}` cannot run: {e}")))?;
    if !result.status.success() {
        let log = String::from_utf8_lossy(&result.stderr);
        let log: String = log.lines().take(20).collect::<Vec<_>>().join("\n");
        return Err(JitError::HostCompiler(format!(
            "`{cc}` failed on the generated C:\n{log}"
        )));
    }
    Ok(output)
}

fn load(path: &Path) -> Result<libloading::Library, JitError> {
    // SAFETY: the library is one cubie generated and compiled (or cached
    // under a hash of that source): it has no initialisers and exports
    // only the kernels whose signatures its source declares.
    unsafe { libloading::Library::new(path) }
        .map_err(|e| JitError::HostCompiler(format!("cannot load {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_library_is_compiled_once_then_taken_from_the_cache() {
        if compiler_version().is_none() {
            eprintln!("skipped: no C compiler runs");
            return;
        }
        let source = "__attribute__((visibility(\"default\"))) double cubie_test_twice(double x) \
                      { return 2.0 * x + 0.25; }\n";
        let first = HostLibrary::build(source).expect("compiles");
        let again = HostLibrary::build(source).expect("loads");
        if default_dir().is_some() {
            assert!(again.hit, "the second build is a cache hit");
        }
        for library in [&first, &again] {
            let address = library.function("cubie_test_twice").expect("exported");
            // SAFETY: the source defines `double cubie_test_twice(double)`.
            let f = unsafe { std::mem::transmute::<*const u8, extern "C" fn(f64) -> f64>(address) };
            assert_eq!(f(3.0), 6.25);
        }
        assert!(first.function("no_such_function").is_err());
        let broken = HostLibrary::build("this is not C").expect_err("a compile error");
        assert!(
            broken.to_string().contains("failed on the generated C"),
            "{broken}"
        );
    }

    #[test]
    fn cache_keys_follow_the_source() {
        assert_ne!(cache_key("a", "v"), cache_key("b", "v"));
        assert_ne!(cache_key("a", "v1"), cache_key("a", "v2"));
        assert_eq!(cache_key("a", "v").len(), 64);
    }
}
