//! The expression DAG: hash-consed nodes with constant folding and light
//! simplification.
//!
//! Every node is created through [`ExprGraph`], which returns the existing
//! id when an identical node already exists, so common subexpressions are
//! shared by construction. Children always have smaller ids than their
//! parents: evaluating nodes in id order is a valid schedule.
//!
//! Booleans (comparisons, `and`, `or`, `not`) are ordinary nodes whose value
//! is `1.0` (true) or `0.0` (false); [`Node::Select`] picks its second
//! operand when the condition is non-zero.

use std::collections::HashMap;
use std::fmt;

/// Index of a node in an [`ExprGraph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(pub u32);

impl ExprId {
    /// The index as `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A leaf that takes its value from a solve's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Symbol {
    /// The independent variable `t`.
    Time,
    /// The i-th state.
    State(u32),
    /// The i-th parameter (may differ in every run).
    Parameter(u32),
    /// The i-th driver (time-varying input).
    Driver(u32),
    /// The time derivative of the i-th driver (used by `df/dt`).
    DriverRate(u32),
    /// The i-th component of the direction `v` of a Jacobian-vector product.
    Direction(u32),
}

/// Functions of one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Exp,
    Expm1,
    Ln,
    Log1p,
    Log10,
    Log2,
    Sqrt,
    Cbrt,
    Abs,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Floor,
    Ceil,
    /// -1, 0 or 1 (0 at 0).
    Sign,
    /// 0 below zero, 1 above, 0.5 at zero.
    Heaviside,
    /// Logical not: 1 when the operand is 0, else 0.
    Not,
}

/// Functions of two arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Atan2,
    Hypot,
    Min,
    Max,
    /// Comparisons yield 1.0 or 0.0.
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    /// Logical and/or of two booleans (non-zero is true).
    And,
    Or,
}

impl UnaryOp {
    /// Every unary operation, for exhaustive tests.
    pub const ALL: [UnaryOp; 27] = [
        UnaryOp::Neg,
        UnaryOp::Exp,
        UnaryOp::Expm1,
        UnaryOp::Ln,
        UnaryOp::Log1p,
        UnaryOp::Log10,
        UnaryOp::Log2,
        UnaryOp::Sqrt,
        UnaryOp::Cbrt,
        UnaryOp::Abs,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Tan,
        UnaryOp::Asin,
        UnaryOp::Acos,
        UnaryOp::Atan,
        UnaryOp::Sinh,
        UnaryOp::Cosh,
        UnaryOp::Tanh,
        UnaryOp::Asinh,
        UnaryOp::Acosh,
        UnaryOp::Atanh,
        UnaryOp::Floor,
        UnaryOp::Ceil,
        UnaryOp::Sign,
        UnaryOp::Heaviside,
        UnaryOp::Not,
    ];

    /// The name used in the equation language (and in printed expressions).
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Exp => "exp",
            UnaryOp::Expm1 => "expm1",
            UnaryOp::Ln => "log",
            UnaryOp::Log1p => "log1p",
            UnaryOp::Log10 => "log10",
            UnaryOp::Log2 => "log2",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Cbrt => "cbrt",
            UnaryOp::Abs => "abs",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Tan => "tan",
            UnaryOp::Asin => "asin",
            UnaryOp::Acos => "acos",
            UnaryOp::Atan => "atan",
            UnaryOp::Sinh => "sinh",
            UnaryOp::Cosh => "cosh",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Asinh => "asinh",
            UnaryOp::Acosh => "acosh",
            UnaryOp::Atanh => "atanh",
            UnaryOp::Floor => "floor",
            UnaryOp::Ceil => "ceil",
            UnaryOp::Sign => "sign",
            UnaryOp::Heaviside => "heaviside",
            UnaryOp::Not => "not",
        }
    }

    /// Applies the operation in `f64` (the reference semantics that the
    /// JIT and the CUDA lowering must match).
    pub fn apply(self, x: f64) -> f64 {
        super::eval::apply_unary(self, x)
    }

    /// True for operations whose result is a boolean (0 or 1).
    pub fn is_boolean(self) -> bool {
        matches!(self, UnaryOp::Not)
    }
}

