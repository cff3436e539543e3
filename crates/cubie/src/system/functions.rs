//! The functions a model provides to the solver, as roots in one shared
//! expression graph. This is the contract between the model front-end
//! (which builds the roots) and each lowering (native JIT, CUDA C), which
//! turns every [`SystemFunction`] into code with one calling convention:
//!
//! ```text
//! fn(t, state, parameters, drivers, driver_rates, direction, out)
//! ```
//!
//! where `out` receives one value per root, in order.

use serde::Serialize;

use super::expr::{ExprGraph, ExprId};

/// One generated function of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemFunction {
    /// `f(t, x)`: one derivative per state.
    Dxdt,
    /// The observables (auxiliaries saved like states), one per observable.
    Observables,
    /// `J(t, x) * v`, one entry per state; `v` is the `direction` input.
    Jvp,
    /// `df/dt` at fixed state, including drivers through the chain rule
    /// (`driver_rates` holds each driver's time derivative).
    Dfdt,
    /// The dense Jacobian `df_i/dx_j`, row-major (`n_states * n_states`),
    /// computed from its non-zero entries (the rest written as zero). Built
    /// only on request ([`SystemFunctions::with_jacobian`]): the dense
    /// linear solvers need it, nothing else does.
    Jacobian,
    /// The Jacobian's diagonal `df_i/dx_i` (`n_states`), for the Jacobi
    /// preconditioner; built with the Jacobian.
    JacobianDiagonal,
}

impl SystemFunction {
    /// Every function, in a fixed order.
    pub const ALL: [SystemFunction; 6] = [
        SystemFunction::Dxdt,
        SystemFunction::Observables,
        SystemFunction::Jvp,
        SystemFunction::Dfdt,
        SystemFunction::Jacobian,
        SystemFunction::JacobianDiagonal,
    ];

    /// A short name for generated symbols and messages.
    pub fn name(self) -> &'static str {
        match self {
            SystemFunction::Dxdt => "dxdt",
            SystemFunction::Observables => "observables",
            SystemFunction::Jvp => "jvp",
            SystemFunction::Dfdt => "dfdt",
            SystemFunction::Jacobian => "jacobian",
            SystemFunction::JacobianDiagonal => "jacobian_diagonal",
        }
    }
}

/// A model's functions: one graph and the roots of each function.
#[derive(Debug, Clone, Default)]
pub struct SystemFunctions {
    /// The graph every root lives in (shared subexpressions are computed
    /// once per generated function).
    pub graph: ExprGraph,
    /// Number of states.
    pub n_states: usize,
    /// Number of parameters.
    pub n_parameters: usize,
    /// Number of drivers.
    pub n_drivers: usize,
    /// Roots of `dxdt` (`n_states`).
    pub dxdt: Vec<ExprId>,
    /// Roots of the observables.
    pub observables: Vec<ExprId>,
    /// Roots of `J * v` (`n_states`).
    pub jvp: Vec<ExprId>,
    /// Roots of `df/dt` (`n_states`).
    pub dfdt: Vec<ExprId>,
    /// The Jacobian's non-zero entries, when it has been built (see
    /// [`SystemFunctions::with_jacobian`]).
    pub jacobian: Option<SparseJacobian>,
    /// Whether the Jacobian function writes the dense matrix; when false
    /// only its diagonal is a function (the dense matrix of a large model
    /// cannot even be addressed).
    pub dense_jacobian: bool,
}

/// The structurally non-zero entries of a Jacobian, row by row with
/// columns ascending.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseJacobian {
    positions: Vec<(u32, u32)>,
    values: Vec<ExprId>,
    diagonal_rows: Vec<u32>,
    diagonal_values: Vec<ExprId>,
}

impl SparseJacobian {
    /// The entries `values[k]` at `positions[k]` (row, column), which must
    /// be row by row with columns ascending, each once.
    pub fn new(positions: Vec<(u32, u32)>, values: Vec<ExprId>) -> SparseJacobian {
        let (diagonal_rows, diagonal_values) = positions
            .iter()
            .zip(&values)
            .filter(|((r, c), _)| r == c)
            .map(|(&(r, _), &v)| (r, v))
            .unzip();
        SparseJacobian {
            positions,
            values,
            diagonal_rows,
            diagonal_values,
        }
    }

