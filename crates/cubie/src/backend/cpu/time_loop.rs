//! The time loop's CPU form: one lane block of runs from `t0` through the
//! settling time and the output interval, each lane landing exactly on
//! every save time and summary sample time.

use std::sync::Arc;

use crate::backend::cpu::SummariesCpu;
use crate::backend::cpu::SystemCall;
use crate::backend::cpu::controller::ControllerCpu;
use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::jit::NativeSystem;
use crate::backend::cpu::step::{CpuStep, StepIo, StepReport};
use crate::backend::cpu::step_controller::StepDecision;
use crate::drivers::DriverInterpolant;
use crate::memory::{CpuAllocator, LaneBuf, LaneMask, MAX_LANES, PerLane, RunArena};
use crate::time_loop::events::{self, EventCursor, EventTimes};
use crate::time_loop::{LoopSettings, Status};

/// One lane block's inputs and output slices: `runs` consecutive runs
/// (at most the block's lanes; the last block of a batch may hold
/// fewer), each run's part of every array contiguous, runs one after
/// another.
#[derive(Debug)]
pub struct BlockSlot<'a, T> {
    /// Runs in the block (lanes `0..runs`; any further lanes idle).
    pub runs: usize,
    /// Initial values (`runs * n_states`).
    pub initial_values: &'a [T],
    /// Parameters (`runs * n_parameters`).
    pub parameters: &'a [T],
    /// Receives the final states (`runs * n_states`).
    pub final_state: &'a mut [T],
    /// Receives the saved states (`runs * n_saves * n_saved_states`), or
    /// empty.
    pub saved_states: &'a mut [T],
    /// Receives the saved observables (`runs * n_saves *
    /// n_saved_observables`), or empty.
    pub saved_observables: &'a mut [T],
    /// Receives the summary windows (`runs * n_windows * row_len`), or
    /// empty.
    pub summaries: &'a mut [T],
    /// Receives the status words (`runs`).
    pub status: &'a mut [i32],
    /// Receives the counters (`runs * COUNTER_LABELS.len()`, see
    /// [`COUNTER_LABELS`](crate::time_loop::COUNTER_LABELS)).
    pub counters: &'a mut [i64],
}

/// Most fixed steps taken in one call of the fixed-step path.
const FIXED_RUN: usize = 256;

/// Whether every lane of a block stands at the same time, step count,
/// events and step size.
fn in_lockstep<T: JitReal>(lanes: &[LaneState], dt: LaneBuf<'_, T>) -> bool {
    let (first, dt0) = (&lanes[0], dt.get(0, 0));
    lanes.iter().enumerate().all(|(l, lane)| {
        lane.t == first.t
            && lane.steps == first.steps
            && lane.cursor == first.cursor
            && dt.get(0, l) == dt0
    })
}

