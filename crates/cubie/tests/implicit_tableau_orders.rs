//! Implicit tableaus: consistency, order conditions by rooted trees (DIRK,
//! FIRK) and Hairer–Wanner's Rosenbrock conditions, embedded orders,
//! derived properties and name lookup.

use cubie::step::implicit_tableaus::order::{achieved_order, max_residual};
use cubie::step::implicit_tableaus::{RkTableau, TableauError, dirk, firk, rosenbrock};

/// Published coefficients carry 10–16 digits (Kværnø's γ has 10).
const TOL: f64 = 1e-9;

fn check_rk(t: &RkTableau) {
    let s = t.stages();
    assert_eq!(t.a.len(), s, "{}", t.name);
    assert_eq!(t.c.len(), s, "{}", t.name);
    for (i, row) in t.a.iter().enumerate() {
        let sum: f64 = row.iter().sum();
        assert!(
            (sum - t.c[i]).abs() < TOL,
            "{}: row {i} sums to {sum}, c = {}",
            t.name,
            t.c[i]
        );
    }
    let p = t.order as usize;
    assert!(
        max_residual(&t.a, &t.b, p) < TOL,
        "{}: order {p} conditions fail",
        t.name
    );
    // Exactly the stated order: some order p+1 condition fails.
    assert_eq!(achieved_order(&t.a, &t.b, p + 1, TOL), p, "{}", t.name);
    match (t.embedded(), t.error_order) {
        (Some((a, bh)), Some(q)) => {
            assert_eq!(
                achieved_order(&a, &bh, q as usize + 1, TOL),
                q as usize,
                "{} embedded",
                t.name
            );
            let e = t.error_weights().expect("error weights");
            assert!(e.iter().any(|x| x.abs() > 1e-3), "{}: b̂ equals b", t.name);
        }
        (None, None) => assert!(t.error_weights().is_none()),
        _ => panic!("{}: b_hat and error_order disagree", t.name),
    }
}

#[test]
fn dirk_tableaus_have_their_orders() {
    let all = dirk::all();
    assert_eq!(all.len(), 7);
    for t in &all {
        assert!(t.is_diagonally_implicit(), "{}", t.name);
        check_rk(t);
    }
    let orders: Vec<(&str, u32, Option<u32>)> = all
        .iter()
        .map(|t| (t.name, t.order, t.error_order))
        .collect();
    assert_eq!(
        orders,
        vec![
            ("implicit_midpoint", 2, None),
            ("trapezoidal_dirk", 2, None),
            ("sdirk_2_2", 2, None),
            ("l_stable_dirk_3", 3, None),
            ("l_stable_sdirk_4", 4, Some(3)),
            ("kvaerno3", 3, Some(2)),
            ("kvaerno5", 5, Some(4)),
        ]
    );
}

#[test]
fn firk_tableaus_have_their_orders() {
    let all = firk::all();
    for t in &all {
        assert!(!t.is_diagonally_implicit(), "{}", t.name);
        check_rk(t);
    }
    let radau = firk::tableau("radau").expect("alias");
    assert_eq!(radau.name, "radau_iia_5");
    assert!(radau.stiffly_accurate());
    // Hairer's γ₀ ≈ 0.2749, the inverse of A⁻¹'s real eigenvalue 3.6378.
    assert!((radau.b_hat_start - 0.274_888_829_595_677_3).abs() < 1e-12);
    assert_eq!(
        firk::tableau("firk_gauss_legendre_2").map(|t| t.order),
        Ok(4)
    );
    assert_eq!(
        firk::tableau("firk_gauss_legendre_3").map(|t| t.order),
        Ok(6)
    );
}