    /// `(row, column)` of each entry.
    pub fn positions(&self) -> &[(u32, u32)] {
        &self.positions
    }

    /// Each entry's expression, in the order of [`positions`](Self::positions).
    pub fn values(&self) -> &[ExprId] {
        &self.values
    }

    /// The rows of the non-zero diagonal entries, ascending.
    pub fn diagonal_rows(&self) -> &[u32] {
        &self.diagonal_rows
    }

    /// The non-zero diagonal entries, in the order of
    /// [`diagonal_rows`](Self::diagonal_rows).
    pub fn diagonal_values(&self) -> &[ExprId] {
        &self.diagonal_values
    }

    /// The non-zero entries of a dense, row-major `n × n` matrix of
    /// expressions (entries that are the constant zero are dropped).
    pub fn from_dense(graph: &ExprGraph, n: usize, dense: &[ExprId]) -> SparseJacobian {
        let (mut positions, mut values) = (Vec::new(), Vec::new());
        for (k, &value) in dense.iter().enumerate().take(n.saturating_mul(n)) {
            if graph.const_value(value) == Some(0.0) {
                continue;
            }
            let (Ok(row), Ok(column)) = (u32::try_from(k / n), u32::try_from(k % n)) else {
                break;
            };
            positions.push((row, column));
            values.push(value);
        }
        SparseJacobian::new(positions, values)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when every entry is zero.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The entry at `(row, column)`, if it is non-zero.
    pub fn get(&self, row: usize, column: usize) -> Option<ExprId> {
        let key = (u32::try_from(row).ok()?, u32::try_from(column).ok()?);
        self.positions
            .binary_search(&key)
            .ok()
            .map(|k| self.values[k])
    }
}

impl SystemFunctions {
    /// The roots of one function.
    pub fn roots(&self, function: SystemFunction) -> &[ExprId] {
        match function {
            SystemFunction::Dxdt => &self.dxdt,
            SystemFunction::Observables => &self.observables,
            SystemFunction::Jvp => &self.jvp,
            SystemFunction::Dfdt => &self.dfdt,
            SystemFunction::Jacobian => match &self.jacobian {
                Some(j) if self.dense_jacobian => &j.values,
                _ => &[],
            },
            SystemFunction::JacobianDiagonal => {
                self.jacobian.as_ref().map_or(&[], |j| &j.diagonal_values)
            }
        }
    }

    /// Number of values `function` writes: one per root, except the
    /// Jacobian, which writes the whole dense matrix once built (and
    /// nothing before).
    pub fn output_len(&self, function: SystemFunction) -> usize {
        match function {
            SystemFunction::Jacobian if self.jacobian.is_some() && self.dense_jacobian => {
                self.n_states.saturating_mul(self.n_states)
            }
            SystemFunction::JacobianDiagonal if self.jacobian.is_some() => self.n_states,
            _ => self.roots(function).len(),
        }
    }

    /// Where each root of `function` is written in its output, when that
    /// is not simply root `k` at `k`: the Jacobian's entries at
    /// `row * n_states + column`.
    pub fn output_positions(&self, function: SystemFunction) -> Option<Vec<usize>> {
        match (function, &self.jacobian) {
            (SystemFunction::Jacobian, Some(j)) if self.dense_jacobian => Some(
                j.positions
                    .iter()
                    .map(|&(r, c)| {
                        (r as usize)
                            .saturating_mul(self.n_states)
                            .saturating_add(c as usize)
                    })
                    .collect(),
            ),
            (SystemFunction::JacobianDiagonal, Some(j)) => {
                Some(j.diagonal_rows.iter().map(|&r| r as usize).collect())
            }
            _ => None,
        }
    }

    /// Number of observables.
    pub fn n_observables(&self) -> usize {
        self.observables.len()
    }
}
