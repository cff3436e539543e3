//! The CUDA backend: code generation, where every component of the
//! [`KernelTree`](crate::kernel::KernelTree) emits CUDA C (one
//! `__device__ __forceinline__` function per component, constants baked in
//! as literals, arrays declared by the registry's allocator lines), and
//! [`CudaKernel::generate`] joins them into one kernel per solve, one run
//! per thread.
//!
//! Every emitted function performs the CPU form's operations in the CPU
//! form's order, so the kernel compiled for the host by a C++ compiler
//! ([`HostEmulation`], with contraction off) reproduces the CPU backend
//! bit for bit on models of arithmetic operations.
//!
//! Every step family is emitted (explicit, diagonally and fully implicit
//! Runge–Kutta with their Newton and linear solvers, Rosenbrock), with
//! every controller, the saved states and observables, every summary
//! metric (`summaries`), constant and time-varying drivers (`drivers`).
//!
//! Running it: [`device`] launches the kernel on a GPU through cudarc
//! (dynamic loading), compiling through the on-disk [`cache`], in
//! launches sized by [`chunks`] from the free device memory, after
//! [`placement`] has fitted the shared memory to the device.

pub mod cache;
pub mod chunks;
mod columns;
pub mod controller;
pub mod device;
pub mod drivers;
pub mod emulation;
pub mod kernel;
pub mod nvrtc;
pub mod placement;
pub mod power;
pub mod solvers;
pub mod source;
pub mod step;
pub mod summaries;
pub mod system;
pub mod time_loop;

pub use cache::KernelCache;
pub use device::{CudaDevice, CudaTimings, DeviceKernel};
pub use emulation::HostEmulation;
pub use kernel::{CudaKernel, KernelSizes};

use thiserror::Error;

use crate::memory::RegistryError;

/// Why a kernel could not be generated, compiled or run.
#[derive(Debug, Error)]
pub enum CudaError {
    /// The model's functions could not be scheduled.
    #[error("the model cannot be emitted: {0}")]
    Model(String),
    /// The summaries cannot be computed in the solve's precision.
    #[error(transparent)]
    Summaries(#[from] crate::outputs::SummaryError),
    /// A buffer could not be declared.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The host C++ compiler is missing or rejected the source.
    #[error("host C++ compiler `{compiler}`: {message}")]
    HostCompiler {
        /// The command.
        compiler: String,
        /// What went wrong (its first error lines).
        message: String,
    },
    /// The emulated kernel failed.
    #[error("the host-emulated kernel failed: {0}")]
    HostRun(String),
    /// The NVRTC library could not be loaded.
    #[error(
        "NVRTC (libnvrtc) could not be loaded: install the CUDA toolkit or `pip install nvidia-cuda-nvrtc`, and put its library on the loader's path"
    )]
    NvrtcMissing,
    /// NVRTC failed outside compilation.
    #[error("NVRTC failed: {0}")]
    Nvrtc(String),
    /// NVRTC rejected the generated source; its log names the line.
    #[error("NVRTC could not compile the kernel:\n{0}")]
    Compile(String),
    /// The CUDA driver library could not be loaded.
    #[error(
        "no CUDA driver: libcuda cannot be loaded (install the NVIDIA driver, or use --backend cpu)"
    )]
    NoDriver,
    /// The driver found no GPU.
    #[error("no CUDA device: the driver found no GPU (use --backend cpu)")]
    NoDevice,
    /// A driver call failed.
    #[error("CUDA driver: {0}")]
    Driver(String),
    /// Not even one block of runs fits the device's free memory.
    #[error(
        "one block of runs needs {needed} bytes of device memory; {free} are free after the safety margin"
    )]
    DeviceMemory {
        /// Bytes of one block's arrays.
        needed: u64,
        /// Free bytes, less the margin.
        free: u64,
    },
    /// A size that does not fit its integer type.
    #[error("the size of {0} overflows")]
    SizeOverflow(&'static str),
    /// The shared buffers of a block exceed the shared-memory budget.
    #[error(
        "the kernel needs {needed} bytes of shared memory per block ({runs_per_block} runs), over the budget of {budget} bytes: shared buffers {buffers}; set some `<buffer>_location=local`"
    )]
    SharedMemory {
        /// Shared bytes per block.
        needed: usize,
        /// The device's (or the default) budget.
        budget: usize,
        /// Runs per block.
        runs_per_block: usize,
        /// The shared buffers, with their bytes per run.
        buffers: String,
    },
    /// A file of the emulation could not be written or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A bug in the emitter.
    #[error("internal error in the CUDA emitter: {0}")]
    Internal(&'static str),
}

/// Appends the registry's declarations of `owner`'s buffers. A function
/// declares every buffer of its component and may use only some, hence
/// `[[maybe_unused]]` (NVRTC warns about the rest otherwise).
pub(crate) fn declare_buffers(
    source: &mut source::CudaSource,
    registry: &crate::memory::BufferRegistry,
    owner: crate::memory::ComponentId,
) -> Result<(), CudaError> {
    for line in registry.cuda_declarations(owner)? {
        source.line(format!("[[maybe_unused]] {line}"));
    }
    Ok(())
}
