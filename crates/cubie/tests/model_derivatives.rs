//! Symbolic derivatives of models against finite differences: every
//! function of the language, the Jacobian-vector product, `df/dt` with
//! drivers, and the Hodgkin-Huxley neuron.

mod model_support;

use cubie::system::{Model, SystemFunctions};
use model_support::{Inputs, Rng, eval, eval_jacobian};

fn two_state_model(expr: &str) -> Model {
    Model::builder(format!("dx = {expr}\ndy = x * y"))
        .states([("x", 0.0), ("y", 0.0)])
        .build()
        .unwrap_or_else(|e| panic!("`{expr}`: {}", e.render()))
}

fn at(x: f64, y: f64) -> Inputs {
    Inputs {
        states: vec![x, y],
        ..Inputs::default()
    }
}

/// Central difference of `dxdt[row]` along state `col`.
fn central(f: &SystemFunctions, inputs: &Inputs, row: usize, col: usize) -> f64 {
    let h = 1e-6 * inputs.states[col].abs().max(1.0);
    let mut plus = inputs.clone();
    plus.states[col] += h;
    let mut minus = inputs.clone();
    minus.states[col] -= h;
    let fp = eval(&f.graph, &f.dxdt, &plus)[row];
    let fm = eval(&f.graph, &f.dxdt, &minus)[row];
    (fp - fm) / (2.0 * h)
}

/// Every function and operator, each with a box of (x, y) inside its
/// domain.
/// An expression and the ranges of x and y to sample.
type Case = (&'static str, (f64, f64), (f64, f64));

const CASES: &[Case] = &[
    ("exp(x * y)", (-1.0, 1.0), (-1.0, 1.0)),
    ("expm1(x - y)", (-1.0, 1.0), (-1.0, 1.0)),
    ("log(x + y)", (0.5, 2.0), (0.5, 2.0)),
    ("log1p(x * y)", (0.1, 2.0), (0.1, 2.0)),
    ("log10(x^2 + y)", (0.5, 2.0), (0.5, 2.0)),
    ("log2(x + y)", (0.5, 2.0), (0.5, 2.0)),
    ("sqrt(x * y)", (0.5, 2.0), (0.5, 2.0)),
    ("cbrt(x - y)", (2.0, 3.0), (0.0, 1.0)),
    ("abs(x - y)", (-3.0, 3.0), (-3.0, 3.0)),
    ("sin(x * y)", (-2.0, 2.0), (-2.0, 2.0)),
    ("cos(x + y)", (-2.0, 2.0), (-2.0, 2.0)),
    ("tan(x * y)", (0.1, 1.0), (0.1, 1.0)),
    ("asin(x * y)", (0.1, 0.8), (0.1, 0.8)),
    ("acos(x * y)", (-0.8, 0.8), (0.1, 0.8)),
    ("atan(x / y)", (-2.0, 2.0), (0.5, 2.0)),
    ("sinh(x - y)", (-1.0, 1.0), (-1.0, 1.0)),
    ("cosh(x * y)", (-1.0, 1.0), (-1.0, 1.0)),
    ("tanh(x + y)", (-1.0, 1.0), (-1.0, 1.0)),
    ("asinh(x - y)", (-2.0, 2.0), (-2.0, 2.0)),
    ("acosh(x + y)", (1.0, 2.0), (0.5, 2.0)),
    ("atanh(x * y)", (0.1, 0.8), (0.1, 0.8)),
    ("atan2(y, x)", (0.5, 2.0), (-2.0, 2.0)),
    ("hypot(x, y)", (0.5, 2.0), (-2.0, 2.0)),
    ("pow(x, y)", (0.5, 2.0), (-2.0, 2.0)),
    ("x^3 - y**2", (-2.0, 2.0), (-2.0, 2.0)),
    ("(x * y)^2.5", (0.5, 2.0), (0.5, 2.0)),
    ("2^(x * y)", (-1.0, 1.0), (-1.0, 1.0)),
    ("x / y - y / x", (0.5, 2.0), (0.5, 2.0)),
    ("min(x, y) * max(x^2, y)", (-2.0, 2.0), (-2.0, 2.0)),
    ("floor(x) * y + ceil(y) * x", (-3.0, 3.0), (-3.0, 3.0)),
    (
        "sign(x - y) * x * y + heaviside(x) * y",
        (-2.0, 2.0),
        (-2.0, 2.0),
    ),
    ("if(x > y, x^2, sin(y))", (-2.0, 2.0), (-2.0, 2.0)),
    ("x * y if x < y else x / y", (0.5, 2.0), (0.5, 2.0)),
    (
        "(x > y) * x + (x >= 0 and y <= 1) * y",
        (-2.0, 2.0),
        (-2.0, 2.0),
    ),
    (
        "(not (x < y) or x == y) * x^2 + (x != y) * y + (x <= y) * (y >= x)",
        (-2.0, 2.0),
        (-2.0, 2.0),
    ),
];

#[test]
fn every_function_matches_central_differences() {
    let mut rng = Rng::new(7);
    for &(expr, (x_lo, x_hi), (y_lo, y_hi)) in CASES {
        let model = two_state_model(expr);
        let f = model.functions_with_jacobian();
        for _ in 0..25 {
            let inputs = at(rng.uniform(x_lo, x_hi), rng.uniform(y_lo, y_hi));
            let jac = eval_jacobian(f, &inputs);
            for col in 0..2 {
                let fd = central(f, &inputs, 0, col);
                let exact = jac[col];
                assert!(
                    (exact - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                    "d({expr})/d{} at {:?}: symbolic {exact}, finite difference {fd}",
                    ["x", "y"][col],
                    inputs.states
                );
            }
            // Row 1 is d(x*y): [y, x].
            assert_eq!(jac[2..], [inputs.states[1], inputs.states[0]]);
        }
    }
}

#[test]
fn lorenz_jacobian_is_row_major() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lorenz.toml");
    let model = Model::from_file(path).expect("valid");
    let f = model.functions_with_jacobian();
    let (x, y, z, rho) = (1.5, -0.5, 2.0, 21.0);
    let inputs = Inputs {
        states: vec![x, y, z],
        parameters: vec![rho],
        drivers: vec![0.0],
        ..Inputs::default()
    };
    let beta = 8.0 / 3.0;
    let expected = [-10.0, 10.0, 0.0, rho - z, -1.0, -x, y, x, -beta];
    assert_eq!(eval_jacobian(f, &inputs), expected);
    assert_eq!(model.summary().jacobian_nonzeros, 8);
}

fn hodgkin_huxley() -> Model {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/hodgkin_huxley.toml"
    );
    Model::from_file(path).unwrap_or_else(|e| panic!("{}", e.render()))
}

