//! Backends: each resolves the backend-neutral [`KernelTree`] into forms
//! it can run. Adding a backend means adding one form per component.
//!
//! [`KernelTree`]: crate::kernel::KernelTree

pub mod cpu;

/// Where a solve's runs are integrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// Native code on every CPU core.
    #[default]
    Cpu,
}
