//! The controller's CPU form: error norm, per-step decision and initial
//! step, generic over the solve's precision. It never allocates while
//! stepping: its state between steps lives in the persistent registry
//! buffer the controller component registers.

use std::cell::Cell;

use crate::Real;
use crate::memory::{LaneBuf, LaneMask, MAX_LANES, PerLane};

use crate::controllers::{ControllerError, ControllerKind, ControllerSettings};

/// What to do after a step attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepDecision<T> {
    /// Keep the step; try the next one with this `dt`.
    Accept(T),
    /// Discard the step; retry it with this `dt`.
    Reject(T),
    /// The step was rejected at (or below) `dt_min`: the run stops with the
    /// "step too small" status.
    TooSmall,
}

impl<T: Copy> StepDecision<T> {
    /// Whether the step is kept.
    pub fn accepted(&self) -> bool {
        matches!(self, StepDecision::Accept(_))
    }

    /// The step to take next (accepted or retried), if any.
    pub fn dt(&self) -> Option<T> {
        match self {
            StepDecision::Accept(dt) | StepDecision::Reject(dt) => Some(*dt),
            StepDecision::TooSmall => None,
        }
    }
}

/// OrdinaryDiffEq's `qoldinit`: the "previous error" before any step was
/// accepted, and the floor of the stored previous error.
const QOLDINIT: f64 = 1e-4;

/// Gustafsson's floor on the stored previous error (`erracc`).
const ERRACC_MIN: f64 = 1e-2;

/// A validated step-size controller, with its constants rounded to `T`.
///
/// It holds no per-run state: everything that persists between steps lives
/// in the `memory` slice the loop passes to [`propose`](Self::propose)
/// ([`memory_elements`](Self::memory_elements) long, all zeros at the start
/// of a run).
#[derive(Debug, Clone)]
pub struct StepController<T: Real> {
    kind: ControllerKind,
    atol: Vec<T>,
    rtol: Vec<T>,
    dt0: Option<T>,
    dt_min: T,
    dt_max: T,
    inv_qmin: T,
    inv_qmax: T,
    gamma: T,
    kp: T,
    ki: T,
    kd: T,
    qsteady_min: T,
    qsteady_max: T,
    order: u32,
    newton_max_iters: Option<u32>,
}

/// Scaled RMS error norm as OrdinaryDiffEq computes it:
/// `sqrt(mean_i (err_i / (atol_i + rtol_i · max(|y_prev_i|, |y_new_i|)))²)`.
///
/// `err`, `y_prev` and `y_new` have one element per state (the caller's
/// buffers, sized by the registry); `atol` and `rtol` hold one value per
/// state or a single value for all. An empty system has norm zero.
pub fn scaled_rms_norm<T: Real>(
    err: &[Cell<T>],
    y_prev: &[Cell<T>],
    y_new: &[Cell<T>],
    atol: &[T],
    rtol: &[T],
) -> T {
    let one = |c| LaneBuf::scalar(c);
    scaled_rms_norms(one(err), one(y_prev), one(y_new), atol, rtol)[0]
}

/// [`scaled_rms_norm`] of every lane of a block at once (lanes
/// innermost, so the loop runs in vector registers); each lane sums its
/// elements in index order, as one lane alone does.
pub fn scaled_rms_norms<T: Real>(
    err: LaneBuf<'_, T>,
    y_prev: LaneBuf<'_, T>,
    y_new: LaneBuf<'_, T>,
    atol: &[T],
    rtol: &[T],
) -> PerLane<T> {
    let mut sum = [T::zero(); MAX_LANES];
    let (n, w) = (err.len(), err.width());
    if n == 0 {
        return sum;
    }
    let tol = |v: &[T], i: usize| if v.len() == 1 { v[0] } else { v[i] };
    for i in 0..n {
        let (a, r) = (tol(atol, i), tol(rtol, i));
        let (e, p, q) = (err.element(i), y_prev.element(i), y_new.element(i));
        for l in 0..w {
            let scale = a + p[l].get().abs().max(q[l].get().abs()) * r;
            let x = e[l].get() / scale;
            sum[l] = sum[l] + x * x;
        }
    }
    let count = T::from_f64(n as f64);
    for s in sum.iter_mut().take(w) {
        *s = (*s / count).sqrt();
    }
    sum
}

