//! Backends: each resolves the backend-neutral [`KernelTree`] into forms
//! it can run. Adding a backend means adding one form per component.
//!
//! [`KernelTree`]: crate::kernel::KernelTree

pub mod cpu;
pub mod cuda;
pub mod outputs;

/// Where a solve's runs are integrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// Native code on every CPU core.
    #[default]
    Cpu,
    /// The CUDA backend's generated kernel, compiled for this CPU by the
    /// host C++ compiler and run one thread at a time: for checking the
    /// generated code where there is no GPU. Slow; single-threaded.
    CudaHostEmulation,
    /// The CUDA backend's kernel on GPU 0, through the CUDA driver (loaded
    /// at run time) and NVRTC; modules are cached on disk
    /// (`backend::cuda::cache`).
    Cuda,
}
