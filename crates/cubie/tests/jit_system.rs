//! A whole model through the native code: every function of a forced
//! Lorenz system (hand-built Jacobian, JVP, df/dt and an observable) against
//! the evaluator and closed forms, `Cell` arguments that alias, functions
//! with no outputs, length checks, and sharing between threads.

use std::cell::Cell;

use cubie::Real;
use cubie::backend::cpu::jit::{JitReal, NativeSystem};
use cubie::system::args::Inputs;
use cubie::system::eval::Evaluator;
use cubie::system::expr::{BinaryOp, ExprGraph, Symbol, UnaryOp};
use cubie::system::{SparseJacobian, SystemFunction, SystemFunctions};

/// Lorenz, forced by a driver `d` on `dx`:
///
/// ```text
/// dx = sigma * (y - x) + d
/// dy = x * (rho - z) - y
/// dz = x * y - beta * z
/// observable: energy = x^2 + y^2 + z^2 + sin(t)
/// ```
fn forced_lorenz() -> SystemFunctions {
    let mut g = ExprGraph::new();
    let [x, y, z] = [0, 1, 2].map(|i| g.symbol(Symbol::State(i)));
    let [sigma, rho, beta] = [0, 1, 2].map(|i| g.symbol(Symbol::Parameter(i)));
    let [vx, vy, vz] = [0, 1, 2].map(|i| g.symbol(Symbol::Direction(i)));
    let d = g.symbol(Symbol::Driver(0));
    let d_rate = g.symbol(Symbol::DriverRate(0));
    let t = g.symbol(Symbol::Time);

    let y_minus_x = g.sub(y, x);
    let sx = g.mul(sigma, y_minus_x);
    let dx = g.add(sx, d);
    let rho_minus_z = g.sub(rho, z);
    let x_rz = g.mul(x, rho_minus_z);
    let dy = g.sub(x_rz, y);
    let xy = g.mul(x, y);
    let bz = g.mul(beta, z);
    let dz = g.sub(xy, bz);

    let zero = g.constant(0.0);
    let minus_one = g.constant(-1.0);
    let neg_sigma = g.neg(sigma);
    let neg_x = g.neg(x);
    let neg_beta = g.neg(beta);
    let jacobian = vec![
        neg_sigma,
        sigma,
        zero,
        rho_minus_z,
        minus_one,
        neg_x,
        y,
        x,
        neg_beta,
    ];
    let jvp_x = {
        let a = g.sub(vy, vx);
        g.mul(sigma, a)
    };
    let jvp_y = {
        let a = g.mul(rho_minus_z, vx);
        let b = g.sub(a, vy);
        let c = g.mul(x, vz);
        g.sub(b, c)
    };
    let jvp_z = {
        let a = g.mul(y, vx);
        let b = g.mul(x, vy);
        let c = g.add(a, b);
        let e = g.mul(beta, vz);
        g.sub(c, e)
    };
    let energy = {
        let two = g.constant(2.0);
        let squares = [x, y, z].map(|s| g.binary(BinaryOp::Pow, s, two));
        let s01 = g.add(squares[0], squares[1]);
        let s = g.add(s01, squares[2]);
        let sin_t = g.unary(UnaryOp::Sin, t);
        g.add(s, sin_t)
    };
    let jacobian = SparseJacobian::from_dense(&g, 3, &jacobian);
    SystemFunctions {
        graph: g,
        n_states: 3,
        n_parameters: 3,
        n_drivers: 1,
        dxdt: vec![dx, dy, dz],
        observables: vec![energy],
        jvp: vec![jvp_x, jvp_y, jvp_z],
        dfdt: vec![d_rate, zero, zero],
        jacobian: Some(jacobian),
        dense_jacobian: true,
    }
}

struct Point {
    t: f64,
    state: [f64; 3],
    params: [f64; 3],
    driver: [f64; 1],
    rate: [f64; 1],
    v: [f64; 3],
}

fn points() -> Vec<Point> {
    (0..50)
        .map(|i| {
            let s = i as f64;
            Point {
                t: 0.1 * s,
                state: [1.0 + 0.3 * s, -2.0 + 0.17 * s, 20.0 - 0.4 * s],
                params: [10.0, 28.0, 8.0 / 3.0 + 0.01 * s],
                driver: [(0.2 * s).sin()],
                rate: [0.2 * (0.2 * s).cos()],
                v: [0.5 - 0.01 * s, 1.5, -0.25 * s],
            }
        })
        .collect()
}