impl<T: Real> StepController<T> {
    /// Builds a controller for a system of `n_states` states; validates the
    /// settings first.
    pub fn new(settings: &ControllerSettings, n_states: usize) -> Result<Self, ControllerError> {
        settings.validate(n_states)?;
        let r = T::from_f64;
        let expand =
            |t: &crate::controllers::Tolerance| t.expand(n_states).into_iter().map(r).collect();
        Ok(StepController {
            kind: settings.kind,
            atol: expand(&settings.atol),
            rtol: expand(&settings.rtol),
            dt0: settings.dt0.map(r),
            dt_min: r(settings.dt_min),
            dt_max: r(settings.dt_max),
            inv_qmin: r(1.0 / settings.min_gain),
            inv_qmax: r(1.0 / settings.max_gain),
            gamma: r(settings.safety),
            kp: r(settings.kp),
            ki: r(settings.ki),
            kd: r(settings.kd),
            qsteady_min: r(settings.qsteady_min),
            qsteady_max: r(settings.qsteady_max),
            order: settings.order,
            newton_max_iters: settings.newton_max_iters,
        })
    }

    /// Which controller this is.
    pub fn kind(&self) -> ControllerKind {
        self.kind
    }

    /// Whether the controller needs an error estimate.
    pub fn is_adaptive(&self) -> bool {
        self.kind.is_adaptive()
    }

    /// Persistent elements [`propose`](Self::propose) needs in `memory`.
    pub fn memory_elements(&self) -> usize {
        self.kind.memory_elements()
    }

    /// Puts `memory` in the state of a fresh run (all zeros).
    pub fn reset_memory<M: Memory<T> + ?Sized>(&self, memory: &M) {
        for i in 0..self.memory_elements() {
            memory[i].set(T::zero());
        }
    }

    /// Smallest step.
    pub fn dt_min(&self) -> T {
        self.dt_min
    }

    /// Largest step.
    pub fn dt_max(&self) -> T {
        self.dt_max
    }

    /// Scaled RMS norm of an error estimate with this controller's
    /// tolerances (see [`scaled_rms_norm`]).
    pub fn error_norm(&self, err: &[Cell<T>], y_prev: &[Cell<T>], y_new: &[Cell<T>]) -> T {
        scaled_rms_norm(err, y_prev, y_new, &self.atol, &self.rtol)
    }

    /// [`error_norm`](Self::error_norm) of every lane of a block.
    pub fn error_norms(
        &self,
        err: LaneBuf<'_, T>,
        y_prev: LaneBuf<'_, T>,
        y_new: LaneBuf<'_, T>,
    ) -> PerLane<T> {
        scaled_rms_norms(err, y_prev, y_new, &self.atol, &self.rtol)
    }

    /// Decides on a step of size `dt` whose scaled error norm is `norm`,
    /// updating `memory` (the controller's persistent buffer,
    /// [`memory_elements`](Self::memory_elements) long) when the step is
    /// accepted.
    ///
    /// Accepts when `norm <= 1`. An accepted step's next `dt` is clamped to
    /// `[dt_min, dt_max]`; a rejected step is retried at no less than
    /// `dt_min`, and a rejection at `dt <= dt_min` is
    /// [`StepDecision::TooSmall`]. A non-finite norm rejects with
    /// `dt · min_gain`. The fixed controller accepts every step and keeps
    /// `dt`.
    pub fn propose(&self, norm: T, dt: T, memory: &[Cell<T>]) -> StepDecision<T> {
        self.decide_one(norm, dt, None, memory)
    }

    /// [`propose`](Self::propose) for an implicit step that needed
    /// `newton_iters` Newton iterations (used by `gustafsson` when
    /// `newton_max_iters` is set; the other kinds ignore it).
    pub fn propose_with_newton(
        &self,
        norm: T,
        dt: T,
        newton_iters: u32,
        memory: &[Cell<T>],
    ) -> StepDecision<T> {
        self.decide_one(norm, dt, Some(newton_iters), memory)
    }

    /// One run's decision: the one-lane case of
    /// [`propose_lanes`](Self::propose_lanes).
    fn decide_one(
        &self,
        norm: T,
        dt: T,
        newton_iters: Option<u32>,
        memory: &[Cell<T>],
    ) -> StepDecision<T> {
        let iters = newton_iters.map(|i| [i; MAX_LANES]);
        self.propose_lanes(
            &[norm; MAX_LANES],
            &[dt; MAX_LANES],
            iters.as_ref(),
            LaneBuf::scalar(memory),
            LaneMask::lane(0),
        )[0]
    }

