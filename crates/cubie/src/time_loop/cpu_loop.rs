//! The time loop's CPU form: one run from `t0` through the settling time
//! and the output interval, saving on exact save times.

use std::cell::Cell;

use crate::controllers::{ControllerCpu, StepDecision};
use crate::memory::{CpuAllocator, RunArena};
use crate::step::{CpuStep, StepIo, SystemCall};
use crate::system::jit::{JitReal, NativeSystem};

use super::{LoopSettings, Status};

/// Counters kept per run, in `.npz` order.
pub const COUNTER_LABELS: [&str; 3] = ["accepted_steps", "rejected_steps", "dxdt_evaluations"];

/// One run's inputs and output slices.
#[derive(Debug)]
pub struct RunSlot<'a, T> {
    /// Initial values (`n_states`).
    pub initial_values: &'a [T],
    /// Parameters (`n_parameters`).
    pub parameters: &'a [T],
    /// Receives the final state (`n_states`).
    pub final_state: &'a mut [T],
    /// Receives the saved states (`n_saves * n_states`), or empty.
    pub saved_states: &'a mut [T],
    /// Receives the status word.
    pub status: &'a mut i32,
    /// Receives the counters (see [`COUNTER_LABELS`]).
    pub counters: &'a mut [i64],
}

/// The loop's CPU form.
#[derive(Debug)]
pub struct LoopCpu<T: JitReal> {
    pub(crate) settings: LoopSettings,
    pub(crate) save_times: Vec<f64>,
    pub(crate) state: CpuAllocator<T>,
    pub(crate) proposed: CpuAllocator<T>,
    pub(crate) error: CpuAllocator<T>,
    pub(crate) parameters: CpuAllocator<T>,
    pub(crate) drivers: CpuAllocator<T>,
    pub(crate) driver_defaults: Vec<T>,
    pub(crate) step: Box<dyn CpuStep<T>>,
    pub(crate) controller: ControllerCpu<T>,
}

fn load<T: Copy>(to: &[Cell<T>], from: &[T]) {
    for (c, v) in to.iter().zip(from) {
        c.set(*v);
    }
}

fn store<T: Copy>(to: &mut [T], from: &[Cell<T>]) {
    for (v, c) in to.iter_mut().zip(from) {
        *v = c.get();
    }
}

/// Relative tolerance for landing on an event time: a step that would end
/// this close to it is stretched to end exactly on it, so accumulated
/// rounding never leaves a sliver step.
const SNAP: f64 = 1e-10;

impl<T: JitReal> LoopCpu<T> {
    /// Integrates one run.
    pub fn run(&self, system: &NativeSystem<T>, arena: &mut RunArena<T>, slot: RunSlot<'_, T>) {
        arena.reset();
        let arena = &*arena;
        let state = self.state.view(arena);
        let proposed = self.proposed.view(arena);
        let error = self.error.view(arena);
        let parameters = self.parameters.view(arena);
        let drivers = self.drivers.view(arena);
        load(state, slot.initial_values);
        load(parameters, slot.parameters);
        load(drivers, &self.driver_defaults);
        let sys = SystemCall {
            system,
            parameters,
            drivers,
        };

        let s = &self.settings;
        let n_states = state.len();
        let t_start = s.t0 + s.settling_time;
        let t_end = t_start + s.duration;
        let mut status = Status::SUCCESS;
        let mut counters = [0i64; 3];
        let mut t = s.t0;
        let (mut dt, evaluations) = self.controller.initial_dt(&sys, arena, t, state);
        counters[2] += evaluations as i64;
        let mut next_save = 0usize;
        let mut steps: u64 = 0;
        let mut cached = false;

        let save_time = |k: usize| self.save_times[k];
        let mut save = |k: usize, values: &[Cell<T>]| {
            if !slot.saved_states.is_empty() {
                store(
                    &mut slot.saved_states[k * n_states..(k + 1) * n_states],
                    values,
                );
            }
        };
        if s.settling_time == 0.0 && next_save < self.save_times.len() {
            save(0, state);
            next_save = 1;
        }

        while t < t_end {
            if steps >= s.max_steps {
                status.insert(Status::MAX_STEPS);
                break;
            }
            // The next time the loop must land on exactly.
            let settle_end = if t < t_start { t_start } else { t_end };
            let event = if next_save < self.save_times.len() {
                save_time(next_save).min(settle_end)
            } else {
                settle_end
            };
            let controller_dt = dt.to_f64();
            let remaining = event - t;
            let (step_dt, lands) = if controller_dt >= remaining * (1.0 - SNAP) {
                (remaining, true)
            } else {
                (controller_dt, false)
            };
            let io = StepIo {
                t,
                dt: T::from_f64(step_dt),
                state,
                proposed,
                error,
                first_stage_cached: cached,
            };
            let report = self.step.step(&sys, arena, &io);
            steps += 1;
            counters[2] += report.evaluations as i64;

            let decision = if self.controller.is_adaptive() {
                let norm = self.controller.error_norm(error, state, proposed);
                let norm = match self.step.secondary_error(arena) {
                    Some(e3) => crate::step::dop853_combined_error(
                        norm,
                        self.controller.error_norm(e3, state, proposed),
                    ),
                    None => norm,
                };
                self.controller
                    .propose_step(norm, T::from_f64(step_dt), arena, &report)
            } else {
                StepDecision::Accept(dt)
            };
            match decision {
                StepDecision::Accept(next_dt) => {
                    // A failed solve is only the run's outcome when it is
                    // not retried (an adaptive controller rejects it).
                    status.insert(report.status);
                    if proposed.iter().any(|x| !x.get().is_finite()) {
                        status.insert(Status::NON_FINITE_STATE);
                        break;
                    }
                    counters[0] += 1;
                    for (y, p) in state.iter().zip(proposed) {
                        y.set(p.get());
                    }
                    t = if lands { event } else { t + step_dt };
                    cached = self.step.caches_first_stage();
                    // A step shortened to land on an event says nothing
                    // about the step size the solution allows.
                    dt = if lands && next_dt.to_f64() < controller_dt {
                        T::from_f64(controller_dt)
                    } else {
                        next_dt
                    };
                    if lands
                        && t >= t_start
                        && next_save < self.save_times.len()
                        && t == save_time(next_save)
                    {
                        save(next_save, state);
                        next_save += 1;
                    }
                    if !report.status.is_success() && !self.controller.is_adaptive() {
                        // A fixed-step solve cannot retry a failed solve.
                        break;
                    }
                }
                StepDecision::Reject(retry_dt) => {
                    counters[1] += 1;
                    cached = false;
                    dt = retry_dt;
                }
                StepDecision::TooSmall => {
                    counters[1] += 1;
                    status.insert(Status::STEP_TOO_SMALL);
                    status.insert(report.status);
                    break;
                }
            }
        }
        store(slot.final_state, state);
        *slot.status = status.0;
        slot.counters
            .copy_from_slice(&counters[..slot.counters.len()]);
    }
}
