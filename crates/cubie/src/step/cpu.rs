//! What every step's CPU form provides to the time loop.

use std::cell::Cell;

use crate::drivers::DriverInterpolant;
use crate::memory::RunArena;
use crate::system::jit::{JitReal, NativeSystem};
use crate::time_loop::Status;

/// The model as a step sees it: compiled functions plus this run's
/// parameters and drivers. Every call first sets the drivers to their
/// values at the call's time, so stages see forcing at their own times.
#[derive(Debug, Clone, Copy)]
pub struct SystemCall<'a, T: JitReal> {
    /// The compiled model.
    pub system: &'a NativeSystem<T>,
    /// This run's parameters.
    pub parameters: &'a [Cell<T>],
    /// Driver values (set by each call).
    pub drivers: &'a [Cell<T>],
    /// Driver time derivatives (set by [`dfdt`](Self::dfdt)).
    pub driver_rates: &'a [Cell<T>],
    /// The batch's driver interpolant.
    pub interpolant: &'a DriverInterpolant<T>,
}

const SIZED: &str = "registry buffers are sized from the model";

impl<T: JitReal> SystemCall<'_, T> {
    /// Sets the drivers to their values at `t` (nothing to do for
    /// constant drivers, which the loop loads once per run).
    #[inline]
    pub fn drivers_at(&self, t: f64) {
        if !self.interpolant.is_constant() {
            self.interpolant.evaluate(t, self.drivers);
        }
    }

    /// `out = f(t, state)`.
    #[inline]
    pub fn dxdt(&self, t: f64, state: &[Cell<T>], out: &[Cell<T>]) {
        self.drivers_at(t);
        self.system
            .dxdt(T::from_f64(t), state, self.parameters, self.drivers, out)
            .expect(SIZED);
    }

    /// The observables at `(t, state)`.
    #[inline]
    pub fn observables(&self, t: f64, state: &[Cell<T>], out: &[Cell<T>]) {
        self.drivers_at(t);
        self.system
            .observables(T::from_f64(t), state, self.parameters, self.drivers, out)
            .expect(SIZED);
    }

    /// `out = J(t, state) v`.
    #[inline]
    pub fn jvp(&self, t: f64, state: &[Cell<T>], v: &[Cell<T>], out: &[Cell<T>]) {
        self.drivers_at(t);
        self.system
            .jvp(T::from_f64(t), state, self.parameters, self.drivers, v, out)
            .expect(SIZED);
    }

    /// The dense Jacobian at `(t, state)`, row-major.
    #[inline]
    pub fn jacobian(&self, t: f64, state: &[Cell<T>], out: &[Cell<T>]) {
        self.drivers_at(t);
        self.system
            .jacobian(T::from_f64(t), state, self.parameters, self.drivers, out)
            .expect(SIZED);
    }

    /// The Jacobian's diagonal at `(t, state)`.
    #[inline]
    pub fn jacobian_diagonal(&self, t: f64, state: &[Cell<T>], out: &[Cell<T>]) {
        self.drivers_at(t);
        self.system
            .jacobian_diagonal(T::from_f64(t), state, self.parameters, self.drivers, out)
            .expect(SIZED);
    }

    /// `df/dt` at `(t, state)`, the drivers' rates included.
    #[inline]
    pub fn dfdt(&self, t: f64, state: &[Cell<T>], out: &[Cell<T>]) {
        if self.interpolant.is_constant() {
            for r in self.driver_rates {
                r.set(T::zero());
            }
        } else {
            self.interpolant
                .evaluate_with_rates(t, self.drivers, self.driver_rates);
        }
        self.system
            .dfdt(
                T::from_f64(t),
                state,
                self.parameters,
                self.drivers,
                self.driver_rates,
                out,
            )
            .expect(SIZED);
    }
}

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

    /// A second error estimate to combine with the first (DOP853 only).
    fn secondary_error<'a>(&self, _arena: &'a RunArena<T>) -> Option<&'a [Cell<T>]> {
        None
    }

    /// True when an accepted step leaves the next step's first stage cached.
    fn caches_first_stage(&self) -> bool {
        false
    }
}