    /// [`propose`](Self::propose) in every lane of `mask` of a block at
    /// once, each lane with its own norm, step and (Gustafsson) Newton
    /// iterations, and its own part of `memory`. Lanes outside `mask` get
    /// no decision and keep their memory.
    ///
    /// The PI controller, the one explicit methods use, decides every
    /// lane in one branch-free pass (the lanes' divisions overlap rather
    /// than wait on one another); the others decide lane by lane.
    pub fn propose_lanes(
        &self,
        norms: &PerLane<T>,
        dts: &PerLane<T>,
        newton_iters: Option<&PerLane<u32>>,
        memory: LaneBuf<'_, T>,
        mask: LaneMask,
    ) -> PerLane<StepDecision<T>> {
        let mut out = [StepDecision::TooSmall; MAX_LANES];
        match self.kind {
            ControllerKind::Fixed => {
                for l in mask.lanes() {
                    out[l] = StepDecision::Accept(dts[l]);
                }
            }
            ControllerKind::Pi => self.pi_lanes(norms, dts, memory, mask, &mut out),
            kind => {
                for l in mask.lanes() {
                    let (norm, dt) = (norms[l], dts[l]);
                    let memory = &memory.lane(l);
                    out[l] = if !norm.is_finite() {
                        self.reject(dt, dt / self.inv_qmin)
                    } else {
                        let accept = norm <= T::one();
                        match kind {
                            ControllerKind::I => self.i_step(norm, dt, accept),
                            ControllerKind::Pid => self.pid_step(norm, dt, accept, memory),
                            _ => {
                                let iters = newton_iters.map(|i| i[l]);
                                self.gustafsson_step(norm, dt, accept, iters, memory)
                            }
                        }
                    };
                }
            }
        }
        out
    }

    fn clamp_q(&self, q: T) -> T {
        q.max(self.inv_qmax).min(self.inv_qmin)
    }

    fn deadband(&self, q: T) -> T {
        if self.qsteady_min <= q && q <= self.qsteady_max {
            T::one()
        } else {
            q
        }
    }

    fn accept(&self, dt_next: T) -> StepDecision<T> {
        StepDecision::Accept(dt_next.min(self.dt_max).max(self.dt_min))
    }

    fn reject(&self, dt: T, dt_retry: T) -> StepDecision<T> {
        if dt_retry < self.dt_min && dt <= self.dt_min {
            StepDecision::TooSmall
        } else {
            StepDecision::Reject(dt_retry.max(self.dt_min).min(self.dt_max))
        }
    }

    /// OrdinaryDiffEq's `IController`.
    fn i_step(&self, norm: T, dt: T, accept: bool) -> StepDecision<T> {
        let q = if norm == T::zero() {
            self.inv_qmax
        } else {
            self.clamp_q(norm.controller_pow(self.kp) / self.gamma)
        };
        if accept {
            self.accept(dt / self.deadband(q))
        } else {
            self.reject(dt, dt / q)
        }
    }

