//! Driver interpolation: exactness, smoothness, convergence order,
//! periodic wrapping, holding, linear mode, and f32/f64.

use std::cell::Cell;
use std::f64::consts::PI;

use cubie::Real;
use cubie::drivers::{
    Boundary, DriverInterpolant, DriverSeries, DriverSettings, Extrapolation, Interpolation,
};
use cubie::system::{Model, NamedValue};

fn drivers(names: &[(&str, f64)]) -> Vec<NamedValue> {
    names
        .iter()
        .map(|(n, v)| NamedValue {
            name: n.to_string(),
            value: *v,
        })
        .collect()
}

fn settings(
    interpolation: Interpolation,
    boundary: Boundary,
    extrapolation: Extrapolation,
) -> DriverSettings {
    DriverSettings {
        interpolation,
        boundary: Some(boundary),
        extrapolation,
    }
}

fn cubic(boundary: Boundary) -> DriverSettings {
    settings(Interpolation::Cubic, boundary, Extrapolation::Hold)
}

/// Value and rate of driver 0 at `t`, widened to f64.
fn at<T: Real>(f: &DriverInterpolant<T>, t: f64) -> (f64, f64) {
    let v = vec![Cell::new(T::zero()); f.n_drivers()];
    let r = vec![Cell::new(T::zero()); f.n_drivers()];
    f.evaluate_with_rates(t, &v, &r);
    (v[0].get().to_f64(), r[0].get().to_f64())
}

fn uneven_knots() -> Vec<f64> {
    vec![-1.0, -0.7, 0.0, 0.2, 0.9, 1.5, 2.6, 3.0]
}

fn cubic_poly(t: f64) -> f64 {
    1.5 - 2.0 * t + 0.75 * t * t + 0.4 * t * t * t
}

fn cubic_poly_rate(t: f64) -> f64 {
    -2.0 + 1.5 * t + 1.2 * t * t
}

fn clamped_cubic<T: Real>() -> DriverInterpolant<T> {
    let x = uneven_knots();
    let y: Vec<f64> = x.iter().map(|&t| cubic_poly(t)).collect();
    let d = drivers(&[("u", 0.0)]);
    let series = DriverSeries::with_times(&d, x.clone(), [("u", y)])
        .unwrap()
        .with_end_slopes("u", cubic_poly_rate(x[0]), cubic_poly_rate(x[x.len() - 1]))
        .unwrap();
    DriverInterpolant::new(&series, &cubic(Boundary::Clamped)).unwrap()
}

#[test]
fn clamped_spline_reproduces_a_cubic_polynomial() {
    let f = clamped_cubic::<f64>();
    for k in 0..=400 {
        let t = -1.0 + 4.0 * k as f64 / 400.0;
        let (v, r) = at(&f, t);
        assert!((v - cubic_poly(t)).abs() < 1e-12, "t={t}: {v}");
        assert!((r - cubic_poly_rate(t)).abs() < 1e-11, "t={t}: {r}");
    }
    // Zero end slopes (the clamped default) do not reproduce it.
    let x = uneven_knots();
    let y: Vec<f64> = x.iter().map(|&t| cubic_poly(t)).collect();
    let series = DriverSeries::with_times(&drivers(&[("u", 0.0)]), x, [("u", y)]).unwrap();
    let g = DriverInterpolant::<f64>::new(&series, &cubic(Boundary::Clamped)).unwrap();
    assert!((at(&g, -1.0).1).abs() < 1e-14);
    assert!((at(&g, -0.85).0 - cubic_poly(-0.85)).abs() > 1e-3);
}

#[test]
fn clamped_spline_reproduces_a_cubic_in_f32() {
    let f = clamped_cubic::<f32>();
    for k in 0..=400 {
        let t = -1.0 + 4.0 * k as f64 / 400.0;
        let (v, r) = at(&f, t);
        // Evaluated in f64, so only the final rounding to f32 remains.
        let v_ref = cubic_poly(t) as f32 as f64;
        assert!(
            (v - v_ref).abs() <= 1e-6 * v_ref.abs().max(1.0),
            "t={t}: {v}"
        );
        assert!((r - cubic_poly_rate(t)).abs() < 1e-5, "t={t}: {r}");
    }
}

