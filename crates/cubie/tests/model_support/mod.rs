//! Test helpers for the model front-end: a reference evaluator over the
//! expression graph (the production evaluator lives elsewhere) and a small
//! deterministic random source.

#![allow(dead_code)]

use cubie::system::SystemFunctions;
use cubie::system::expr::{ExprGraph, ExprId, Node, Symbol};

/// Values of every input symbol.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub t: f64,
    pub states: Vec<f64>,
    pub parameters: Vec<f64>,
    pub drivers: Vec<f64>,
    pub driver_rates: Vec<f64>,
    pub direction: Vec<f64>,
}

/// Evaluates `roots` by walking the nodes they reach in id order.
pub fn eval(graph: &ExprGraph, roots: &[ExprId], inputs: &Inputs) -> Vec<f64> {
    let mut v = vec![f64::NAN; graph.len()];
    for id in graph.reachable(roots) {
        v[id.index()] = match *graph.node(id) {
            Node::Const(bits) => f64::from_bits(bits),
            Node::Symbol(s) => match s {
                Symbol::Time => inputs.t,
                Symbol::State(k) => inputs.states[k as usize],
                Symbol::Parameter(k) => inputs.parameters[k as usize],
                Symbol::Driver(k) => inputs.drivers[k as usize],
                Symbol::DriverRate(k) => inputs.driver_rates[k as usize],
                Symbol::Direction(k) => inputs.direction[k as usize],
            },
            Node::Unary(op, a) => op.apply(v[a.index()]),
            Node::Binary(op, a, b) => op.apply(v[a.index()], v[b.index()]),
            Node::Select(c, a, b) => {
                if v[c.index()] != 0.0 {
                    v[a.index()]
                } else {
                    v[b.index()]
                }
            }
        };
    }
    roots.iter().map(|r| v[r.index()]).collect()
}

/// The dense Jacobian, row-major, from its built non-zero entries.
pub fn eval_jacobian(f: &SystemFunctions, inputs: &Inputs) -> Vec<f64> {
    let n = f.n_states;
    let jacobian = f.jacobian.as_ref().expect("the Jacobian was built");
    let values = eval(&f.graph, jacobian.values(), inputs);
    let mut dense = vec![0.0; n * n];
    for (&(i, j), v) in jacobian.positions().iter().zip(values) {
        dense[i as usize * n + j as usize] = v;
    }
    dense
}

/// A deterministic pseudo-random source (64-bit LCG).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407))
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = (self.0 >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * u
    }
}