    /// OrdinaryDiffEq's `PIController` with `beta1 = kp`, `beta2 = -ki`,
    /// in the lanes of `mask`; memory: `[errold]` per lane (0 = none yet,
    /// read as `qoldinit`). A non-finite norm rejects with `dt · min_gain`.
    ///
    /// Its `q11 / errold^beta2` (accepted) and `q11 = norm^beta1`
    /// (rejected) are one exponential each, `exp(kp ln norm + ki ln
    /// errold)` and `exp(kp ln norm)`, by the powers' own
    /// [`ln`](crate::controllers::power::ln) and
    /// [`exp`](crate::controllers::power::exp): a third less work than
    /// two powers, the controller's whole cost in an explicit solve. The
    /// CUDA kernel computes the same expression.
    fn pi_lanes(
        &self,
        norms: &PerLane<T>,
        dts: &PerLane<T>,
        memory: LaneBuf<'_, T>,
        mask: LaneMask,
        out: &mut PerLane<StepDecision<T>>,
    ) {
        let qoldinit = T::from_f64(QOLDINIT);
        let errold = memory.element(0);
        let width = errold.len();
        let mut previous = [T::one(); MAX_LANES];
        for (p, e) in previous.iter_mut().zip(errold.iter()) {
            let e = e.get();
            *p = if e > T::zero() { e } else { qoldinit };
        }
        let accepts = |norm: T| norm.is_finite() && norm <= T::one();
        // The exponentials first, in every lane (they vectorize; lanes
        // outside `mask` compute values that are never used), in whole
        // chunks of 8 lanes: a loop of constant length is all vector code,
        // where one of `width` would leave a narrow block to the scalar
        // remainder.
        const CHUNK: usize = 8;
        let mut gain = [T::zero(); MAX_LANES];
        let chunks = width.div_ceil(CHUNK);
        for ((g, n), p) in gain
            .chunks_exact_mut(CHUNK)
            .zip(norms.chunks_exact(CHUNK))
            .zip(previous.chunks_exact(CHUNK))
            .take(chunks)
        {
            for j in 0..CHUNK {
                let z = self.kp * n[j].controller_ln();
                let z = if accepts(n[j]) {
                    z + self.ki * p[j].controller_ln()
                } else {
                    z
                };
                g[j] = z.controller_exp();
            }
        }
        // Then every lane's outcome without branches, one division per
        // quantity. Lanes outside `mask` compute harmless values that are
        // never used.
        let mut accepted = [false; MAX_LANES];
        let mut too_small = [false; MAX_LANES];
        let mut next = [T::zero(); MAX_LANES];
        for l in 0..width {
            let (norm, dt) = (norms[l], dts[l]);
            let accept = accepts(norm);
            let scaled = gain[l] / self.gamma;
            let divisor = if accept {
                let q = if norm == T::zero() {
                    self.inv_qmax
                } else {
                    self.clamp_q(scaled)
                };
                self.deadband(q)
            } else if norm.is_finite() {
                self.inv_qmin.min(scaled)
            } else {
                self.inv_qmin
            };
            let quotient = dt / divisor;
            accepted[l] = accept;
            too_small[l] = quotient < self.dt_min && dt <= self.dt_min;
            next[l] = if accept {
                quotient.min(self.dt_max).max(self.dt_min)
            } else {
                quotient.max(self.dt_min).min(self.dt_max)
            };
        }
        for l in mask.lanes() {
            out[l] = if accepted[l] {
                errold[l].set(norms[l].max(qoldinit));
                StepDecision::Accept(next[l])
            } else if too_small[l] {
                StepDecision::TooSmall
            } else {
                StepDecision::Reject(next[l])
            };
        }
    }

    /// Söderlind's PID filter `q = E_n^kp · E_{n-1}^ki · E_{n-2}^kd / safety`,
    /// clamped and deadbanded like the PI controller; a rejection uses the
    /// current error only, as the PI controller does. Memory:
    /// `[E_{n-1}, E_{n-2}]` (0 = none yet, read as 1, OrdinaryDiffEq's
    /// initial history).
    fn pid_step<M: Memory<T> + ?Sized>(
        &self,
        norm: T,
        dt: T,
        accept: bool,
        memory: &M,
    ) -> StepDecision<T> {
        // A zero error would make the negative-exponent terms infinite.
        let e = norm.max(T::epsilon());
        let hist = |m: &Cell<T>| match m.get() {
            v if v > T::zero() => v,
            _ => T::one(),
        };
        let (e1, e2) = (hist(&memory[0]), hist(&memory[1]));
        let q11 = e.controller_pow(self.kp);
        let q = self
            .clamp_q(q11 * e1.controller_pow(self.ki) * e2.controller_pow(self.kd) / self.gamma);
        if accept {
            memory[1].set(memory[0].get());
            memory[0].set(e);
            self.accept(dt / self.deadband(q))
        } else {
            self.reject(dt, dt / self.inv_qmin.min(q11 / self.gamma))
        }
    }