#[test]
fn natural_spline_reproduces_a_linear_function() {
    let x = uneven_knots();
    let y: Vec<f64> = x.iter().map(|&t| 3.0 - 0.5 * t).collect();
    let series = DriverSeries::with_times(&drivers(&[("u", 0.0)]), x, [("u", y)]).unwrap();
    let f = DriverInterpolant::<f64>::new(&series, &cubic(Boundary::Natural)).unwrap();
    for k in 0..=100 {
        let t = -1.0 + 4.0 * k as f64 / 100.0;
        let (v, r) = at(&f, t);
        assert!((v - (3.0 - 0.5 * t)).abs() < 1e-13);
        assert!((r + 0.5).abs() < 1e-12);
    }
}

/// Irregular data on uneven knots, for the generic spline properties.
fn irregular<T: Real>(boundary: Boundary) -> (Vec<f64>, Vec<f64>, DriverInterpolant<T>) {
    let x = uneven_knots();
    let y = vec![0.3, -1.2, 0.8, 2.0, -0.4, 0.1, 1.7, 0.3];
    let series =
        DriverSeries::with_times(&drivers(&[("u", 0.0)]), x.clone(), [("u", y.clone())]).unwrap();
    let f = DriverInterpolant::new(&series, &cubic(boundary)).unwrap();
    (x, y, f)
}

#[test]
fn spline_interpolates_the_samples_exactly() {
    for boundary in [Boundary::Natural, Boundary::Clamped, Boundary::Periodic] {
        let (x, y, f) = irregular::<f64>(boundary);
        for (t, v) in x.iter().zip(&y) {
            assert_eq!(at(&f, *t).0, *v, "{boundary} at t={t}");
        }
        let (x, y, f) = irregular::<f32>(boundary);
        for (t, v) in x.iter().zip(&y) {
            assert_eq!(at(&f, *t).0, *v as f32 as f64, "{boundary} f32 at t={t}");
        }
    }
}

#[test]
fn spline_has_continuous_first_and_second_derivatives_at_knots() {
    let d = 1e-6;
    for boundary in [Boundary::Natural, Boundary::Clamped, Boundary::Periodic] {
        let (x, _, f) = irregular::<f64>(boundary);
        for &k in &x[1..x.len() - 1] {
            let (v_left, r_left) = at(&f, k - d);
            let (v_right, r_right) = at(&f, k + d);
            let (v, r) = at(&f, k);
            assert!((v_left - v).abs() < 1e-4 && (v_right - v).abs() < 1e-4);
            // C1: the rate is continuous (it moves O(d) across the knot).
            assert!((r_left - r).abs() < 1e-4, "{boundary} C1 at {k}");
            assert!((r_right - r).abs() < 1e-4, "{boundary} C1 at {k}");
            // C2: one-sided second derivatives agree (to O(d) from the
            // jump in the third derivative).
            let s_left = (r - r_left) / d;
            let s_right = (r_right - r) / d;
            assert!(
                (s_left - s_right).abs() < 1e-3 * (1.0 + s_left.abs()),
                "{boundary} C2 at {k}: {s_left} vs {s_right}"
            );
        }
    }
    // The linear interpolant, by contrast, has a kink at the knots.
    let x = uneven_knots();
    let y = vec![0.3, -1.2, 0.8, 2.0, -0.4, 0.1, 1.7, 0.3];
    let series = DriverSeries::with_times(&drivers(&[("u", 0.0)]), x, [("u", y)]).unwrap();
    let lin = DriverInterpolant::<f64>::new(
        &series,
        &settings(
            Interpolation::Linear,
            Boundary::Natural,
            Extrapolation::Hold,
        ),
    )
    .unwrap();
    assert!((at(&lin, 0.2 - d).1 - at(&lin, 0.2 + d).1).abs() > 1.0);
}

#[test]
fn rate_matches_a_central_difference_of_the_value() {
    for boundary in [Boundary::Natural, Boundary::Clamped, Boundary::Periodic] {
        let (_, _, f) = irregular::<f64>(boundary);
        let h = 1e-5;
        for k in 1..200 {
            let t = -1.0 + 4.0 * k as f64 / 200.0 + 1e-3;
            let central = (at(&f, t + h).0 - at(&f, t - h).0) / (2.0 * h);
            let r = at(&f, t).1;
            assert!(
                (central - r).abs() < 1e-6 * (1.0 + r.abs()),
                "{boundary} t={t}: {central} vs {r}"
            );
        }
    }
}

