//! Order conditions of every named ERK tableau, by rooted trees, and the
//! observed order of convergence on a problem with a known solution.

use cubie::step::{ButcherTableau, dop853_combined_error, erk_tableau, erk_tableaus};

/// A rooted tree as the multiset of its root's subtrees (indices into the
/// list of all smaller trees, non-decreasing so each tree appears once).
struct Tree {
    children: Vec<usize>,
    order: usize,
    /// Density γ(t) = |t| · Π γ(child).
    gamma: f64,
}

/// All rooted trees with at most `p` vertices, ordered by size.
fn rooted_trees(p: usize) -> Vec<Tree> {
    fn multisets(
        trees: &[Tree],
        start: usize,
        remaining: usize,
        current: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
    ) {
        if remaining == 0 {
            out.push(current.clone());
            return;
        }
        for i in start..trees.len() {
            if trees[i].order <= remaining {
                current.push(i);
                multisets(trees, i, remaining - trees[i].order, current, out);
                current.pop();
            }
        }
    }

    let mut trees = vec![Tree {
        children: vec![],
        order: 1,
        gamma: 1.0,
    }];
    for n in 2..=p {
        let mut sets = Vec::new();
        multisets(&trees, 0, n - 1, &mut Vec::new(), &mut sets);
        for children in sets {
            let gamma = n as f64 * children.iter().map(|&c| trees[c].gamma).product::<f64>();
            trees.push(Tree {
                children,
                order: n,
                gamma,
            });
        }
    }
    trees
}

/// Per tree, the stage vector g(t) with g(•) = 1 and
/// g(t)_i = Π_children (A g(child))_i, so that the elementary weight is
/// Φ(t) = b · g(t). With `abs` the same built from |A| (a scale for the
/// cancellation in the sum).
fn stage_vectors(t: &ButcherTableau, trees: &[Tree], abs: bool) -> Vec<Vec<f64>> {
    let s = t.stages();
    let a = |i: usize, j: usize| if abs { t.a(i, j).abs() } else { t.a(i, j) };
    let mut g: Vec<Vec<f64>> = Vec::with_capacity(trees.len());
    for tree in trees {
        let mut v = vec![1.0; s];
        for &child in &tree.children {
            for (i, vi) in v.iter_mut().enumerate() {
                let ag: f64 = (0..i).map(|j| a(i, j) * g[child][j]).sum();
                *vi *= ag;
            }
        }
        g.push(v);
    }
    g
}

/// Relative residual of Σ w_i Φ_i(t) = 1/γ(t) per tree, measured against
/// the larger of 1/γ and the size of the terms being summed.
fn residuals(t: &ButcherTableau, weights: &[f64], trees: &[Tree]) -> Vec<f64> {
    let g = stage_vectors(t, trees, false);
    let g_abs = stage_vectors(t, trees, true);
    trees
        .iter()
        .enumerate()
        .map(|(k, tree)| {
            let phi: f64 = weights.iter().zip(&g[k]).map(|(w, x)| w * x).sum();
            let scale: f64 = weights
                .iter()
                .zip(&g_abs[k])
                .map(|(w, x)| (w * x).abs())
                .sum();
            let target = 1.0 / tree.gamma;
            (phi - target).abs() / target.max(scale)
        })
        .collect()
}

#[test]
fn tree_counts_match_oeis_a000081() {
    let trees = rooted_trees(8);
    let counts: Vec<usize> = (1..=8)
        .map(|n| trees.iter().filter(|t| t.order == n).count())
        .collect();
    assert_eq!(counts, [1, 1, 2, 4, 9, 20, 48, 115]);
    assert_eq!(trees.len(), 200);
    // γ of the tall tree of order 4 is 4!, of the bushy one 4.
    let o4: Vec<f64> = trees
        .iter()
        .filter(|t| t.order == 4)
        .map(|t| t.gamma)
        .collect();
    assert!(o4.contains(&24.0) && o4.contains(&4.0) && o4.contains(&8.0) && o4.contains(&12.0));
}

#[test]
fn row_sums_of_a_equal_c() {
    for t in erk_tableaus() {
        for i in 0..t.stages() {
            let sum: f64 = t.a_row(i).iter().sum();
            let scale: f64 = t.a_row(i).iter().map(|x| x.abs()).sum::<f64>().max(1.0);
            assert!(
                (sum - t.c()[i]).abs() <= 1e-14 * scale,
                "{} row {i}: sum {sum} vs c {}",
                t.name(),
                t.c()[i]
            );
        }
    }
}

#[test]
fn main_weights_satisfy_all_conditions_up_to_order() {
    let trees = rooted_trees(8);
    for t in erk_tableaus() {
        let p = t.order() as usize;
        let res = residuals(t, t.b(), &trees);
        for (k, tree) in trees.iter().enumerate() {
            if tree.order <= p {
                assert!(
                    res[k] < 1e-12,
                    "{}: tree {k} of order {} violated (rel residual {:e})",
                    t.name(),
                    tree.order,
                    res[k]
                );
            }
        }
        // The order is exact: some condition of order p + 1 fails clearly.
        if p < 8 {
            let worst = trees
                .iter()
                .zip(&res)
                .filter(|(tr, _)| tr.order == p + 1)
                .map(|(_, r)| *r)
                .fold(0.0, f64::max);
            assert!(worst > 1e-6, "{} seems to have order > {p}", t.name());
        }
    }
}

