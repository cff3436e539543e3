//! Which nodes each generated function computes, and in which order.
//!
//! The schedule is backend-neutral: every lowering (the tree-walking
//! evaluator, the native JIT, a CUDA C emitter) walks the same list. For one
//! [`SystemFunction`] it holds the nodes reachable from the function's roots
//! in ascending id order (children before parents, each node once, so common
//! subexpressions are computed once), the input symbols among them (to be
//! loaded up front), and which input arrays the function reads at all.
//!
//! Building a schedule also validates the functions against their declared
//! sizes, so that lowered code never reads past the end of an input array.

use thiserror::Error;

use super::expr::{ExprId, Node, Symbol};
use super::functions::{SystemFunction, SystemFunctions};

/// One of the arrays a generated function reads (besides the scalar `t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputArray {
    /// The state vector (`n_states`).
    State,
    /// The parameters (`n_parameters`).
    Parameters,
    /// The drivers (`n_drivers`).
    Drivers,
    /// The drivers' time derivatives (`n_drivers`).
    DriverRates,
    /// The direction of a Jacobian-vector product (`n_states`).
    Direction,
}

impl InputArray {
    /// Every input array, in calling-convention order.
    pub const ALL: [InputArray; 5] = [
        InputArray::State,
        InputArray::Parameters,
        InputArray::Drivers,
        InputArray::DriverRates,
        InputArray::Direction,
    ];

    /// Position in the calling convention (0 for `state` .. 4 for `direction`).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The argument's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            InputArray::State => "state",
            InputArray::Parameters => "parameters",
            InputArray::Drivers => "drivers",
            InputArray::DriverRates => "driver_rates",
            InputArray::Direction => "direction",
        }
    }

    /// The array a symbol is read from and its index there; `None` for `t`.
    pub fn of(symbol: Symbol) -> Option<(InputArray, u32)> {
        match symbol {
            Symbol::Time => None,
            Symbol::State(i) => Some((InputArray::State, i)),
            Symbol::Parameter(i) => Some((InputArray::Parameters, i)),
            Symbol::Driver(i) => Some((InputArray::Drivers, i)),
            Symbol::DriverRate(i) => Some((InputArray::DriverRates, i)),
            Symbol::Direction(i) => Some((InputArray::Direction, i)),
        }
    }
}

/// Declared lengths of the input arrays of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputSizes {
    /// Number of states (also the length of `direction`).
    pub n_states: usize,
    /// Number of parameters.
    pub n_parameters: usize,
    /// Number of drivers (also the length of `driver_rates`).
    pub n_drivers: usize,
}

impl InputSizes {
    /// The declared length of one input array.
    pub fn len(&self, array: InputArray) -> usize {
        match array {
            InputArray::State | InputArray::Direction => self.n_states,
            InputArray::Parameters => self.n_parameters,
            InputArray::Drivers | InputArray::DriverRates => self.n_drivers,
        }
    }
}

/// A [`SystemFunctions`] that cannot be lowered safely.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScheduleError {
    /// A root id does not name a node of the graph.
    #[error("{function}: root {index} is node {root}, but the graph has only {len} nodes")]
    RootOutOfRange {
        /// The function's name.
        function: &'static str,
        /// Position of the root among the function's roots.
        index: usize,
        /// The offending id.
        root: u32,
        /// Number of nodes in the graph.
        len: usize,
    },
    /// A root is written past the end of its function's output.
    #[error("{function}: root {index} is written at {position}, but the output has {len} values")]
    OutputOutOfRange {
        /// The function's name.
        function: &'static str,
        /// Position of the root among the function's roots.
        index: usize,
        /// Where it would be written.
        position: usize,
        /// The output's length.
        len: usize,
    },
    /// A symbol reads past the declared length of its input array.
    #[error("{function}: reads {array}[{index}], but {array} has only {len} values")]
    SymbolOutOfRange {
        /// The function's name.
        function: &'static str,
        /// The input array's name.
        array: &'static str,
        /// The index read.
        index: u32,
        /// The declared length.
        len: usize,
    },
}

/// The evaluation plan of one generated function.
#[derive(Debug, Clone)]
pub struct FunctionSchedule {
    function: SystemFunction,
    nodes: Vec<ExprId>,
    inputs: Vec<(ExprId, Symbol)>,
    roots: Vec<ExprId>,
    n_outputs: usize,
    positions: Option<Vec<usize>>,
    reads: [bool; 5],
    reads_time: bool,
}

impl FunctionSchedule {
    fn new(
        functions: &SystemFunctions,
        sizes: InputSizes,
        function: SystemFunction,
    ) -> Result<Self, ScheduleError> {
        let graph = &functions.graph;
        let roots = functions.roots(function);
        let n_outputs = functions.output_len(function);
        let positions = functions.output_positions(function);
        if let Some(positions) = &positions
            && let Some((index, &at)) = positions.iter().enumerate().find(|(_, p)| **p >= n_outputs)
        {
            return Err(ScheduleError::OutputOutOfRange {
                function: function.name(),
                index,
                position: at,
                len: n_outputs,
            });
        }
        // Ids are only checked here: `reachable` would index out of bounds.
        for (index, root) in roots.iter().enumerate() {
            if root.index() >= graph.len() {
                return Err(ScheduleError::RootOutOfRange {
                    function: function.name(),
                    index,
                    root: root.0,
                    len: graph.len(),
                });
            }
        }
        let nodes = graph.reachable(roots);
        let mut inputs = Vec::new();
        let mut reads = [false; 5];
        let mut reads_time = false;
        for &id in &nodes {
            let Node::Symbol(symbol) = *graph.node(id) else {
                continue;
            };
            inputs.push((id, symbol));
            match InputArray::of(symbol) {
                None => reads_time = true,
                Some((array, index)) => {
                    let len = sizes.len(array);
                    if index as usize >= len {
                        return Err(ScheduleError::SymbolOutOfRange {
                            function: function.name(),
                            array: array.name(),
                            index,
                            len,
                        });
                    }
                    reads[array.index()] = true;
                }
            }
        }
        Ok(Self {
            function,
            nodes,
            inputs,
            roots: roots.to_vec(),
            n_outputs,
            positions,
            reads,
            reads_time,
        })
    }

