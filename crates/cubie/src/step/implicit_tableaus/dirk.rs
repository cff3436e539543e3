//! Diagonally implicit Runge–Kutta tableaus (SDIRK / ESDIRK), named as in
//! CuBIE.
//!
//! | name | aliases | stages | order | embedded |
//! | --- | --- | --- | --- | --- |
//! | `implicit_midpoint` | | 1 | 2 | — |
//! | `trapezoidal_dirk` | `ode23t` | 2 (ESDIRK) | 2 | — |
//! | `sdirk_2_2` | | 2 | 2 | — |
//! | `l_stable_dirk_3` | | 3 | 3 | — |
//! | `l_stable_sdirk_4` | | 5 | 4 | order 3 |
//! | `kvaerno3` | | 4 (ESDIRK) | 3 | order 2 |
//! | `kvaerno5` | | 7 (ESDIRK) | 5 | order 4 |

use super::{Entry, RkTableau, TableauError, lookup, names};

const TABLE: &[Entry<RkTableau>] = &[
    ("implicit_midpoint", &[], implicit_midpoint),
    ("trapezoidal_dirk", &["ode23t"], trapezoidal),
    ("sdirk_2_2", &[], sdirk_2_2),
    ("l_stable_dirk_3", &[], l_stable_dirk_3),
    ("l_stable_sdirk_4", &[], l_stable_sdirk_4),
    ("kvaerno3", &[], kvaerno3),
    ("kvaerno5", &[], kvaerno5),
];

/// CuBIE's default DIRK tableau.
pub const DEFAULT: &str = "l_stable_dirk_3";

/// The DIRK tableau called `name` (canonical name or alias).
pub fn tableau(name: &str) -> Result<RkTableau, TableauError> {
    lookup("dirk", TABLE, name)
}

/// Every accepted name, aliases included.
pub fn valid_names() -> Vec<&'static str> {
    names(TABLE)
}

/// Every DIRK tableau, once each.
pub fn all() -> Vec<RkTableau> {
    TABLE.iter().map(|(_, _, build)| build()).collect()
}

fn rk(
    name: &'static str,
    aliases: &'static [&'static str],
    a: Vec<Vec<f64>>,
    b: Vec<f64>,
    c: Vec<f64>,
    order: u32,
    embedded: Option<(Vec<f64>, u32)>,
) -> RkTableau {
    let (b_hat, error_order) = match embedded {
        Some((bh, p)) => (Some(bh), Some(p)),
        None => (None, None),
    };
    RkTableau {
        name,
        aliases,
        a,
        b,
        c,
        b_hat,
        b_hat_start: 0.0,
        order,
        error_order,
    }
}

/// One stage at `c = 1/2`; symplectic, A-stable.
fn implicit_midpoint() -> RkTableau {
    rk(
        "implicit_midpoint",
        &[],
        vec![vec![0.5]],
        vec![1.0],
        vec![0.5],
        2,
        None,
    )
}

/// The trapezoidal rule (Crank–Nicolson) as an ESDIRK.
fn trapezoidal() -> RkTableau {
    rk(
        "trapezoidal_dirk",
        &["ode23t"],
        vec![vec![0.0, 0.0], vec![0.5, 0.5]],
        vec![0.5, 0.5],
        vec![0.0, 1.0],
        2,
        None,
    )
}

/// Backward Euler's one stage (the `backwards_euler` methods).
pub fn backwards_euler() -> RkTableau {
    rk(
        "backwards_euler",
        &[],
        vec![vec![1.0]],
        vec![1.0],
        vec![1.0],
        1,
        None,
    )
}

/// Crank–Nicolson's stages: the trapezoidal ESDIRK's coefficients.
pub fn crank_nicolson() -> RkTableau {
    RkTableau {
        name: "crank_nicolson",
        aliases: &[],
        ..trapezoidal()
    }
}

/// Alexander (1977): two stages, L-stable, γ = 1 − 1/√2.
fn sdirk_2_2() -> RkTableau {
    let g = 1.0 - std::f64::consts::FRAC_1_SQRT_2;
    rk(
        "sdirk_2_2",
        &[],
        vec![vec![g, 0.0], vec![1.0 - g, g]],
        vec![1.0 - g, g],
        vec![g, 1.0],
        2,
        None,
    )
}