    /// OrdinaryDiffEq's `PredictiveController` (Gustafsson, as in Hairer's
    /// Radau5) with exponent `kp`. Memory: `[dtacc, erracc]`, the last
    /// accepted step and its error (`dtacc == 0`: none accepted yet).
    fn gustafsson_step<M: Memory<T> + ?Sized>(
        &self,
        norm: T,
        dt: T,
        accept: bool,
        iters: Option<u32>,
        memory: &M,
    ) -> StepDecision<T> {
        let expo = self.kp;
        let fac = match (self.newton_max_iters, iters) {
            (Some(m), Some(it)) => {
                let m = T::from_f64(m as f64);
                let it = T::from_f64(it as f64);
                let two = T::from_f64(2.0);
                self.gamma
                    .min((T::one() + two * m) * self.gamma / (it + two * m))
            }
            _ => self.gamma,
        };
        let q = if norm == T::zero() {
            self.inv_qmax
        } else {
            self.clamp_q(norm.controller_pow(expo) / fac)
        };
        let dtacc = memory[0].get();
        let any_accepted = dtacc > T::zero();
        if accept {
            let qacc = if any_accepted {
                let erracc = memory[1].get();
                let qgus = (dtacc / dt) * (norm * norm / erracc).controller_pow(expo);
                q.max(self.clamp_q(qgus / self.gamma))
            } else {
                q
            };
            memory[0].set(dt);
            memory[1].set(norm.max(T::from_f64(ERRACC_MIN)));
            self.accept(dt / self.deadband(qacc))
        } else if any_accepted {
            self.reject(dt, dt / q)
        } else {
            // Hairer: before the first accepted step, shrink by 10.
            self.reject(dt, dt * T::from_f64(0.1))
        }
    }

    /// Scratch elements [`initial_step`](Self::initial_step) needs for a
    /// system of `n_states` states.
    pub fn initial_step_scratch_elements(n_states: usize) -> usize {
        crate::controllers::initial_step_scratch_elements(n_states)
    }

    /// `dt0` if set, else [`initial_step`](Self::initial_step).
    pub fn initial_dt<F>(&self, f: F, t0: T, y0: &[Cell<T>], scratch: &[Cell<T>]) -> T
    where
        F: FnMut(T, &[Cell<T>], &[Cell<T>]),
    {
        match self.dt0 {
            Some(dt) => dt,
            None => self.initial_step(f, t0, y0, scratch),
        }
    }

    /// Automatic first step: Hairer–Nørsett–Wanner I, II.4, as OrdinaryDiffEq's
    /// `ode_determine_initdt` writes it (including its `93/83` factor and the
    /// exponent `1/order`), clamped to `[dt_min, dt_max]`.
    ///
    /// `f(t, y, out)` writes `dy/dt` into `out`. `scratch` holds at least
    /// [`initial_step_scratch_elements`](Self::initial_step_scratch_elements)
    /// elements (`f0`, `y1`, `f1`).
    pub fn initial_step<F>(&self, mut f: F, t0: T, y0: &[Cell<T>], scratch: &[Cell<T>]) -> T
    where
        F: FnMut(T, &[Cell<T>], &[Cell<T>]),
    {
        let mut t = [T::zero(); MAX_LANES];
        t[0] = t0;
        self.initial_steps(
            |t, y, out, _| f(t[0], y.cells(), out.cells()),
            &t,
            LaneBuf::scalar(y0),
            LaneBuf::scalar(scratch),
            LaneMask::lane(0),
        )[0]
    }

    /// `dt0` if set, else [`initial_steps`](Self::initial_steps), for the
    /// lanes of `mask`.
    pub fn initial_dts<F>(
        &self,
        f: F,
        t0: &PerLane<T>,
        y0: LaneBuf<'_, T>,
        scratch: LaneBuf<'_, T>,
        mask: LaneMask,
    ) -> PerLane<T>
    where
        F: FnMut(&PerLane<T>, LaneBuf<'_, T>, LaneBuf<'_, T>, LaneMask),
    {
        match self.dt0 {
            Some(dt) => [dt; MAX_LANES],
            None => self.initial_steps(f, t0, y0, scratch, mask),
        }
    }

