//! The generated CUDA C compiled for the host by a C++ compiler, against
//! a small header that defines the CUDA keywords and thread indices: a
//! GPU-free check that the emitted code computes what the CPU backend
//! computes. Blocks and their threads run one after another (the kernel
//! has no barriers and no warp votes, so that order is a faithful
//! emulation), with contraction of `a * b + c` off as on the CPU.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::backend::cpu::jit::JitReal;
use crate::backend::outputs::BatchOutputs;
use crate::precision::Precision;
use crate::time_loop::COUNTER_LABELS;

use super::columns::{column_major, run_major};
use super::{CudaError, CudaKernel};

/// The header the generated source is compiled against on the host.
pub const HOST_HEADER: &str = r#"// cubie's CUDA-on-host header: the CUDA names the kernels use.
#define CUBIE_HOST 1
#include <math.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__
#define cubie_isfinite(x) std::isfinite(x)
#define CUBIE_INF std::numeric_limits<double>::infinity()
#define CUBIE_NAN std::numeric_limits<double>::quiet_NaN()
#define CUBIE_INFF std::numeric_limits<float>::infinity()
#define CUBIE_NANF std::numeric_limits<float>::quiet_NaN()
static inline long long __double_as_longlong(double x) { long long b; std::memcpy(&b, &x, sizeof b); return b; }
static inline double __longlong_as_double(long long b) { double x; std::memcpy(&x, &b, sizeof x); return x; }
static inline int __float_as_int(float x) { int b; std::memcpy(&b, &x, sizeof b); return b; }
static inline float __int_as_float(int b) { float x; std::memcpy(&x, &b, sizeof x); return x; }
struct cubie_dim3 { unsigned x, y, z; };
static cubie_dim3 threadIdx, blockIdx, blockDim, gridDim;
"#;

/// Calls of [`HostEmulation::run`] so far, naming each call's files.
static CALLS: AtomicUsize = AtomicUsize::new(0);

/// The C++ compiler: `$CXX`, else `c++`.
fn compiler() -> String {
    std::env::var("CXX").unwrap_or_else(|_| "c++".to_string())
}

/// A kernel compiled for the host.
#[derive(Debug)]
pub struct HostEmulation {
    dir: tempfile::TempDir,
    kernel: CudaKernel,
}

impl HostEmulation {
    /// Compiles `kernel` with the host's C++ compiler.
    pub fn compile(kernel: &CudaKernel) -> Result<Self, CudaError> {
        let dir = tempfile::Builder::new().prefix("cubie-host-").tempdir()?;
        let source = dir.path().join("kernel.cpp");
        let mut text = String::from(HOST_HEADER);
        text.push_str(&kernel.source);
        text.push_str(&harness(kernel));
        std::fs::write(&source, text)?;
        let exe = dir.path().join("kernel");
        let cxx = compiler();
        let output = Command::new(&cxx)
            .args([
                "-std=c++17",
                "-O2",
                "-ffp-contract=off",
                "-fno-fast-math",
                "-w",
                "-o",
            ])
            .arg(&exe)
            .arg(&source)
            .output()
            .map_err(|e| CudaError::HostCompiler {
                compiler: cxx.clone(),
                message: e.to_string(),
            })?;
        if !output.status.success() {
            let message: String = String::from_utf8_lossy(&output.stderr)
                .lines()
                .filter(|l| l.contains("error"))
                .take(5)
                .collect::<Vec<_>>()
                .join("\n");
            return Err(CudaError::HostCompiler {
                compiler: cxx,
                message,
            });
        }
        Ok(HostEmulation {
            dir,
            kernel: kernel.clone(),
        })
    }

    fn exe(&self) -> PathBuf {
        self.dir.path().join("kernel")
    }