fn hh_inputs(t: f64, states: [f64; 4], i_ext: f64) -> Inputs {
    Inputs {
        t,
        states: states.to_vec(),
        parameters: vec![10.0, 120.0, 36.0],
        drivers: vec![i_ext],
        driver_rates: vec![0.0],
        direction: vec![0.0; 4],
    }
}

#[test]
fn jvp_equals_jacobian_times_v() {
    let model = hodgkin_huxley();
    let f = model.functions_with_jacobian();
    let mut rng = Rng::new(11);
    for _ in 0..50 {
        let states = [
            rng.uniform(-80.0, 30.0),
            rng.uniform(0.0, 1.0),
            rng.uniform(0.0, 1.0),
            rng.uniform(0.0, 1.0),
        ];
        let mut inputs = hh_inputs(rng.uniform(0.0, 50.0), states, rng.uniform(-5.0, 5.0));
        inputs.direction = (0..4).map(|_| rng.uniform(-1.0, 1.0)).collect();
        let jac = eval_jacobian(f, &inputs);
        let jvp = eval(&f.graph, &f.jvp, &inputs);
        for i in 0..4 {
            let jv: f64 = (0..4).map(|j| jac[i * 4 + j] * inputs.direction[j]).sum();
            assert!(
                (jvp[i] - jv).abs() <= 1e-12 * (1.0 + jv.abs()),
                "row {i}: {} vs {jv}",
                jvp[i]
            );
        }
        // And the Jacobian itself against finite differences.
        for i in 0..4 {
            for j in 0..4 {
                let fd = central(f, &inputs, i, j);
                let exact = jac[i * 4 + j];
                assert!(
                    (exact - fd).abs() <= 1e-5 * (1.0 + fd.abs()),
                    "J[{i}][{j}]: {exact} vs {fd}"
                );
            }
        }
    }
}

#[test]
fn dfdt_includes_time_and_driver_rates() {
    let model = Model::builder("dx = sin(t) * x + s^2 * p\ndy = exp(-t) * s")
        .states([("x", 0.0), ("y", 0.0)])
        .parameter("p", 3.0)
        .driver("s", 0.0)
        .build()
        .expect("valid");
    let f = model.functions();
    let (t, x, s, rate, p) = (0.8, 1.7, 0.6, -2.5, 3.0);
    let inputs = Inputs {
        t,
        states: vec![x, 0.0],
        parameters: vec![p],
        drivers: vec![s],
        driver_rates: vec![rate],
        direction: vec![],
    };
    let dfdt = eval(&f.graph, &f.dfdt, &inputs);
    let expected = [
        t.cos() * x + 2.0 * s * rate * p,
        -(-t).exp() * s + (-t).exp() * rate,
    ];
    for i in 0..2 {
        assert!(
            (dfdt[i] - expected[i]).abs() < 1e-14,
            "{i}: {} vs {}",
            dfdt[i],
            expected[i]
        );
    }
    // Against a finite difference along t with s(t) = s + rate * (t' - t).
    let h = 1e-6;
    let shifted = |dt: f64| {
        let mut i = inputs.clone();
        i.t += dt;
        i.drivers[0] += rate * dt;
        eval(&f.graph, &f.dxdt, &i)
    };
    let (fp, fm) = (shifted(h), shifted(-h));
    for i in 0..2 {
        let fd = (fp[i] - fm[i]) / (2.0 * h);
        assert!((dfdt[i] - fd).abs() < 1e-7, "{i}: {} vs {fd}", dfdt[i]);
    }
}

