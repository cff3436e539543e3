//! Rosenbrock(-W) tableaus in the transformed form CuBIE uses (Hairer &
//! Wanner, Solving ODEs II, IV.7, eq. 7.17'): with `W = I/(hγ) − J`,
//!
//! ```text
//! W U_i = f(t_n + c_i h, y_n + Σ_{j<i} a_ij U_j) + Σ_{j<i} (C_ij / h) U_j + h γ_i ∂f/∂t
//! y_{n+1} = y_n + Σ b_i U_i,    ŷ_{n+1} = y_n + Σ b̂_i U_i
//! ```
//!
//! The transformed coefficients relate to the textbook ones (`α`, `Γ` with
//! `γ` on its diagonal, weights `m`) by `a = α Γ⁻¹`, `C = diag(1/γ) − Γ⁻¹`,
//! `b = m Γ⁻¹`, and `γ_i = Σ_j Γ_ij` ([`RosenbrockTableau::gamma_stages`]).
//!
//! | name | aliases | stages | order | embedded |
//! | --- | --- | --- | --- | --- |
//! | `ros3p` | | 3 | 3 | order 2 |
//! | `rodas3p` | | 5 | 3 | order 2 |
//! | `rosenbrock23` | `ode23s`, `rosenbrock23_sciml` | 3 | 2 | order 3 |
//!
//! `rosenbrock23` is the SciML three-stage form of Shampine–Reichelt's
//! method. Its embedded weights here are those of the order-3 companion
//! solution; Python CuBIE stores `2b − b̂` instead, which gives the same
//! error estimate up to sign (`|b − b̂|` is unchanged).

use super::{Entry, TableauError, lookup, names};

/// A Rosenbrock tableau in transformed form, in `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct RosenbrockTableau {
    /// Canonical name, as CuBIE spells it.
    pub name: &'static str,
    /// Other names that select it.
    pub aliases: &'static [&'static str],
    /// Stage-state coupling `a` (strictly lower triangular).
    pub a: Vec<Vec<f64>>,
    /// Increment coupling `C` (strictly lower triangular).
    pub c_matrix: Vec<Vec<f64>>,
    /// The diagonal shift γ of `W = I/(hγ) − J`.
    pub gamma: f64,
    /// `γ_i = Σ_j Γ_ij`, the weights of `h·∂f/∂t` per stage.
    pub gamma_stages: Vec<f64>,
    /// Solution weights on the increments `U_i`.
    pub b: Vec<f64>,
    /// Embedded weights, if the method has an error estimate.
    pub b_hat: Option<Vec<f64>>,
    /// Stage times (row sums of `α`).
    pub c: Vec<f64>,
    /// Classical order (exact Jacobian).
    pub order: u32,
    /// Order of the embedded solution, if any.
    pub error_order: Option<u32>,
}

impl RosenbrockTableau {
    /// Number of stages.
    pub fn stages(&self) -> usize {
        self.b.len()
    }

    /// `b − b̂`, if there is an embedded pair.
    pub fn error_weights(&self) -> Option<Vec<f64>> {
        self.b_hat
            .as_ref()
            .map(|bh| self.b.iter().zip(bh).map(|(b, h)| b - h).collect())
    }

    /// The textbook `Γ` (lower triangular, `γ` on the diagonal), from
    /// `Γ⁻¹ = diag(1/γ) − C`.
    pub fn gamma_matrix(&self) -> Vec<Vec<f64>> {
        let s = self.stages();
        let inv: Vec<Vec<f64>> = (0..s)
            .map(|i| {
                (0..s)
                    .map(|j| {
                        if i == j {
                            1.0 / self.gamma
                        } else {
                            -self.c_matrix[i][j]
                        }
                    })
                    .collect()
            })
            .collect();
        invert_lower(&inv)
    }

    /// The textbook `α = a Γ`.
    pub fn alpha(&self) -> Vec<Vec<f64>> {
        matmul(&self.a, &self.gamma_matrix())
    }

