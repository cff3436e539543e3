//! Symbolic differentiation in an [`ExprGraph`].
//!
//! Derivatives are built into the same graph, so they share nodes with the
//! original expressions (e.g. `d exp(u) = exp(u) * du` reuses `exp(u)`).
//! Results are memoised per (node, variable): a subexpression shared by
//! many roots is differentiated once. Nodes are visited in id order
//! (children first), so no recursion is needed however deep the graph.
//!
//! Piecewise-constant operations (`floor`, `ceil`, `sign`, `heaviside`,
//! comparisons, `and`, `or`, `not`) have derivative zero; conditionals are
//! differentiated branch-wise with the condition unchanged.

use std::collections::HashMap;

use super::expr::{BinaryOp, ExprGraph, ExprId, Node, Symbol, UnaryOp};
use super::functions::SparseJacobian;

/// Differentiates expressions of one graph, remembering every derivative
/// it has built.
#[derive(Debug, Clone, Default)]
pub struct Differentiator {
    memo: HashMap<(ExprId, Symbol), ExprId>,
}

impl Differentiator {
    /// A differentiator with an empty memo.
    pub fn new() -> Self {
        Self::default()
    }

    /// `d expr / d var`, built into `graph`.
    pub fn diff(&mut self, graph: &mut ExprGraph, expr: ExprId, var: Symbol) -> ExprId {
        self.diff_many(graph, &[expr], var)[0]
    }

    /// `d root / d var` for every root, built into `graph`.
    pub fn diff_many(
        &mut self,
        graph: &mut ExprGraph,
        roots: &[ExprId],
        var: Symbol,
    ) -> Vec<ExprId> {
        // Reachable ids come in ascending order: children before parents.
        for id in graph.reachable(roots) {
            if !self.memo.contains_key(&(id, var)) {
                let d = self.rule(graph, id, var);
                self.memo.insert((id, var), d);
            }
        }
        roots.iter().map(|r| self.memo[&(*r, var)]).collect()
    }

    fn d(&self, id: ExprId, var: Symbol) -> ExprId {
        self.memo[&(id, var)]
    }

    /// The derivative of node `id`, whose children are already done.
    fn rule(&self, g: &mut ExprGraph, id: ExprId, var: Symbol) -> ExprId {
        match *g.node(id) {
            Node::Symbol(s) => g.constant(if s == var { 1.0 } else { 0.0 }),
            _ => tangent_rule(g, id, |child| self.d(child, var)),
        }
    }
}

/// The tangent (directional derivative) of the operation at `id` from the
/// tangents `d(child)` of its children, by the chain rule. Symbols have no
/// rule: their tangents are the seeds, chosen by the caller.
fn tangent_rule(g: &mut ExprGraph, id: ExprId, d: impl Fn(ExprId) -> ExprId) -> ExprId {
    match *g.node(id) {
        Node::Const(_) | Node::Symbol(_) => g.constant(0.0),
        Node::Unary(op, a) => {
            let da = d(a);
            if g.const_value(da) == Some(0.0) {
                return da;
            }
            let f = unary_derivative(g, op, a, id);
            g.mul(f, da)
        }
        Node::Binary(op, a, b) => binary_derivative(g, op, id, (a, d(a)), (b, d(b))),
        Node::Select(c, a, b) => {
            let (da, db) = (d(a), d(b));
            g.select(c, da, db)
        }
    }
}

/// Forward-mode differentiation in one pass: the tangent of every root
/// when each input symbol `s` moves along `seed(s)` (`None`: it does not
/// move). Costs one visit of each node reachable from the roots, however
/// many symbols are seeded: a Jacobian-vector product seeds every state
/// with its direction, `df/dt` seeds `t` and each driver's rate.
pub fn tangents(
    graph: &mut ExprGraph,
    roots: &[ExprId],
    mut seed: impl FnMut(&mut ExprGraph, Symbol) -> Option<ExprId>,
) -> Vec<ExprId> {
    let order = graph.reachable(roots);
    let zero = graph.constant(0.0);
    let mut tangent = vec![zero; graph.len()];
    for id in order {
        let t = match *graph.node(id) {
            Node::Symbol(s) => seed(graph, s).unwrap_or(zero),
            _ => tangent_rule(graph, id, |child| tangent[child.index()]),
        };
        tangent[id.index()] = t;
    }
    roots.iter().map(|r| tangent[r.index()]).collect()
}

