//! Piecewise polynomial coefficients, computed once in f64.
//!
//! Segment `i` covers `[x[i], x[i+1]]`; with `s = t - x[i]` its value is
//! `c[0] + c[1] s + c[2] s^2 + c[3] s^3`. Callers guarantee at least two
//! strictly increasing, finite knots and finite values.

/// End condition of a cubic spline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum EndCondition {
    /// `S''(x_0) = S''(x_n) = 0`.
    Natural,
    /// `S'(x_0) = start`, `S'(x_n) = end`.
    Clamped { start: f64, end: f64 },
    /// `S, S', S''` equal at both ends; `y` must already have equal ends.
    Periodic,
}

/// Coefficients of a piecewise linear interpolant.
pub(crate) fn linear(x: &[f64], y: &[f64]) -> Vec<[f64; 4]> {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(x, y)| [y[0], (y[1] - y[0]) / (x[1] - x[0]), 0.0, 0.0])
        .collect()
}

/// Coefficients of the interpolating cubic spline.
pub(crate) fn cubic(x: &[f64], y: &[f64], end: EndCondition) -> Vec<[f64; 4]> {
    let moments = match end {
        EndCondition::Periodic => periodic_moments(x, y),
        _ => open_moments(x, y, end),
    };
    x.windows(2)
        .enumerate()
        .map(|(i, w)| {
            let h = w[1] - w[0];
            let (m0, m1) = (moments[i], moments[i + 1]);
            [
                y[i],
                (y[i + 1] - y[i]) / h - h * (2.0 * m0 + m1) / 6.0,
                0.5 * m0,
                (m1 - m0) / (6.0 * h),
            ]
        })
        .collect()
}

/// Second derivatives at the knots for natural or clamped ends: one
/// tridiagonal system over all `n` knots.
fn open_moments(x: &[f64], y: &[f64], end: EndCondition) -> Vec<f64> {
    let n = x.len();
    let h: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let slope: Vec<f64> = (0..n - 1).map(|i| (y[i + 1] - y[i]) / h[i]).collect();
    let mut sub = vec![0.0; n];
    let mut diag = vec![0.0; n];
    let mut sup = vec![0.0; n];
    let mut rhs = vec![0.0; n];
    for i in 1..n - 1 {
        sub[i] = h[i - 1];
        diag[i] = 2.0 * (h[i - 1] + h[i]);
        sup[i] = h[i];
        rhs[i] = 6.0 * (slope[i] - slope[i - 1]);
    }
    match end {
        EndCondition::Clamped { start, end } => {
            diag[0] = 2.0 * h[0];
            sup[0] = h[0];
            rhs[0] = 6.0 * (slope[0] - start);
            sub[n - 1] = h[n - 2];
            diag[n - 1] = 2.0 * h[n - 2];
            rhs[n - 1] = 6.0 * (end - slope[n - 2]);
        }
        _ => {
            // Natural: rows M_0 = 0 and M_{n-1} = 0.
            diag[0] = 1.0;
            diag[n - 1] = 1.0;
        }
    }
    thomas(&sub, &diag, &sup, &mut rhs);
    rhs
}

/// Second derivatives for periodic ends: `m = n - 1` unknowns
/// (`M_{n-1} = M_0`) in a cyclic tridiagonal system.
fn periodic_moments(x: &[f64], y: &[f64]) -> Vec<f64> {
    let n = x.len();
    let m = n - 1;
    let h: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let slope: Vec<f64> = (0..m).map(|i| (y[i + 1] - y[i]) / h[i]).collect();
    let mut moments = vec![0.0; n];
    match m {
        // Two equal samples: a constant, all moments zero.
        1 => {}
        2 => {
            // Both neighbours of each unknown are the other unknown.
            let a = 2.0 * (h[0] + h[1]);
            let b = h[0] + h[1];
            let r0 = 6.0 * (slope[0] - slope[1]);
            let r1 = 6.0 * (slope[1] - slope[0]);
            let det = a * a - b * b;
            moments[0] = (a * r0 - b * r1) / det;
            moments[1] = (a * r1 - b * r0) / det;
        }
        _ => {
            let mut sub = vec![0.0; m];
            let mut diag = vec![0.0; m];
            let mut sup = vec![0.0; m];
            let mut rhs = vec![0.0; m];
            for i in 0..m {
                let prev = (i + m - 1) % m;
                sub[i] = h[prev];
                diag[i] = 2.0 * (h[prev] + h[i]);
                sup[i] = h[i];
                rhs[i] = 6.0 * (slope[i] - slope[prev]);
            }
            // Corners: row 0 couples to unknown m-1, row m-1 to unknown 0.
            let (beta, alpha) = (sub[0], sup[m - 1]);
            cyclic_thomas(&sub, &diag, &sup, alpha, beta, &mut rhs);
            moments[..m].copy_from_slice(&rhs);
        }
    }
    moments[m] = moments[0];
    moments
}