/// Max errors of the natural spline of `n` sine samples over two periods
/// against sin (value) and cos (rate), on a dense grid.
fn sine_errors(n: usize) -> (f64, f64) {
    let span = 4.0 * PI;
    let dt = span / (n - 1) as f64;
    let y: Vec<f64> = (0..n).map(|i| (i as f64 * dt).sin()).collect();
    let series = DriverSeries::evenly_spaced(&drivers(&[("u", 0.0)]), 0.0, dt, [("u", y)]).unwrap();
    let f = DriverInterpolant::<f64>::new(&series, &cubic(Boundary::Natural)).unwrap();
    let mut errors = (0.0f64, 0.0f64);
    for k in 0..=7919 {
        let t = span * k as f64 / 7919.0;
        let (v, r) = at(&f, t);
        errors.0 = errors.0.max((v - t.sin()).abs());
        errors.1 = errors.1.max((r - t.cos()).abs());
    }
    errors
}

#[test]
fn sampled_sine_converges_at_fourth_order_and_rate_at_third() {
    let (v1, r1) = sine_errors(200);
    let (v2, r2) = sine_errors(399);
    let h: f64 = 4.0 * PI / 199.0;
    // Interpolation error bounds: 5/384 h^4 |f''''| and ~h^3/24 |f'''|.
    assert!(v1 < 5.0 / 384.0 * h.powi(4) * 1.5, "value error {v1}");
    assert!(r1 < h.powi(3) / 24.0 * 1.5, "rate error {r1}");
    assert!(v1 / v2 > 10.0, "value error ratio {}", v1 / v2);
    assert!(r1 / r2 > 6.0, "rate error ratio {}", r1 / r2);
}

#[test]
fn sampled_sine_in_f32_is_accurate_to_single_precision() {
    let n = 200;
    let dt = 4.0 * PI / (n - 1) as f64;
    let y: Vec<f64> = (0..n).map(|i| (i as f64 * dt).sin()).collect();
    let series = DriverSeries::evenly_spaced(&drivers(&[("u", 0.0)]), 0.0, dt, [("u", y)]).unwrap();
    let f = DriverInterpolant::<f32>::new(&series, &cubic(Boundary::Natural)).unwrap();
    for k in 0..=999 {
        let t = 4.0 * PI * k as f64 / 999.0;
        let (v, r) = at(&f, t);
        assert!((v - t.sin()).abs() < 5e-7, "t={t}");
        assert!((r - t.cos()).abs() < 5e-5, "t={t}");
    }
}

fn periodic_sine(extrapolation: Extrapolation) -> DriverInterpolant<f64> {
    // One period with the last sample equal to the first (to rounding).
    let n = 41;
    let period = 2.0;
    let dt = period / (n - 1) as f64;
    let y: Vec<f64> = (0..n)
        .map(|i| (PI * i as f64 * dt).sin() + 0.5 * (2.0 * PI * i as f64 * dt).cos())
        .collect();
    let series = DriverSeries::evenly_spaced(&drivers(&[("u", 0.0)]), 1.0, dt, [("u", y)]).unwrap();
    DriverInterpolant::new(
        &series,
        &settings(Interpolation::Cubic, Boundary::Periodic, extrapolation),
    )
    .unwrap()
}

