//! The CUDA backend's generated kernel, compiled for the host by the C++
//! compiler, against the CPU backend: for every explicit algorithm, both
//! precisions, fixed-step and adaptive (with the automatic first step and
//! with a given one), every output array is bit-identical to the CPU's
//! generic forms. The emitter performs the CPU forms' operations in their
//! order and the host compiler does not contract `a * b + c`, so any
//! difference is a bug, not rounding.
//!
//! Summary metrics (every metric, both precisions) and time-varying
//! drivers (every interpolation, boundary and extrapolation) are held to
//! the same standard.
//!
//! Skipped with a message where no C++ compiler can be run.

mod common;

use common::emulation::{assert_identical, both_with, difference, have_compiler};

use std::cell::Cell;
use std::process::Command;

use cubie::backend::Backend;
use cubie::backend::cuda::drivers;
use cubie::backend::cuda::emulation::HOST_HEADER;
use cubie::backend::cuda::source::CReal;
use cubie::batch::{GridKind, Sweep};
use cubie::controllers::{ControllerKind, ControllerOptions};
use cubie::drivers::{DriverInterpolant, DriverSeries, DriverSettings};
use cubie::outputs::{METRIC_NAMES, OutputSettings};
use cubie::results::SolveResult;
use cubie::step::{StepFamily, algorithms};
use cubie::system::Model;
use cubie::time_loop::LoopSettings;
use cubie::{Precision, Real, Solver, SolverSettings};

/// Lorenz with an observable and a transcendental term.
fn model(precision: Precision) -> Model {
    Model::builder(
        "dx = sigma * (y - x)\n\
         dy = x * (rho - z) - y + 0.01 * sin(x)\n\
         dz = x * y - beta * z\n\
         r2 = x^2 + y^2 + z^2",
    )
    .name("lorenz_observed")
    .precision(precision)
    .states([("x", 1.0), ("y", 0.0), ("z", 0.0)])
    .parameters([("rho", 21.0)])
    .constants([("sigma", 10.0), ("beta", 8.0 / 3.0)])
    .observables(["r2"])
    .build()
    .expect("a valid model")
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Fixed,
    AdaptiveGivenDt,
    AdaptiveAutomaticDt,
}

fn solve(algorithm: &str, precision: Precision, mode: Mode, backend: Backend) -> SolveResult {
    let control = match mode {
        Mode::Fixed => ControllerOptions {
            kind: Some(ControllerKind::Fixed),
            dt: Some(2e-3),
            ..ControllerOptions::default()
        },
        Mode::AdaptiveGivenDt => ControllerOptions {
            dt: Some(1e-3),
            atol: Some(vec![1e-6]),
            rtol: Some(vec![1e-6]),
            ..ControllerOptions::default()
        },
        Mode::AdaptiveAutomaticDt => ControllerOptions {
            atol: Some(vec![1e-7, 1e-6, 1e-6]),
            rtol: Some(vec![1e-5]),
            ..ControllerOptions::default()
        },
    };
    let mut settings = SolverSettings {
        algorithm: algorithm.parse().expect("an algorithm"),
        precision: Some(precision),
        time: LoopSettings {
            duration: 0.6,
            save_every: Some(0.05),
            ..LoopSettings::default()
        },
        control,
        named: vec!["fused_steps=false".into()],
        backend,
        ..SolverSettings::default()
    };
    if backend != Backend::Cpu {
        settings.named.clear();
    }
    let solver = Solver::new(&model(precision), &settings).expect("solver");
    // Not a multiple of the block size: the last block is partly idle.
    let runs = solver
        .grid(
            &[Sweep::linspace("rho", 0.0, 28.0, 37)],
            GridKind::Combinatorial,
        )
        .expect("grid");
    solver.solve(&runs).expect("solve")
}

