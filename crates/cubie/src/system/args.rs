//! Arguments of generated functions: the slice types accepted for inputs
//! and outputs, and the length check done on every call.
//!
//! Inputs may be plain slices or slices of [`Cell`]s (the CPU backend's
//! arena views, which may alias each other). Generated code reads every
//! input before it writes any output, so an output that aliases an input
//! through `Cell`s is well defined: the inputs are the values before the
//! call.

use std::cell::Cell;

use thiserror::Error;

use super::functions::SystemFunction;
use super::schedule::{FunctionSchedule, InputArray, InputSizes};

mod sealed {
    use std::cell::Cell;

    // `[T]` also covers `[Cell<T>]`.
    pub trait Sealed {}
    impl<T> Sealed for [T] {}
    impl<T> Sealed for Vec<T> {}
    impl<T, const N: usize> Sealed for [T; N] {}
    impl<T> Sealed for &mut [T] {}
    impl<T> Sealed for &[Cell<T>] {}
    impl<T> Sealed for &mut Vec<T> {}
}

/// A contiguous run of `T` values that a generated function may read:
/// `[T]`, `[Cell<T>]`, `Vec<T>` or `[T; N]`.
pub trait ValueSlice<T: Copy>: sealed::Sealed {
    /// Number of values.
    fn len(&self) -> usize;
    /// True when there are no values.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Address of the first value (dangling but aligned when empty).
    fn as_ptr(&self) -> *const T;
}

impl<T: Copy> ValueSlice<T> for [T] {
    fn len(&self) -> usize {
        <[T]>::len(self)
    }
    fn as_ptr(&self) -> *const T {
        <[T]>::as_ptr(self)
    }
}

impl<T: Copy> ValueSlice<T> for [Cell<T>] {
    fn len(&self) -> usize {
        <[Cell<T>]>::len(self)
    }
    fn as_ptr(&self) -> *const T {
        // `Cell<T>` has the same in-memory representation as `T`.
        <[Cell<T>]>::as_ptr(self).cast()
    }
}

impl<T: Copy> ValueSlice<T> for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn as_ptr(&self) -> *const T {
        Vec::as_ptr(self)
    }
}

impl<T: Copy, const N: usize> ValueSlice<T> for [T; N] {
    fn len(&self) -> usize {
        N
    }
    fn as_ptr(&self) -> *const T {
        <[T]>::as_ptr(self)
    }
}

/// Where a generated function writes its outputs: `&mut [T]`,
/// `&mut Vec<T>` or `&[Cell<T>]`.
pub trait OutSlice<T: Copy>: sealed::Sealed {
    /// Number of values.
    fn len(&self) -> usize;
    /// True when there are no values.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Address of the first value, valid for writes of `len()` values.
    fn as_mut_ptr(&mut self) -> *mut T;
    /// Writes the value at `index`; panics when out of bounds.
    fn set(&mut self, index: usize, value: T);
}

impl<T: Copy> OutSlice<T> for &mut [T] {
    fn len(&self) -> usize {
        <[T]>::len(self)
    }
    fn as_mut_ptr(&mut self) -> *mut T {
        <[T]>::as_mut_ptr(self)
    }
    fn set(&mut self, index: usize, value: T) {
        self[index] = value;
    }
}

impl<T: Copy> OutSlice<T> for &mut Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn as_mut_ptr(&mut self) -> *mut T {
        Vec::as_mut_ptr(self)
    }
    fn set(&mut self, index: usize, value: T) {
        self[index] = value;
    }
}

impl<T: Copy> OutSlice<T> for &[Cell<T>] {
    fn len(&self) -> usize {
        <[Cell<T>]>::len(self)
    }
    fn as_mut_ptr(&mut self) -> *mut T {
        // Writing through a shared `&[Cell<T>]` is allowed: `Cell` wraps an
        // `UnsafeCell`, and `Cell<T>` has the same layout as `T`.
        <[Cell<T>]>::as_ptr(self).cast::<T>().cast_mut()
    }
    fn set(&mut self, index: usize, value: T) {
        self[index].set(value);
    }
}

/// All inputs of a generated function as plain slices (for the evaluator
/// and for calls that pick the function at run time). Arrays a function
/// does not read may be left empty.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a, T> {
    /// The time `t`.
    pub t: T,
    /// The state vector.
    pub state: &'a [T],
    /// The parameters.
    pub parameters: &'a [T],
    /// The drivers at `t`.
    pub drivers: &'a [T],
    /// The drivers' time derivatives at `t`.
    pub driver_rates: &'a [T],
    /// The direction `v` of a Jacobian-vector product.
    pub direction: &'a [T],
}

impl<'a, T> Inputs<'a, T> {
    /// Time, state and parameters; every other array empty.
    pub fn new(t: T, state: &'a [T], parameters: &'a [T]) -> Self {
        Self {
            t,
            state,
            parameters,
            drivers: &[],
            driver_rates: &[],
            direction: &[],
        }
    }

    /// The same inputs with `drivers`.
    pub fn with_drivers(self, drivers: &'a [T]) -> Self {
        Self { drivers, ..self }
    }

    /// The same inputs with `driver_rates`.
    pub fn with_driver_rates(self, driver_rates: &'a [T]) -> Self {
        Self {
            driver_rates,
            ..self
        }
    }