#[test]
fn periodic_driver_wraps_with_matching_end_derivatives() {
    let f = periodic_sine(Extrapolation::Wrap);
    let period = 2.0;
    for k in 0..50 {
        let t = 1.0 + period * k as f64 / 50.0 + 0.013;
        let (v, r) = at(&f, t);
        for shift in [-3.0, -1.0, 1.0, 2.0, 10.0] {
            let (vs, rs) = at(&f, t + shift * period);
            assert!((vs - v).abs() < 1e-12, "t={t} shift {shift}: {vs} vs {v}");
            assert!((rs - r).abs() < 1e-10, "t={t} shift {shift}");
        }
    }
    // Ends: same value and slope (the spline is C1 across the wrap), and
    // the wrapped function tracks the underlying periodic signal.
    let (v0, r0) = at(&f, 1.0);
    let (v1, r1) = at(&f, 3.0);
    assert!((v0 - v1).abs() < 1e-15);
    assert!((r0 - r1).abs() < 1e-12, "{r0} vs {r1}");
    let exact_rate = PI; // d/dt of sin(pi (t-1)) + 0.5 cos(2 pi (t-1)) at t=1
    assert!((r0 - exact_rate).abs() < 1e-3, "{r0}");
    let d = 1e-6;
    let across = (at(&f, 3.0 + d).0 - at(&f, 3.0 - d).0) / (2.0 * d);
    assert!((across - r0).abs() < 1e-5, "{across} vs {r0}");
}

#[test]
fn values_are_held_outside_the_samples() {
    let (x, y, f) = irregular::<f64>(Boundary::Natural);
    let n = x.len();
    for t in [-100.0, -1.0 - 1e-9, f64::NEG_INFINITY] {
        assert_eq!(at(&f, t), (y[0], 0.0), "t={t}");
    }
    for t in [3.0 + 1e-9, 50.0, f64::INFINITY] {
        assert_eq!(at(&f, t), (y[n - 1], 0.0), "t={t}");
    }
    // At the last knot itself the rate is the spline's, not zero.
    assert_ne!(at(&f, 3.0).1, 0.0);
    // A periodic spline with hold does not wrap.
    let p = periodic_sine(Extrapolation::Hold);
    assert_eq!(at(&p, 5.5).1, 0.0);
    assert!((at(&p, 5.5).0 - at(&p, 3.0).0).abs() < 1e-15);
}

#[test]
fn linear_mode_is_exact_on_linear_data() {
    let x = uneven_knots();
    let y: Vec<f64> = x.iter().map(|&t| -4.0 + 2.5 * t).collect();
    let series = DriverSeries::with_times(&drivers(&[("u", 0.0)]), x.clone(), [("u", y)]).unwrap();
    for boundary in [Boundary::Natural, Boundary::Clamped] {
        let f = DriverInterpolant::<f64>::new(
            &series,
            &settings(Interpolation::Linear, boundary, Extrapolation::Hold),
        )
        .unwrap();
        for k in 0..=97 {
            let t = -1.0 + 4.0 * k as f64 / 97.0;
            let (v, r) = at(&f, t);
            assert!((v - (-4.0 + 2.5 * t)).abs() < 1e-13, "t={t}");
            assert!((r - 2.5).abs() < 1e-12, "t={t}");
        }
    }
    // On curved data, linear gives the chord.
    let series = DriverSeries::with_times(
        &drivers(&[("u", 0.0)]),
        vec![0.0, 1.0, 3.0],
        [("u", vec![0.0, 1.0, 9.0])],
    )
    .unwrap();
    let f = DriverInterpolant::<f64>::new(
        &series,
        &settings(
            Interpolation::Linear,
            Boundary::Natural,
            Extrapolation::Hold,
        ),
    )
    .unwrap();
    assert_eq!(at(&f, 2.0), (5.0, 4.0));
}

#[test]
fn uneven_and_even_lookups_agree() {
    // The same samples on an even grid (direct index) and with one knot
    // nudged (binary search) agree away from the nudged knot's segments.
    let d = drivers(&[("u", 0.0)]);
    let y: Vec<f64> = (0..30).map(|i| ((i * i) % 7) as f64).collect();
    let even = DriverSeries::evenly_spaced(&d, 0.5, 0.1, [("u", y.clone())]).unwrap();
    let mut times: Vec<f64> = (0..30).map(|i| 0.5 + i as f64 * 0.1).collect();
    assert!(even.is_evenly_spaced());
    let given = DriverSeries::with_times(&d, times.clone(), [("u", y.clone())]).unwrap();
    assert!(given.is_evenly_spaced());
    times[29] += 0.05;
    let nudged = DriverSeries::with_times(&d, times, [("u", y.clone())]).unwrap();
    assert!(!nudged.is_evenly_spaced());
    let lin = settings(
        Interpolation::Linear,
        Boundary::Natural,
        Extrapolation::Hold,
    );
    let (a, b, c) = (
        DriverInterpolant::<f64>::new(&even, &lin).unwrap(),
        DriverInterpolant::<f64>::new(&given, &lin).unwrap(),
        DriverInterpolant::<f64>::new(&nudged, &lin).unwrap(),
    );
    for k in 0..=2700 {
        let t = 0.5 + k as f64 * 0.001;
        let i = (((t - 0.5) / 0.1) as usize).min(28);
        let s = (t - 0.5 - i as f64 * 0.1) / 0.1;
        let expect = y[i] + s * (y[i + 1] - y[i]);
        assert!((at(&a, t).0 - expect).abs() < 1e-9, "t={t}");
        assert!((at(&b, t).0 - expect).abs() < 1e-9, "t={t}");
        assert!((at(&c, t).0 - expect).abs() < 1e-9, "t={t}");
    }
}