    /// Textbook weights `m = w Γ` of transformed weights `w` (`b` or `b̂`).
    pub fn textbook_weights(&self, w: &[f64]) -> Vec<f64> {
        let g = self.gamma_matrix();
        (0..w.len())
            .map(|j| (0..w.len()).map(|i| w[i] * g[i][j]).sum())
            .collect()
    }

    /// Residuals of the Rosenbrock order conditions (Hairer–Wanner IV.7,
    /// Table 7.1) up to order 3 for transformed weights `w`, in the order
    /// `Σm = 1`, `Σ m_i β_i = 1/2 − γ`, `Σ m_i α_i² = 1/3`,
    /// `Σ m_i β_ij β_j = 1/6 − γ + γ²`, where `β_ij = α_ij + Γ_ij` (j < i)
    /// and `β_i`, `α_i` are row sums.
    pub fn order_residuals(&self, w: &[f64]) -> [f64; 4] {
        let g = self.gamma;
        let m = self.textbook_weights(w);
        let alpha = self.alpha();
        let gm = self.gamma_matrix();
        let s = self.stages();
        let beta: Vec<Vec<f64>> = (0..s)
            .map(|i| {
                (0..s)
                    .map(|j| if j < i { alpha[i][j] + gm[i][j] } else { 0.0 })
                    .collect()
            })
            .collect();
        let beta_i: Vec<f64> = beta.iter().map(|r| r.iter().sum()).collect();
        let alpha_i: Vec<f64> = alpha.iter().map(|r| r.iter().sum()).collect();
        let dot = |x: &[f64]| m.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
        let bb: Vec<f64> = (0..s)
            .map(|i| (0..s).map(|j| beta[i][j] * beta_i[j]).sum())
            .collect();
        let a2: Vec<f64> = alpha_i.iter().map(|x| x * x).collect();
        [
            m.iter().sum::<f64>() - 1.0,
            dot(&beta_i) - (0.5 - g),
            dot(&a2) - 1.0 / 3.0,
            dot(&bb) - (1.0 / 6.0 - g + g * g),
        ]
    }
}

fn matmul(x: &[Vec<f64>], y: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = y.len();
    x.iter()
        .map(|row| {
            (0..n)
                .map(|j| (0..n).map(|k| row[k] * y[k][j]).sum())
                .collect()
        })
        .collect()
}

/// Inverse of a lower-triangular matrix, by forward substitution.
fn invert_lower(l: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = l.len();
    // Row i of L⁻¹ from rows k < i: (L⁻¹)_i = (e_i − Σ_k L_ik (L⁻¹)_k) / L_ii.
    let mut inv: Vec<Vec<f64>> = Vec::with_capacity(n);
    for (i, row) in l.iter().enumerate() {
        let next: Vec<f64> = (0..n)
            .map(|col| {
                let e = if i == col { 1.0 } else { 0.0 };
                let s: f64 = inv.iter().zip(row).map(|(r, lik)| lik * r[col]).sum();
                (e - s) / row[i]
            })
            .collect();
        inv.push(next);
    }
    inv
}

const TABLE: &[Entry<RosenbrockTableau>] = &[
    ("ros3p", &[], ros3p),
    ("rodas3p", &[], rodas3p),
    (
        "rosenbrock23",
        &["ode23s", "rosenbrock23_sciml"],
        rosenbrock23,
    ),
];

/// CuBIE's default Rosenbrock tableau.
pub const DEFAULT: &str = "ros3p";

/// The Rosenbrock tableau called `name` (canonical name or alias).
pub fn tableau(name: &str) -> Result<RosenbrockTableau, TableauError> {
    lookup("rosenbrock", TABLE, name)
}

/// Every accepted name, aliases included.
pub fn valid_names() -> Vec<&'static str> {
    names(TABLE)
}

/// Every Rosenbrock tableau, once each.
pub fn all() -> Vec<RosenbrockTableau> {
    TABLE.iter().map(|(_, _, build)| build()).collect()
}