    /// Runs the kernel on `n_runs` runs: `initial_values` and
    /// `parameters` run-major (run `i`'s values contiguous, as the CPU
    /// backend takes them); the outputs come back run-major too.
    pub fn run<T: JitReal>(
        &self,
        n_runs: usize,
        initial_values: &[T],
        parameters: &[T],
    ) -> Result<BatchOutputs<T>, CudaError> {
        let k = &self.kernel;
        let s = k.sizes;
        if initial_values.len() != n_runs * s.n_states
            || parameters.len() != n_runs * s.n_parameters
        {
            return Err(CudaError::Internal("inputs of the wrong length"));
        }
        // One pair of files per call: calls may overlap.
        let call = CALLS.fetch_add(1, Ordering::Relaxed);
        let input = self.dir.path().join(format!("in-{call}.bin"));
        let output = self.dir.path().join(format!("out-{call}.bin"));
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(n_runs as i64).to_le_bytes());
        let mut put = |values: Vec<T>| {
            for v in values {
                match T::PRECISION {
                    Precision::F32 => bytes.extend_from_slice(&(v.to_f64() as f32).to_le_bytes()),
                    Precision::F64 => bytes.extend_from_slice(&v.to_f64().to_le_bytes()),
                }
            }
        };
        put(column_major(initial_values, n_runs, s.n_states));
        put(column_major(parameters, n_runs, s.n_parameters));
        for t in &k.save_times {
            bytes.extend_from_slice(&t.to_le_bytes());
        }
        std::fs::File::create(&input)?.write_all(&bytes)?;
        let status = Command::new(self.exe()).arg(&input).arg(&output).output();
        let _ = std::fs::remove_file(&input);
        let status = status?;
        if !status.status.success() {
            return Err(CudaError::HostRun(
                String::from_utf8_lossy(&status.stderr).into_owned(),
            ));
        }
        let data = std::fs::read(&output);
        let _ = std::fs::remove_file(&output);
        let data = data?;
        let mut reader = Reader { data: &data, at: 0 };
        let n_saves = k.save_times.len();
        let final_state = reader.reals::<T>(n_runs * s.n_states)?;
        let saved_states = reader.reals::<T>(n_runs * n_saves * s.n_saved_states)?;
        let saved_observables = reader.reals::<T>(n_runs * n_saves * s.n_saved_observables)?;
        let status_words = reader.i32s(n_runs)?;
        let counters = reader.i64s(n_runs * COUNTER_LABELS.len())?;
        let summaries = reader.reals::<T>(n_runs * s.summaries_per_run())?;
        Ok(BatchOutputs {
            final_state: run_major(&final_state, n_runs),
            saved_states: run_major(&saved_states, n_runs),
            saved_observables: run_major(&saved_observables, n_runs),
            summaries: run_major(&summaries, n_runs),
            status: status_words,
            counters: run_major(&counters, n_runs),
        })
    }
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CudaError> {
        let end = self.at + n;
        let bytes = self
            .data
            .get(self.at..end)
            .ok_or_else(|| CudaError::HostRun("its output is shorter than expected".into()))?;
        self.at = end;
        Ok(bytes)
    }

    fn reals<T: JitReal>(&mut self, n: usize) -> Result<Vec<T>, CudaError> {
        let size = T::PRECISION.bytes();
        let bytes = self.take(n * size)?;
        // Widening f32 to f64 and back is exact.
        Ok(bytes
            .chunks_exact(size)
            .map(|b| match T::PRECISION {
                Precision::F32 => T::from_f64(f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64),
                Precision::F64 => {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    T::from_f64(f64::from_le_bytes(a))
                }
            })
            .collect())
    }

    fn i32s(&mut self, n: usize) -> Result<Vec<i32>, CudaError> {
        let bytes = self.take(n * 4)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn i64s(&mut self, n: usize) -> Result<Vec<i64>, CudaError> {
        let bytes = self.take(n * 8)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|b| {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                i64::from_le_bytes(a)
            })
            .collect())
    }
}

/// The `main` that loads the inputs, launches every block and thread in
/// turn and writes the outputs.
fn harness(k: &CudaKernel) -> String {
    let s = k.sizes;
    let n_saves = k.save_times.len();
    format!(
        r#"
// ---- host emulation harness ----
real cubie_shared_memory[{shared} + 1];
template <typename V> static void cubie_read(FILE* f, std::vector<V>& v) {{
    if (!v.empty() && fread(v.data(), sizeof(V), v.size(), f) != v.size()) {{ fprintf(stderr, "short input\n"); exit(2); }}
}}
template <typename V> static void cubie_write(FILE* f, const std::vector<V>& v) {{
    if (!v.empty() && fwrite(v.data(), sizeof(V), v.size(), f) != v.size()) {{ fprintf(stderr, "short write\n"); exit(2); }}
}}
int main(int argc, char** argv) {{
    if (argc != 3) return 2;
    FILE* in = fopen(argv[1], "rb");
    if (!in) return 2;
    long long n_runs = 0;
    if (fread(&n_runs, sizeof n_runs, 1, in) != 1) return 2;
    const size_t n = (size_t)n_runs;
    std::vector<real> initial_values(n * {n_states}), parameters(n * {n_parameters});
    std::vector<double> save_times({n_saves});
    cubie_read(in, initial_values);
    cubie_read(in, parameters);
    cubie_read(in, save_times);
    fclose(in);
    std::vector<real> final_state(n * {n_states}), saved_states(n * {n_saves} * {n_ss}), saved_observables(n * {n_saves} * {n_so});
    std::vector<int> status(n);
    std::vector<long long> counters(n * 3);
    std::vector<real> summaries(n * {n_summaries});
    const unsigned rpb = {rpb};
    blockDim.x = rpb; blockDim.y = 1; blockDim.z = 1;
    gridDim.x = (unsigned)((n + rpb - 1) / rpb); gridDim.y = 1; gridDim.z = 1;
    for (unsigned b = 0; b < gridDim.x; ++b) {{
        blockIdx.x = b;
        for (unsigned t = 0; t < rpb; ++t) {{
            threadIdx.x = t;
            {entry}(initial_values.data(), parameters.data(), save_times.data(), final_state.data(),
                saved_states.data(), saved_observables.data(), status.data(), counters.data(),
                summaries.empty() ? nullptr : summaries.data(), (int)n);
        }}
    }}
    FILE* out = fopen(argv[2], "wb");
    if (!out) return 2;
    cubie_write(out, final_state);
    cubie_write(out, saved_states);
    cubie_write(out, saved_observables);
    cubie_write(out, status);
    cubie_write(out, counters);
    cubie_write(out, summaries);
    fclose(out);
    return 0;
}}
"#,
        shared = k.shared_stride * k.runs_per_block,
        n_states = s.n_states,
        n_parameters = s.n_parameters,
        n_ss = s.n_saved_states,
        n_so = s.n_saved_observables,
        n_summaries = s.summaries_per_run(),
        rpb = k.runs_per_block,
        entry = super::kernel::ENTRY,
    )
}
