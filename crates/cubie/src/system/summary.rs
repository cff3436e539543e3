//! A model at a glance: declarations and the size of each generated
//! function, for `cubie check` (as text or JSON).

use std::fmt;

use serde::Serialize;

use crate::precision::Precision;

use super::functions::{SystemFunction, SystemFunctions};
use super::model::{Model, NamedValue};

/// The largest Jacobian, in non-zero entries, whose operations a summary
/// counts: beyond it, building the Jacobian only to count would cost more
/// than the check itself.
pub const SUMMARY_JACOBIAN_LIMIT: usize = 1_000_000;

/// Operations to evaluate one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OpCount {
    /// As separate trees (no common subexpressions shared).
    pub tree: u64,
    /// With every common subexpression computed once.
    pub shared: usize,
}

/// [`OpCount`] of every generated function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FunctionOpCounts {
    /// `dx/dt`.
    pub dxdt: OpCount,
    /// The observables.
    pub observables: OpCount,
    /// The Jacobian's non-zero entries; `None` when it has more than
    /// [`SUMMARY_JACOBIAN_LIMIT`] of them (it is then not built for the
    /// summary).
    pub jacobian: Option<OpCount>,
    /// The Jacobian-vector product.
    pub jvp: OpCount,
    /// `df/dt`.
    pub dfdt: OpCount,
}

/// A summary of a checked model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSummary {
    /// The model's name.
    pub name: String,
    /// Its precision.
    pub precision: Precision,
    /// States with default initial values.
    pub states: Vec<NamedValue>,
    /// Parameters with default values.
    pub parameters: Vec<NamedValue>,
    /// Constants with their values.
    pub constants: Vec<NamedValue>,
    /// Drivers with default values.
    pub drivers: Vec<NamedValue>,
    /// Observables, in saving order.
    pub observables: Vec<String>,
    /// Auxiliaries, in dependency order.
    pub auxiliaries: Vec<String>,
    /// Jacobian entries that are not identically zero.
    pub jacobian_nonzeros: usize,
    /// Operation counts before and after sharing.
    pub operations: FunctionOpCounts,
}

fn count(f: &SystemFunctions, function: SystemFunction) -> OpCount {
    let roots = f.roots(function);
    OpCount {
        tree: f.graph.tree_op_count(roots),
        shared: f.graph.shared_op_count(roots),
    }
}

impl ModelSummary {
    /// The summary of `model`.
    pub fn of(model: &Model) -> Self {
        let f = model.functions();
        let jacobian_nonzeros = model.jacobian_nonzeros();
        ModelSummary {
            name: model.name().to_string(),
            precision: model.precision(),
            states: model.states().to_vec(),
            parameters: model.parameters().to_vec(),
            constants: model.constants().to_vec(),
            drivers: model.drivers().to_vec(),
            observables: model.observables().to_vec(),
            auxiliaries: model.auxiliaries().to_vec(),
            jacobian_nonzeros,
            operations: FunctionOpCounts {
                dxdt: count(f, SystemFunction::Dxdt),
                observables: count(f, SystemFunction::Observables),
                jacobian: (jacobian_nonzeros <= SUMMARY_JACOBIAN_LIMIT)
                    .then(|| count(model.functions_with_jacobian(), SystemFunction::Jacobian)),
                jvp: count(f, SystemFunction::Jvp),
                dfdt: count(f, SystemFunction::Dfdt),
            },
        }
    }
}

fn values(list: &[NamedValue]) -> String {
    if list.is_empty() {
        return "-".into();
    }
    let items: Vec<String> = list
        .iter()
        .map(|v| format!("{} = {}", v.name, v.value))
        .collect();
    items.join(", ")
}

fn names(list: &[String]) -> String {
    if list.is_empty() {
        "-".into()
    } else {
        list.join(", ")
    }
}

impl fmt::Display for ModelSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "model `{}` ({})", self.name, self.precision)?;
        let rows = [
            ("states", self.states.len(), values(&self.states)),
            (
                "parameters",
                self.parameters.len(),
                values(&self.parameters),
            ),
            ("constants", self.constants.len(), values(&self.constants)),
            ("drivers", self.drivers.len(), values(&self.drivers)),
            (
                "observables",
                self.observables.len(),
                names(&self.observables),
            ),
            (
                "auxiliaries",
                self.auxiliaries.len(),
                names(&self.auxiliaries),
            ),
        ];
        for (label, n, text) in rows {
            writeln!(f, "  {:<17} {text}", format!("{label} ({n}):"))?;
        }
        let n = self.states.len();
        writeln!(
            f,
            "  jacobian:         {} of {} entries non-zero",
            self.jacobian_nonzeros,
            n.saturating_mul(n)
        )?;
        writeln!(f, "  operations         tree    shared")?;
        let ops = &self.operations;
        for (label, c) in [
            ("dxdt", Some(ops.dxdt)),
            ("observables", Some(ops.observables)),
            ("jacobian", ops.jacobian),
            ("jvp", Some(ops.jvp)),
            ("dfdt", Some(ops.dfdt)),
        ] {
            match c {
                Some(c) => writeln!(f, "    {label:<13} {:>9} {:>9}", c.tree, c.shared)?,
                None => writeln!(
                    f,
                    "    {label:<13} not counted (over {SUMMARY_JACOBIAN_LIMIT} non-zeros)"
                )?,
            }
        }
        Ok(())
    }
}
