//! Summaries agree with the same quantities computed from the saved
//! samples (saved at the sampling interval), for every metric, in f32 and
//! f64, with a settling time and several windows; peaks land on the known
//! times of a sine; variable selection picks the right columns.

use cubie::batch::{GridKind, Sweep};
use cubie::controllers::ControllerOptions;
use cubie::outputs::OutputSettings;
use cubie::results::SolveResult;
use cubie::system::Model;
use cubie::time_loop::LoopSettings;
use cubie::{Precision, Solver, SolverSettings};

const H: f64 = 0.01;
const WINDOW: f64 = 0.25;
const METRICS: &str = "mean,max,min,rms,std,mean_std,mean_std_rms,std_rms,extrema,max_magnitude,\
                       peaks[3],negative_peaks[3],dxdt_max,dxdt_min,dxdt_extrema,d2xdt2_max,\
                       d2xdt2_min,d2xdt2_extrema";

fn lorenz_with_energy(precision: Precision) -> Model {
    Model::builder(
        "dx = sigma * (y - x)\ndy = x * (rho - z) - y\ndz = x * y - beta * z\n\
         energy = x^2 + y^2 + z^2",
    )
    .precision(precision)
    .states([("x", 1.0), ("y", 0.0), ("z", 0.0)])
    .parameters([("rho", 28.0)])
    .constants([("sigma", 10.0), ("beta", 8.0 / 3.0)])
    .observable("energy")
    .build()
    .expect("model")
}

fn solve(precision: Precision) -> SolveResult {
    let mut outputs: Vec<String> = METRICS.split(',').map(|s| s.trim().to_string()).collect();
    outputs.extend(["state", "observables", "time"].map(String::from));
    let settings = SolverSettings {
        algorithm: "tsit5".parse().unwrap(),
        precision: Some(precision),
        time: LoopSettings {
            duration: 1.5,
            settling_time: 0.3,
            save_every: Some(H),
            ..LoopSettings::default()
        },
        control: ControllerOptions {
            atol: Some(vec![1e-6]),
            rtol: Some(vec![1e-6]),
            ..ControllerOptions::default()
        },
        outputs: OutputSettings {
            outputs: Some(outputs),
            summarise_variables: Some(vec!["z".into(), "x".into(), "energy".into()]),
            summarise_every: Some(WINDOW),
            ..OutputSettings::default()
        },
        ..SolverSettings::default()
    };
    let model = lorenz_with_energy(precision);
    let solver = Solver::new(&model, &settings).expect("solver");
    let runs = solver
        .grid(
            &[Sweep::new("rho", vec![28.0, 14.0])],
            GridKind::Combinatorial,
        )
        .unwrap();
    let result = solver.solve(&runs).expect("solve");
    assert!(result.status().iter().all(|s| *s == 0));
    result
}