impl BinaryOp {
    /// Every binary operation, for exhaustive tests.
    pub const ALL: [BinaryOp; 17] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Pow,
        BinaryOp::Atan2,
        BinaryOp::Hypot,
        BinaryOp::Min,
        BinaryOp::Max,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::And,
        BinaryOp::Or,
    ];

    /// The operator symbol or function name.
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Pow => "^",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Hypot => "hypot",
            BinaryOp::Min => "min",
            BinaryOp::Max => "max",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
        }
    }

    /// True when the operator is written between its operands.
    pub fn is_infix(self) -> bool {
        !matches!(
            self,
            BinaryOp::Atan2 | BinaryOp::Hypot | BinaryOp::Min | BinaryOp::Max
        )
    }

    /// True when `a op b == b op a` for all values.
    pub fn is_commutative(self) -> bool {
        matches!(
            self,
            BinaryOp::Add
                | BinaryOp::Mul
                | BinaryOp::Hypot
                | BinaryOp::Min
                | BinaryOp::Max
                | BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::And
                | BinaryOp::Or
        )
    }

    /// True for operations whose result is a boolean (0 or 1).
    pub fn is_boolean(self) -> bool {
        matches!(
            self,
            BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge
                | BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::And
                | BinaryOp::Or
        )
    }

    /// Applies the operation in `f64` (the reference semantics).
    pub fn apply(self, a: f64, b: f64) -> f64 {
        super::eval::apply_binary(self, a, b)
    }
}

/// One node of the DAG. Constants are stored by bit pattern so that nodes
/// can be hashed; `-0.0` and `0.0` are distinct constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Node {
    /// A literal (bits of an `f64`).
    Const(u64),
    /// An input.
    Symbol(Symbol),
    /// `op(a)`.
    Unary(UnaryOp, ExprId),
    /// `op(a, b)`.
    Binary(BinaryOp, ExprId, ExprId),
    /// `if cond != 0 { a } else { b }`.
    Select(ExprId, ExprId, ExprId),
}

impl Node {
    /// The node's operands, in order.
    pub fn children(&self) -> impl Iterator<Item = ExprId> {
        let (n, ids) = match *self {
            Node::Const(_) | Node::Symbol(_) => (0, [ExprId(0); 3]),
            Node::Unary(_, a) => (1, [a, a, a]),
            Node::Binary(_, a, b) => (2, [a, b, b]),
            Node::Select(c, a, b) => (3, [c, a, b]),
        };
        ids.into_iter().take(n)
    }

