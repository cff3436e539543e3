//! From `dxdt` and the observables to every [`SystemFunctions`] root: the
//! Jacobian-vector product and `df/dt` by forward-mode differentiation,
//! and, on request, the Jacobian's non-zero entries by reverse mode.
//!
//! Nothing here grows with `n_states^2`: each product is one pass over
//! the equations' graph, and the Jacobian costs one pass over each row's
//! own dependencies.

use super::diff::{jacobian_pattern, sparse_jacobian, tangents};
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

/// Builds every function of a model but the Jacobian from its `dxdt` and
/// observable roots (all in `graph`, which receives the derivatives).
///
/// - JVP: `sum_j d dxdt_i / d State(j) * Direction(j)`, the tangent of
///   `dxdt` when each state moves along its direction.
/// - dfdt: `d dxdt_i / dt + sum_k d dxdt_i / d Driver(k) * DriverRate(k)`,
///   the tangent when `t` moves at unit rate and each driver at its rate.
pub fn build_system_functions(
    mut graph: ExprGraph,
    dxdt: Vec<ExprId>,
    observables: Vec<ExprId>,
    counts: InputCounts,
) -> SystemFunctions {
    let jvp = tangents(&mut graph, &dxdt, |g, s| match s {
        Symbol::State(j) => Some(g.symbol(Symbol::Direction(j))),
        _ => None,
    });
    let dfdt = tangents(&mut graph, &dxdt, |g, s| match s {
        Symbol::Time => Some(g.constant(1.0)),
        Symbol::Driver(k) => Some(g.symbol(Symbol::DriverRate(k))),
        _ => None,
    });
    SystemFunctions {
        graph,
        n_states: counts.states,
        n_parameters: counts.parameters,
        n_drivers: counts.drivers,
        dxdt,
        observables,
        jvp,
        dfdt,
        jacobian: None,
        dense_jacobian: false,
    }
}

impl SystemFunctions {
    /// These functions with the Jacobian's non-zero entries built, as the
    /// dense matrix and its diagonal (a copy; `self` is unchanged). Needed
    /// only by the dense linear solvers.
    pub fn with_jacobian(&self) -> SystemFunctions {
        self.with_sparse_jacobian(true)
    }

    /// These functions with the Jacobian's diagonal built, not the dense
    /// matrix (a copy). Needed by the Jacobi preconditioner.
    pub fn with_jacobian_diagonal(&self) -> SystemFunctions {
        self.with_sparse_jacobian(false)
    }

    fn with_sparse_jacobian(&self, dense: bool) -> SystemFunctions {
        let mut functions = self.clone();
        if functions.jacobian.is_none() {
            let jacobian = sparse_jacobian(&mut functions.graph, &functions.dxdt);
            functions.jacobian = Some(jacobian);
        }
        functions.dense_jacobian = dense;
        functions
    }

    /// Number of structurally non-zero entries of the Jacobian, counted
    /// without building it.
    pub fn jacobian_nonzeros(&self) -> usize {
        match &self.jacobian {
            Some(j) => j.len(),
            None => {
                let mut count = 0;
                jacobian_pattern(&self.graph, &self.dxdt, |_, _| count += 1);
                count
            }
        }
    }
}
