//! The time loop's CPU form: one run from `t0` through the settling time
//! and the output interval, landing exactly on every save time and summary
//! sample time.

use std::cell::Cell;

use std::sync::Arc;

use crate::backend::cpu::SummariesCpu;
use crate::backend::cpu::SystemCall;
use crate::backend::cpu::controller::ControllerCpu;
use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::jit::NativeSystem;
use crate::backend::cpu::step::{CpuStep, StepIo};
use crate::backend::cpu::step_controller::StepDecision;
use crate::drivers::DriverInterpolant;
use crate::memory::{CpuAllocator, RunArena};
use crate::time_loop::events::{self, EventCursor, EventTimes};
use crate::time_loop::{LoopSettings, Status};

/// One run's inputs and output slices.
#[derive(Debug)]
pub struct RunSlot<'a, T> {
    /// Initial values (`n_states`).
    pub initial_values: &'a [T],
    /// Parameters (`n_parameters`).
    pub parameters: &'a [T],
    /// Receives the final state (`n_states`).
    pub final_state: &'a mut [T],
    /// Receives the saved states (`n_saves * n_saved_states`), or empty.
    pub saved_states: &'a mut [T],
    /// Receives the saved observables (`n_saves * n_saved_observables`),
    /// or empty.
    pub saved_observables: &'a mut [T],
    /// Receives the summary windows (`n_windows * row_len`), or empty.
    pub summaries: &'a mut [T],
    /// Receives the status word.
    pub status: &'a mut i32,
    /// Receives the counters (see [`COUNTER_LABELS`](crate::time_loop::COUNTER_LABELS)).
    pub counters: &'a mut [i64],
}

/// The loop's CPU form.
#[derive(Debug)]
pub struct LoopCpu<T: JitReal> {
    pub(crate) settings: LoopSettings,
    pub(crate) events: EventTimes,
    pub(crate) state: CpuAllocator<T>,
    pub(crate) proposed: CpuAllocator<T>,
    pub(crate) error: CpuAllocator<T>,
    pub(crate) parameters: CpuAllocator<T>,
    pub(crate) drivers: CpuAllocator<T>,
    pub(crate) driver_rates: CpuAllocator<T>,
    pub(crate) interpolant: Arc<DriverInterpolant<T>>,
    pub(crate) observables: CpuAllocator<T>,
    /// The step size the controller proposes next.
    pub(crate) dt: CpuAllocator<T>,
    /// 1 after an accepted attempt, 0 after a rejected one (and at the
    /// start): a step whose first stage is cached may reuse it only then.
    pub(crate) accept: CpuAllocator<i64>,
    /// The run's counters, in the order of
    /// [`COUNTER_LABELS`](crate::time_loop::COUNTER_LABELS).
    pub(crate) counters: CpuAllocator<i64>,
    pub(crate) step: Box<dyn CpuStep<T>>,
    pub(crate) controller: ControllerCpu<T>,
    pub(crate) outputs: LoopOutputs<T>,
}

/// What the loop records at save times and summary sample times.
#[derive(Debug)]
pub(crate) struct LoopOutputs<T: JitReal> {
    /// Indices of the saved states (empty: no state series).
    pub saved_states: Vec<usize>,
    /// Indices of the saved observables (empty: no observable series).
    pub saved_observables: Vec<usize>,
    /// The summaries, when any metric is chosen.
    pub summaries: Option<SummariesCpu<T>>,
    /// Whether the summaries read observables.
    pub summarises_observables: bool,
}

fn load<T: Copy>(to: &[Cell<T>], from: &[T]) {
    for (c, v) in to.iter().zip(from) {
        c.set(*v);
    }
}

fn all_finite<T: JitReal>(values: &[Cell<T>]) -> bool {
    values.iter().all(|v| v.get().is_finite())
}

fn store<T: Copy>(to: &mut [T], from: &[Cell<T>]) {
    for (v, c) in to.iter_mut().zip(from) {
        *v = c.get();
    }
}