    /// The constant value, if this node is a literal.
    pub fn as_const(&self) -> Option<f64> {
        match *self {
            Node::Const(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }
}

/// A hash-consed expression DAG.
#[derive(Debug, Clone, Default)]
pub struct ExprGraph {
    nodes: Vec<Node>,
    index: HashMap<Node, ExprId>,
}

impl ExprGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node behind an id.
    pub fn node(&self, id: ExprId) -> &Node {
        &self.nodes[id.index()]
    }

    /// All nodes in id (topological) order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The literal value of a node, if it is one.
    pub fn const_value(&self, id: ExprId) -> Option<f64> {
        self.node(id).as_const()
    }

    fn intern(&mut self, node: Node) -> ExprId {
        if let Some(&id) = self.index.get(&node) {
            return id;
        }
        let id = ExprId(u32::try_from(self.nodes.len()).expect("expression graph too large"));
        self.nodes.push(node);
        self.index.insert(node, id);
        id
    }

    /// A literal.
    pub fn constant(&mut self, value: f64) -> ExprId {
        self.intern(Node::Const(value.to_bits()))
    }

    /// An input symbol.
    pub fn symbol(&mut self, symbol: Symbol) -> ExprId {
        self.intern(Node::Symbol(symbol))
    }

    fn is_const(&self, id: ExprId, value: f64) -> bool {
        self.const_value(id) == Some(value)
    }

    /// `op(a)`, folded when `a` is a literal.
    pub fn unary(&mut self, op: UnaryOp, a: ExprId) -> ExprId {
        if let Some(x) = self.const_value(a) {
            return self.constant(op.apply(x));
        }
        match (op, *self.node(a)) {
            (UnaryOp::Neg, Node::Unary(UnaryOp::Neg, inner)) => inner,
            (UnaryOp::Abs, Node::Unary(UnaryOp::Abs | UnaryOp::Neg, inner)) => {
                self.unary(UnaryOp::Abs, inner)
            }
            _ => self.intern(Node::Unary(op, a)),
        }
    }

    /// `op(a, b)`, folded and lightly simplified.
    pub fn binary(&mut self, op: BinaryOp, a: ExprId, b: ExprId) -> ExprId {
        if let (Some(x), Some(y)) = (self.const_value(a), self.const_value(b)) {
            return self.constant(op.apply(x, y));
        }
        match op {
            BinaryOp::Add => {
                if self.is_const(a, 0.0) {
                    return b;
                }
                if self.is_const(b, 0.0) {
                    return a;
                }
                if let Node::Unary(UnaryOp::Neg, nb) = *self.node(b) {
                    return self.binary(BinaryOp::Sub, a, nb);
                }
                if let Node::Unary(UnaryOp::Neg, na) = *self.node(a) {
                    return self.binary(BinaryOp::Sub, b, na);
                }
            }
            BinaryOp::Sub => {
                if self.is_const(b, 0.0) {
                    return a;
                }
                if self.is_const(a, 0.0) {
                    return self.unary(UnaryOp::Neg, b);
                }
                if a == b {
                    return self.constant(0.0);
                }
                if let Node::Unary(UnaryOp::Neg, nb) = *self.node(b) {
                    return self.binary(BinaryOp::Add, a, nb);
                }
            }
            BinaryOp::Mul => {
                if self.is_const(a, 0.0) || self.is_const(b, 0.0) {
                    return self.constant(0.0);
                }
                if self.is_const(a, 1.0) {
                    return b;
                }
                if self.is_const(b, 1.0) {
                    return a;
                }
                if self.is_const(a, -1.0) {
                    return self.unary(UnaryOp::Neg, b);
                }
                if self.is_const(b, -1.0) {
                    return self.unary(UnaryOp::Neg, a);
                }
            }
            BinaryOp::Div => {
                if self.is_const(a, 0.0) {
                    return self.constant(0.0);
                }
                if self.is_const(b, 1.0) {
                    return a;
                }
                if self.is_const(b, -1.0) {
                    return self.unary(UnaryOp::Neg, a);
                }
                if a == b {
                    return self.constant(1.0);
                }
            }
            BinaryOp::Pow => {
                if self.is_const(b, 0.0) {
                    return self.constant(1.0);
                }
                if self.is_const(b, 1.0) {
                    return a;
                }
            }
            BinaryOp::Min | BinaryOp::Max if a == b => return a,
            _ => {}
        }
        let (a, b) = if op.is_commutative() && b < a {
            (b, a)
        } else {
            (a, b)
        };
        self.intern(Node::Binary(op, a, b))
    }

    /// `if cond != 0 { a } else { b }`, folded when the condition is a
    /// literal or both branches are the same.
    pub fn select(&mut self, cond: ExprId, a: ExprId, b: ExprId) -> ExprId {
        if let Some(c) = self.const_value(cond) {
            return if c != 0.0 { a } else { b };
        }
        if a == b {
            return a;
        }
        self.intern(Node::Select(cond, a, b))
    }

    /// `a + b`.
    pub fn add(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.binary(BinaryOp::Add, a, b)
    }

    /// `a - b`.
    pub fn sub(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.binary(BinaryOp::Sub, a, b)
    }

    /// `a * b`.
    pub fn mul(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.binary(BinaryOp::Mul, a, b)
    }

    /// `a / b`.
    pub fn div(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.binary(BinaryOp::Div, a, b)
    }

    /// `-a`.
    pub fn neg(&mut self, a: ExprId) -> ExprId {
        self.unary(UnaryOp::Neg, a)
    }

    /// Ids reachable from `roots`, in ascending (evaluation) order.
    pub fn reachable(&self, roots: &[ExprId]) -> Vec<ExprId> {
        let mut seen = vec![false; self.nodes.len()];
        let mut stack: Vec<ExprId> = roots.to_vec();
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut seen[id.index()], true) {
                continue;
            }
            stack.extend(self.node(id).children());
        }
        seen.iter()
            .enumerate()
            .filter(|(_, s)| **s)
            .map(|(i, _)| ExprId(i as u32))
            .collect()
    }

    /// Operations needed to evaluate `roots` with sharing: the number of
    /// distinct non-leaf nodes reachable from them.
    pub fn shared_op_count(&self, roots: &[ExprId]) -> usize {
        self.reachable(roots)
            .into_iter()
            .filter(|id| !matches!(self.node(*id), Node::Const(_) | Node::Symbol(_)))
            .count()
    }

    /// Operations needed to evaluate `roots` as separate trees (no sharing),
    /// saturating at `u64::MAX` for pathological graphs.
    pub fn tree_op_count(&self, roots: &[ExprId]) -> u64 {
        let mut counts: Vec<u64> = vec![0; self.nodes.len()];
        for id in self.reachable(roots) {
            let node = self.node(id);
            counts[id.index()] = match node {
                Node::Const(_) | Node::Symbol(_) => 0,
                _ => node
                    .children()
                    .fold(1u64, |acc, c| acc.saturating_add(counts[c.index()])),
            };
        }
        roots
            .iter()
            .fold(0u64, |acc, r| acc.saturating_add(counts[r.index()]))
    }

    /// A printable form of one expression (fully expanded; for messages
    /// and tests, not for large graphs).
    pub fn display(&self, id: ExprId) -> ExprDisplay<'_> {
        ExprDisplay { graph: self, id }
    }
}

