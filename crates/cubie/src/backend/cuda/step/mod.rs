//! The steps as CUDA C: each family emits `cubie_step` (one attempt from
//! `t` to `t + dt`) and `cubie_step_error_norm`, with the calling
//! convention the loop emits calls to.

mod erk;

use crate::memory::BufferRegistry;
use crate::step::StepComponent;

use super::CudaError;
use super::source::{CReal, CudaSource};

/// What the loop needs to know of the emitted step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepTraits {
    /// An accepted step leaves the next step's first stage cached.
    pub caches_first_stage: bool,
}

/// The C struct every step returns.
/// `secondary_norm` carries DOP853's second error norm out of the step:
/// its estimate lives in a local array of `cubie_step`, gone once the
/// step returns.
pub const STEP_REPORT: &str = "struct cubie_step_report {\n    int status;\n    int evaluations;\n    int newton_iterations;\n    real secondary_norm;\n};";

/// Emits the step's device functions.
pub fn emit(
    step: &StepComponent,
    registry: &BufferRegistry,
    real: CReal,
) -> Result<(CudaSource, StepTraits), CudaError> {
    match step {
        StepComponent::Erk(erk) => erk::emit(erk, registry, real),
        StepComponent::Dirk(_) => Err(CudaError::Unsupported(
            "diagonally implicit (DIRK) steps".into(),
        )),
        StepComponent::Firk(_) => Err(CudaError::Unsupported("fully implicit (FIRK) steps".into())),
        StepComponent::Rosenbrock(_) => Err(CudaError::Unsupported("Rosenbrock steps".into())),
    }
}