fn check_embedded(t: &ButcherTableau, weights: &[f64], q: usize, trees: &[Tree]) {
    let res = residuals(t, weights, trees);
    for (k, tree) in trees.iter().enumerate() {
        if tree.order <= q {
            assert!(
                res[k] < 1e-12,
                "{} embedded: tree {k} of order {} violated ({:e})",
                t.name(),
                tree.order,
                res[k]
            );
        }
    }
    let worst = trees
        .iter()
        .zip(&res)
        .filter(|(tr, _)| tr.order == q + 1)
        .map(|(_, r)| *r)
        .fold(0.0, f64::max);
    assert!(
        worst > 1e-6,
        "{} embedded weights satisfy order {} too (worst {worst:e})",
        t.name(),
        q + 1
    );
}

#[test]
fn embedded_weights_have_exactly_their_order() {
    let trees = rooted_trees(8);
    let mut checked = 0;
    for t in erk_tableaus() {
        for e in [t.embedded(), t.secondary_embedded()].into_iter().flatten() {
            check_embedded(t, e.weights, e.order as usize, &trees);
            checked += 1;
        }
    }
    // 7 adaptive tableaus plus DOP853's second (3rd-order) estimate.
    assert_eq!(checked, 9);
}

/// y' = y cos t, y(0) = 1, exact y = exp(sin t).
fn rhs(t: f64, y: f64) -> f64 {
    y * t.cos()
}

/// Fixed-step explicit RK over [0, 1] with `n` steps using stage matrix and
/// nodes from `t` and the given weights; returns the error at t = 1.
fn solve_error(t: &ButcherTableau, weights: &[f64], n: usize) -> f64 {
    let h = 1.0 / n as f64;
    let s = t.stages();
    let mut y = 1.0;
    let mut k = vec![0.0; s];
    for step in 0..n {
        let t0 = step as f64 * h;
        for i in 0..s {
            let yi = y + h * (0..i).map(|j| t.a(i, j) * k[j]).sum::<f64>();
            k[i] = rhs(t0 + t.c()[i] * h, yi);
        }
        y += h * weights.iter().zip(&k).map(|(w, ki)| w * ki).sum::<f64>();
    }
    (y - 1f64.sin().exp()).abs()
}

/// Step counts (n, 2n) that keep the error of an order-`p` method well
/// above round-off and in the asymptotic regime.
fn step_counts(p: u32) -> (usize, usize) {
    match p {
        1 | 2 => (64, 128),
        3..=6 => (16, 32),
        // Order 8 at n = 8 is already within ~100 ulps of round-off.
        _ => (4, 8),
    }
}

fn observed_order(t: &ButcherTableau, p: u32) -> f64 {
    let (n1, n2) = step_counts(p);
    let e1 = solve_error(t, t.b(), n1);
    let e2 = solve_error(t, t.b(), n2);
    assert!(
        e2 > 1e-13,
        "{}: error {e2:e} too close to round-off",
        t.name()
    );
    (e1 / e2).log2() / ((n2 as f64) / (n1 as f64)).log2()
}

#[test]
fn observed_convergence_order_matches_theory() {
    for t in erk_tableaus() {
        let p = observed_order(t, t.order());
        assert!(
            (p - t.order() as f64).abs() <= 0.3,
            "{}: observed order {p:.3}, expected {}",
            t.name(),
            t.order()
        );
    }
}

/// One step's error estimate dt·Σ d_i k_i from the exact y(0.5) with
/// weights d.
fn one_step_estimate(t: &ButcherTableau, d: &[f64], h: f64) -> f64 {
    // Start away from t = 0, where cos' = 0 hides some error terms.
    let t0 = 0.5;
    let y0 = f64::sin(t0).exp();
    let s = t.stages();
    let mut k = vec![0.0; s];
    for i in 0..s {
        let yi = y0 + h * (0..i).map(|j| t.a(i, j) * k[j]).sum::<f64>();
        k[i] = rhs(t0 + t.c()[i] * h, yi);
    }
    h * d.iter().zip(&k).map(|(w, ki)| w * ki).sum::<f64>()
}

#[test]
fn error_estimates_scale_with_their_order() {
    // The local error estimate of an embedded order-q solution is O(h^(q+1)).
    // (The global error of the embedded solutions is covered by the order
    // conditions; on this problem DP5's b̂ has a pre-asymptotic sign change.)
    for t in erk_tableaus().iter().filter(|t| t.is_adaptive()) {
        let q = t.error_order().unwrap_or(0) as f64;
        let d = t.error_weights().unwrap_or_default();
        let (h1, h2) = (0.05, 0.025);
        let e1 = one_step_estimate(t, &d, h1).abs();
        let e2 = one_step_estimate(t, &d, h2).abs();
        let slope = (e1 / e2).log2();
        assert!(
            (slope - (q + 1.0)).abs() <= 0.3,
            "{}: estimate slope {slope:.3}, expected {}",
            t.name(),
            q + 1.0
        );
    }
}

#[test]
fn dop853_combined_estimate_behaves_like_order_seven() {
    let t = erk_tableau("dop853").unwrap();
    let e5w = t.error_weights().unwrap();
    let b = t.b();
    let bh3 = t.secondary_embedded().unwrap().weights;
    let e3w: Vec<f64> = b.iter().zip(bh3).map(|(x, y)| x - y).collect();
    // Scalar problem: the scaled RMS norm is |estimate| / sk; sk cancels in
    // the ratio, so use sk = 1.
    let combined = |h: f64| {
        dop853_combined_error(
            one_step_estimate(t, &e5w, h).abs(),
            one_step_estimate(t, &e3w, h).abs(),
        )
    };
    let slope = (combined(0.2) / combined(0.1)).log2();
    assert!((slope - 8.0).abs() <= 0.3, "combined slope {slope:.3}");
    assert_eq!(dop853_combined_error(0.0f64, 0.0), 0.0);
}