/// Formats an expression of a graph; see [`ExprGraph::display`].
pub struct ExprDisplay<'a> {
    graph: &'a ExprGraph,
    id: ExprId,
}

impl fmt::Display for ExprDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sub = |id| ExprDisplay {
            graph: self.graph,
            id,
        };
        match *self.graph.node(self.id) {
            Node::Const(bits) => write!(f, "{}", f64::from_bits(bits)),
            Node::Symbol(Symbol::Time) => write!(f, "t"),
            Node::Symbol(Symbol::State(i)) => write!(f, "state[{i}]"),
            Node::Symbol(Symbol::Parameter(i)) => write!(f, "param[{i}]"),
            Node::Symbol(Symbol::Driver(i)) => write!(f, "driver[{i}]"),
            Node::Symbol(Symbol::DriverRate(i)) => write!(f, "driver_rate[{i}]"),
            Node::Symbol(Symbol::Direction(i)) => write!(f, "v[{i}]"),
            Node::Unary(UnaryOp::Neg, a) => write!(f, "(-{})", sub(a)),
            Node::Unary(op, a) => write!(f, "{}({})", op.name(), sub(a)),
            Node::Binary(op, a, b) if op.is_infix() => {
                write!(f, "({} {} {})", sub(a), op.name(), sub(b))
            }
            Node::Binary(op, a, b) => write!(f, "{}({}, {})", op.name(), sub(a), sub(b)),
            Node::Select(c, a, b) => write!(f, "if({}, {}, {})", sub(c), sub(a), sub(b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_nodes_are_shared() {
        let mut g = ExprGraph::new();
        let x = g.symbol(Symbol::State(0));
        let y = g.symbol(Symbol::State(1));
        let a = g.mul(x, y);
        let b = g.mul(y, x);
        assert_eq!(a, b, "commutative operands are canonicalised");
        let s1 = g.unary(UnaryOp::Sin, a);
        let s2 = g.unary(UnaryOp::Sin, b);
        assert_eq!(s1, s2);
        assert_eq!(g.len(), 4);
    }

    #[test]
    fn constants_fold_and_identities_simplify() {
        let mut g = ExprGraph::new();
        let two = g.constant(2.0);
        let three = g.constant(3.0);
        let p = g.binary(BinaryOp::Pow, two, three);
        assert_eq!(g.const_value(p), Some(8.0));
        let x = g.symbol(Symbol::Parameter(0));
        let zero = g.constant(0.0);
        let one = g.constant(1.0);
        assert_eq!(g.add(x, zero), x);
        assert_eq!(g.mul(one, x), x);
        let x_times_zero = g.mul(x, zero);
        assert_eq!(x_times_zero, zero);
        let nx = g.neg(x);
        assert_eq!(g.neg(nx), x);
        assert_eq!(g.sub(x, x), zero);
        let c = g.binary(BinaryOp::Lt, two, three);
        assert_eq!(g.select(c, x, two), x);
    }

    #[test]
    fn op_counts_distinguish_sharing() {
        let mut g = ExprGraph::new();
        let x = g.symbol(Symbol::State(0));
        let s = g.unary(UnaryOp::Sin, x);
        let e = g.mul(s, s);
        let r = g.add(e, s);
        // Tree: add(mul(sin, sin), sin) = 1 + (1 + 1 + 1) + 1 = 5 ops.
        assert_eq!(g.tree_op_count(&[r]), 5);
        // Shared: sin, mul, add.
        assert_eq!(g.shared_op_count(&[r]), 3);
    }

    #[test]
    fn heaviside_and_sign_conventions() {
        assert_eq!(UnaryOp::Heaviside.apply(0.0), 0.5);
        assert_eq!(UnaryOp::Heaviside.apply(-2.0), 0.0);
        assert_eq!(UnaryOp::Sign.apply(-3.0), -1.0);
        assert_eq!(UnaryOp::Sign.apply(0.0), 0.0);
        assert!(UnaryOp::Sign.apply(f64::NAN).is_nan());
    }
}