fn lorenz_matches<T: JitReal>() {
    let functions = forced_lorenz();
    let native = NativeSystem::<T>::compile(&functions).expect("compiles");
    let mut eval = Evaluator::<T>::new(&functions).expect("valid");
    let r = T::from_f64;
    let tol = if T::PRECISION == cubie::Precision::F32 {
        1e-5
    } else {
        1e-13
    };
    for p in points() {
        let [t, x, y, z] = [p.t, p.state[0], p.state[1], p.state[2]];
        let [sigma, rho, beta] = p.params;
        let (d, dd, v) = (p.driver[0], p.rate[0], p.v);
        let state = p.state.map(r);
        let params = p.params.map(r);
        let driver = p.driver.map(r);
        let rate = p.rate.map(r);
        let dir = p.v.map(r);
        let tt = r(t);

        let mut dxdt = [T::zero(); 3];
        native
            .dxdt(tt, &state, &params, &driver, &mut dxdt[..])
            .expect("lengths");
        let mut obs = [T::zero(); 1];
        native
            .observables(tt, &state, &params, &driver, &mut obs[..])
            .expect("lengths");
        let mut jac = [T::zero(); 9];
        native
            .jacobian(tt, &state, &params, &[], &mut jac[..])
            .expect("lengths");
        let mut jvp = [T::zero(); 3];
        native
            .jvp(tt, &state, &params, &[], &dir, &mut jvp[..])
            .expect("lengths");
        let mut dfdt = [T::zero(); 3];
        native
            .dfdt(tt, &state, &params, &driver, &rate, &mut dfdt[..])
            .expect("lengths");

        // Closed forms (in f64).
        let expect_dxdt = [sigma * (y - x) + d, x * (rho - z) - y, x * y - beta * z];
        let expect_jac = [-sigma, sigma, 0.0, rho - z, -1.0, -x, y, x, -beta];
        let expect_jvp: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|j| expect_jac[3 * i + j] * v[j]).sum())
            .collect();
        let close = |got: &[T], want: &[f64], what: &str| {
            for (g, w) in got.iter().zip(want) {
                let scale = w.abs().max(1.0);
                assert!(
                    (Real::to_f64(*g) - w).abs() <= tol * scale * 10.0,
                    "{what}: {g:?} vs {w}"
                );
            }
        };
        close(&dxdt, &expect_dxdt, "dxdt");
        close(&obs, &[x * x + y * y + z * z + t.sin()], "energy");
        close(&jac, &expect_jac, "jacobian");
        close(&jvp, &expect_jvp, "jvp");
        close(&dfdt, &[dd, 0.0, 0.0], "dfdt");

        // And bit for bit against the evaluator (x^2 expands to x*x, which
        // is what powf(x, 2) returns too: both correctly rounded).
        let inputs = Inputs::new(tt, &state, &params)
            .with_drivers(&driver)
            .with_driver_rates(&rate)
            .with_direction(&dir);
        for (function, got) in [
            (SystemFunction::Dxdt, &dxdt[..]),
            (SystemFunction::Observables, &obs[..]),
            (SystemFunction::Jacobian, &jac[..]),
            (SystemFunction::Jvp, &jvp[..]),
            (SystemFunction::Dfdt, &dfdt[..]),
        ] {
            let mut want = vec![T::zero(); got.len()];
            eval.eval(function, &inputs, &mut want[..])
                .expect("lengths");
            assert_eq!(got, &want[..], "{function:?}");
        }
    }
}

#[test]
fn forced_lorenz_matches_closed_forms_and_evaluator_f64() {
    lorenz_matches::<f64>();
}

#[test]
fn forced_lorenz_matches_closed_forms_and_evaluator_f32() {
    lorenz_matches::<f32>();
}

#[test]
fn cell_views_may_alias_outputs_and_inputs() {
    let functions = forced_lorenz();
    let native = NativeSystem::<f64>::compile(&functions).expect("compiles");
    let p = &points()[3];
    let mut expected = [0.0; 3];
    native
        .dxdt(p.t, &p.state, &p.params, &p.driver, &mut expected[..])
        .expect("lengths");

    // One arena: [state | parameters | driver], with dxdt written over the
    // state it reads.
    let mut arena: Vec<f64> = p
        .state
        .iter()
        .chain(&p.params)
        .chain(&p.driver)
        .copied()
        .collect();
    let cells = Cell::from_mut(&mut arena[..]).as_slice_of_cells();
    let (state, rest) = cells.split_at(3);
    let (params, driver) = rest.split_at(3);
    native
        .dxdt(p.t, state, params, driver, state)
        .expect("lengths");
    assert_eq!(arena[..3], expected);
    assert_eq!(arena[3..6], p.params);
}