/// Run `run`'s part of `values`, which holds `runs` equal parts.
fn part<T>(values: &mut [T], runs: usize, run: usize) -> &mut [T] {
    let len = values.len() / runs.max(1);
    &mut values[run * len..(run + 1) * len]
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

/// Where one lane stands.
#[derive(Debug, Clone, Copy, Default)]
struct LaneState {
    t: f64,
    status: Status,
    steps: u64,
    /// A rejected attempt met a non-finite value: if the run then stops
    /// (step too small, max steps, a failed solve), the flag says so, as
    /// steps that creep up on a singularity may still be accepted.
    non_finite_pending: bool,
    cursor: EventCursor,
}

impl<T: JitReal> LoopCpu<T> {
    /// Integrates the runs of one lane block in lock-step: every lane
    /// with its own time, step size, status and counters, as the threads
    /// of a warp. A lane that finishes or fails idles until the others
    /// are done; it never changes them.
    pub fn run(
        &self,
        system: &NativeSystem<T>,
        arena: &mut RunArena<T>,
        mut slot: BlockSlot<'_, T>,
    ) {
        arena.reset();
        let arena = &*arena;
        let w = arena.lanes();
        let runs = slot.runs.min(w);
        let state = self.state.view(arena);
        let proposed = self.proposed.view(arena);
        let error = self.error.view(arena);
        let parameters = self.parameters.view(arena);
        let drivers = self.drivers.view(arena);
        let (n, np) = (state.len(), parameters.len());
        for r in 0..runs {
            for i in 0..n {
                state.set(i, r, slot.initial_values[r * n + i]);
            }
            for i in 0..np {
                parameters.set(i, r, slot.parameters[r * np + i]);
            }
        }
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
        let counters = self.counters.integers(arena);
        let count = |i: usize, l: usize, n: i64| counters.set(i, l, counters.get(i, l) + n);
        let accept = self.accept.integers(arena);
        let dt = self.dt.view(arena);
        let mut lanes = [LaneState {
            t: s.t0,
            ..LaneState::default()
        }; MAX_LANES];
        let mut t = [s.t0; MAX_LANES];
        let mut active = LaneMask::all(runs);
        // Constant drivers are loaded once; time-varying ones at every call.
        for l in active.lanes() {
            self.interpolant.evaluate(s.t0, &drivers.lane(l));
        }
        let (initial_dt, evaluations) = self.controller.initial_dt(&sys, arena, &t, state, active);
        for l in active.lanes() {
            dt.set(0, l, initial_dt[l]);
            count(2, l, evaluations[l] as i64);
        }
        let caches_first_stage = self.step.caches_first_stage();
        if s.settling_time == 0.0 {
            self.record(&sys, arena, active, &mut lanes, &mut slot);
        }

        let mut step_dt = [T::zero(); MAX_LANES];
        let mut step_dt64 = [0.0; MAX_LANES];
        let mut events = [0.0; MAX_LANES];
        let mut controller_dt = [0.0; MAX_LANES];
        let mut reports = [StepReport::default(); MAX_LANES];
        let mut landing = LaneMask::NONE;
        let fixed = !self.controller.is_adaptive();
        let mut times = [0.0; FIXED_RUN];
        loop {
            // A full fixed-step block whose lanes move together: the steps
            // up to the next event in one call, when the step has the path.
            if fixed && runs == w && active == LaneMask::all(w) && in_lockstep(&lanes[..w], dt) {
                let lane = lanes[0];
                let step_dt = dt.get(0, 0);
                let dt64 = step_dt.to_f64();
                let next_event = self.events.next(&lane.cursor);
                let limit = usize::try_from(s.max_steps.saturating_sub(lane.steps))
                    .unwrap_or(usize::MAX)
                    .min(FIXED_RUN);
                let (mut tk, mut k) = (lane.t, 0);
                while k < limit && tk < t_end {
                    let event = events::target(tk, t_start, t_end, next_event);
                    let attempt = events::attempt(tk, event, dt64);
                    if attempt.lands || tk + attempt.dt == tk {
                        break;
                    }
                    times[k] = tk;
                    tk += attempt.dt;
                    k += 1;
                }
                if k > 0
                    && let Some((done, evaluations)) =
                        self.step
                            .fixed_steps(&sys, &times[..k], step_dt, dt64, state, proposed)
                {
                    if done > 0 {
                        let now = if done == k { tk } else { times[done] };
                        for (l, lane) in lanes.iter_mut().enumerate().take(w) {
                            lane.t = now;
                            lane.steps += done as u64;
                            count(0, l, done as i64);
                            count(2, l, done as i64 * i64::from(evaluations));
                            accept.set(0, l, 1);
                        }
                    }
                    // A non-finite step is taken again below, where its
                    // lanes stop as they would have.
                    if done == k {
                        continue;
                    }
                }
            }
            for l in active.lanes() {
                let lane = &mut lanes[l];
                if lane.t >= t_end {
                    active.remove(l);
                    continue;
                }
                if lane.steps >= s.max_steps {
                    lane.status.insert(Status::MAX_STEPS);
                    if lane.non_finite_pending {
                        lane.status.insert(Status::NON_FINITE_STATE);
                    }
                    active.remove(l);
                    continue;
                }
                // The next time the lane must land on exactly.
                let event = events::target(lane.t, t_start, t_end, self.events.next(&lane.cursor));
                controller_dt[l] = dt.get(0, l).to_f64();
                let events::Attempt { dt: attempt, lands } =
                    events::attempt(lane.t, event, controller_dt[l]);
                if !lands && lane.t + attempt == lane.t {
                    // The step no longer moves time forward.
                    lane.status.insert(Status::STEP_TOO_SMALL);
                    active.remove(l);
                    continue;
                }
                events[l] = event;
                landing.set(l, lands);
                step_dt64[l] = attempt;
                step_dt[l] = T::from_f64(attempt);
                t[l] = lane.t;
            }
            if active.is_empty() {
                break;
            }
            let io = StepIo {
                t: &t,
                dt: &step_dt,
                state,
                proposed,
                error,
                first_stage_cached: if caches_first_stage {
                    LaneMask::from_fn(w, |l| accept.get(0, l) == 1)
                } else {
                    LaneMask::NONE
                },
                active,
            };
            self.step.step(&sys, arena, &io, &mut reports);

            let finite = proposed.finite_lanes(active) & error.finite_lanes(active);
            let mut non_finite = active.without(finite);
            for l in active.lanes() {
                lanes[l].steps += 1;
                count(2, l, reports[l].evaluations as i64);
                if reports[l].status.contains(Status::NON_FINITE_STATE) {
                    non_finite.insert(l);
                }
            }
            let adaptive = self.controller.is_adaptive();
            if adaptive && non_finite.any() {
                // A shorter step may stay clear of a singularity ahead,
                // but none can mend a derivative that is already
                // non-finite at the state reached: stop there. `error` is
                // scratch until the next attempt.
                sys.dxdt(&t, state, error, non_finite);
                let finite = error.finite_lanes(non_finite);
                for l in non_finite.lanes() {
                    count(2, l, 1);
                    let lane = &mut lanes[l];
                    if !finite.contains(l) {
                        count(1, l, 1);
                        lane.status.insert(Status::NON_FINITE_STATE);
                        lane.status.insert(reports[l].status);
                        active.remove(l);
                    } else {
                        lane.non_finite_pending = true;
                    }
                }
            }
            let decisions = if adaptive {
                let mut norms =
                    self.step
                        .error_norm(&self.controller, arena, &io, active.without(non_finite));
                for l in non_finite.lanes() {
                    norms[l] = T::infinity();
                }
                self.controller
                    .propose_steps(&norms, &step_dt, arena, &reports, active)
            } else {
                let mut keep = [StepDecision::TooSmall; MAX_LANES];
                for l in active.lanes() {
                    keep[l] = StepDecision::Accept(dt.get(0, l));
                }
                keep
            };
            let mut recording = LaneMask::NONE;
            let mut accepted = LaneMask::NONE;
            for l in active.lanes() {
                let lane = &mut lanes[l];
                let report = &reports[l];
                match decisions[l] {
                    StepDecision::Accept(next_dt) => {
                        // A failed solve is only the run's outcome when it
                        // is not retried (an adaptive controller rejects
                        // it).
                        lane.status.insert(report.status);
                        if non_finite.contains(l)
                            || (lane.non_finite_pending && !lane.status.is_success())
                        {
                            lane.status.insert(Status::NON_FINITE_STATE);
                        }
                        if !lane.status.is_success() {
                            // A fixed-step solve cannot retry: the run
                            // stops at the last state it reached.
                            active.remove(l);
                            continue;
                        }
                        count(0, l, 1);
                        accepted.insert(l);
                        let lands = landing.contains(l);
                        lane.t = if lands {
                            events[l]
                        } else {
                            lane.t + step_dt64[l]
                        };
                        accept.set(0, l, 1);
                        // A step shortened to land on an event says
                        // nothing about the step size the solution allows.
                        dt.set(
                            0,
                            l,
                            if lands && next_dt.to_f64() < controller_dt[l] {
                                T::from_f64(controller_dt[l])
                            } else {
                                next_dt
                            },
                        );
                        if lands && lane.t >= t_start {
                            recording.insert(l);
                        }
                    }
                    StepDecision::Reject(retry_dt) => {
                        count(1, l, 1);
                        accept.set(0, l, 0);
                        dt.set(0, l, retry_dt);
                    }
                    StepDecision::TooSmall => {
                        count(1, l, 1);
                        lane.status.insert(Status::STEP_TOO_SMALL);
                        lane.status.insert(report.status);
                        if lane.non_finite_pending {
                            lane.status.insert(Status::NON_FINITE_STATE);
                        }
                        active.remove(l);
                    }
                }
            }
            state.copy_from(proposed, accepted);
            if recording.any() {
                self.record(&sys, arena, recording, &mut lanes, &mut slot);
            }
        }
        for (r, lane) in lanes.iter().enumerate().take(runs) {
            if !lane.status.is_success() {
                self.fill_unreached(&lane.cursor, r, &mut slot);
            }
            // The final state is the last state reached, failed or not.
            for (i, v) in part(slot.final_state, runs, r).iter_mut().enumerate() {
                *v = state.get(i, r);
            }
            slot.status[r] = lane.status.0;
            for (i, v) in part(slot.counters, runs, r).iter_mut().enumerate() {
                *v = counters.get(i, r);
            }
        }
    }

    /// Writes NaN into every output run `run` never reached: the saves
    /// from `cursor.saves` on and the summary windows not completed (the
    /// window the failure cut short included), so that no zero passes for
    /// a value.
    fn fill_unreached(&self, cursor: &EventCursor, run: usize, slot: &mut BlockSlot<'_, T>) {
        let out = &self.outputs;
        let runs = slot.runs;
        let nan = T::from_f64(f64::NAN);
        let saved_states = part(slot.saved_states, runs, run);
        let states = (cursor.saves * out.saved_states.len()).min(saved_states.len());
        saved_states[states..].fill(nan);
        let saved_observables = part(slot.saved_observables, runs, run);
        let observables = (cursor.saves * out.saved_observables.len()).min(saved_observables.len());
        saved_observables[observables..].fill(nan);
        if let Some(summaries) = &out.summaries {
            let rows = part(slot.summaries, runs, run);
            let per_window = summaries.samples_per_window().max(1);
            let done = cursor.samples / per_window;
            let from = (done * summaries.row_len()).min(rows.len());
            rows[from..].fill(nan);
        }
    }

    /// Saves and samples whatever falls due in the lanes of `mask`, each
    /// at its own time (the lane has landed exactly on it).
    fn record(
        &self,
        sys: &SystemCall<'_, T>,
        arena: &RunArena<T>,
        mask: LaneMask,
        lanes: &mut PerLane<LaneState>,
        slot: &mut BlockSlot<'_, T>,
    ) {
        let out = &self.outputs;
        let runs = slot.runs;
        let state = self.state.view(arena);
        let observables = self.observables.view(arena);
        let mut due = [events::DueEvents::default(); MAX_LANES];
        let mut t = [0.0; MAX_LANES];
        let mut need_observables = LaneMask::NONE;
        for l in mask.lanes() {
            let lane = &lanes[l];
            due[l] = self.events.due(&lane.cursor, lane.t);
            t[l] = lane.t;
            need_observables.set(
                l,
                (due[l].save && !out.saved_observables.is_empty())
                    || (due[l].sample && out.summarises_observables),
            );
        }
        if need_observables.any() {
            sys.observables(&t, state, observables, need_observables);
        }
        for l in mask.lanes() {
            let cursor = &mut lanes[l].cursor;
            if due[l].save {
                let k = cursor.saves;
                let ns = out.saved_states.len();
                let saved = part(slot.saved_states, runs, l);
                for (v, &i) in saved[k * ns..(k + 1) * ns]
                    .iter_mut()
                    .zip(&out.saved_states)
                {
                    *v = state.get(i, l);
                }
                let no = out.saved_observables.len();
                let saved = part(slot.saved_observables, runs, l);
                for (v, &i) in saved[k * no..(k + 1) * no]
                    .iter_mut()
                    .zip(&out.saved_observables)
                {
                    *v = observables.get(i, l);
                }
            }
            if due[l].sample
                && let Some(summaries) = &out.summaries
            {
                summaries.sample(
                    arena,
                    l,
                    cursor.samples,
                    t[l],
                    state.lane(l),
                    observables.lane(l),
                    part(slot.summaries, runs, l),
                );
            }
            cursor.advance(due[l]);
        }
    }
}
