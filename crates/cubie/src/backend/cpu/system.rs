//! The model as the CPU forms reach it: a trait of its own, so a step or
//! the loop never names the code generator behind it.

use std::cell::Cell;

use crate::Real;
use crate::drivers::DriverInterpolant;

use super::jit::{JitReal, NativeSystem};

/// The model's functions in precision `T`, evaluated on one run's cells.
/// The native code of [`NativeSystem`] is one implementation.
pub trait CpuSystem<T: Real>: Send + Sync + std::fmt::Debug {
    /// `out = f(t, state)`.
    fn dxdt(
        &self,
        t: T,
        state: &[Cell<T>],
        parameters: &[Cell<T>],
        drivers: &[Cell<T>],
        out: &[Cell<T>],
    );
    /// The observables at `(t, state)`.
    fn observables(
        &self,
        t: T,
        state: &[Cell<T>],
        parameters: &[Cell<T>],
        drivers: &[Cell<T>],
        out: &[Cell<T>],
    );
    /// `out = J(t, state) v`.
    #[allow(clippy::too_many_arguments)]
    fn jvp(
        &self,
        t: T,
        state: &[Cell<T>],
        parameters: &[Cell<T>],
        drivers: &[Cell<T>],
        v: &[Cell<T>],
        out: &[Cell<T>],
    );
    /// The dense Jacobian, row-major.
    fn jacobian(
        &self,
        t: T,
        state: &[Cell<T>],
        parameters: &[Cell<T>],
        drivers: &[Cell<T>],
        out: &[Cell<T>],
    );
    /// The Jacobian's diagonal.
    fn jacobian_diagonal(
        &self,
        t: T,
        state: &[Cell<T>],
        parameters: &[Cell<T>],
        drivers: &[Cell<T>],
        out: &[Cell<T>],
    );
    /// `df/dt`, the drivers' rates included.
    #[allow(clippy::too_many_arguments)]
    fn dfdt(
        &self,
        t: T,
        state: &[Cell<T>],
        parameters: &[Cell<T>],
        drivers: &[Cell<T>],
        driver_rates: &[Cell<T>],
        out: &[Cell<T>],
    );
}

const SIZED: &str = "registry buffers are sized from the model";

impl<T: JitReal> CpuSystem<T> for NativeSystem<T> {
    #[inline]
    fn dxdt(
        &self,
        t: T,
        state: &[Cell<T>],
        parameters: &[Cell<T>],
        drivers: &[Cell<T>],
        out: &[Cell<T>],
    ) {
        NativeSystem::dxdt(self, t, state, parameters, drivers, out).expect(SIZED);
    }

    #[inline]
    fn observables(
        &self,
        t: T,
        state: &[Cell<T>],
        parameters: &[Cell<T>],
        drivers: &[Cell<T>],
        out: &[Cell<T>],
    ) {
        NativeSystem::observables(self, t, state, parameters, drivers, out).expect(SIZED);
    }

    #[inline]
    fn jvp(
        &self,
        t: T,
        state: &[Cell<T>],
        parameters: &[Cell<T>],
        drivers: &[Cell<T>],
        v: &[Cell<T>],
        out: &[Cell<T>],
    ) {
        NativeSystem::jvp(self, t, state, parameters, drivers, v, out).expect(SIZED);
    }

    #[inline]
    fn jacobian(
        &self,
        t: T,
        state: &[Cell<T>],
        parameters: &[Cell<T>],
        drivers: &[Cell<T>],
        out: &[Cell<T>],
    ) {
        NativeSystem::jacobian(self, t, state, parameters, drivers, out).expect(SIZED);
    }

    #[inline]
    fn jacobian_diagonal(
        &self,
        t: T,
        state: &[Cell<T>],
        parameters: &[Cell<T>],
        drivers: &[Cell<T>],
        out: &[Cell<T>],
    ) {
        NativeSystem::jacobian_diagonal(self, t, state, parameters, drivers, out).expect(SIZED);
    }

    #[inline]
    fn dfdt(
        &self,
        t: T,
        state: &[Cell<T>],
        parameters: &[Cell<T>],
        drivers: &[Cell<T>],
        driver_rates: &[Cell<T>],
        out: &[Cell<T>],
    ) {
        NativeSystem::dfdt(self, t, state, parameters, drivers, driver_rates, out).expect(SIZED);
    }
}

/// The model as a step sees it: compiled functions plus this run's
/// parameters and drivers. Every call first sets the drivers to their
/// values at the call's time, so stages see forcing at their own times.
#[derive(Debug, Clone, Copy)]
pub struct SystemCall<'a, T: JitReal, S: CpuSystem<T> + ?Sized = NativeSystem<T>> {
    /// The model: any [`CpuSystem`], the native code by default (a type
    /// parameter, not a trait object, so the hot loop calls it directly).
    pub system: &'a S,
    /// This run's parameters.
    pub parameters: &'a [Cell<T>],
    /// Driver values (set by each call).
    pub drivers: &'a [Cell<T>],
    /// Driver time derivatives (set by [`dfdt`](Self::dfdt)).
    pub driver_rates: &'a [Cell<T>],
    /// The batch's driver interpolant.
    pub interpolant: &'a DriverInterpolant<T>,
}

impl<T: JitReal, S: CpuSystem<T> + ?Sized> SystemCall<'_, T, S> {
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
            .dxdt(T::from_f64(t), state, self.parameters, self.drivers, out);
    }

    /// The observables at `(t, state)`.
    #[inline]
    pub fn observables(&self, t: f64, state: &[Cell<T>], out: &[Cell<T>]) {
        self.drivers_at(t);
        self.system
            .observables(T::from_f64(t), state, self.parameters, self.drivers, out);
    }

    /// `out = J(t, state) v`.
    #[inline]
    pub fn jvp(&self, t: f64, state: &[Cell<T>], v: &[Cell<T>], out: &[Cell<T>]) {
        self.drivers_at(t);
        self.system
            .jvp(T::from_f64(t), state, self.parameters, self.drivers, v, out);
    }

    /// The dense Jacobian at `(t, state)`, row-major.
    #[inline]
    pub fn jacobian(&self, t: f64, state: &[Cell<T>], out: &[Cell<T>]) {
        self.drivers_at(t);
        self.system
            .jacobian(T::from_f64(t), state, self.parameters, self.drivers, out);
    }

    /// The Jacobian's diagonal at `(t, state)`.
    #[inline]
    pub fn jacobian_diagonal(&self, t: f64, state: &[Cell<T>], out: &[Cell<T>]) {
        self.drivers_at(t);
        self.system
            .jacobian_diagonal(T::from_f64(t), state, self.parameters, self.drivers, out);
    }

    /// `df/dt` at `(t, state)`, the drivers' rates included.
    #[inline]
    pub fn dfdt(&self, t: f64, state: &[Cell<T>], out: &[Cell<T>]) {
        if self.interpolant.is_constant() {
            for r in self.driver_rates {
                r.set(T::from_f64(0.0));
            }
        } else {
            self.interpolant
                .evaluate_with_rates(t, self.drivers, self.driver_rates);
        }
        self.system.dfdt(
            T::from_f64(t),
            state,
            self.parameters,
            self.drivers,
            self.driver_rates,
            out,
        );
    }
}
