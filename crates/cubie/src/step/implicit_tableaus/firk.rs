//! Fully implicit Runge–Kutta tableaus (collocation methods), named as in
//! CuBIE: the digit of `firk_gauss_legendre_N` is the number of stages
//! (order 2N), the digit of `radau_iia_5` the order.
//!
//! | name | aliases | stages | order | embedded |
//! | --- | --- | --- | --- | --- |
//! | `firk_gauss_legendre_2` | | 2 | 4 | — |
//! | `firk_gauss_legendre_3` | | 3 | 6 | — |
//! | `radau_iia_5` | `radau` | 3 | 5 | order 3 (Hairer) |
//!
//! Radau IIA's error estimate is Hairer's (Solving ODEs II, IV.8, and the
//! RADAU5 code): an order-3 embedded solution that also weighs the
//! start-of-step derivative, `ŷ = y_n + h(γ₀ f(t_n, y_n) + Σ b̂_i k_i)`, with
//! γ₀ the inverse of the real eigenvalue of `A⁻¹` ([`RkTableau::b_hat_start`]).
//! Hairer further filters `ŷ − y` through `(I − hγ₀J)⁻¹` to keep the
//! estimate bounded on stiff components; that filter belongs to the step.
//! (Python CuBIE instead uses least-squares order-2 weights without the
//! start-of-step term.) Gauss–Legendre methods have no embedded pair and
//! need a fixed-step controller.

use super::{Entry, RkTableau, TableauError, lookup, names};

const TABLE: &[Entry<RkTableau>] = &[
    ("firk_gauss_legendre_2", &[], gauss_legendre_2),
    ("firk_gauss_legendre_3", &[], gauss_legendre_3),
    ("radau_iia_5", &["radau"], radau_iia_5),
];

/// CuBIE's default FIRK tableau.
pub const DEFAULT: &str = "firk_gauss_legendre_2";

/// The FIRK tableau called `name` (canonical name or alias).
pub fn tableau(name: &str) -> Result<RkTableau, TableauError> {
    lookup("firk", TABLE, name)
}

/// Every accepted name, aliases included.
pub fn valid_names() -> Vec<&'static str> {
    names(TABLE)
}

/// Every FIRK tableau, once each.
pub fn all() -> Vec<RkTableau> {
    TABLE.iter().map(|(_, _, build)| build()).collect()
}

/// Two-stage Gauss–Legendre (Hammer–Hollingsworth), order 4.
fn gauss_legendre_2() -> RkTableau {
    let r = 3f64.sqrt() / 6.0;
    RkTableau {
        name: "firk_gauss_legendre_2",
        aliases: &[],
        a: vec![vec![0.25, 0.25 - r], vec![0.25 + r, 0.25]],
        b: vec![0.5, 0.5],
        c: vec![0.5 - r, 0.5 + r],
        b_hat: None,
        b_hat_start: 0.0,
        order: 4,
        error_order: None,
    }
}

/// Three-stage Gauss–Legendre (Kuntzmann–Butcher), order 6.
fn gauss_legendre_3() -> RkTableau {
    let r = 15f64.sqrt();
    RkTableau {
        name: "firk_gauss_legendre_3",
        aliases: &[],
        a: vec![
            vec![5.0 / 36.0, 2.0 / 9.0 - r / 15.0, 5.0 / 36.0 - r / 30.0],
            vec![5.0 / 36.0 + r / 24.0, 2.0 / 9.0, 5.0 / 36.0 - r / 24.0],
            vec![5.0 / 36.0 + r / 30.0, 2.0 / 9.0 + r / 15.0, 5.0 / 36.0],
        ],
        b: vec![5.0 / 18.0, 4.0 / 9.0, 5.0 / 18.0],
        c: vec![0.5 - r / 10.0, 0.5, 0.5 + r / 10.0],
        b_hat: None,
        b_hat_start: 0.0,
        order: 6,
        error_order: None,
    }
}

/// Radau IIA, three stages, order 5, stiffly accurate, with Hairer's
/// order-3 embedded estimate.
fn radau_iia_5() -> RkTableau {
    let s6 = 6f64.sqrt();
    let b = vec![(16.0 - s6) / 36.0, (16.0 + s6) / 36.0, 1.0 / 9.0];
    let a = vec![
        vec![
            (88.0 - 7.0 * s6) / 360.0,
            (296.0 - 169.0 * s6) / 1800.0,
            (-2.0 + 3.0 * s6) / 225.0,
        ],
        vec![
            (296.0 + 169.0 * s6) / 1800.0,
            (88.0 + 7.0 * s6) / 360.0,
            (-2.0 - 3.0 * s6) / 225.0,
        ],
        b.clone(),
    ];
    // γ₀ = 1 / (real eigenvalue of A⁻¹); the stage-increment weights of
    // RADAU5 (dd), mapped onto stage derivatives through A (z = h·A·k).
    let gamma0 = (6.0 + 81f64.cbrt() - 9f64.cbrt()) / 30.0;
    let dd = [
        -(13.0 + 7.0 * s6) / 3.0,
        (-13.0 + 7.0 * s6) / 3.0,
        -1.0 / 3.0,
    ];
    let b_hat = (0..3)
        .map(|j| b[j] + gamma0 * (0..3).map(|i| dd[i] * a[i][j]).sum::<f64>())
        .collect();
    RkTableau {
        name: "radau_iia_5",
        aliases: &["radau"],
        a,
        b,
        c: vec![(4.0 - s6) / 10.0, (4.0 + s6) / 10.0, 1.0],
        b_hat: Some(b_hat),
        b_hat_start: gamma0,
        order: 5,
        error_order: Some(3),
    }
}
