//! The tree-walking evaluator: the reference semantics of a model's
//! functions in `f32` or `f64`, and a slow fallback where no native code is
//! available.
//!
//! Every operation is done in `T` with Rust's own function for that type
//! (`f32::sin` for `f32`), exactly as [`UnaryOp::apply`] and
//! [`BinaryOp::apply`] do for `f64`. Literals are rounded to `T` once.

use super::args::{ArgumentSpec, Inputs, LengthError, OutSlice};
use super::expr::{BinaryOp, ExprGraph, Node, Symbol, UnaryOp};
use super::functions::{SystemFunction, SystemFunctions};
use super::schedule::{Schedule, ScheduleError, slot};
use crate::precision::Real;

/// `op(x)` computed in `T`; for `f64` identical to [`UnaryOp::apply`].
#[inline]
pub fn apply_unary<T: Real>(op: UnaryOp, x: T) -> T {
    match op {
        UnaryOp::Neg => -x,
        UnaryOp::Exp => x.exp(),
        UnaryOp::Expm1 => x.exp_m1(),
        UnaryOp::Ln => x.ln(),
        UnaryOp::Log1p => x.ln_1p(),
        UnaryOp::Log10 => x.log10(),
        UnaryOp::Log2 => x.log2(),
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Cbrt => x.cbrt(),
        UnaryOp::Abs => x.abs(),
        UnaryOp::Sin => x.sin(),
        UnaryOp::Cos => x.cos(),
        UnaryOp::Tan => x.tan(),
        UnaryOp::Asin => x.asin(),
        UnaryOp::Acos => x.acos(),
        UnaryOp::Atan => x.atan(),
        UnaryOp::Sinh => x.sinh(),
        UnaryOp::Cosh => x.cosh(),
        UnaryOp::Tanh => x.tanh(),
        UnaryOp::Asinh => x.asinh(),
        UnaryOp::Acosh => x.acosh(),
        UnaryOp::Atanh => x.atanh(),
        UnaryOp::Floor => x.floor(),
        UnaryOp::Ceil => x.ceil(),
        UnaryOp::Sign => sign(x),
        UnaryOp::Heaviside => heaviside(x),
        UnaryOp::Not => bool_value(x == T::zero()),
    }
}

/// `op(a, b)` computed in `T`; for `f64` identical to [`BinaryOp::apply`].
#[inline]
pub fn apply_binary<T: Real>(op: BinaryOp, a: T, b: T) -> T {
    let zero = T::zero();
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        BinaryOp::Pow => a.powf(b),
        BinaryOp::Atan2 => a.atan2(b),
        BinaryOp::Hypot => a.hypot(b),
        BinaryOp::Min => a.min(b),
        BinaryOp::Max => a.max(b),
        BinaryOp::Lt => bool_value(a < b),
        BinaryOp::Le => bool_value(a <= b),
        BinaryOp::Gt => bool_value(a > b),
        BinaryOp::Ge => bool_value(a >= b),
        BinaryOp::Eq => bool_value(a == b),
        BinaryOp::Ne => bool_value(a != b),
        BinaryOp::And => bool_value(a != zero && b != zero),
        BinaryOp::Or => bool_value(a != zero || b != zero),
    }
}

/// `c != 0 ? a : b`, the value of [`Node::Select`].
#[inline]
pub fn select<T: Real>(c: T, a: T, b: T) -> T {
    if c != T::zero() { a } else { b }
}

/// `sign(x)`: -1, 0 or 1; NaN stays NaN.
fn sign<T: Real>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        x
    }
}

/// `heaviside(x)`: 0 below zero, 1 above, one half at zero; NaN stays NaN.
fn heaviside<T: Real>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        T::zero()
    } else if x == T::zero() {
        T::from_f64(0.5)
    } else {
        x
    }
}

fn bool_value<T: Real>(b: bool) -> T {
    if b { T::one() } else { T::zero() }
}

/// The value of one input symbol.
fn symbol_value<T: Real>(symbol: Symbol, inputs: &Inputs<'_, T>) -> T {
    match symbol {
        Symbol::Time => inputs.t,
        Symbol::State(i) => inputs.state[i as usize],
        Symbol::Parameter(i) => inputs.parameters[i as usize],
        Symbol::Driver(i) => inputs.drivers[i as usize],
        Symbol::DriverRate(i) => inputs.driver_rates[i as usize],
        Symbol::Direction(i) => inputs.direction[i as usize],
    }
}

/// Evaluates a model's functions by walking their schedules.
///
/// Holds one scratch value per graph node, so a call allocates nothing.
#[derive(Debug, Clone)]
pub struct Evaluator<'f, T> {
    graph: &'f ExprGraph,
    schedule: Schedule,
    specs: Vec<ArgumentSpec>,
    values: Vec<T>,
}