#[test]
fn hodgkin_huxley_parses_and_behaves() {
    let model = hodgkin_huxley();
    let names: Vec<&str> = model.states().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["V", "n", "m", "h"]);
    assert_eq!(model.observables(), ["I_Na", "I_K", "I_L", "I_stim"]);
    let f = model.functions();
    let rest = [-65.0, 0.3177, 0.0529, 0.5961];

    // Near rest, before the stimulus, the membrane barely moves.
    let before = eval(&f.graph, &f.dxdt, &hh_inputs(0.5, rest, 0.0));
    assert!(before[0].abs() < 0.1, "dV at rest: {}", before[0]);
    // During the step the 10 uA/cm^2 stimulus adds 10 mV/ms.
    let during = eval(&f.graph, &f.dxdt, &hh_inputs(2.0, rest, 0.0));
    assert!((during[0] - before[0] - 10.0).abs() < 1e-12);
    assert_eq!(during[1..], before[1..]);
    // The driven current adds too.
    let driven = eval(&f.graph, &f.dxdt, &hh_inputs(0.5, rest, 2.0));
    assert!((driven[0] - before[0] - 2.0).abs() < 1e-12);

    // The guarded rate takes its limit at V = -55 and is continuous there.
    let at_singularity = eval(
        &f.graph,
        &f.dxdt,
        &hh_inputs(0.0, [-55.0, 0.0, 0.0, 0.0], 0.0),
    );
    let nearby = eval(
        &f.graph,
        &f.dxdt,
        &hh_inputs(0.0, [-55.0 + 1e-4, 0.0, 0.0, 0.0], 0.0),
    );
    assert_eq!(at_singularity[1], 0.1);
    assert!((nearby[1] - 0.1).abs() < 1e-5);

    // Observables: I_L = g_L (V - E_L).
    let obs = eval(&f.graph, &f.observables, &hh_inputs(0.5, rest, 0.0));
    assert!((obs[2] - 0.3 * (-65.0 + 54.387)).abs() < 1e-12);
    assert_eq!(obs[3], 0.0);

    // dfdt: the step is piecewise constant; only the driver rate remains.
    let mut inputs = hh_inputs(2.0, rest, 0.0);
    inputs.driver_rates = vec![4.0];
    assert_eq!(eval(&f.graph, &f.dfdt, &inputs), vec![4.0, 0.0, 0.0, 0.0]);
}

#[test]
fn hodgkin_huxley_summary_counts_are_sane() {
    let model = hodgkin_huxley();
    let s = model.summary();
    assert_eq!(s.name, "hodgkin_huxley");
    assert_eq!(s.auxiliaries.len(), 10);
    // dV depends on every state; each gate on V and itself.
    assert_eq!(s.jacobian_nonzeros, 4 + 3 * 2);
    let ops = s.operations;
    assert!(ops.dxdt.shared > 30 && ops.dxdt.shared < 150, "{ops:?}");
    assert!(ops.dxdt.tree as usize >= ops.dxdt.shared);
    let jacobian = ops.jacobian.expect("a small Jacobian is counted");
    assert!(jacobian.shared > ops.dxdt.shared);
    assert!(
        (jacobian.tree as usize) > jacobian.shared,
        "sharing must pay off: {ops:?}"
    );
    // Forward mode: a JVP costs a few operations per operation of dxdt.
    assert!(ops.jvp.shared > ops.dxdt.shared && ops.jvp.shared <= 4 * ops.dxdt.shared);
    assert!(ops.observables.shared > 0 && ops.observables.shared < ops.dxdt.shared);

    let json = serde_json::to_value(&s).expect("serialisable");
    assert_eq!(json["states"][0]["name"], "V");
    assert_eq!(json["states"][0]["value"], -65.0);
    assert_eq!(json["precision"], "f64");
    assert_eq!(json["operations"]["dxdt"]["shared"], ops.dxdt.shared);
}