#[test]
fn functions_without_outputs_compile_and_run() {
    let mut g = ExprGraph::new();
    let x = g.symbol(Symbol::State(0));
    let dx = g.neg(x);
    let functions = SystemFunctions {
        graph: g,
        n_states: 1,
        dxdt: vec![dx],
        ..Default::default()
    };
    for f in SystemFunction::ALL {
        let n = usize::from(f == SystemFunction::Dxdt);
        assert_eq!(functions.roots(f).len(), n);
    }
    let native = NativeSystem::<f32>::compile(&functions).expect("compiles");
    assert_eq!(native.n_outputs(SystemFunction::Observables), 0);
    let mut none: [f32; 0] = [];
    native
        .observables(0.0, &[2.0f32], &[], &[], &mut none[..])
        .expect("no outputs");
    native
        .jacobian(0.0, &[2.0f32], &[], &[], &mut none[..])
        .expect("no outputs");
    let mut out = [0.0f32];
    native
        .dxdt(0.0, &[2.0f32], &[], &[], &mut out[..])
        .expect("lengths");
    assert_eq!(out, [-2.0]);
}

#[test]
fn wrong_lengths_are_rejected() {
    let functions = forced_lorenz();
    let native = NativeSystem::<f64>::compile(&functions).expect("compiles");
    let p = &points()[0];
    let mut out3 = [0.0; 3];
    let mut out4 = [0.0; 4];

    let err = native
        .dxdt(0.0, &p.state[..2], &p.params, &p.driver, &mut out3[..])
        .expect_err("short state");
    assert_eq!(
        (err.function, err.argument, err.expected, err.found),
        ("dxdt", "state", 3, 2)
    );

    let err = native
        .dxdt(0.0, &p.state, &p.params, &p.driver, &mut out4[..])
        .expect_err("long out");
    assert_eq!((err.argument, err.expected, err.found), ("out", 3, 4));

    // dxdt reads the driver: an empty one is not enough.
    let err = native
        .dxdt(0.0, &p.state, &p.params, &[], &mut out3[..])
        .expect_err("missing driver");
    assert_eq!(err.argument, "drivers");

    // The Jacobian does not read it: empty or full are both fine, a wrong
    // length is not.
    let mut jac = [0.0; 9];
    native
        .jacobian(0.0, &p.state, &p.params, &[], &mut jac[..])
        .expect("unread driver may be empty");
    native
        .jacobian(0.0, &p.state, &p.params, &p.driver, &mut jac[..])
        .expect("or complete");
    assert!(
        native
            .jacobian(0.0, &p.state, &p.params, &[0.0, 0.0], &mut jac[..])
            .is_err()
    );

    let err = native
        .jvp(0.0, &p.state, &p.params, &[], &p.v[..1], &mut out3[..])
        .expect_err("short direction");
    assert_eq!(err.argument, "direction");
    // Nothing was written by the rejected calls.
    assert_eq!(out3, [0.0; 3]);
}

#[test]
fn one_native_system_serves_many_threads() {
    let functions = forced_lorenz();
    let native = NativeSystem::<f64>::compile(&functions).expect("compiles");
    let pts = points();
    let serial: Vec<[f64; 3]> = pts
        .iter()
        .map(|p| {
            let mut out = [0.0; 3];
            native
                .dxdt(p.t, &p.state, &p.params, &p.driver, &mut out[..])
                .expect("lengths");
            out
        })
        .collect();
    std::thread::scope(|s| {
        for chunk in 0..4 {
            let (native, pts, serial) = (&native, &pts, &serial);
            s.spawn(move || {
                for i in (chunk..pts.len()).step_by(4) {
                    let p = &pts[i];
                    let mut out = vec![0.0; 3];
                    native
                        .dxdt(p.t, &p.state, &p.params, &p.driver, &mut out)
                        .expect("lengths");
                    assert_eq!(out, serial[i]);
                }
            });
        }
    });
}