/// Which nodes depend differentiably on the states, and the walk of one
/// root's dependency cone along those edges only. Piecewise-constant
/// operations and conditions cut the cone: their derivative is zero.
struct StateCones {
    varies: Vec<bool>,
    mark: Vec<u32>,
    epoch: u32,
    stack: Vec<ExprId>,
}

impl StateCones {
    fn new(graph: &ExprGraph) -> Self {
        let mut varies = vec![false; graph.len()];
        for (i, node) in graph.nodes().iter().enumerate() {
            varies[i] = match *node {
                Node::Symbol(Symbol::State(_)) => true,
                Node::Const(_) | Node::Symbol(_) => false,
                Node::Unary(op, a) => !is_piecewise_constant(op) && varies[a.index()],
                Node::Binary(op, a, b) => {
                    !op.is_boolean() && (varies[a.index()] || varies[b.index()])
                }
                Node::Select(_, a, b) => varies[a.index()] || varies[b.index()],
            };
        }
        StateCones {
            mark: vec![0; graph.len()],
            varies,
            epoch: 0,
            stack: Vec::new(),
        }
    }

    fn varies(&self, id: ExprId) -> bool {
        self.varies.get(id.index()).copied().unwrap_or(false)
    }

    /// The nodes of `root`'s cone that vary with the states, in
    /// descending id order (parents before children), into `cone`.
    fn cone(&mut self, graph: &ExprGraph, root: ExprId, cone: &mut Vec<ExprId>) {
        cone.clear();
        if !self.varies(root) {
            return;
        }
        self.epoch += 1;
        self.stack.push(root);
        self.mark[root.index()] = self.epoch;
        while let Some(id) = self.stack.pop() {
            cone.push(id);
            let children = match *graph.node(id) {
                Node::Select(_, a, b) => [Some(a), Some(b)],
                Node::Unary(_, a) => [Some(a), None],
                Node::Binary(_, a, b) => [Some(a), Some(b)],
                Node::Const(_) | Node::Symbol(_) => [None, None],
            };
            for child in children.into_iter().flatten() {
                if self.varies(child) && self.mark[child.index()] != self.epoch {
                    self.mark[child.index()] = self.epoch;
                    self.stack.push(child);
                }
            }
        }
        cone.sort_unstable_by(|a, b| b.cmp(a));
    }
}

/// Unary operations whose derivative is zero wherever it exists.
fn is_piecewise_constant(op: UnaryOp) -> bool {
    matches!(
        op,
        UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Sign | UnaryOp::Heaviside | UnaryOp::Not
    )
}

/// Visits the structurally non-zero entries of the Jacobian of `rows`
/// with respect to the states, `(row, column)`, row by row with columns
/// ascending. Costs one walk of each row's cone; builds no expression.
pub fn jacobian_pattern(graph: &ExprGraph, rows: &[ExprId], mut visit: impl FnMut(u32, u32)) {
    let mut cones = StateCones::new(graph);
    let mut cone = Vec::new();
    let mut columns = Vec::new();
    for (i, &root) in rows.iter().enumerate() {
        cones.cone(graph, root, &mut cone);
        columns.clear();
        columns.extend(cone.iter().filter_map(|&id| match *graph.node(id) {
            Node::Symbol(Symbol::State(j)) => Some(j),
            _ => None,
        }));
        columns.sort_unstable();
        for &j in &columns {
            visit(index(i), j);
        }
    }
}