#[test]
fn drivers_not_given_stay_at_model_defaults() {
    let model = Model::builder("dx = -x + u + w * v")
        .state("x", 0.0)
        .drivers([("u", 0.25), ("v", -2.0), ("w", 3.0)])
        .build()
        .unwrap();
    let series =
        DriverSeries::evenly_spaced(model.drivers(), 0.0, 1.0, [("v", vec![1.0, 2.0, 4.0])])
            .unwrap();
    let f = DriverInterpolant::<f32>::new(&series, &DriverSettings::default()).unwrap();
    assert!(!f.is_constant());
    assert_eq!(f.n_drivers(), 3);
    let values: Vec<Cell<f32>> = (0..3).map(|_| Cell::new(f32::NAN)).collect();
    let rates: Vec<Cell<f32>> = (0..3).map(|_| Cell::new(f32::NAN)).collect();
    f.evaluate_with_rates(1.0, &values, &rates);
    assert_eq!(values[0].get(), 0.25);
    assert_eq!(values[1].get(), 2.0);
    assert_eq!(values[2].get(), 3.0);
    assert_eq!(rates[0].get(), 0.0);
    assert_eq!(rates[2].get(), 0.0);
    // Natural spline through (0,1),(1,2),(2,4): 4 M1 = 6 (2 - 1), so
    // M1 = 1.5 and the slope at t = 1 is 2 - (2 M1 + 0) / 6 = 1.5.
    assert!((rates[1].get() - 1.5).abs() < 1e-6, "{}", rates[1].get());
    let none = DriverInterpolant::<f64>::new(
        &DriverSeries::constant(model.drivers()),
        &DriverSettings::default(),
    )
    .unwrap();
    assert!(none.is_constant());
    assert_eq!(none.values_at(123.0), vec![0.25, -2.0, 3.0]);
    assert_eq!(none.rates_at(123.0), vec![0.0; 3]);
}

#[test]
fn csv_columns_map_to_model_drivers_by_name() {
    let d = drivers(&[("a", 7.0), ("b", 0.0), ("c", 0.0)]);
    let text = "\
c, t, b
1.0, 0.0, 10
2.0, 0.5, 20
4.0, 2.0, 30
";
    let series = DriverSeries::from_csv_reader(&d, text.as_bytes(), "forcing.csv").unwrap();
    assert_eq!(series.times(), &[0.0, 0.5, 2.0]);
    assert!(!series.is_evenly_spaced());
    let f = DriverInterpolant::<f64>::new(
        &series,
        &settings(
            Interpolation::Linear,
            Boundary::Natural,
            Extrapolation::Hold,
        ),
    )
    .unwrap();
    assert_eq!(f.values_at(0.5), vec![7.0, 20.0, 2.0]);
    let close = |a: Vec<f64>, b: [f64; 3]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
    assert!(close(f.values_at(1.25), [7.0, 25.0, 3.0]));
    assert!(close(f.rates_at(1.25), [0.0, 10.0 / 1.5, 2.0 / 1.5]));
}

#[test]
fn interpolant_is_shareable_across_threads() {
    fn shared<T: Send + Sync>(_: &T) {}
    let f = clamped_cubic::<f32>();
    shared(&f);
    let v = std::thread::scope(|s| s.spawn(|| f.values_at(0.0)).join().unwrap());
    assert_eq!(v[0], 1.5);
}
