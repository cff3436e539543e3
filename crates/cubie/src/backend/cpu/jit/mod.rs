//! Native code for a model's functions, generated at run time with
//! Cranelift (no C compiler needed).
//!
//! [`NativeSystem::compile`] lowers every [`SystemFunction`] of a
//! [`SystemFunctions`] in one precision, following the backend-neutral
//! [`Schedule`](crate::system::schedule::Schedule):
//!
//! - `+ - * /`, `abs`, `sqrt`, `floor`, `ceil`, negation, comparisons,
//!   `and`/`or`/`not`, `min`/`max`, `sign`, `heaviside` and `if` are inline
//!   instructions; `x^n` with a literal integer `|n| <= 16` is expanded into
//!   multiplications (see [`JitOptions`]);
//! - every other function calls an `extern "C"` shim around Rust's own
//!   implementation for the precision (see [`math`]).
//!
//! Exactness against the [evaluator](crate::system::eval): results are
//! bit-identical in `f32` and `f64` (NaN payloads aside), except that an
//! expanded integer power `x^n` may differ from `powf` by up to `|n|` ulps
//! (`x^2`, `x^3`, `x^-1`, `x^-2`: at most 1 ulp). With
//! [`JitOptions::expand_integer_powers`] off, everything is bit-identical.
//!
//! Lane blocks: [`NativeSystem::compile_lanes`] and
//! [`FusedErkStep::compile_lanes`] also compile every function (and the
//! step) for blocks of `W` runs interleaved lane by lane, processed a
//! 128-bit vector of lanes at a time (`F64X2`, `F32X4`; lane by lane when
//! `W` is narrower). Each lane gets exactly the scalar code's bits: the
//! same operations in the same order, comparisons as lane masks with the
//! scalar semantics, shims called lane by lane.
//!
//! [`SystemFunction`]: crate::system::SystemFunction
//! [`SystemFunctions`]: crate::system::SystemFunctions

mod c_erk;
mod fused_erk;
pub mod host_cc;
mod lower;
pub mod math;
mod native;

use thiserror::Error;

use crate::system::schedule::ScheduleError;

pub use fused_erk::{FusedErkStep, FusedLengthError, MAX_FUSED_NODES};
pub use lower::{MAX_EXPANDED_POWER, STREAMING_NODES};
pub use math::JitReal;
pub use native::{LaneInputs, NativeSystem};

/// Choices of the native lowering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitOptions {
    /// Expand `x^n` for a literal integer `|n| <=` [`MAX_EXPANDED_POWER`]
    /// into multiplications (and `1 / x^|n|` for negative `n`) instead of
    /// calling `powf`: much faster, within `|n|` ulps of `powf`.
    pub expand_integer_powers: bool,
}

impl Default for JitOptions {
    fn default() -> Self {
        Self {
            expand_integer_powers: true,
        }
    }
}

/// Why a model could not be compiled to native code.
#[derive(Debug, Error)]
pub enum JitError {
    /// The functions are inconsistent with their declared sizes.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// The host machine or its code-generation settings are unsupported.
    #[error("native code generation is not available on this host: {0}")]
    Host(String),
    /// Cranelift rejected a declaration or definition.
    #[error("native code generation failed: {0}")]
    Module(Box<cranelift_module::ModuleError>),
    /// An input or output index is too large to address.
    #[error("index {index} is too large for native code")]
    TooLarge {
        /// The offending index.
        index: usize,
    },
    /// Lane code was asked for a block width it does not support.
    #[error("no lane code for blocks of {lanes} lanes: widths are 1, 2, 4, 8, 16 or 32")]
    Lanes {
        /// The width asked for.
        lanes: usize,
    },
    /// A bug in the lowering.
    #[error("internal error in native lowering: {0}")]
    Internal(&'static str),
    /// The host's C compiler could not build or load the lane code.
    #[error("C code generation: {0}")]
    HostCompiler(String),
    /// Scratch files for the C compiler could not be written.
    #[error("C code generation: {0}")]
    Io(#[from] std::io::Error),
}

/// Which code generator compiles the fused step's lane kernels.
///
/// Both give the same bits; they differ in speed and in what they need.
/// Everything else (the model's functions, the implicit steps' kernels,
/// the scalar step) is always Cranelift's. The default,
/// [`Auto`](Self::Auto), is a run-time check: nothing but the Rust
/// toolchain is needed to build or run cubie, and a machine with a C
/// compiler gets its full vector width (rk4 on Lorenz: 2.5x a vectorized
/// C loop with Cranelift's 128-bit lane code, 1.0x with the C compiler's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodeGenerator {
    /// Cranelift, in process: needs nothing beyond cubie, compiles in
    /// milliseconds; 128-bit vectors.
    Cranelift,
    /// The host's C compiler (`$CC`, else `cc`) at `-O3 -march=native`
    /// with contraction off: the machine's full vector width. Compiling
    /// takes a fraction of a second, once per model and machine (the
    /// library is cached on disk). An error when no compiler runs.
    HostC,
    /// [`HostC`](Self::HostC) when a C compiler runs, else Cranelift (also
    /// when that compiler fails on the generated code). The default.
    #[default]
    Auto,
}

impl CodeGenerator {
    /// The names [`FromStr`](std::str::FromStr) accepts.
    pub const NAMES: [&str; 3] = ["cranelift", "c", "auto"];

    /// The setting's name.
    pub fn name(self) -> &'static str {
        match self {
            CodeGenerator::Cranelift => "cranelift",
            CodeGenerator::HostC => "c",
            CodeGenerator::Auto => "auto",
        }
    }

    /// Whether lane kernels go to the C compiler: `HostC`, or `Auto` with
    /// a compiler that runs.
    pub fn uses_c(self) -> bool {
        match self {
            CodeGenerator::Cranelift => false,
            CodeGenerator::HostC => true,
            CodeGenerator::Auto => host_cc::compiler_version().is_some(),
        }
    }
}

/// A code generator's name is not one of [`CodeGenerator::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown code generator `{0}`: expected cranelift, c or auto")]
pub struct UnknownCodeGenerator(pub String);

impl std::str::FromStr for CodeGenerator {
    type Err = UnknownCodeGenerator;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cranelift" => Ok(CodeGenerator::Cranelift),
            "c" | "cc" => Ok(CodeGenerator::HostC),
            "auto" => Ok(CodeGenerator::Auto),
            _ => Err(UnknownCodeGenerator(s.to_string())),
        }
    }
}

impl From<cranelift_module::ModuleError> for JitError {
    fn from(e: cranelift_module::ModuleError) -> Self {
        JitError::Module(Box::new(e))
    }
}