/// ROS3P (Lang & Verwer 2001), γ = 1/2 + √3/6; coefficients as in
/// OrdinaryDiffEq.jl's `ROS3PTableau`.
fn ros3p() -> RosenbrockTableau {
    let g = 0.5 + 3f64.sqrt() / 6.0;
    let ig = 1.0 / g;
    let b_aux = ig * (2.0 / 3.0 - ig / 6.0);
    RosenbrockTableau {
        name: "ros3p",
        aliases: &[],
        a: vec![vec![0.0; 3], vec![ig, 0.0, 0.0], vec![ig, 0.0, 0.0]],
        c_matrix: vec![
            vec![0.0; 3],
            vec![-(ig * ig), 0.0, 0.0],
            vec![
                -ig * (1.0 + ig * (2.0 - 0.5 * ig)),
                -ig * (2.0 - 0.5 * ig),
                0.0,
            ],
        ],
        gamma: g,
        gamma_stages: vec![g, -0.2113248654051871, 0.5 - 2.0 * g],
        b: vec![ig * (1.0 + b_aux), b_aux, ig / 3.0],
        b_hat: Some(vec![2.113248654051871, 1.0, 0.4226497308103742]),
        c: vec![0.0, 1.0, 1.0],
        order: 3,
        error_order: Some(2),
    }
}

/// Rodas3P (Steinebach), γ = 1/3, stiffly accurate; coefficients as in
/// OrdinaryDiffEq.jl's `Rodas3PTableau`.
fn rodas3p() -> RosenbrockTableau {
    let row = [2.90625, 3.375, 0.40625, 0.0, 0.0];
    RosenbrockTableau {
        name: "rodas3p",
        aliases: &[],
        a: vec![
            vec![0.0; 5],
            vec![4.0 / 3.0, 0.0, 0.0, 0.0, 0.0],
            vec![0.0; 5],
            row.to_vec(),
            row.to_vec(),
        ],
        c_matrix: vec![
            vec![0.0; 5],
            vec![-4.0, 0.0, 0.0, 0.0, 0.0],
            vec![8.25, 6.75, 0.0, 0.0, 0.0],
            vec![1.21875, -5.0625, -1.96875, 0.0, 0.0],
            vec![4.03125, -15.1875, -4.03125, 6.0, 0.0],
        ],
        gamma: 1.0 / 3.0,
        gamma_stages: vec![1.0 / 3.0, -1.0 / 9.0, 1.0, 0.0, 0.0],
        b: vec![2.90625, 3.375, 0.40625, 0.0, 1.0],
        b_hat: Some(vec![2.90625, 3.375, 0.40625, 1.0, 0.0]),
        c: vec![0.0, 4.0 / 9.0, 0.0, 1.0, 1.0],
        order: 3,
        error_order: Some(2),
    }
}

/// Shampine & Reichelt's Rosenbrock 2(3) (MATLAB `ode23s`) in SciML's
/// three-stage form, d = 1/(2 + √2), transformed with
/// `Γ = d·[[1,0,0],[−1,1,0],[e32−2,−e32,1]]`, `e32 = 6 + √2`.
fn rosenbrock23() -> RosenbrockTableau {
    let s2 = std::f64::consts::SQRT_2;
    let d = 1.0 / (2.0 + s2);
    let id = 2.0 + s2;
    RosenbrockTableau {
        name: "rosenbrock23",
        aliases: &["ode23s", "rosenbrock23_sciml"],
        a: vec![vec![0.0; 3], vec![0.5 * id, 0.0, 0.0], vec![id, id, 0.0]],
        c_matrix: vec![
            vec![0.0; 3],
            vec![-id, 0.0, 0.0],
            vec![-2.0 * id, -(14.0 + 8.0 * s2), 0.0],
        ],
        gamma: d,
        gamma_stages: vec![d, 0.0, -d],
        b: vec![id, id, 0.0],
        b_hat: Some(vec![
            7.0 / 3.0 + 7.0 * s2 / 6.0,
            11.0 / 3.0 + 2.0 * s2,
            1.0 / 3.0 + s2 / 6.0,
        ]),
        c: vec![0.0, 0.5, 1.0],
        order: 2,
        error_order: Some(3),
    }
}
