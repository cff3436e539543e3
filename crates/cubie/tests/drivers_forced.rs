//! A model forced through a driver: the sampled, interpolated forcing
//! reproduces the analytically forced solution, periodic drivers wrap, and
//! bad series are clear errors.

use cubie::batch::GridKind;
use cubie::controllers::ControllerOptions;
use cubie::drivers::DriverSeries;
use cubie::system::Model;
use cubie::time_loop::LoopSettings;
use cubie::{Precision, Solver, SolverSettings};

/// x' = -x + stim with stim = sin(t) and x(0) = 0.
fn forced() -> Model {
    Model::builder("dx = -x + stim")
        .state("x", 0.0)
        .driver("stim", 0.0)
        .build()
        .expect("model")
}

fn exact(t: f64) -> f64 {
    (t.sin() - t.cos() + (-t).exp()) / 2.0
}

fn solve(series: DriverSeries, duration: f64, named: &[&str]) -> (f64, Vec<f64>) {
    let settings = SolverSettings {
        algorithm: "tsit5".parse().unwrap(),
        precision: Some(Precision::F64),
        time: LoopSettings {
            duration,
            save_every: Some(duration / 8.0),
            ..LoopSettings::default()
        },
        control: ControllerOptions {
            atol: Some(vec![1e-11]),
            rtol: Some(vec![1e-11]),
            ..ControllerOptions::default()
        },
        named: named.iter().map(|s| s.to_string()).collect(),
        drivers: Some(series),
        ..SolverSettings::default()
    };
    let solver = Solver::new(&forced(), &settings).expect("solver");
    let result = solver
        .solve(&solver.grid(&[], GridKind::Combinatorial).unwrap())
        .expect("solve");
    assert_eq!(result.status(), &[0]);
    (result.final_state()[0], result.values("state").unwrap())
}

fn sine_samples(dt: f64, t_end: f64) -> Vec<f64> {
    let n = (t_end / dt).round() as usize + 1;
    (0..n).map(|i| (i as f64 * dt).sin()).collect()
}

#[test]
fn spline_forcing_reproduces_the_analytic_solution() {
    let model = forced();
    let error_at = |dt: f64, interpolation: &str| {
        let series = DriverSeries::evenly_spaced(
            model.drivers(),
            0.0,
            dt,
            // Samples run past the end, where the natural boundary's own
            // O(h^2) error sits.
            [("stim", sine_samples(dt, 12.0))],
        )
        .unwrap();
        let setting = format!("driver_interpolation={interpolation}");
        let (x, saved) = solve(series, 10.0, &[&setting]);
        // Every saved sample, not only the end, follows the exact solution.
        let worst = saved
            .iter()
            .enumerate()
            .map(|(k, v)| (v - exact(k as f64 * 10.0 / 8.0)).abs())
            .fold(0.0, f64::max);
        assert!((x - exact(10.0)).abs() <= worst);
        worst
    };
    let coarse = error_at(0.1, "cubic");
    let fine = error_at(0.05, "cubic");
    let linear = error_at(0.05, "linear");
    eprintln!("cubic errors {coarse:.2e} (dt 0.1), {fine:.2e} (dt 0.05); linear {linear:.2e}");
    assert!(fine < 5e-8, "cubic spline forcing error {fine:.2e}");
    // Fourth-order sampling error: halving the spacing gains ~16x.
    assert!(coarse / fine > 10.0, "ratio {}", coarse / fine);
    // A linear interpolant is second order: much worse at the same spacing.
    assert!(
        linear > 20.0 * fine,
        "linear {linear:.2e} vs cubic {fine:.2e}"
    );
}

#[test]
fn a_periodic_driver_wraps_beyond_its_samples() {
    let model = forced();
    let n = 200;
    let period = 2.0 * std::f64::consts::PI;
    let dt = period / n as f64;
    let samples: Vec<f64> = (0..=n).map(|i| (i as f64 * dt).sin()).collect();
    let series =
        DriverSeries::evenly_spaced(model.drivers(), 0.0, dt, [("stim", samples)]).unwrap();
    // Three periods past the one sampled.
    let (x, _) = solve(series, 4.0 * period, &["driver_extrapolation=wrap"]);
    let error = (x - exact(4.0 * period)).abs();
    eprintln!("periodic wrap error {error:.2e}");
    assert!(error < 1e-6, "{error:.2e}");

    // Held instead of wrapped, the forcing stops at the last sample (0).
    let samples: Vec<f64> = (0..=n).map(|i| (i as f64 * dt).sin()).collect();
    let series =
        DriverSeries::evenly_spaced(model.drivers(), 0.0, dt, [("stim", samples)]).unwrap();
    let (held, _) = solve(series, 4.0 * period, &[]);
    assert!((held - x).abs() > 1e-3);
}

#[test]
fn bad_series_are_clear_errors() {
    let model = forced();
    let one = DriverSeries::with_times(model.drivers(), vec![0.0], [("stim", vec![1.0])]);
    let message = one.unwrap_err().to_string();
    assert!(message.contains("sample"), "{message}");
    let backwards = DriverSeries::with_times(
        model.drivers(),
        vec![0.0, 1.0, 1.0],
        [("stim", vec![0.0; 3])],
    );
    let message = backwards.unwrap_err().to_string();
    assert!(message.contains("increas"), "{message}");
    let settings = SolverSettings {
        named: vec!["driver_interpolation=quintic".into()],
        ..SolverSettings::default()
    };
    let err = Solver::new(&model, &settings).unwrap_err().to_string();
    assert!(err.contains("quintic"), "{err}");
}

#[test]
fn rosenbrock_steps_see_the_drivers_rate_of_change() {
    // Rosenbrock methods use df/dt explicitly; with the driver's rate left
    // out they would lose their order on forced problems.
    let model = forced();
    let dt_samples = 0.01;
    let error_at = |dt: f64| {
        let series = DriverSeries::evenly_spaced(
            model.drivers(),
            0.0,
            dt_samples,
            [("stim", sine_samples(dt_samples, 6.0))],
        )
        .unwrap();
        let settings = SolverSettings {
            algorithm: "ros3p".parse().unwrap(),
            precision: Some(Precision::F64),
            time: LoopSettings {
                duration: 5.0,
                ..LoopSettings::default()
            },
            control: ControllerOptions {
                dt: Some(dt),
                kind: Some(cubie::controllers::ControllerKind::Fixed),
                ..ControllerOptions::default()
            },
            drivers: Some(series),
            ..SolverSettings::default()
        };
        let solver = Solver::new(&model, &settings).unwrap();
        let result = solver
            .solve(&solver.grid(&[], GridKind::Combinatorial).unwrap())
            .unwrap();
        (result.final_state()[0] - exact(5.0)).abs()
    };
    let (coarse, fine) = (error_at(0.2), error_at(0.1));
    let order = (coarse / fine).log2();
    eprintln!("ros3p on the forced problem: errors {coarse:.2e} {fine:.2e}, order {order:.2}");
    assert!(order > 2.6, "observed order {order:.2}");
}