#[test]
fn derived_properties() {
    let get = |n: &str| dirk::tableau(n).expect(n);
    let flags = |t: &RkTableau| {
        (
            t.explicit_first_stage(),
            t.singly_diagonal(),
            t.stiffly_accurate(),
            t.first_same_as_last(),
        )
    };
    assert_eq!(
        flags(&get("implicit_midpoint")),
        (false, true, false, false)
    );
    assert_eq!(flags(&get("ode23t")), (true, true, true, true));
    assert_eq!(flags(&get("sdirk_2_2")), (false, true, true, false));
    assert_eq!(flags(&get("l_stable_dirk_3")), (false, true, true, false));
    assert_eq!(flags(&get("l_stable_sdirk_4")), (false, true, true, false));
    assert_eq!(flags(&get("kvaerno3")), (true, true, true, true));
    assert_eq!(flags(&get("kvaerno5")), (true, true, true, true));
    assert_eq!(get("l_stable_sdirk_4").diagonal(), vec![0.25; 5]);
    // Alexander's γ solves 6γ³ − 18γ² + 9γ − 1 = 0.
    let g = get("l_stable_dirk_3").a[0][0];
    assert!((6.0 * g * g * g - 18.0 * g * g + 9.0 * g - 1.0).abs() < 1e-14);
    assert!((g - 0.4358665215).abs() < 1e-10);
}

#[test]
fn rosenbrock_tableaus_satisfy_their_conditions() {
    let expected = [("ros3p", 3, 2), ("rodas3p", 3, 2), ("rosenbrock23", 2, 3)];
    let all = rosenbrock::all();
    assert_eq!(all.len(), expected.len());
    for (t, (name, p, q)) in all.iter().zip(expected) {
        assert_eq!((t.name, t.order, t.error_order), (name, p, Some(q)));
        let s = t.stages();
        let g = t.gamma_matrix();
        let alpha = t.alpha();
        for i in 0..s {
            assert!((g[i][i] - t.gamma).abs() < 1e-14, "{name}: Γ diagonal");
            let row_sum: f64 = g[i].iter().sum();
            assert!((row_sum - t.gamma_stages[i]).abs() < 1e-12, "{name}: γ_{i}");
            let alpha_sum: f64 = alpha[i].iter().sum();
            assert!((alpha_sum - t.c[i]).abs() < 1e-12, "{name}: c_{i}");
            assert!(
                t.a[i][i..].iter().all(|&x| x == 0.0),
                "{name}: a strictly lower"
            );
        }
        let conds = |w: &[f64], upto: usize| {
            // Conditions per order: 1 → [0], 2 → [1], 3 → [2, 3].
            let r = t.order_residuals(w);
            let idx: &[usize] = match upto {
                1 => &[0],
                2 => &[0, 1],
                _ => &[0, 1, 2, 3],
            };
            idx.iter().map(|&k| r[k].abs()).fold(0.0, f64::max)
        };
        let b_hat = t.b_hat.clone().expect("embedded");
        assert!(conds(&t.b, p as usize) < 1e-12, "{name}: b order {p}");
        assert!(conds(&b_hat, q as usize) < 1e-12, "{name}: b̂ order {q}");
        // Exactly: the next order fails (both orders here are ≤ 3).
        let (lo_w, lo) = if p < q { (&t.b, p) } else { (&b_hat, q) };
        assert!(
            conds(lo_w, lo as usize + 1) > 1e-3,
            "{name}: order above {lo}"
        );
    }
}

#[test]
fn names_and_aliases() {
    assert_eq!(
        rosenbrock::tableau("ode23s").map(|t| t.name),
        Ok("rosenbrock23")
    );
    assert_eq!(
        rosenbrock::tableau("rosenbrock23_sciml").map(|t| t.name),
        Ok("rosenbrock23")
    );
    assert_eq!(dirk::tableau(dirk::DEFAULT).map(|t| t.order), Ok(3));
    let err = dirk::tableau("kvaerno4").expect_err("unknown");
    assert_eq!(
        err,
        TableauError::Unknown {
            family: "dirk",
            name: "kvaerno4".into(),
            valid: dirk::valid_names(),
        }
    );
    let msg = err.to_string();
    assert!(
        msg.contains("kvaerno4") && msg.contains("ode23t") && msg.contains("kvaerno5"),
        "{msg}"
    );
    assert!(firk::tableau("gauss").is_err());
    assert!(firk::valid_names().contains(&"radau"));
}