    /// [`initial_step`](Self::initial_step) in every lane of `mask` of a
    /// block: `f(t, y, out, lanes)` writes `dy/dt` into the given lanes of
    /// `out`, each at its own time. It is called with the lanes that still
    /// need a derivative: all of `mask` first, then those that did not stop
    /// at the first one.
    pub fn initial_steps<F>(
        &self,
        mut f: F,
        t0: &PerLane<T>,
        y0: LaneBuf<'_, T>,
        scratch: LaneBuf<'_, T>,
        mask: LaneMask,
    ) -> PerLane<T>
    where
        F: FnMut(&PerLane<T>, LaneBuf<'_, T>, LaneBuf<'_, T>, LaneMask),
    {
        let (n, w) = (y0.len(), y0.width());
        let (f0, y1, f1) = (
            scratch.slice(0..n),
            scratch.slice(n..2 * n),
            scratch.slice(2 * n..3 * n),
        );
        let c = T::from_f64(93.0 / 83.0);
        let small_dt = self.dt_min.max(c * T::from_f64(1e-6));
        let clamp = |dt: T| dt.min(self.dt_max).max(self.dt_min);
        let mut result = [T::zero(); MAX_LANES];
        let mut dt0 = [T::zero(); MAX_LANES];
        let mut t1 = [T::zero(); MAX_LANES];

        f(t0, y0, f0, mask);
        // The norms of every lane at once, element by element (each lane
        // sums in index order, as one lane alone does); lanes outside
        // `mask` compute values that are never used.
        let mut d0 = [T::zero(); MAX_LANES];
        let mut d1 = [T::zero(); MAX_LANES];
        for i in 0..n {
            let (a, r) = (self.atol[i], self.rtol[i]);
            let (y, f) = (y0.element(i), f0.element(i));
            for l in 0..w {
                let sk = a + y[l].get().abs() * r;
                let (u, v) = (y[l].get() / sk, f[l].get() / sk * c);
                d0[l] = d0[l] + u * u;
                d1[l] = d1[l] + v * v;
            }
        }
        let count = T::from_f64(n as f64);
        let rms = |sum: T| {
            if n == 0 {
                T::zero()
            } else {
                (sum / count).sqrt()
            }
        };
        let mut second = LaneMask::NONE;
        for l in mask.lanes() {
            let (d0, d1) = (rms(d0[l]), rms(d1[l]));
            if d1.is_nan() {
                result[l] = self.dt_min;
                continue;
            }
            let tiny = T::from_f64(1e-5);
            let mut dt = if d0 < tiny || d1 < tiny {
                small_dt
            } else {
                c * (d0 / d1 / T::from_f64(100.0))
            };
            dt = dt.min(self.dt_max);
            if dt < T::from_f64(10.0) * T::epsilon() * c {
                result[l] = clamp(small_dt);
                continue;
            }
            dt0[l] = dt;
            t1[l] = t0[l] + dt;
            second.insert(l);
        }
        if second.is_empty() {
            return result;
        }
        // Every lane's trial state (scratch; lanes outside `second` are
        // never read).
        for i in 0..n {
            let (y, f, to) = (y0.element(i), f0.element(i), y1.element(i));
            for l in 0..w {
                to[l].set(y[l].get() + dt0[l] * f[l].get());
            }
        }
        f(&t1, y1, f1, second);
        let mut d2 = [T::zero(); MAX_LANES];
        let mut constant = [true; MAX_LANES];
        for i in 0..n {
            let (a, r) = (self.atol[i], self.rtol[i]);
            let (y, f0, f1) = (y0.element(i), f0.element(i), f1.element(i));
            for l in 0..w {
                let sk = a + y[l].get().abs() * r;
                let (g0, g1) = (f0[l].get(), f1[l].get());
                let u = (g1 - g0) / sk * c;
                d2[l] = d2[l] + u * u;
                constant[l] &= g0 == g1;
            }
        }
        for l in second.lanes() {
            let dt0 = dt0[l];
            result[l] = if constant[l] {
                // Constant derivative: no curvature information.
                clamp(T::from_f64(100.0) * dt0)
            } else {
                let d2 = rms(d2[l]) / dt0 * c;
                let m = rms(d1[l]).max(d2);
                let dt1 = if m <= T::from_f64(1e-15) {
                    small_dt.max(dt0 * T::from_f64(1e-3))
                } else {
                    let p = T::from_f64(self.order as f64);
                    c * T::from_f64(10.0).powf(-(T::from_f64(2.0) + m.log10()) / p)
                };
                clamp((T::from_f64(100.0) * dt0).min(dt1))
            };
        }
        result
    }
}

/// A controller's memory: a slice of cells, or one lane of a block's
/// buffer.
pub trait Memory<T>: std::ops::Index<usize, Output = Cell<T>> {}

impl<T, M: std::ops::Index<usize, Output = Cell<T>> + ?Sized> Memory<T> for M {}