    /// The same inputs with `direction`.
    pub fn with_direction(self, direction: &'a [T]) -> Self {
        Self { direction, ..self }
    }

    /// The arrays in calling-convention order.
    pub fn arrays(&self) -> [&'a [T]; 5] {
        [
            self.state,
            self.parameters,
            self.drivers,
            self.driver_rates,
            self.direction,
        ]
    }
}

/// An argument of the wrong length.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{function}: `{argument}` has {found} values, expected {expected}{hint}")]
pub struct LengthError {
    /// The function's name.
    pub function: &'static str,
    /// The argument's name.
    pub argument: &'static str,
    /// The required length.
    pub expected: usize,
    /// The length given.
    pub found: usize,
    /// Whether an empty slice would also be accepted (the function does
    /// not read this argument).
    hint: &'static str,
}

/// The lengths one generated function accepts, precomputed so that the
/// check on every call is a handful of comparisons.
#[derive(Debug, Clone, Copy)]
pub struct ArgumentSpec {
    function: SystemFunction,
    expected: [usize; 5],
    reads: [bool; 5],
    n_outputs: usize,
}

impl ArgumentSpec {
    /// The accepted lengths for `schedule` under the declared `sizes`.
    pub fn new(schedule: &FunctionSchedule, sizes: InputSizes) -> Self {
        Self {
            function: schedule.function(),
            expected: InputArray::ALL.map(|a| sizes.len(a)),
            reads: InputArray::ALL.map(|a| schedule.reads(a)),
            n_outputs: schedule.n_outputs(),
        }
    }

    /// Number of output values.
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    /// Checks input lengths (calling-convention order) and the output
    /// length. An input must have its declared length, or be empty when
    /// the function does not read it; the output must have exactly one
    /// value per root.
    #[inline]
    pub fn check(&self, inputs: [usize; 5], out: usize) -> Result<(), LengthError> {
        for (i, &found) in inputs.iter().enumerate() {
            if found != self.expected[i] && (found != 0 || self.reads[i]) {
                return Err(self.error(InputArray::ALL[i].name(), self.expected[i], found, i));
            }
        }
        if out != self.n_outputs {
            return Err(LengthError {
                function: self.function.name(),
                argument: "out",
                expected: self.n_outputs,
                found: out,
                hint: "",
            });
        }
        Ok(())
    }

    /// Checks the arrays of a lane block of `width` lanes: lengths (in
    /// elements, `(len, width)` per array) as [`check`](Self::check) does,
    /// then that every non-empty input is `width` lanes wide and that
    /// `width` is at most `max_width`. A wrong width is reported in values:
    /// `len * width` expected.
    #[inline]
    pub fn check_lanes(
        &self,
        inputs: [(usize, usize); 5],
        out: (usize, usize),
        max_width: usize,
    ) -> Result<(), LengthError> {
        self.check(inputs.map(|(len, _)| len), out.0)?;
        let width = out.1;
        let lane_error = |argument, len: usize, found_width: usize| LengthError {
            function: self.function.name(),
            argument,
            expected: len.saturating_mul(width.min(max_width)),
            found: len.saturating_mul(found_width),
            hint: "",
        };
        if width > max_width {
            return Err(lane_error("out", out.0, width));
        }
        for (i, &(len, found_width)) in inputs.iter().enumerate() {
            if len != 0 && found_width != width {
                return Err(lane_error(InputArray::ALL[i].name(), len, found_width));
            }
        }
        Ok(())
    }

    #[cold]
    fn error(
        &self,
        argument: &'static str,
        expected: usize,
        found: usize,
        i: usize,
    ) -> LengthError {
        LengthError {
            function: self.function.name(),
            argument,
            expected,
            found,
            hint: if self.reads[i] { "" } else { " (or 0)" },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::expr::{ExprGraph, Symbol};
    use crate::system::functions::SystemFunctions;
    use crate::system::schedule::Schedule;

    #[test]
    fn unread_arrays_may_be_empty_read_ones_must_match() {
        let mut g = ExprGraph::new();
        let x = g.symbol(Symbol::State(0));
        let p = g.symbol(Symbol::Parameter(1));
        let r = g.mul(x, p);
        let functions = SystemFunctions {
            graph: g,
            n_states: 1,
            n_parameters: 2,
            n_drivers: 3,
            dxdt: vec![r],
            ..Default::default()
        };
        let schedule = Schedule::new(&functions).expect("valid");
        let spec = ArgumentSpec::new(schedule.function(SystemFunction::Dxdt), schedule.sizes());
        assert!(spec.check([1, 2, 0, 0, 0], 1).is_ok());
        assert!(spec.check([1, 2, 3, 3, 1], 1).is_ok());
        let err = spec
            .check([1, 1, 0, 0, 0], 1)
            .expect_err("short parameters");
        assert_eq!(
            (err.argument, err.expected, err.found),
            ("parameters", 2, 1)
        );
        let err = spec.check([1, 2, 2, 0, 0], 1).expect_err("wrong drivers");
        assert_eq!(
            err.to_string(),
            "dxdt: `drivers` has 2 values, expected 3 (or 0)"
        );
        let err = spec.check([1, 2, 0, 0, 0], 2).expect_err("wrong out");
        assert_eq!(err.argument, "out");
    }
}