/// The Jacobian of `rows` with respect to the states, built into `graph`
/// by reverse-mode differentiation of each row over its own cone: time
/// and nodes grow with the rows' cones and the non-zero entries, never
/// with `rows.len()^2`. Entries are row by row, columns ascending; an
/// entry is listed when its state is structurally in the row's cone.
pub fn sparse_jacobian(graph: &mut ExprGraph, rows: &[ExprId]) -> SparseJacobian {
    let mut cones = StateCones::new(graph);
    let mut adjoints = Adjoints::new(graph.len());
    let zero = graph.constant(0.0);
    let one = graph.constant(1.0);
    let mut cone = Vec::new();
    let (mut positions, mut values) = (Vec::new(), Vec::new());
    let mut row_entries: Vec<(u32, ExprId)> = Vec::new();
    for (i, &root) in rows.iter().enumerate() {
        cones.cone(graph, root, &mut cone);
        row_entries.clear();
        adjoints.start_row();
        adjoints.add(graph, root, one);
        for &id in &cone {
            let Some(bar) = adjoints.get(id) else {
                continue;
            };
            if graph.const_value(bar) == Some(0.0) {
                continue;
            }
            match *graph.node(id) {
                Node::Symbol(Symbol::State(j)) => row_entries.push((j, bar)),
                Node::Const(_) | Node::Symbol(_) => {}
                Node::Unary(op, a) => {
                    let local = unary_derivative(graph, op, a, id);
                    let term = graph.mul(bar, local);
                    adjoints.add(graph, a, term);
                }
                Node::Binary(op, a, b) => {
                    if cones.varies(a) {
                        let local = binary_derivative(graph, op, id, (a, one), (b, zero));
                        let term = graph.mul(bar, local);
                        adjoints.add(graph, a, term);
                    }
                    if cones.varies(b) {
                        let local = binary_derivative(graph, op, id, (a, zero), (b, one));
                        let term = graph.mul(bar, local);
                        adjoints.add(graph, b, term);
                    }
                }
                Node::Select(c, a, b) => {
                    if cones.varies(a) {
                        let term = graph.select(c, bar, zero);
                        adjoints.add(graph, a, term);
                    }
                    if cones.varies(b) {
                        let term = graph.select(c, zero, bar);
                        adjoints.add(graph, b, term);
                    }
                }
            }
        }
        row_entries.sort_unstable_by_key(|&(j, _)| j);
        for &(j, value) in &row_entries {
            positions.push((index(i), j));
            values.push(value);
        }
    }
    SparseJacobian::new(positions, values)
}

/// The adjoints of one row's reverse sweep, over the nodes that existed
/// when the sweep began; reset in O(1) per row.
struct Adjoints {
    value: Vec<ExprId>,
    row: Vec<u32>,
    current: u32,
}

impl Adjoints {
    fn new(len: usize) -> Self {
        Adjoints {
            value: vec![ExprId(0); len],
            row: vec![0; len],
            current: 0,
        }
    }

    fn start_row(&mut self) {
        self.current += 1;
    }

    fn get(&self, id: ExprId) -> Option<ExprId> {
        (self.row[id.index()] == self.current).then(|| self.value[id.index()])
    }

    fn add(&mut self, graph: &mut ExprGraph, id: ExprId, term: ExprId) {
        let k = id.index();
        self.value[k] = match self.get(id) {
            Some(sum) => graph.add(sum, term),
            None => term,
        };
        self.row[k] = self.current;
    }
}

/// Symbol indices are `u32`; models are far smaller than that.
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// `d expr / d var` with a fresh memo (see [`Differentiator`] to share
/// work between calls).
pub fn differentiate(graph: &mut ExprGraph, expr: ExprId, var: Symbol) -> ExprId {
    Differentiator::new().diff(graph, expr, var)
}

/// `f'(a)` for `f = op`, where `fa` is the node `f(a)` itself.
fn unary_derivative(g: &mut ExprGraph, op: UnaryOp, a: ExprId, fa: ExprId) -> ExprId {
    let one = g.constant(1.0);
    match op {
        UnaryOp::Neg => g.constant(-1.0),
        UnaryOp::Exp => fa,
        UnaryOp::Expm1 => g.unary(UnaryOp::Exp, a),
        UnaryOp::Ln => g.div(one, a),
        UnaryOp::Log1p => {
            let s = g.add(one, a);
            g.div(one, s)
        }
        UnaryOp::Log10 | UnaryOp::Log2 => {
            let base = if op == UnaryOp::Log10 { 10f64 } else { 2f64 };
            let ln_base = g.constant(base.ln());
            let s = g.mul(a, ln_base);
            g.div(one, s)
        }
        UnaryOp::Sqrt => {
            let two = g.constant(2.0);
            let s = g.mul(two, fa);
            g.div(one, s)
        }
        UnaryOp::Cbrt => {
            let three = g.constant(3.0);
            let sq = g.mul(fa, fa);
            let s = g.mul(three, sq);
            g.div(one, s)
        }
        UnaryOp::Abs => g.unary(UnaryOp::Sign, a),
        UnaryOp::Sin => g.unary(UnaryOp::Cos, a),
        UnaryOp::Cos => {
            let s = g.unary(UnaryOp::Sin, a);
            g.neg(s)
        }
        UnaryOp::Tan => {
            let sq = g.mul(fa, fa);
            g.add(one, sq)
        }
        UnaryOp::Asin | UnaryOp::Acos => {
            let sq = g.mul(a, a);
            let r = g.sub(one, sq);
            let s = g.unary(UnaryOp::Sqrt, r);
            let d = g.div(one, s);
            if op == UnaryOp::Acos { g.neg(d) } else { d }
        }
        UnaryOp::Atan => {
            let sq = g.mul(a, a);
            let s = g.add(one, sq);
            g.div(one, s)
        }
        UnaryOp::Sinh => g.unary(UnaryOp::Cosh, a),
        UnaryOp::Cosh => g.unary(UnaryOp::Sinh, a),
        UnaryOp::Tanh => {
            let sq = g.mul(fa, fa);
            g.sub(one, sq)
        }
        UnaryOp::Asinh => {
            let sq = g.mul(a, a);
            let r = g.add(sq, one);
            let s = g.unary(UnaryOp::Sqrt, r);
            g.div(one, s)
        }
        UnaryOp::Acosh => {
            let sq = g.mul(a, a);
            let r = g.sub(sq, one);
            let s = g.unary(UnaryOp::Sqrt, r);
            g.div(one, s)
        }
        UnaryOp::Atanh => {
            let sq = g.mul(a, a);
            let s = g.sub(one, sq);
            g.div(one, s)
        }
        UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Sign | UnaryOp::Heaviside | UnaryOp::Not => {
            g.constant(0.0)
        }
    }
}

