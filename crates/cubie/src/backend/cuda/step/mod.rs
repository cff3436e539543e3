//! The steps as CUDA C: each family emits `cubie_step` (one attempt from
//! `t` to `t + dt`) and `cubie_step_error_norm`, with the calling
//! convention the loop emits calls to.

mod dirk;
mod erk;
mod firk;
mod implicit;
mod rosenbrock;

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

/// `cubie_step`'s signature, for the families written against `real`.
pub(super) const STEP_SIGNATURE: &str = "__device__ __forceinline__ cubie_step_report cubie_step(double t, real dt, \
const real* state, real* proposed, real* error, const real* parameters, real* drivers, \
real* driver_rates, bool first_stage_cached, real* shared, real* persistent)";

/// Emits the step's device functions. `n_error` is the length of the
/// loop's error buffer (zero when the controller reads no estimate).
pub fn emit(
    step: &StepComponent,
    registry: &BufferRegistry,
    real: CReal,
    n_error: usize,
) -> Result<(CudaSource, StepTraits), CudaError> {
    match step {
        StepComponent::Erk(erk) => erk::emit(erk, registry, real),
        StepComponent::Dirk(dirk) => dirk::emit(dirk, registry, real, n_error),
        StepComponent::Firk(firk) => firk::emit(firk, registry, real, n_error),
        StepComponent::Rosenbrock(ros) => rosenbrock::emit(ros, registry, real, n_error),
    }
}