/// The reference value of one metric over window `w` of `x` (samples at
/// `times`), as the documented semantics define it.
fn reference(metric: &str, x: &[f64], times: &[f64], w: usize, per: usize) -> Vec<f64> {
    let range = w * per..(w + 1) * per;
    let s = &x[range.clone()];
    let n = s.len() as f64;
    let mean = s.iter().sum::<f64>() / n;
    let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = s.iter().copied().fold(f64::INFINITY, f64::min);
    let rms = (s.iter().map(|v| v * v).sum::<f64>() / n).sqrt();
    let std = (s.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    // Differences belong to the window of their newest sample.
    let d1: Vec<f64> = range
        .clone()
        .filter(|&i| i >= 1)
        .map(|i| (x[i] - x[i - 1]) / H)
        .collect();
    let d2: Vec<f64> = range
        .clone()
        .filter(|&i| i >= 2)
        .map(|i| (x[i] - 2.0 * x[i - 1] + x[i - 2]) / (H * H))
        .collect();
    let fmax = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let fmin = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    // A peak at i is confirmed by sample i + 1, whose window it belongs to.
    let peaks = |sign: f64| -> Vec<f64> {
        let mut found: Vec<f64> = range
            .clone()
            .filter(|&j| j >= 2)
            .map(|j| j - 1)
            .filter(|&i| sign * x[i] > sign * x[i - 1] && sign * x[i] > sign * x[i + 1])
            .map(|i| times[i])
            .take(3)
            .collect();
        found.resize(3, f64::NAN);
        found
    };
    match metric {
        "mean" => vec![mean],
        "max" => vec![max],
        "min" => vec![min],
        "rms" => vec![rms],
        "std" => vec![std],
        "mean_std" => vec![mean, std],
        "mean_std_rms" => vec![mean, std, rms],
        "std_rms" => vec![std, rms],
        "extrema" => vec![max, min],
        "max_magnitude" => vec![max.abs().max(min.abs())],
        "peaks[3]" => peaks(1.0),
        "negative_peaks[3]" => peaks(-1.0),
        "dxdt_max" => vec![fmax(&d1)],
        "dxdt_min" => vec![fmin(&d1)],
        "dxdt_extrema" => vec![fmax(&d1), fmin(&d1)],
        "d2xdt2_max" => vec![fmax(&d2)],
        "d2xdt2_min" => vec![fmin(&d2)],
        "d2xdt2_extrema" => vec![fmax(&d2), fmin(&d2)],
        other => panic!("no reference for {other}"),
    }
}

fn check(precision: Precision, tolerance: f64) {
    let result = solve(precision);
    let times = result.values("time").unwrap();
    let saves = times.len();
    assert!(
        (times[0] - 0.3).abs() < 1e-6,
        "saves start after the settling time"
    );
    let state = result.values("state").unwrap();
    let energy = result.values("observables").unwrap();
    let labels = result.labels("summary_labels").unwrap().to_vec();
    assert_eq!(labels, ["z", "x", "energy"]);
    let windows = result.get("summary_time").unwrap().shape[0];
    assert_eq!(windows, 6);
    let per = (WINDOW / H).round() as usize;
    for run in 0..result.n_runs {
        let series = |v: usize| -> Vec<f64> {
            match v {
                0 => (0..saves)
                    .map(|k| state[(run * saves + k) * 3 + 2])
                    .collect(),
                1 => (0..saves).map(|k| state[(run * saves + k) * 3]).collect(),
                _ => (0..saves).map(|k| energy[run * saves + k]).collect(),
            }
        };
        for metric in METRICS.split(',').map(str::trim) {
            let name = format!("summary_{}", metric.split('[').next().unwrap());
            let array = result
                .get(&name)
                .unwrap_or_else(|| panic!("{name} missing"));
            let values = array.data.to_f64().unwrap();
            let width = array.shape.get(3).copied().unwrap_or(1);
            for (v, label) in labels.iter().enumerate() {
                let x = series(v);
                for w in 0..windows {
                    let expected = reference(metric, &x, &times, w, per);
                    let at = ((run * windows + w) * 3 + v) * width;
                    let got = &values[at..at + width];
                    for (g, e) in got.iter().zip(&expected) {
                        let scale = 1.0 + e.abs();
                        let same = (g.is_nan() && e.is_nan()) || (g - e).abs() <= tolerance * scale;
                        assert!(
                            same,
                            "{precision} {metric} of {label} in window {w} (run {run}): {g} vs {e}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn every_metric_matches_the_saved_samples_in_f64() {
    check(Precision::F64, 1e-9);
}

#[test]
fn every_metric_matches_the_saved_samples_in_f32() {
    check(Precision::F32, 2e-4);
}

#[test]
fn peaks_of_a_sine_land_on_its_known_times() {
    // x = cos(2 pi t): maxima at whole t, minima at half-integers.
    let model = Model::builder("dx = v\ndv = -w^2 * x")
        .states([("x", 1.0), ("v", 0.0)])
        .constants([("w", 2.0 * std::f64::consts::PI)])
        .build()
        .unwrap();
    let settings = SolverSettings {
        algorithm: "vern7".parse().unwrap(),
        time: LoopSettings {
            duration: 4.0,
            settling_time: 0.2,
            ..LoopSettings::default()
        },
        control: ControllerOptions {
            atol: Some(vec![1e-10]),
            rtol: Some(vec![1e-10]),
            ..ControllerOptions::default()
        },
        outputs: OutputSettings {
            outputs: Some(vec!["peaks[2]".into(), "negative_peaks[2]".into()]),
            summarise_variables: Some(vec!["x".into()]),
            sample_summaries_every: Some(0.01),
            summarise_every: Some(2.0),
            ..OutputSettings::default()
        },
        ..SolverSettings::default()
    };
    let solver = Solver::new(&model, &settings).unwrap();
    let result = solver
        .solve(&solver.grid(&[], GridKind::Combinatorial).unwrap())
        .unwrap();
    let peaks = result.values("summary_peaks").unwrap();
    let troughs = result.values("summary_negative_peaks").unwrap();
    let expect = |got: &[f64], want: &[f64]| {
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-9, "{got:?} vs {want:?}");
        }
    };
    // Windows [0.2, 2.2) and [2.2, 4.2): two maxima and two minima each.
    expect(&peaks, &[1.0, 2.0, 3.0, 4.0]);
    expect(&troughs, &[0.5, 1.5, 2.5, 3.5]);
    assert!(
        result.get("state").is_none(),
        "only the chosen outputs are written"
    );
}
