//! Runge–Kutta order conditions by rooted trees (Butcher): a tableau
//! `(A, b)` has order `p` when `b · Φ(t) = 1/γ(t)` for every rooted tree
//! `t` with at most `p` nodes.

/// A rooted tree: the list of its root's subtrees, kept sorted so equal
/// trees compare equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RootedTree(Vec<RootedTree>);

impl RootedTree {
    /// The tree of one node.
    pub fn leaf() -> Self {
        RootedTree(Vec::new())
    }

    /// The tree whose root carries `children`.
    pub fn with_children(mut children: Vec<RootedTree>) -> Self {
        children.sort();
        RootedTree(children)
    }

    /// Number of nodes.
    pub fn order(&self) -> usize {
        1 + self.0.iter().map(RootedTree::order).sum::<usize>()
    }

    /// The density γ(t) = |t| · Π γ(children).
    pub fn density(&self) -> f64 {
        self.order() as f64 * self.0.iter().map(RootedTree::density).product::<f64>()
    }

    /// The stage vector of the elementary weight: `g_i = Π_children (A g(u))_i`,
    /// so that `Φ(t) = b · g(t)`.
    pub fn stage_vector(&self, a: &[Vec<f64>]) -> Vec<f64> {
        let s = a.len();
        let mut g = vec![1.0; s];
        for child in &self.0 {
            let gc = child.stage_vector(a);
            for (i, gi) in g.iter_mut().enumerate() {
                *gi *= (0..s).map(|j| a[i][j] * gc[j]).sum::<f64>();
            }
        }
        g
    }

    /// Every distinct rooted tree with `1..=max_order` nodes, by order.
    pub fn all_up_to(max_order: usize) -> Vec<RootedTree> {
        // by_order[n] holds the trees of n nodes.
        let mut by_order: Vec<Vec<RootedTree>> = vec![Vec::new(), vec![RootedTree::leaf()]];
        for n in 2..=max_order {
            let smaller: Vec<RootedTree> = by_order.iter().flatten().cloned().collect();
            let mut out = Vec::new();
            // Multisets of subtrees (non-decreasing index) whose orders sum to n - 1.
            fn pick(
                pool: &[RootedTree],
                remaining: usize,
                start: usize,
                chosen: &mut Vec<RootedTree>,
                out: &mut Vec<RootedTree>,
            ) {
                if remaining == 0 {
                    out.push(RootedTree::with_children(chosen.clone()));
                    return;
                }
                for i in start..pool.len() {
                    let k = pool[i].order();
                    if k <= remaining {
                        chosen.push(pool[i].clone());
                        pick(pool, remaining - k, i, chosen, out);
                        chosen.pop();
                    }
                }
            }
            pick(&smaller, n - 1, 0, &mut Vec::new(), &mut out);
            by_order.push(out);
        }
        by_order.into_iter().flatten().collect()
    }
}

/// `b · Φ(t) − 1/γ(t)`: zero when the weights satisfy the tree's condition.
pub fn condition_residual(a: &[Vec<f64>], b: &[f64], tree: &RootedTree) -> f64 {
    let g = tree.stage_vector(a);
    b.iter().zip(&g).map(|(bi, gi)| bi * gi).sum::<f64>() - 1.0 / tree.density()
}

/// The largest residual over every tree with at most `order` nodes.
pub fn max_residual(a: &[Vec<f64>], b: &[f64], order: usize) -> f64 {
    RootedTree::all_up_to(order)
        .iter()
        .map(|t| condition_residual(a, b, t).abs())
        .fold(0.0, f64::max)
}

/// The highest order (up to `limit`) whose conditions all hold within `tol`.
pub fn achieved_order(a: &[Vec<f64>], b: &[f64], limit: usize, tol: f64) -> usize {
    let trees = RootedTree::all_up_to(limit);
    (1..=limit)
        .take_while(|&p| {
            trees
                .iter()
                .filter(|t| t.order() == p)
                .all(|t| condition_residual(a, b, t).abs() <= tol)
        })
        .last()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_counts_match_oeis_a000081() {
        let trees = RootedTree::all_up_to(6);
        let counts: Vec<usize> = (1..=6)
            .map(|p| trees.iter().filter(|t| t.order() == p).count())
            .collect();
        assert_eq!(counts, vec![1, 1, 2, 4, 9, 20]);
    }

    #[test]
    fn classical_rk4_has_order_four_not_five() {
        let a = vec![
            vec![0.0, 0.0, 0.0, 0.0],
            vec![0.5, 0.0, 0.0, 0.0],
            vec![0.0, 0.5, 0.0, 0.0],
            vec![0.0, 0.0, 1.0, 0.0],
        ];
        let b = [1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0];
        assert_eq!(achieved_order(&a, &b, 6, 1e-14), 4);
    }
}