/// Alexander (1977) three-stage L-stable, stiffly accurate SDIRK; γ is the
/// root near 0.4359 of 6γ³ − 18γ² + 9γ − 1 = 0.
fn l_stable_dirk_3() -> RkTableau {
    let t = (std::f64::consts::SQRT_2 / 4.0).atan() / 3.0;
    let g = 1.0 - std::f64::consts::SQRT_2 * t.cos() / 2.0 + 6f64.sqrt() * t.sin() / 2.0;
    let b1 = (-6.0 * g * g + 16.0 * g - 1.0) / 4.0;
    let b2 = (6.0 * g * g - 20.0 * g + 5.0) / 4.0;
    rk(
        "l_stable_dirk_3",
        &[],
        vec![
            vec![g, 0.0, 0.0],
            vec![(1.0 - g) / 2.0, g, 0.0],
            vec![b1, b2, g],
        ],
        vec![b1, b2, g],
        vec![g, (1.0 + g) / 2.0, 1.0],
        3,
        None,
    )
}

/// Hairer–Wanner SDIRK4 (Solving ODEs II, IV.6, Table 6.5), γ = 1/4,
/// with its order-3 embedded weights.
fn l_stable_sdirk_4() -> RkTableau {
    let q = 0.25;
    let b = vec![25.0 / 24.0, -49.0 / 48.0, 125.0 / 16.0, -85.0 / 12.0, q];
    rk(
        "l_stable_sdirk_4",
        &[],
        vec![
            vec![q, 0.0, 0.0, 0.0, 0.0],
            vec![0.5, q, 0.0, 0.0, 0.0],
            vec![17.0 / 50.0, -1.0 / 25.0, q, 0.0, 0.0],
            vec![371.0 / 1360.0, -137.0 / 2720.0, 15.0 / 544.0, q, 0.0],
            b.clone(),
        ],
        b,
        vec![q, 0.75, 11.0 / 20.0, 0.5, 1.0],
        4,
        Some((
            vec![59.0 / 48.0, -17.0 / 96.0, 225.0 / 32.0, -85.0 / 12.0, 0.0],
            3,
        )),
    )
}

/// Kværnø (2004) ESDIRK 3(2), four stages, stiffly accurate; the embedded
/// solution is the third stage.
fn kvaerno3() -> RkTableau {
    let g = 0.4358665215;
    let b = vec![0.308809969973036, 1.490563388254106, -1.235239879727145, g];
    let row3 = vec![0.490563388419108, 0.073570090080892, g, 0.0];
    rk(
        "kvaerno3",
        &[],
        vec![vec![0.0; 4], vec![g, g, 0.0, 0.0], row3.clone(), b.clone()],
        b,
        vec![0.0, 2.0 * g, 1.0, 1.0],
        3,
        Some((row3, 2)),
    )
}

/// Kværnø (2004) ESDIRK 5(4), seven stages, stiffly accurate; the embedded
/// solution is the sixth stage.
// The published digits are kept verbatim, even where f64 cannot hold them.
#[allow(clippy::excessive_precision)]
fn kvaerno5() -> RkTableau {
    let g = 0.26;
    let row6 = vec![
        0.13855640231268224,
        0.0,
        -0.04245337201752043,
        0.02446657898003141,
        0.61943039072480676,
        g,
        0.0,
    ];
    let b = vec![
        0.13659751177640291,
        0.0,
        -0.05496908796538376,
        -0.04118626728321046,
        0.62993304899016403,
        0.06962479448202728,
        g,
    ];
    let a = vec![
        vec![0.0; 7],
        vec![g, g, 0.0, 0.0, 0.0, 0.0, 0.0],
        vec![0.13, 0.84033320996790809, g, 0.0, 0.0, 0.0, 0.0],
        vec![
            0.22371961478320505,
            0.47675532319799699,
            -0.06470895363112615,
            g,
            0.0,
            0.0,
            0.0,
        ],
        vec![
            0.16648564323248321,
            0.1045001884159172,
            0.03631482272098715,
            -0.13090704451073998,
            g,
            0.0,
            0.0,
        ],
        row6.clone(),
        b.clone(),
    ];
    let c = vec![
        0.0,
        2.0 * g,
        1.230333209967908,
        0.895765984350076,
        0.436393609858648,
        1.0,
        1.0,
    ];
    rk("kvaerno5", &[], a, b, c, 5, Some((row6, 4)))
}
