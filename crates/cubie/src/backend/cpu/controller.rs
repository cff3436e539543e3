//! The controller's CPU form: the numeric controller plus its buffers.

use std::cell::Cell;

use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::step::StepReport;
use crate::backend::cpu::step_controller::{StepController, StepDecision};
use crate::backend::cpu::{CpuForm, SystemCall};
use crate::controllers::{ControllerComponent, ControllerError};
use crate::memory::{BufferRegistry, CpuAllocator, RunArena};
use crate::time_loop::Status;

impl CpuForm for ControllerComponent {
    type Form<T: JitReal> = ControllerCpu<T>;
    type Error = ControllerError;

    /// The CPU form in precision `T`.
    fn cpu<T: JitReal>(
        &self,
        registry: &BufferRegistry,
    ) -> Result<ControllerCpu<T>, ControllerError> {
        Ok(ControllerCpu {
            inner: StepController::new(&self.settings, self.n_states)?,
            memory: registry.cpu_allocator(self.id, "timestep_memory")?,
            scratch: registry.cpu_allocator(self.id, "initial_step_scratch")?,
        })
    }
}

/// The controller's CPU form: the numeric controller plus its buffers.
#[derive(Debug, Clone)]
pub struct ControllerCpu<T: JitReal> {
    inner: StepController<T>,
    memory: CpuAllocator<T>,
    scratch: CpuAllocator<T>,
}

impl<T: JitReal> ControllerCpu<T> {
    /// Whether steps are accepted or rejected on an error estimate.
    pub fn is_adaptive(&self) -> bool {
        self.inner.is_adaptive()
    }

    /// The first step (the given one, or chosen from the derivative at
    /// the start) and the derivative evaluations that took.
    pub fn initial_dt(
        &self,
        sys: &SystemCall<'_, T>,
        arena: &RunArena<T>,
        t: f64,
        state: &[Cell<T>],
    ) -> (T, u32) {
        let evaluations = Cell::new(0);
        let dt = self.inner.initial_dt(
            |t, y, out| {
                evaluations.set(evaluations.get() + 1);
                sys.dxdt(t.to_f64(), y, out);
            },
            T::from_f64(t),
            state,
            self.scratch.view(arena),
        );
        (dt, evaluations.get())
    }

    /// The scaled RMS norm of an error estimate.
    #[inline]
    pub fn error_norm(&self, error: &[Cell<T>], previous: &[Cell<T>], proposed: &[Cell<T>]) -> T {
        self.inner.error_norm(error, previous, proposed)
    }

    /// [`propose`](Self::propose) with the Newton iterations the step
    /// took, which Gustafsson's controller uses to shorten the next step
    /// when Newton struggles (the other kinds ignore them).
    pub fn propose_step(
        &self,
        norm: T,
        dt: T,
        arena: &RunArena<T>,
        report: &StepReport,
    ) -> StepDecision<T> {
        let norm = if report.status.is_success() {
            norm
        } else {
            T::infinity()
        };
        self.inner
            .propose_with_newton(norm, dt, report.newton_iterations, self.memory.view(arena))
    }

    /// Accept or reject a step of size `dt` with error norm `norm`. A step
    /// whose solver failed is rejected as if its error were infinite.
    pub fn propose(
        &self,
        norm: T,
        dt: T,
        arena: &RunArena<T>,
        step_status: Status,
    ) -> StepDecision<T> {
        let norm = if step_status.is_success() {
            norm
        } else {
            T::infinity()
        };
        self.inner.propose(norm, dt, self.memory.view(arena))
    }
}