/// `d op(a, b)` given the operands, their derivatives and the node
/// `fab = op(a, b)` itself.
fn binary_derivative(
    g: &mut ExprGraph,
    op: BinaryOp,
    fab: ExprId,
    (a, da): (ExprId, ExprId),
    (b, db): (ExprId, ExprId),
) -> ExprId {
    let zero = |g: &ExprGraph, id| g.const_value(id) == Some(0.0);
    if zero(g, da) && zero(g, db) {
        return g.constant(0.0);
    }
    match op {
        BinaryOp::Add => g.add(da, db),
        BinaryOp::Sub => g.sub(da, db),
        BinaryOp::Mul => {
            let l = g.mul(da, b);
            let r = g.mul(a, db);
            g.add(l, r)
        }
        BinaryOp::Div => {
            // (da - (a/b) db) / b shares the quotient node.
            let q = g.mul(fab, db);
            let n = g.sub(da, q);
            g.div(n, b)
        }
        BinaryOp::Pow if zero(g, db) => {
            // Exponent constant w.r.t. the variable: b a^(b-1) da.
            let one = g.constant(1.0);
            let bm1 = g.sub(b, one);
            let p = g.binary(BinaryOp::Pow, a, bm1);
            let c = g.mul(b, p);
            g.mul(c, da)
        }
        BinaryOp::Pow => {
            // a^b (db ln a + b da / a).
            let ln_a = g.unary(UnaryOp::Ln, a);
            let l = g.mul(db, ln_a);
            let ratio = g.div(da, a);
            let r = g.mul(b, ratio);
            let s = g.add(l, r);
            g.mul(fab, s)
        }
        BinaryOp::Atan2 => {
            // atan2(a, b): (b da - a db) / (a^2 + b^2).
            let l = g.mul(b, da);
            let r = g.mul(a, db);
            let n = g.sub(l, r);
            let aa = g.mul(a, a);
            let bb = g.mul(b, b);
            let d = g.add(aa, bb);
            g.div(n, d)
        }
        BinaryOp::Hypot => {
            let l = g.mul(a, da);
            let r = g.mul(b, db);
            let n = g.add(l, r);
            g.div(n, fab)
        }
        BinaryOp::Min | BinaryOp::Max => {
            let cmp = if op == BinaryOp::Min {
                BinaryOp::Le
            } else {
                BinaryOp::Ge
            };
            let c = g.binary(cmp, a, b);
            g.select(c, da, db)
        }
        BinaryOp::Lt
        | BinaryOp::Le
        | BinaryOp::Gt
        | BinaryOp::Ge
        | BinaryOp::Eq
        | BinaryOp::Ne
        | BinaryOp::And
        | BinaryOp::Or => g.constant(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values of every node, with `State(0) = x`, `State(1) = y`.
    fn eval(g: &ExprGraph, id: ExprId, x: f64, y: f64) -> f64 {
        let mut v = vec![0.0; g.len()];
        for (i, node) in g.nodes().iter().enumerate() {
            v[i] = match *node {
                Node::Const(bits) => f64::from_bits(bits),
                Node::Symbol(Symbol::State(0)) => x,
                Node::Symbol(Symbol::State(1)) => y,
                Node::Symbol(_) => 0.0,
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
        v[id.index()]
    }

    /// A point inside the domain of every unary op (and away from the
    /// jumps of the piecewise ones).
    fn unary_point(op: UnaryOp) -> f64 {
        match op {
            UnaryOp::Acosh => 1.7,
            UnaryOp::Floor | UnaryOp::Ceil => 2.4,
            _ => 0.37,
        }
    }

    #[test]
    fn every_unary_op_matches_finite_differences() {
        for op in UnaryOp::ALL {
            let mut g = ExprGraph::new();
            let x = g.symbol(Symbol::State(0));
            // Compose with 2x to exercise the chain rule.
            let two = g.constant(2.0);
            let inner = g.mul(two, x);
            let f = g.unary(op, inner);
            let df = differentiate(&mut g, f, Symbol::State(0));
            let x0 = unary_point(op) / 2.0;
            let h = 1e-6;
            let fd = (eval(&g, f, x0 + h, 0.0) - eval(&g, f, x0 - h, 0.0)) / (2.0 * h);
            let exact = eval(&g, df, x0, 0.0);
            assert!(
                (exact - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                "{op:?}: {exact} vs {fd}"
            );
        }
    }

    #[test]
    fn every_binary_op_matches_finite_differences() {
        for op in BinaryOp::ALL {
            let mut g = ExprGraph::new();
            let x = g.symbol(Symbol::State(0));
            let y = g.symbol(Symbol::State(1));
            let f = g.binary(op, x, y);
            let dfx = differentiate(&mut g, f, Symbol::State(0));
            let dfy = differentiate(&mut g, f, Symbol::State(1));
            let (x0, y0, h) = (1.3, 0.7, 1e-6);
            let fdx = (eval(&g, f, x0 + h, y0) - eval(&g, f, x0 - h, y0)) / (2.0 * h);
            let fdy = (eval(&g, f, x0, y0 + h) - eval(&g, f, x0, y0 - h)) / (2.0 * h);
            let (ex, ey) = (eval(&g, dfx, x0, y0), eval(&g, dfy, x0, y0));
            assert!((ex - fdx).abs() < 1e-6, "{op:?} d/dx: {ex} vs {fdx}");
            assert!((ey - fdy).abs() < 1e-6, "{op:?} d/dy: {ey} vs {fdy}");
        }
    }

    #[test]
    fn constant_exponents_use_the_power_rule() {
        let mut g = ExprGraph::new();
        let x = g.symbol(Symbol::State(0));
        let three = g.constant(3.0);
        let f = g.binary(BinaryOp::Pow, x, three);
        let df = differentiate(&mut g, f, Symbol::State(0));
        // 3 * x^2 at a negative base, where the general rule's ln(x) is NaN.
        assert_eq!(eval(&g, df, -2.0, 0.0), 12.0);
        assert!(!g.display(df).to_string().contains("log"));
    }

    #[test]
    fn shared_subexpressions_are_differentiated_once() {
        let mut g = ExprGraph::new();
        let x = g.symbol(Symbol::State(0));
        let s = g.unary(UnaryOp::Sin, x);
        let a = g.mul(s, s);
        let b = g.add(s, x);
        let mut d = Differentiator::new();
        let da = d.diff(&mut g, a, Symbol::State(0));
        let len = g.len();
        let ds = d.diff(&mut g, s, Symbol::State(0));
        assert_eq!(g.len(), len, "sin's derivative was memoised");
        let db = d.diff(&mut g, b, Symbol::State(0));
        assert_eq!(eval(&g, ds, 0.5, 0.0), 0.5f64.cos());
        assert_eq!(eval(&g, db, 0.5, 0.0), 0.5f64.cos() + 1.0);
        assert!((eval(&g, da, 0.5, 0.0) - 2.0 * 0.5f64.sin() * 0.5f64.cos()).abs() < 1e-15);
    }

    #[test]
    fn selects_differentiate_branchwise_and_independent_parts_vanish() {
        let mut g = ExprGraph::new();
        let x = g.symbol(Symbol::State(0));
        let y = g.symbol(Symbol::State(1));
        let c = g.binary(BinaryOp::Gt, x, y);
        let xx = g.mul(x, x);
        let f = g.select(c, xx, y);
        let df = differentiate(&mut g, f, Symbol::State(0));
        assert_eq!(eval(&g, df, 3.0, 1.0), 6.0);
        assert_eq!(eval(&g, df, 0.0, 1.0), 0.0);
        let p = g.symbol(Symbol::Parameter(0));
        let e = g.unary(UnaryOp::Exp, p);
        let de = differentiate(&mut g, e, Symbol::State(0));
        assert_eq!(g.const_value(de), Some(0.0));
    }
}
