//! The controller's CPU form: the numeric controller plus its buffers.

use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::step::StepReport;
use crate::backend::cpu::step_controller::{StepController, StepDecision};
use crate::backend::cpu::{CpuForm, SystemCall};
use crate::controllers::{ControllerComponent, ControllerError};
use crate::memory::{
    BufferRegistry, CpuAllocator, LaneBuf, LaneMask, MAX_LANES, PerLane, RunArena,
};

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

    /// Each lane's first step (the given one, or chosen from the
    /// derivative at the start) and the derivative evaluations that took,
    /// for the lanes of `mask`.
    pub fn initial_dt(
        &self,
        sys: &SystemCall<'_, T>,
        arena: &RunArena<T>,
        t: &PerLane<f64>,
        state: LaneBuf<'_, T>,
        mask: LaneMask,
    ) -> (PerLane<T>, PerLane<u32>) {
        let mut evaluations = [0u32; MAX_LANES];
        let mut t0 = [T::zero(); MAX_LANES];
        for l in mask.lanes() {
            t0[l] = T::from_f64(t[l]);
        }
        let dt = self.inner.initial_dts(
            |t, y, out, lanes| {
                let mut at = [0.0; MAX_LANES];
                for l in lanes.lanes() {
                    evaluations[l] += 1;
                    at[l] = t[l].to_f64();
                }
                sys.dxdt(&at, y, out, lanes);
            },
            &t0,
            state,
            self.scratch.view(arena),
            mask,
        );
        (dt, evaluations)
    }

    /// The scaled RMS norm of an error estimate in every lane (those
    /// outside `mask` are computed too, and meaningless).
    #[inline]
    pub fn error_norms(
        &self,
        error: LaneBuf<'_, T>,
        previous: LaneBuf<'_, T>,
        proposed: LaneBuf<'_, T>,
        _mask: LaneMask,
    ) -> PerLane<T> {
        self.inner.error_norms(error, previous, proposed)
    }

    /// Accepts or rejects the step of every lane of `mask` (sizes `dts`,
    /// error norms `norms`) given the step's reports: a step whose solver
    /// failed is rejected as if its error were infinite, and Gustafsson's
    /// controller shortens the next step when Newton struggles (the other
    /// kinds ignore the iterations).
    pub fn propose_steps(
        &self,
        norms: &PerLane<T>,
        dts: &PerLane<T>,
        arena: &RunArena<T>,
        reports: &PerLane<StepReport>,
        mask: LaneMask,
    ) -> PerLane<StepDecision<T>> {
        let mut norms = *norms;
        let mut iters = [0; MAX_LANES];
        for l in mask.lanes() {
            if !reports[l].status.is_success() {
                norms[l] = T::infinity();
            }
            iters[l] = reports[l].newton_iterations;
        }
        self.inner
            .propose_lanes(&norms, dts, Some(&iters), self.memory.view(arena), mask)
    }
}