impl<'f, T: Real> Evaluator<'f, T> {
    /// Plans every function of `functions` (see [`Schedule::new`]).
    pub fn new(functions: &'f SystemFunctions) -> Result<Self, ScheduleError> {
        let schedule = Schedule::new(functions)?;
        let specs = schedule
            .iter()
            .map(|s| ArgumentSpec::new(s, schedule.sizes()))
            .collect();
        Ok(Self {
            graph: &functions.graph,
            schedule,
            specs,
            values: vec![T::zero(); functions.graph.len()],
        })
    }

    /// The schedule the evaluator walks.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Number of output values of `function`.
    pub fn n_outputs(&self, function: SystemFunction) -> usize {
        self.specs[slot(function)].n_outputs()
    }

    /// Computes `function` at `inputs`, writing one value per root to
    /// `out`. Lengths are checked as for the native code: each input its
    /// declared length, or empty when the function does not read it.
    pub fn eval(
        &mut self,
        function: SystemFunction,
        inputs: &Inputs<'_, T>,
        mut out: impl OutSlice<T>,
    ) -> Result<(), LengthError> {
        self.specs[slot(function)].check(inputs.arrays().map(<[T]>::len), out.len())?;
        let schedule = self.schedule.function(function);
        let values = &mut self.values;
        for &id in schedule.nodes() {
            let v = match *self.graph.node(id) {
                Node::Const(bits) => T::from_f64(f64::from_bits(bits)),
                Node::Symbol(symbol) => symbol_value(symbol, inputs),
                Node::Unary(op, a) => apply_unary(op, values[a.index()]),
                Node::Binary(op, a, b) => apply_binary(op, values[a.index()], values[b.index()]),
                Node::Select(c, a, b) => {
                    select(values[c.index()], values[a.index()], values[b.index()])
                }
            };
            values[id.index()] = v;
        }
        if schedule.positions().is_some() {
            for k in 0..out.len() {
                out.set(k, T::zero());
            }
        }
        for (k, root) in schedule.roots().iter().enumerate() {
            out.set(schedule.position(k), values[root.index()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn f64_ops_match_the_reference_apply() {
        let samples = [
            -3.5,
            -1.0,
            -0.5,
            -0.0,
            0.0,
            0.25,
            0.5,
            1.0,
            2.0,
            7.25,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for op in UnaryOp::ALL {
            for x in samples {
                assert!(same(apply_unary(op, x), op.apply(x)), "{op:?}({x})");
            }
        }
        for op in BinaryOp::ALL {
            for a in samples {
                for b in samples {
                    assert!(
                        same(apply_binary(op, a, b), op.apply(a, b)),
                        "{op:?}({a}, {b})"
                    );
                }
            }
        }
    }

    #[test]
    fn f32_ops_use_the_f32_functions() {
        assert_eq!(apply_unary(UnaryOp::Sin, 1.3f32), 1.3f32.sin());
        assert_eq!(
            apply_binary(BinaryOp::Pow, 1.7f32, 2.3f32),
            1.7f32.powf(2.3)
        );
        assert_eq!(apply_unary(UnaryOp::Heaviside, 0.0f32), 0.5);
        assert!(apply_unary(UnaryOp::Sign, f32::NAN).is_nan());
    }

    #[test]
    fn evaluates_shared_roots_and_checks_lengths() {
        let mut g = ExprGraph::new();
        let x = g.symbol(Symbol::State(0));
        let k = g.symbol(Symbol::Parameter(0));
        let t = g.symbol(Symbol::Time);
        let kx = g.mul(k, x);
        let r = g.add(kx, t);
        let functions = SystemFunctions {
            graph: g,
            n_states: 1,
            n_parameters: 1,
            dxdt: vec![r],
            observables: vec![kx, r, kx],
            ..Default::default()
        };
        let mut ev = Evaluator::<f64>::new(&functions).expect("valid");
        let inputs = Inputs::new(0.5, &[3.0], &[2.0]);
        let mut out = [0.0; 3];
        ev.eval(SystemFunction::Observables, &inputs, &mut out[..])
            .expect("lengths");
        assert_eq!(out, [6.0, 6.5, 6.0]);
        let mut one = [0.0];
        ev.eval(SystemFunction::Dxdt, &inputs, &mut one[..])
            .expect("lengths");
        assert_eq!(one, [6.5]);
        assert!(
            ev.eval(
                SystemFunction::Dxdt,
                &Inputs::new(0.5, &[], &[2.0]),
                &mut one[..]
            )
            .is_err()
        );
    }
}
