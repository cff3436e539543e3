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

use crate::backend::cpu::controller::ControllerCpu;
use crate::backend::cpu::jit::{CodeGenerator, JitReal};
use crate::backend::cpu::{CpuForm, SystemCall};
use crate::memory::{BufferRegistry, LaneBuf, LaneMask, PerLane, RunArena};
use crate::step::{StepComponent, StepError};
use crate::system::SystemFunctions;
use crate::time_loop::Status;

/// The arrays a step reads and writes, owned by the loop: one lane block.
#[derive(Debug)]
pub struct StepIo<'a, T: JitReal> {
    /// Each lane's time at the start of the step.
    pub t: &'a PerLane<f64>,
    /// Each lane's step size.
    pub dt: &'a PerLane<T>,
    /// State at `t` (read only).
    pub state: LaneBuf<'a, T>,
    /// Receives the state at `t + dt`.
    pub proposed: LaneBuf<'a, T>,
    /// Receives the local error estimate (empty for a fixed-step method).
    pub error: LaneBuf<'a, T>,
    /// The lanes whose previous step was accepted and left `f(t, state)`
    /// in the step's first-same-as-last cache.
    pub first_stage_cached: LaneMask,
    /// The lanes that take this step; the others have finished, and what
    /// the step leaves in their lanes is never read.
    pub active: LaneMask,
}

/// What one step attempt did in one lane.
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

/// A step's CPU form: one attempt from `t` to `t + dt` in every active
/// lane of a block.
///
/// Lane `l` computes exactly what a block of one lane computes for the
/// same run: every operation is per lane, and a lane whose attempt ends
/// early (a failed solve) sees no further writes to `proposed`, `error`
/// or any buffer read after the step, as if it had returned.
pub trait CpuStep<T: JitReal>: Send + Sync + std::fmt::Debug {
    /// Takes one step in every lane of `io.active`; writes `proposed`,
    /// `error` and, for each active lane `l`, `reports[l]`.
    fn step(
        &self,
        sys: &SystemCall<'_, T>,
        arena: &RunArena<T>,
        io: &StepIo<'_, T>,
        reports: &mut PerLane<StepReport>,
    );

    /// The step's error as one number per lane of `mask`: the
    /// controller's scaled norm of `io.error` (DOP853 combines it with
    /// its second estimate).
    fn error_norm(
        &self,
        controller: &ControllerCpu<T>,
        _arena: &RunArena<T>,
        io: &StepIo<'_, T>,
        mask: LaneMask,
    ) -> PerLane<T> {
        controller.error_norms(io.error, io.state, io.proposed, mask)
    }

    /// True when an accepted step leaves the next step's first stage cached.
    fn caches_first_stage(&self) -> bool {
        false
    }

    /// Steps every lane of the block from `times[k]` by the same `dt`
    /// (`dt64` in `f64`, the step the times advance by), copying each
    /// step into `state` while all of it is finite: the steps a loop of
    /// single [`step`](Self::step)s would take with a fixed controller,
    /// bit for bit, and no more. Returns the steps taken and the
    /// derivative evaluations each took; `None` when the form has no such
    /// path (the caller then takes single steps).
    #[allow(clippy::too_many_arguments)]
    fn fixed_steps(
        &self,
        _sys: &SystemCall<'_, T>,
        _times: &[f64],
        _dt: T,
        _dt64: f64,
        _state: LaneBuf<'_, T>,
        _proposed: LaneBuf<'_, T>,
    ) -> Option<(usize, u32)> {
        None
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
/// [`ErkCpu::fused`]), compiled for blocks of `lanes` lanes, so resolve
/// it before the tree's other buffers; `generator` compiles its lane
/// code.
pub fn step_form<T: JitReal>(
    step: &StepComponent,
    registry: &mut BufferRegistry,
    functions: Option<&SystemFunctions>,
    lanes: usize,
    generator: CodeGenerator,
) -> Result<Box<dyn CpuStep<T>>, StepError> {
    match (step, functions) {
        (StepComponent::Erk(s), Some(f)) => Ok(Box::new(ErkCpu::<T>::fused(
            s, registry, f, lanes, generator,
        )?)),
        _ => step.cpu::<T>(registry),
    }
}