/// Solves a tridiagonal system in place (`rhs` becomes the solution).
/// `sub[0]` and `sup[n-1]` are ignored. The spline systems are strictly
/// diagonally dominant, so no pivoting is needed.
fn thomas(sub: &[f64], diag: &[f64], sup: &[f64], rhs: &mut [f64]) {
    let n = diag.len();
    let mut c = vec![0.0; n];
    let mut beta = diag[0];
    c[0] = sup[0] / beta;
    rhs[0] /= beta;
    for i in 1..n {
        beta = diag[i] - sub[i] * c[i - 1];
        c[i] = if i + 1 < n { sup[i] / beta } else { 0.0 };
        rhs[i] = (rhs[i] - sub[i] * rhs[i - 1]) / beta;
    }
    for i in (0..n - 1).rev() {
        rhs[i] -= c[i] * rhs[i + 1];
    }
}

/// Solves a cyclic tridiagonal system (corners `beta = A[0][n-1]`,
/// `alpha = A[n-1][0]`) by Sherman–Morrison on top of [`thomas`];
/// needs `n >= 3`.
fn cyclic_thomas(sub: &[f64], diag: &[f64], sup: &[f64], alpha: f64, beta: f64, rhs: &mut [f64]) {
    let n = diag.len();
    let gamma = -diag[0];
    let mut d = diag.to_vec();
    d[0] -= gamma;
    d[n - 1] -= alpha * beta / gamma;
    thomas(sub, &d, sup, rhs);
    let mut z = vec![0.0; n];
    z[0] = gamma;
    z[n - 1] = alpha;
    thomas(sub, &d, sup, &mut z);
    let fact = (rhs[0] + beta * rhs[n - 1] / gamma) / (1.0 + z[0] + beta * z[n - 1] / gamma);
    for (r, z) in rhs.iter_mut().zip(&z) {
        *r -= fact * z;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(x: &[f64], c: &[[f64; 4]], t: f64) -> (f64, f64, f64) {
        let i = x.partition_point(|&k| k <= t).clamp(1, x.len() - 1) - 1;
        let s = t - x[i];
        let c = c[i];
        (
            c[0] + s * (c[1] + s * (c[2] + s * c[3])),
            c[1] + s * (2.0 * c[2] + 3.0 * s * c[3]),
            2.0 * c[2] + 6.0 * s * c[3],
        )
    }

    #[test]
    fn tridiagonal_solves_a_known_system() {
        // [[4,1,0],[1,4,1],[0,1,4]] x = [5,6,5] -> x = [1,1,1]
        let mut r = vec![5.0, 6.0, 5.0];
        thomas(&[0.0, 1.0, 1.0], &[4.0, 4.0, 4.0], &[1.0, 1.0, 0.0], &mut r);
        for v in r {
            assert!((v - 1.0).abs() < 1e-14);
        }
        // Cyclic: [[4,1,1],[1,4,1],[1,1,4]] x = [6,6,6] -> x = [1,1,1]
        let mut r = vec![6.0, 6.0, 6.0];
        cyclic_thomas(
            &[1.0, 1.0, 1.0],
            &[4.0, 4.0, 4.0],
            &[1.0, 1.0, 1.0],
            1.0,
            1.0,
            &mut r,
        );
        for v in r {
            assert!((v - 1.0).abs() < 1e-14, "{v}");
        }
    }

    #[test]
    fn clamped_reproduces_a_cubic_on_uneven_knots() {
        let f = |t: f64| 2.0 - t + 0.5 * t * t - 0.25 * t * t * t;
        let df = |t: f64| -1.0 + t - 0.75 * t * t;
        let x = [0.0, 0.3, 1.0, 1.2, 2.5, 3.0];
        let y: Vec<f64> = x.iter().map(|&t| f(t)).collect();
        let c = cubic(
            &x,
            &y,
            EndCondition::Clamped {
                start: df(0.0),
                end: df(3.0),
            },
        );
        for k in 0..=60 {
            let t = 3.0 * k as f64 / 60.0;
            let (v, d, _) = eval(&x, &c, t);
            assert!((v - f(t)).abs() < 1e-12, "t={t}: {v} vs {}", f(t));
            assert!((d - df(t)).abs() < 1e-11, "t={t}: {d} vs {}", df(t));
        }
    }

    #[test]
    fn periodic_with_three_and_four_samples_is_smooth_across_the_ends() {
        for x in [vec![0.0, 1.0, 3.0], vec![0.0, 0.5, 2.0, 3.0]] {
            let mut y: Vec<f64> = x.iter().map(|&t: &f64| (t * 2.0).sin()).collect();
            let last = y.len() - 1;
            y[last] = y[0];
            let c = cubic(&x, &y, EndCondition::Periodic);
            let (v0, d0, s0) = eval(&x, &c, x[0]);
            let end = *x.last().unwrap();
            let (v1, d1, s1) = eval(&x, &c, end - 1e-300);
            let seg = c.last().unwrap();
            let h = end - x[x.len() - 2];
            let d_end = seg[1] + h * (2.0 * seg[2] + 3.0 * h * seg[3]);
            let s_end = 2.0 * seg[2] + 6.0 * h * seg[3];
            assert!((v0 - v1).abs() < 1e-12);
            assert!((d0 - d_end).abs() < 1e-12, "{d0} vs {d_end} ({d1})");
            assert!((s0 - s_end).abs() < 1e-12, "{s0} vs {s_end} ({s1})");
        }
    }
}