impl<T: JitReal> LoopCpu<T> {
    /// Integrates one run.
    pub fn run(&self, system: &NativeSystem<T>, arena: &mut RunArena<T>, mut slot: RunSlot<'_, T>) {
        arena.reset();
        let arena = &*arena;
        let state = self.state.view(arena);
        let proposed = self.proposed.view(arena);
        let error = self.error.view(arena);
        let parameters = self.parameters.view(arena);
        let drivers = self.drivers.view(arena);
        load(state, slot.initial_values);
        load(parameters, slot.parameters);
        let sys = SystemCall {
            system,
            parameters,
            drivers,
            driver_rates: self.driver_rates.view(arena),
            interpolant: &self.interpolant,
        };

        let s = &self.settings;
        let t_start = s.t0 + s.settling_time;
        let t_end = t_start + s.duration;
        let mut status = Status::SUCCESS;
        let counters = self.counters.integers(arena);
        let count = |i: usize, n: i64| counters[i].set(counters[i].get() + n);
        let accept = &self.accept.integers(arena)[0];
        let dt = &self.dt.view(arena)[0];
        let mut t = s.t0;
        // Constant drivers are loaded once; time-varying ones at every call.
        self.interpolant.evaluate(t, drivers);
        let (initial_dt, evaluations) = self.controller.initial_dt(&sys, arena, t, state);
        dt.set(initial_dt);
        count(2, evaluations as i64);
        let mut steps: u64 = 0;
        let caches_first_stage = self.step.caches_first_stage();
        // A rejected attempt met a non-finite value: if the run then stops
        // (step too small, max steps, a failed solve), the flag says so, as
        // steps that creep up on a singularity may still be accepted.
        let mut non_finite_pending = false;

        let mut cursor = EventCursor::default();
        if s.settling_time == 0.0 {
            self.record(&sys, arena, t, &mut cursor, &mut slot);
        }

        while t < t_end {
            if steps >= s.max_steps {
                status.insert(Status::MAX_STEPS);
                if non_finite_pending {
                    status.insert(Status::NON_FINITE_STATE);
                }
                break;
            }
            // The next time the loop must land on exactly.
            let event = events::target(t, t_start, t_end, self.events.next(&cursor));
            let controller_dt = dt.get().to_f64();
            let events::Attempt { dt: step_dt, lands } = events::attempt(t, event, controller_dt);
            if !lands && t + step_dt == t {
                // The step no longer moves time forward.
                status.insert(Status::STEP_TOO_SMALL);
                break;
            }
            let io = StepIo {
                t,
                dt: T::from_f64(step_dt),
                state,
                proposed,
                error,
                first_stage_cached: caches_first_stage && accept.get() == 1,
            };
            let report = self.step.step(&sys, arena, &io);
            steps += 1;
            count(2, report.evaluations as i64);

            let non_finite = report.status.contains(Status::NON_FINITE_STATE)
                || !all_finite(proposed)
                || !all_finite(error);
            let decision = if self.controller.is_adaptive() {
                if non_finite {
                    // A shorter step may stay clear of a singularity ahead,
                    // but none can mend a derivative that is already
                    // non-finite at the state reached: stop there. `error`
                    // is scratch until the next attempt.
                    sys.dxdt(t, state, error);
                    count(2, 1);
                    if !all_finite(error) {
                        count(1, 1);
                        status.insert(Status::NON_FINITE_STATE);
                        status.insert(report.status);
                        break;
                    }
                    non_finite_pending = true;
                }
                let norm = if non_finite {
                    T::infinity()
                } else {
                    self.step.error_norm(&self.controller, arena, &io)
                };
                self.controller
                    .propose_step(norm, T::from_f64(step_dt), arena, &report)
            } else {
                StepDecision::Accept(dt.get())
            };
            match decision {
                StepDecision::Accept(next_dt) => {
                    // A failed solve is only the run's outcome when it is
                    // not retried (an adaptive controller rejects it).
                    status.insert(report.status);
                    if non_finite || (non_finite_pending && !status.is_success()) {
                        status.insert(Status::NON_FINITE_STATE);
                    }
                    if !status.is_success() {
                        // A fixed-step solve cannot retry: the run stops at
                        // the last state it reached.
                        break;
                    }
                    count(0, 1);
                    for (y, p) in state.iter().zip(proposed) {
                        y.set(p.get());
                    }
                    t = if lands { event } else { t + step_dt };
                    accept.set(1);
                    // A step shortened to land on an event says nothing
                    // about the step size the solution allows.
                    dt.set(if lands && next_dt.to_f64() < controller_dt {
                        T::from_f64(controller_dt)
                    } else {
                        next_dt
                    });
                    if lands && t >= t_start {
                        self.record(&sys, arena, t, &mut cursor, &mut slot);
                    }
                }
                StepDecision::Reject(retry_dt) => {
                    count(1, 1);
                    accept.set(0);
                    dt.set(retry_dt);
                }
                StepDecision::TooSmall => {
                    count(1, 1);
                    status.insert(Status::STEP_TOO_SMALL);
                    status.insert(report.status);
                    if non_finite_pending {
                        status.insert(Status::NON_FINITE_STATE);
                    }
                    break;
                }
            }
        }
        if !status.is_success() {
            self.fill_unreached(&cursor, &mut slot);
        }
        // The final state is the last state reached, failed or not.
        store(slot.final_state, state);
        *slot.status = status.0;
        for (out, c) in slot.counters.iter_mut().zip(counters) {
            *out = c.get();
        }
    }