    /// The function this plan computes.
    pub fn function(&self) -> SystemFunction {
        self.function
    }

    /// Every node reachable from the roots, in ascending id order: a valid
    /// evaluation order in which each node appears once.
    pub fn nodes(&self) -> &[ExprId] {
        &self.nodes
    }

    /// The symbol nodes among [`nodes`](Self::nodes), in ascending id order
    /// (each input value is read once).
    pub fn inputs(&self) -> &[(ExprId, Symbol)] {
        &self.inputs
    }

    /// The roots, in output order (one output value each; a node may be
    /// the root of several outputs).
    pub fn roots(&self) -> &[ExprId] {
        &self.roots
    }

    /// Number of output values (the dense length for a scattered
    /// function such as the Jacobian).
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    /// Where each root is written, when not root `k` at `k`: the output is
    /// then zero but at these positions (the Jacobian's non-zeros).
    pub fn positions(&self) -> Option<&[usize]> {
        self.positions.as_deref()
    }

    /// The output position of root `k`.
    pub fn position(&self, k: usize) -> usize {
        self.positions.as_ref().map_or(k, |p| p[k])
    }

    /// True when the function reads at least one value of `array`.
    pub fn reads(&self, array: InputArray) -> bool {
        self.reads[array.index()]
    }

    /// True when the function depends on `t`.
    pub fn reads_time(&self) -> bool {
        self.reads_time
    }
}

/// The evaluation plans of every [`SystemFunction`] of a model.
#[derive(Debug, Clone)]
pub struct Schedule {
    sizes: InputSizes,
    functions: Vec<FunctionSchedule>,
}

impl Schedule {
    /// Plans every function of `functions`, checking that all roots exist
    /// and every symbol lies within its declared input length.
    pub fn new(functions: &SystemFunctions) -> Result<Self, ScheduleError> {
        let sizes = InputSizes {
            n_states: functions.n_states,
            n_parameters: functions.n_parameters,
            n_drivers: functions.n_drivers,
        };
        let functions = SystemFunction::ALL
            .iter()
            .map(|&f| FunctionSchedule::new(functions, sizes, f))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { sizes, functions })
    }

    /// The declared input lengths.
    pub fn sizes(&self) -> InputSizes {
        self.sizes
    }

    /// The plan of one function.
    pub fn function(&self, function: SystemFunction) -> &FunctionSchedule {
        &self.functions[slot(function)]
    }

    /// All plans, in [`SystemFunction::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = &FunctionSchedule> {
        self.functions.iter()
    }
}

/// Position of a function in [`SystemFunction::ALL`].
pub(crate) fn slot(function: SystemFunction) -> usize {
    match function {
        SystemFunction::Dxdt => 0,
        SystemFunction::Observables => 1,
        SystemFunction::Jvp => 2,
        SystemFunction::Dfdt => 3,
        SystemFunction::Jacobian => 4,
        SystemFunction::JacobianDiagonal => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::expr::{ExprGraph, UnaryOp};

    #[test]
    fn plans_only_reachable_nodes_in_id_order() {
        let mut g = ExprGraph::new();
        let x = g.symbol(Symbol::State(0));
        let p = g.symbol(Symbol::Parameter(0));
        let unused = g.unary(UnaryOp::Cos, p);
        let s = g.unary(UnaryOp::Sin, x);
        let r = g.mul(s, s);
        let functions = SystemFunctions {
            graph: g,
            n_states: 1,
            n_parameters: 1,
            dxdt: vec![r, s],
            ..Default::default()
        };
        let schedule = Schedule::new(&functions).expect("valid");
        let dxdt = schedule.function(SystemFunction::Dxdt);
        assert_eq!(dxdt.nodes(), &[x, s, r]);
        assert!(!dxdt.nodes().contains(&unused));
        assert_eq!(dxdt.inputs(), &[(x, Symbol::State(0))]);
        assert!(dxdt.reads(InputArray::State));
        assert!(!dxdt.reads(InputArray::Parameters));
        assert!(!dxdt.reads_time());
        assert_eq!(dxdt.n_outputs(), 2);
        assert_eq!(
            schedule.function(SystemFunction::Observables).n_outputs(),
            0
        );
    }

    #[test]
    fn rejects_symbols_past_declared_sizes_and_bad_roots() {
        let mut g = ExprGraph::new();
        let d = g.symbol(Symbol::Driver(2));
        let mut functions = SystemFunctions {
            graph: g,
            n_states: 1,
            n_drivers: 2,
            observables: vec![d],
            ..Default::default()
        };
        assert_eq!(
            Schedule::new(&functions).map(|_| ()),
            Err(ScheduleError::SymbolOutOfRange {
                function: "observables",
                array: "drivers",
                index: 2,
                len: 2,
            })
        );
        functions.observables = vec![ExprId(7)];
        assert!(matches!(
            Schedule::new(&functions),
            Err(ScheduleError::RootOutOfRange { root: 7, .. })
        ));
    }
}
