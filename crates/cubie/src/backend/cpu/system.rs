//! The model as the CPU forms reach it: a trait of its own, so a step or
//! the loop never names the code generator behind it. Every call covers
//! one lane block: each lane at its own time, only the lanes of a mask
//! written.

use crate::drivers::DriverInterpolant;
use crate::memory::{LaneBuf, LaneMask, PerLane};
use crate::system::SystemFunction;

pub use super::jit::LaneInputs;
use super::jit::{JitReal, NativeSystem};

/// The model's functions in precision `T`, evaluated on a lane block.
/// The native code of [`NativeSystem`] is one implementation.
pub trait CpuSystem<T: JitReal>: Send + Sync + std::fmt::Debug {
    /// Writes `function` at `(t[l], inputs of lane l)` into lane `l` of
    /// `out` for every lane `l` of `mask`; the other lanes of `out` keep
    /// their values.
    fn evaluate(
        &self,
        function: SystemFunction,
        t: &PerLane<T>,
        inputs: &LaneInputs<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    );
}

impl<T: JitReal> CpuSystem<T> for NativeSystem<T> {
    #[inline]
    fn evaluate(
        &self,
        function: SystemFunction,
        t: &PerLane<T>,
        inputs: &LaneInputs<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    ) {
        self.call_lanes(function, t, inputs, out, mask)
            .expect("registry buffers are sized from the model");
    }
}

/// The model as a step sees it: compiled functions plus the block's
/// parameters and drivers. Every call first sets each lane's drivers to
/// their values at that lane's time, so stages see forcing at their own
/// times.
#[derive(Debug, Clone, Copy)]
pub struct SystemCall<'a, T: JitReal, S: CpuSystem<T> + ?Sized = NativeSystem<T>> {
    /// The model: any [`CpuSystem`], the native code by default (a type
    /// parameter, not a trait object, so the hot loop calls it directly).
    pub system: &'a S,
    /// The block's parameters.
    pub parameters: LaneBuf<'a, T>,
    /// Driver values (set by each call).
    pub drivers: LaneBuf<'a, T>,
    /// Driver time derivatives (set by [`dfdt`](Self::dfdt)).
    pub driver_rates: LaneBuf<'a, T>,
    /// The batch's driver interpolant.
    pub interpolant: &'a DriverInterpolant<T>,
}

impl<'a, T: JitReal, S: CpuSystem<T> + ?Sized> SystemCall<'a, T, S> {
    /// Lanes of the block.
    #[inline]
    pub fn lanes(&self) -> usize {
        self.parameters.width()
    }

    /// Sets the drivers of the lanes of `mask` to their values at their
    /// times (nothing to do for constant drivers, which the loop loads
    /// once per block).
    #[inline]
    pub fn drivers_at(&self, t: &PerLane<f64>, mask: LaneMask) {
        if !self.interpolant.is_constant() {
            for l in mask.lanes() {
                self.interpolant.evaluate(t[l], &self.drivers.lane(l));
            }
        }
    }

    #[inline]
    fn call(
        &self,
        function: SystemFunction,
        t: &PerLane<f64>,
        state: LaneBuf<'_, T>,
        direction: LaneBuf<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    ) {
        let w = self.lanes();
        let mut tt = [T::zero(); crate::memory::MAX_LANES];
        for (l, x) in tt.iter_mut().enumerate().take(w) {
            *x = T::from_f64(t[l]);
        }
        let inputs = LaneInputs {
            state,
            parameters: self.parameters,
            drivers: self.drivers,
            driver_rates: self.driver_rates,
            direction,
        };
        self.system.evaluate(function, &tt, &inputs, out, mask);
    }

    /// A function of `(t, state)` alone, drivers set first.
    #[inline]
    fn at_state(
        &self,
        function: SystemFunction,
        t: &PerLane<f64>,
        state: LaneBuf<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    ) {
        self.drivers_at(t, mask);
        let none = LaneBuf::empty(self.lanes());
        self.call(function, t, state, none, out, mask);
    }

    /// `out = f(t, state)` in the lanes of `mask`.
    #[inline]
    pub fn dxdt(
        &self,
        t: &PerLane<f64>,
        state: LaneBuf<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    ) {
        self.at_state(SystemFunction::Dxdt, t, state, out, mask);
    }

    /// The observables at `(t, state)` in the lanes of `mask`.
    #[inline]
    pub fn observables(
        &self,
        t: &PerLane<f64>,
        state: LaneBuf<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    ) {
        self.at_state(SystemFunction::Observables, t, state, out, mask);
    }

    /// `out = J(t, state) v` in the lanes of `mask`.
    #[inline]
    pub fn jvp(
        &self,
        t: &PerLane<f64>,
        state: LaneBuf<'_, T>,
        v: LaneBuf<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    ) {
        self.drivers_at(t, mask);
        self.call(SystemFunction::Jvp, t, state, v, out, mask);
    }

    /// The dense Jacobian at `(t, state)`, row-major, in the lanes of
    /// `mask`.
    #[inline]
    pub fn jacobian(
        &self,
        t: &PerLane<f64>,
        state: LaneBuf<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    ) {
        self.at_state(SystemFunction::Jacobian, t, state, out, mask);
    }

    /// The Jacobian's diagonal at `(t, state)` in the lanes of `mask`.
    #[inline]
    pub fn jacobian_diagonal(
        &self,
        t: &PerLane<f64>,
        state: LaneBuf<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    ) {
        self.at_state(SystemFunction::JacobianDiagonal, t, state, out, mask);
    }

    /// `df/dt` at `(t, state)`, the drivers' rates included, in the lanes
    /// of `mask`.
    #[inline]
    pub fn dfdt(
        &self,
        t: &PerLane<f64>,
        state: LaneBuf<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    ) {
        if self.interpolant.is_constant() {
            for l in mask.lanes() {
                for i in 0..self.driver_rates.len() {
                    self.driver_rates.set(i, l, T::zero());
                }
            }
        } else {
            for l in mask.lanes() {
                self.interpolant.evaluate_with_rates(
                    t[l],
                    &self.drivers.lane(l),
                    &self.driver_rates.lane(l),
                );
            }
        }
        let none = LaneBuf::empty(self.lanes());
        self.call(SystemFunction::Dfdt, t, state, none, out, mask);
    }
}