    /// Writes NaN into every output a failed run never reached: the saves
    /// from `cursor.saves` on and the summary windows not completed (the
    /// window the failure cut short included), so that no zero passes for
    /// a value.
    fn fill_unreached(&self, cursor: &EventCursor, slot: &mut RunSlot<'_, T>) {
        let out = &self.outputs;
        let nan = T::from_f64(f64::NAN);
        let states = (cursor.saves * out.saved_states.len()).min(slot.saved_states.len());
        slot.saved_states[states..].fill(nan);
        let observables =
            (cursor.saves * out.saved_observables.len()).min(slot.saved_observables.len());
        slot.saved_observables[observables..].fill(nan);
        if let Some(summaries) = &out.summaries {
            let per_window = summaries.samples_per_window().max(1);
            let done = cursor.samples / per_window;
            let from = (done * summaries.row_len()).min(slot.summaries.len());
            slot.summaries[from..].fill(nan);
        }
    }

    /// Saves and samples whatever falls due at `t` (the loop has landed
    /// exactly on it).
    fn record(
        &self,
        sys: &SystemCall<'_, T>,
        arena: &RunArena<T>,
        t: f64,
        cursor: &mut EventCursor,
        slot: &mut RunSlot<'_, T>,
    ) {
        let out = &self.outputs;
        let state = self.state.view(arena);
        let observables = self.observables.view(arena);
        let due = self.events.due(cursor, t);
        let (save_due, sample_due) = (due.save, due.sample);
        let need_observables = (save_due && !out.saved_observables.is_empty())
            || (sample_due && out.summarises_observables);
        if need_observables {
            sys.observables(t, state, observables);
        }
        if save_due {
            let k = cursor.saves;
            let ns = out.saved_states.len();
            for (v, &i) in slot.saved_states[k * ns..(k + 1) * ns]
                .iter_mut()
                .zip(&out.saved_states)
            {
                *v = state[i].get();
            }
            let no = out.saved_observables.len();
            for (v, &i) in slot.saved_observables[k * no..(k + 1) * no]
                .iter_mut()
                .zip(&out.saved_observables)
            {
                *v = observables[i].get();
            }
        }
        if sample_due && let Some(summaries) = &out.summaries {
            summaries.sample(arena, cursor.samples, t, state, observables, slot.summaries);
        }
        cursor.advance(due);
    }
}
