//! From `dxdt` and the observables to every [`SystemFunctions`] root: the
//! dense Jacobian, the Jacobian-vector product and `df/dt`.

use super::diff::Differentiator;
use super::expr::{ExprGraph, ExprId, Symbol};
use super::functions::SystemFunctions;

/// The sizes of a model's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputCounts {
    /// Number of states (and of `dxdt` roots).
    pub states: usize,
    /// Number of parameters.
    pub parameters: usize,
    /// Number of drivers.
    pub drivers: usize,
}

/// Builds every function of a model from its `dxdt` and observable roots
/// (all in `graph`, which receives the derivatives).
///
/// - Jacobian, row-major: `J[i * n + j] = d dxdt_i / d State(j)`.
/// - JVP: `sum_j J[i][j] * Direction(j)`, sharing the Jacobian's nodes.
/// - dfdt: `d dxdt_i / dt + sum_k d dxdt_i / d Driver(k) * DriverRate(k)`.
pub fn build_system_functions(
    mut graph: ExprGraph,
    dxdt: Vec<ExprId>,
    observables: Vec<ExprId>,
    counts: InputCounts,
) -> SystemFunctions {
    let n = counts.states;
    let mut d = Differentiator::new();
    let columns: Vec<Vec<ExprId>> = (0..n)
        .map(|j| d.diff_many(&mut graph, &dxdt, Symbol::State(index(j))))
        .collect();
    let jacobian: Vec<ExprId> = (0..n)
        .flat_map(|i| columns.iter().map(move |col| col[i]))
        .collect();

    let directions: Vec<ExprId> = (0..n)
        .map(|j| graph.symbol(Symbol::Direction(index(j))))
        .collect();
    let jvp = (0..n)
        .map(|i| {
            let zero = graph.constant(0.0);
            (0..n).fold(zero, |acc, j| {
                let term = graph.mul(jacobian[i * n + j], directions[j]);
                graph.add(acc, term)
            })
        })
        .collect();

    let mut dfdt = d.diff_many(&mut graph, &dxdt, Symbol::Time);
    for k in 0..counts.drivers {
        let partial = d.diff_many(&mut graph, &dxdt, Symbol::Driver(index(k)));
        let rate = graph.symbol(Symbol::DriverRate(index(k)));
        for (total, p) in dfdt.iter_mut().zip(partial) {
            let term = graph.mul(p, rate);
            *total = graph.add(*total, term);
        }
    }

    SystemFunctions {
        graph,
        n_states: n,
        n_parameters: counts.parameters,
        n_drivers: counts.drivers,
        dxdt,
        observables,
        jvp,
        dfdt,
        jacobian,
    }
}

/// Symbol indices are `u32`; models are far smaller than that.
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}