#[test]
fn every_explicit_algorithm_matches_the_cpu_bit_for_bit() {
    if !have_compiler() {
        return;
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for algorithm in algorithms()
        .iter()
        .filter(|a| a.family == StepFamily::Explicit)
    {
        for precision in [Precision::F64, Precision::F32] {
            let modes: &[Mode] = if algorithm.adaptive {
                &[
                    Mode::Fixed,
                    Mode::AdaptiveGivenDt,
                    Mode::AdaptiveAutomaticDt,
                ]
            } else {
                &[Mode::Fixed]
            };
            for &mode in modes {
                let what = format!("{} {precision:?} {mode:?}", algorithm.name);
                let cpu = solve(algorithm.name, precision, mode, Backend::Cpu);
                let host = solve(algorithm.name, precision, mode, Backend::CudaHostEmulation);
                assert!(
                    cpu.status().iter().all(|&s| s == 0),
                    "{what}: every run succeeds"
                );
                if let Some(d) = difference(&cpu, &host, &what) {
                    failures.push(d);
                }
                checked += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 20, "{checked} cases");
}

/// One model, algorithm and setting list on both backends.
fn both(
    model: &Model,
    algorithm: &str,
    control: ControllerOptions,
    time: LoopSettings,
    named: &[&str],
    sweep: Sweep,
) -> (SolveResult, SolveResult) {
    let settings = SolverSettings {
        algorithm: algorithm.parse().expect("an algorithm"),
        time,
        control,
        named: named.iter().map(|s| s.to_string()).collect(),
        ..SolverSettings::default()
    };
    both_with(model, settings, sweep)
}

/// Every metric of the catalogue, with parameters where they take one.
fn every_metric() -> Vec<String> {
    METRIC_NAMES
        .iter()
        .map(|name| match *name {
            "peaks[n]" => "peaks[3]".to_string(),
            "negative_peaks[n]" => "negative_peaks[2]".to_string(),
            other => other.to_string(),
        })
        .collect()
}

#[test]
fn every_summary_metric_matches_the_cpu_bit_for_bit() {
    if !have_compiler() {
        return;
    }
    let mut outputs = vec![
        "state".to_string(),
        "observables".to_string(),
        "time".to_string(),
        "counters".to_string(),
    ];
    outputs.extend(every_metric());
    for precision in [Precision::F64, Precision::F32] {
        let settings = SolverSettings {
            algorithm: "tsit5".parse().expect("an algorithm"),
            precision: Some(precision),
            time: LoopSettings {
                // The last, partial window is sampled and never written.
                duration: 1.05,
                settling_time: 0.1,
                save_every: Some(0.05),
                ..LoopSettings::default()
            },
            control: ControllerOptions {
                atol: Some(vec![1e-6]),
                rtol: Some(vec![1e-6]),
                ..ControllerOptions::default()
            },
            outputs: OutputSettings {
                outputs: Some(outputs.clone()),
                // Out of model order, an observable among them.
                summarise_variables: Some(vec!["z".into(), "r2".into(), "x".into()]),
                sample_summaries_every: Some(0.01),
                summarise_every: Some(0.1),
                ..OutputSettings::default()
            },
            ..SolverSettings::default()
        };
        let sweep = Sweep::linspace("rho", 0.0, 28.0, 9);
        let (cpu, host) = both_with(&model(precision), settings, sweep);
        let what = format!("summaries {precision:?}");
        assert!(cpu.status().iter().all(|&s| s == 0), "{what}");
        for metric in every_metric() {
            let name = format!("summary_{}", metric.split('[').next().unwrap_or(""));
            let values = cpu
                .values(&name)
                .unwrap_or_else(|| panic!("{what}: {name}"));
            // 10 windows of 3 variables, at least one value each.
            assert!(values.len() >= 9 * 10 * 3, "{what}: {name}");
            assert!(values.iter().any(|v| v.is_finite()), "{what}: {name}");
        }
        assert_identical(&cpu, &host, &what);
    }
}

/// `dx = -x + a * stim + w` with observables of the drivers; `w` is a
/// driver left constant (no samples).
fn driven(precision: Precision) -> Model {
    Model::builder(
        "dx = -x + a * stim + w\n\
         dy = x - 0.5 * y * load\n\
         forcing = stim * load\n\
         held = w + load",
    )
    .name("driven")
    .precision(precision)
    .states([("x", 0.0), ("y", 1.0)])
    .parameters([("a", 1.0)])
    .drivers([("stim", 0.0), ("load", 1.0), ("w", 0.25)])
    .observables(["forcing", "held"])
    .build()
    .expect("a valid model")
}

#[test]
fn time_varying_drivers_match_the_cpu_bit_for_bit() {
    if !have_compiler() {
        return;
    }
    let model = driven(Precision::F64);
    let drivers = model.drivers();
    let even: Vec<f64> = (0..9).map(|i| 0.2 + 0.25 * i as f64).collect();
    let uneven = vec![0.0, 0.1, 0.45, 0.5, 0.9, 1.6, 2.0];
    let wave = |times: &[f64]| -> Vec<f64> { times.iter().map(|t| (3.0 * t).sin()).collect() };
    let ramp = |times: &[f64]| -> Vec<f64> { times.iter().map(|t| 1.0 + 0.5 * t).collect() };
    // Periodic series: equal first and last samples.
    let periodic = |times: &[f64]| -> Vec<f64> {
        let span = times[times.len() - 1] - times[0];
        times
            .iter()
            .map(|t| (std::f64::consts::TAU * (t - times[0]) / span).cos())
            .collect()
    };
    let series = |times: &[f64], stim: Vec<f64>, load: Vec<f64>| {
        DriverSeries::with_times(drivers, times.to_vec(), [("stim", stim), ("load", load)])
            .expect("a series")
    };
    struct Case {
        what: &'static str,
        series: DriverSeries,
        named: &'static [&'static str],
        precision: Precision,
        algorithm: &'static str,
        fixed_dt: Option<f64>,
    }
    let cases = [
        Case {
            // Samples start after t0 and end before the end: held both sides.
            what: "cubic natural hold, even",
            series: DriverSeries::evenly_spaced(
                drivers,
                0.2,
                0.25,
                [("stim", wave(&even)), ("load", ramp(&even))],
            )
            .expect("a series"),
            named: &[],
            precision: Precision::F64,
            algorithm: "tsit5",
            fixed_dt: None,
        },
        Case {
            what: "cubic clamped hold, uneven",
            series: series(&uneven, wave(&uneven), ramp(&uneven))
                .with_end_slopes("stim", 3.0, -1.0)
                .expect("slopes"),
            named: &["driver_boundary=clamped"],
            precision: Precision::F32,
            algorithm: "dormand-prince-54",
            fixed_dt: None,
        },
        Case {
            what: "cubic periodic wrap, even",
            series: DriverSeries::evenly_spaced(
                drivers,
                0.0,
                0.125,
                [
                    (
                        "stim",
                        periodic(&(0..9).map(|i| 0.125 * i as f64).collect::<Vec<_>>()),
                    ),
                    ("load", vec![1.0, 1.5, 2.0, 1.5, 1.0, 0.5, 0.75, 0.9, 1.0]),
                ],
            )
            .expect("a series"),
            named: &["driver_extrapolation=wrap"],
            precision: Precision::F64,
            algorithm: "classical-rk4",
            fixed_dt: Some(0.01),
        },
        Case {
            what: "linear hold, uneven",
            series: series(&uneven, wave(&uneven), ramp(&uneven)),
            named: &["driver_interpolation=linear"],
            precision: Precision::F64,
            algorithm: "bogacki-shampine-32",
            fixed_dt: None,
        },
        Case {
            what: "linear wrap, uneven",
            series: series(&uneven, periodic(&uneven), periodic(&uneven)),
            named: &["driver_interpolation=linear", "driver_extrapolation=wrap"],
            precision: Precision::F32,
            algorithm: "tsit5",
            fixed_dt: None,
        },
    ];
    for case in cases {
        let settings = SolverSettings {
            algorithm: case.algorithm.parse().expect("an algorithm"),
            precision: Some(case.precision),
            time: LoopSettings {
                duration: 3.0,
                settling_time: 0.05,
                save_every: Some(0.1),
                ..LoopSettings::default()
            },
            control: ControllerOptions {
                kind: case.fixed_dt.map(|_| ControllerKind::Fixed),
                dt: case.fixed_dt,
                atol: Some(vec![1e-7]),
                rtol: Some(vec![1e-7]),
                ..ControllerOptions::default()
            },
            named: case.named.iter().map(|s| s.to_string()).collect(),
            drivers: Some(case.series),
            ..SolverSettings::default()
        };
        let sweep = Sweep::linspace("a", 0.5, 2.0, 5);
        let (cpu, host) = both_with(&driven(case.precision), settings, sweep);
        assert!(cpu.status().iter().all(|&s| s == 0), "{}", case.what);
        assert_identical(&cpu, &host, case.what);
    }
}

#[test]
fn every_controller_matches_the_cpu_bit_for_bit() {
    if !have_compiler() {
        return;
    }
    for precision in [Precision::F64, Precision::F32] {
        for kind in [
            ControllerKind::I,
            ControllerKind::Pi,
            ControllerKind::Pid,
            ControllerKind::Gustafsson,
        ] {
            let control = ControllerOptions {
                kind: Some(kind),
                atol: Some(vec![1e-6]),
                rtol: Some(vec![1e-6]),
                ..ControllerOptions::default()
            };
            let time = LoopSettings {
                duration: 1.0,
                save_every: Some(0.1),
                ..LoopSettings::default()
            };
            let sweep = Sweep::linspace("rho", 0.0, 28.0, 9);
            let (cpu, host) = both(
                &model(precision),
                "dormand-prince-54",
                control,
                time,
                &[],
                sweep,
            );
            let what = format!("{kind:?} {precision:?}");
            assert!(cpu.status().iter().all(|&s| s == 0), "{what}");
            assert_identical(&cpu, &host, &what);
        }
    }
}

#[test]
fn failed_runs_fail_alike_with_the_same_status_and_nans() {
    if !have_compiler() {
        return;
    }
    // `dx = sqrt(c - t)` turns NaN once t passes c; c = 10 never fails.
    let root_of_time = Model::builder("dx = sqrt(c - t)\ntwice = 2 * x")
        .states([("x", 0.0)])
        .parameters([("c", 10.0)])
        .observable("twice")
        .build()
        .expect("model");
    let time = LoopSettings {
        duration: 1.0,
        save_every: Some(0.1),
        ..LoopSettings::default()
    };
    let sweep = Sweep::new("c", vec![0.35, 0.5, 10.0]);
    for (algorithm, adaptive) in [("tsit5", true), ("classical-rk4", false)] {
        let control = ControllerOptions {
            dt: (!adaptive).then_some(0.01),
            ..ControllerOptions::default()
        };
        // Summaries too: the windows a failed run never completed read NaN.
        let outputs = OutputSettings {
            outputs: Some(
                [
                    "state",
                    "observables",
                    "counters",
                    "mean",
                    "peaks[2]",
                    "dxdt_max",
                ]
                .map(String::from)
                .to_vec(),
            ),
            sample_summaries_every: Some(0.05),
            summarise_every: Some(0.2),
            ..OutputSettings::default()
        };
        let settings = SolverSettings {
            algorithm: algorithm.parse().expect("an algorithm"),
            time: time.clone(),
            control,
            outputs,
            ..SolverSettings::default()
        };
        let (cpu, host) = both_with(&root_of_time, settings, sweep.clone());
        let means = cpu.values("summary_mean").expect("means");
        assert!(
            means[..10].iter().any(|v| v.is_nan()),
            "{algorithm}: {means:?}"
        );
        assert!(
            cpu.status()[0] != 0 && cpu.status()[2] == 0,
            "{algorithm}: {:?}",
            cpu.status()
        );
        assert_identical(&cpu, &host, algorithm);
    }
    // The step limit and the smallest step.
    let lorenz = model(Precision::F64);
    let sweep = Sweep::new("rho", vec![28.0]);
    let (cpu, host) = both(
        &lorenz,
        "tsit5",
        ControllerOptions::default(),
        time.clone(),
        &["max_steps=40"],
        sweep.clone(),
    );
    assert_eq!(cpu.status(), [cubie::time_loop::Status::MAX_STEPS.0]);
    assert_identical(&cpu, &host, "max_steps");
    let (cpu, host) = both(
        &lorenz,
        "tsit5",
        ControllerOptions {
            dt_min: Some(0.05),
            atol: Some(vec![1e-10]),
            rtol: Some(vec![1e-10]),
            ..ControllerOptions::default()
        },
        time,
        &[],
        sweep,
    );
    assert_eq!(cpu.status(), [cubie::time_loop::Status::STEP_TOO_SMALL.0]);
    assert_identical(&cpu, &host, "dt_min");
}

/// `cubie_drivers` compiled alone for the host and evaluated at `times`:
/// each time's values, then its rates, then its values without rates,
/// every one widened to f64 bits.
fn emulated_drivers(interpolant: &DriverInterpolant<f64>, real: CReal, times: &[f64]) -> Vec<u64> {
    let source = drivers::interpolation(interpolant, real).expect("emits");
    let n = interpolant.n_drivers();
    let literal = |t: f64| CReal(Precision::F64).literal(t);
    let list: Vec<String> = times.iter().map(|&t| literal(t)).collect();
    let program = format!(
        "{HOST_HEADER}#include <cstring>\ntypedef {r} real;\n{source}\n\
         static const double times[{count}] = {{{list}}};\n\
         static void put(real v) {{ double x = (double)v; unsigned long long b; std::memcpy(&b, &x, 8); printf(\"%llx\\n\", b); }}\n\
         int main() {{\n\
             for (int k = 0; k < {count}; ++k) {{\n\
                 real v[{n}] = {{}}, r[{n}] = {{}}, w[{n}] = {{}};\n\
                 cubie_drivers(times[k], v, r);\n\
                 cubie_drivers(times[k], w, nullptr);\n\
                 for (int i = 0; i < {n}; ++i) put(v[i]);\n\
                 for (int i = 0; i < {n}; ++i) put(r[i]);\n\
                 for (int i = 0; i < {n}; ++i) put(w[i]);\n\
             }}\n\
             return 0;\n\
         }}\n",
        r = real.name(),
        source = source.finish(),
        count = times.len(),
        list = list.join(", "),
    );
    let dir = tempfile::tempdir().expect("a folder");
    let exe = compile_for_host(dir.path(), "drivers", &program);
    let out = Command::new(&exe).output().expect("runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| u64::from_str_radix(l, 16).expect("hex bits"))
        .collect()
}

/// The CPU interpolant's values, rates and values alone at `times`, as
/// [`emulated_drivers`] lists them.
fn cpu_drivers<T: Real>(interpolant: &DriverInterpolant<T>, times: &[f64]) -> Vec<u64> {
    let bits = |v: Vec<T>| {
        v.into_iter()
            .map(|x| x.to_f64().to_bits())
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    for &t in times {
        let values = vec![Cell::new(T::zero()); interpolant.n_drivers()];
        let rates = values.clone();
        interpolant.evaluate_with_rates(t, &values, &rates);
        out.extend(bits(values.into_iter().map(Cell::into_inner).collect()));
        out.extend(bits(rates.into_iter().map(Cell::into_inner).collect()));
        out.extend(bits(interpolant.values_at(t)));
    }
    out
}

#[test]
fn driver_values_and_rates_match_the_cpu_interpolant_bit_for_bit() {
    if !have_compiler() {
        return;
    }
    let model = driven(Precision::F64);
    let drivers = model.drivers();
    let uneven: Vec<f64> = vec![0.0, 0.1, 0.45, 0.5, 0.9, 1.6, 2.0];
    let values: Vec<f64> = uneven.iter().map(|t| (3.0 * t).cos()).collect();
    let load = vec![1.0, 0.5, 2.0, 1.5, 0.25, 3.0, 1.0];
    let uneven_series = DriverSeries::with_times(
        drivers,
        uneven.clone(),
        [("stim", values.clone()), ("load", load.clone())],
    )
    .expect("series")
    .with_end_slopes("load", -2.0, 0.5)
    .expect("slopes");
    let even_series = DriverSeries::evenly_spaced(
        drivers,
        -0.3,
        0.1,
        [("stim", values.clone()), ("load", load.clone())],
    )
    .expect("series");
    // Before, on, between and after the samples, on every knot, far out,
    // and NaN.
    let mut times: Vec<f64> = (0..=230).map(|k| -0.5 + 0.0125 * k as f64).collect();
    times.extend(&uneven);
    times.extend((0..7).map(|i| -0.3 + 0.1 * i as f64));
    times.extend([-1e6, 1e6, 1234.5678, f64::NAN]);
    let mut checked = 0;
    for (what, series) in [("uneven", &uneven_series), ("even", &even_series)] {
        for (settings, precision) in [
            ("driver_boundary=natural", Precision::F64),
            ("driver_boundary=clamped", Precision::F32),
            ("driver_extrapolation=wrap", Precision::F32),
            (
                "driver_interpolation=linear,driver_extrapolation=wrap",
                Precision::F64,
            ),
        ] {
            // Periodic ends must match: close the series for wrapping.
            let mut series = series.clone();
            if settings.contains("wrap") {
                let mut closed = values.clone();
                closed[values.len() - 1] = closed[0];
                let mut closed_load = load.clone();
                closed_load[load.len() - 1] = closed_load[0];
                series = DriverSeries::with_times(
                    drivers,
                    series.times().to_vec(),
                    [("stim", closed), ("load", closed_load)],
                )
                .expect("series");
            }
            let mut driver_settings = DriverSettings::default();
            for pair in settings.split(',') {
                let (key, value) = pair.split_once('=').expect("key=value");
                driver_settings.set(key, value).expect("a setting");
            }
            let f64_form = DriverInterpolant::<f64>::new(&series, &driver_settings).expect("f64");
            let expected = match precision {
                Precision::F64 => cpu_drivers(&f64_form, &times),
                Precision::F32 => cpu_drivers(
                    &DriverInterpolant::<f32>::new(&series, &driver_settings).expect("f32"),
                    &times,
                ),
            };
            let got = emulated_drivers(&f64_form, CReal(precision), &times);
            assert_eq!(got.len(), expected.len(), "{what} {settings}");
            for (i, (a, b)) in expected.iter().zip(&got).enumerate() {
                let (x, y) = (f64::from_bits(*a), f64::from_bits(*b));
                assert!(
                    a == b || (x.is_nan() && y.is_nan()),
                    "{what} {settings} {precision:?}: value {i} is {x} on the CPU and {y} emitted"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 8);
}

/// The controllers' power in C (as the kernels carry it), compiled for
/// the host, against the CPU's on errors and exponents over their whole
/// range and the special values: the same bits, both precisions.
#[test]
fn the_controllers_power_in_c_gives_the_cpus_bits() {
    use cubie::backend::cuda::power::c_source;
    use cubie::controllers::power::pow;
    if !have_compiler() {
        return;
    }
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut uniform = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut pairs: Vec<(f64, f64)> = (0..20_000)
        .map(|_| (10f64.powf(80.0 * uniform() - 40.0), 4.0 * uniform() - 2.0))
        .collect();
    let specials = [
        0.0,
        1.0,
        5e-324,
        1e-310,
        f64::INFINITY,
        f64::NAN,
        -2.0,
        1e300,
    ];
    for x in specials {
        for y in [0.0, 0.5, -0.5, 30.0, -30.0, f64::NAN] {
            pairs.push((x, y));
        }
    }
    let input: String = pairs
        .iter()
        .map(|(x, y)| format!("{:016x} {:016x}\n", x.to_bits(), y.to_bits()))
        .collect();
    let program = format!(
        "{}{}{}
int main() {{
    unsigned long long a, b;
    while (std::scanf(\"%llx %llx\", &a, &b) == 2) {{
        const double x = __longlong_as_double((long long)a), y = __longlong_as_double((long long)b);
        const float xf = (float)x, yf = (float)y;
        std::printf(\"%016llx %08x\\n\", (unsigned long long)__double_as_longlong(cubie_pow(x, y)),
                    (unsigned)__float_as_int(cubie_pow(xf, yf)));
    }}
    return 0;
}}
",
        HOST_HEADER,
        c_source(Precision::F64),
        c_source(Precision::F32)
    );
    let dir = tempfile::tempdir().expect("a scratch directory");
    let exe = compile_for_host(dir.path(), "pow", &program);
    // The input from a file: a pipe both ways could fill and block.
    let pairs_file = dir.path().join("pairs.txt");
    std::fs::write(&pairs_file, input).expect("write");
    let out = Command::new(&exe)
        .stdin(std::fs::File::open(&pairs_file).expect("open"))
        .output()
        .expect("runs");
    assert!(out.status.success());
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout)
        .expect("text")
        .lines()
        .collect();
    assert_eq!(lines.len(), pairs.len());
    for ((x, y), line) in pairs.iter().zip(lines) {
        let (x, y) = (*x, *y);
        let (d, f) = line.split_once(' ').expect("two fields");
        let d = u64::from_str_radix(d, 16).expect("hex");
        let f = u32::from_str_radix(f, 16).expect("hex");
        let (want_d, want_f) = (pow(x, y), pow(x as f32, y as f32));
        // NaN payloads may differ; NaN-ness may not.
        if want_d.is_nan() {
            assert!(f64::from_bits(d).is_nan(), "f64 {x}^{y}");
        } else {
            assert_eq!(d, want_d.to_bits(), "f64 {x}^{y}");
        }
        if want_f.is_nan() {
            assert!(f32::from_bits(f).is_nan(), "f32 {x}^{y}");
        } else {
            assert_eq!(f, want_f.to_bits(), "f32 {x}^{y}");
        }
    }
}

/// `program` (C++ with [`HOST_HEADER`]) compiled in `dir` as the kernels
/// are, without contraction; the executable's path.
fn compile_for_host(dir: &std::path::Path, name: &str, program: &str) -> std::path::PathBuf {
    let (source, exe) = (dir.join(format!("{name}.cpp")), dir.join(name));
    std::fs::write(&source, program).expect("written");
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let built = Command::new(cxx)
        .args([
            "-std=c++17",
            "-O2",
            "-ffp-contract=off",
            "-fno-fast-math",
            "-w",
            "-o",
        ])
        .arg(&exe)
        .arg(&source)
        .output()
        .expect("the compiler runs");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    exe
}
