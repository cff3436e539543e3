//! The steps' CPU forms: what each provides to the time loop, and one
//! form per algorithm family.

mod dirk;
mod erk;
mod firk;
mod implicit;
mod rosenbrock;

pub use dirk::DirkCpu;
pub use erk::ErkCpu;
pub use firk::FirkCpu;
pub use rosenbrock::RosenbrockCpu;

use std::cell::Cell;

use crate::backend::cpu::controller::ControllerCpu;
use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::{CpuForm, SystemCall};
use crate::memory::{BufferRegistry, RunArena};
use crate::step::{StepComponent, StepError};
use crate::system::SystemFunctions;
use crate::time_loop::Status;

/// The arrays a step reads and writes, owned by the loop.
#[derive(Debug)]
pub struct StepIo<'a, T: JitReal> {
    /// Time at the start of the step.
    pub t: f64,
    /// Step size.
    pub dt: T,
    /// State at `t` (read only).
    pub state: &'a [Cell<T>],
    /// Receives the state at `t + dt`.
    pub proposed: &'a [Cell<T>],
    /// Receives the local error estimate (empty for a fixed-step method).
    pub error: &'a [Cell<T>],
    /// True when the previous step was accepted and left `f(t, state)` in
    /// the step's first-same-as-last cache.
    pub first_stage_cached: bool,
}

/// What one step attempt did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepReport {
    /// Solver flags raised (Newton or linear-solver limits); success if none.
    pub status: Status,
    /// Derivative evaluations made.
    pub evaluations: u32,
    /// Most Newton iterations any solve of the step took (0 for steps
    /// without Newton); Gustafsson's controller shortens the next step
    /// when Newton struggles.
    pub newton_iterations: u32,
}

/// A step's CPU form: one attempt from `t` to `t + dt`.
pub trait CpuStep<T: JitReal>: Send + Sync + std::fmt::Debug {
    /// Takes one step; writes `proposed` and `error`.
    fn step(&self, sys: &SystemCall<'_, T>, arena: &RunArena<T>, io: &StepIo<'_, T>) -> StepReport;

    /// The step's error as one number: the controller's scaled norm of
    /// `io.error` (DOP853 combines it with its second estimate).
    fn error_norm(
        &self,
        controller: &ControllerCpu<T>,
        _arena: &RunArena<T>,
        io: &StepIo<'_, T>,
    ) -> T {
        controller.error_norm(io.error, io.state, io.proposed)
    }

    /// True when an accepted step leaves the next step's first stage cached.
    fn caches_first_stage(&self) -> bool {
        false
    }
}

impl CpuForm for StepComponent {
    type Form<T: JitReal> = Box<dyn CpuStep<T>>;
    type Error = StepError;

    /// The generic CPU form of the step, whatever its family.
    fn cpu<T: JitReal>(&self, registry: &BufferRegistry) -> Result<Self::Form<T>, StepError> {
        Ok(match self {
            StepComponent::Erk(s) => Box::new(s.cpu::<T>(registry)?),
            StepComponent::Dirk(s) => Box::new(s.cpu::<T>(registry)?),
            StepComponent::Firk(s) => Box::new(s.cpu::<T>(registry)?),
            StepComponent::Rosenbrock(s) => Box::new(s.cpu::<T>(registry)?),
        })
    }
}

/// The CPU form of `step`; with `functions`, an ERK step takes its fused
/// native form and releases the buffers that form does not use (see
/// [`ErkCpu::fused`]), so resolve it before the tree's other buffers.
pub fn step_form<T: JitReal>(
    step: &StepComponent,
    registry: &mut BufferRegistry,
    functions: Option<&SystemFunctions>,
) -> Result<Box<dyn CpuStep<T>>, StepError> {
    match (step, functions) {
        (StepComponent::Erk(s), Some(f)) => Ok(Box::new(ErkCpu::<T>::fused(s, registry, f)?)),
        _ => step.cpu::<T>(registry),
    }
}
