//! The CUDA kernels of the implicit families (diagonally and fully
//! implicit Runge–Kutta, Rosenbrock) with their Newton and linear solvers,
//! compiled for the host, against the CPU backend: every output array
//! bit-identical, for every implicit algorithm in both precisions, every
//! linear solver and preconditioner, fixed steps of adaptive methods, and
//! runs whose solvers fail. As for the explicit kernels
//! (`cuda_host_emulation.rs`), the emitter repeats the CPU forms'
//! operations in their order with contraction off, so any difference is a
//! bug, not rounding.

mod common;

use std::f64::consts::{PI, TAU};

use common::emulation::{assert_identical, both_with, difference, have_compiler};
use cubie::batch::Sweep;
use cubie::controllers::{ControllerKind, ControllerOptions};
use cubie::drivers::DriverSeries;
use cubie::outputs::OutputSettings;
use cubie::step::{StepFamily, algorithms};
use cubie::system::Model;
use cubie::time_loop::{LoopSettings, Status};
use cubie::{Precision as P, SolverSettings};

/// Van der Pol, stiff for large `mu`, with a transcendental term so the
/// Jacobian is not constant in `x` alone, and an observable.
fn van_der_pol(precision: P) -> Model {
    Model::builder(
        "dx = y\n\
         dy = mu * (1 - x^2) * y - x + 0.01 * sin(x)\n\
         energy = x^2 + y^2",
    )
    .name("van_der_pol")
    .precision(precision)
    .states([("x", 2.0), ("y", 0.0)])
    .parameters([("mu", 10.0)])
    .observables(["energy"])
    .build()
    .expect("a valid model")
}

fn time() -> LoopSettings {
    LoopSettings {
        duration: 0.5,
        save_every: Some(0.05),
        ..LoopSettings::default()
    }
}

fn adaptive() -> ControllerOptions {
    ControllerOptions {
        atol: Some(vec![1e-6]),
        rtol: Some(vec![1e-5]),
        ..ControllerOptions::default()
    }
}

fn fixed() -> ControllerOptions {
    ControllerOptions {
        kind: Some(ControllerKind::Fixed),
        dt: Some(5e-3),
        ..ControllerOptions::default()
    }
}

/// A solve of `algorithm` with `control` and named settings `named`.
fn settings(
    algorithm: &str,
    precision: P,
    control: ControllerOptions,
    named: &[String],
) -> SolverSettings {
    SolverSettings {
        algorithm: algorithm.parse().expect("an algorithm"),
        precision: Some(precision),
        time: time(),
        control,
        named: named.to_vec(),
        ..SolverSettings::default()
    }
}

/// Five runs, mildly to moderately stiff.
fn sweep() -> Sweep {
    Sweep::new("mu", vec![0.5, 3.0, 10.0, 30.0, 100.0])
}

/// Every algorithm of `families` in both precisions (adaptively where it
/// can be), each kernel against the CPU.
fn check_families(families: &[StepFamily]) {
    if !have_compiler() {
        return;
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for algorithm in algorithms().iter().filter(|a| families.contains(&a.family)) {
        for precision in [P::F64, P::F32] {
            let control = if algorithm.adaptive {
                adaptive()
            } else {
                fixed()
            };
            let what = format!("{} {precision:?}", algorithm.name);
            let (cpu, host) = both_with(
                &van_der_pol(precision),
                settings(algorithm.name, precision, control, &[]),
                sweep(),
            );
            assert!(
                cpu.status().iter().all(|&s| s == 0),
                "{what}: every run succeeds ({:?})",
                cpu.status()
            );
            if let Some(d) = difference(&cpu, &host, &what) {
                failures.push(d);
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 6, "{checked} cases");
}

#[test]
fn every_diagonally_implicit_algorithm_matches_the_cpu_bit_for_bit() {
    check_families(&[StepFamily::Implicit, StepFamily::Dirk]);
}

#[test]
fn every_fully_implicit_and_rosenbrock_algorithm_matches_the_cpu_bit_for_bit() {
    check_families(&[StepFamily::Firk, StepFamily::Rosenbrock]);
}

#[test]
fn every_linear_solver_and_preconditioner_matches_the_cpu_bit_for_bit() {
    if !have_compiler() {
        return;
    }
    let mut failures = Vec::new();
    let mut succeeded = 0;
    let mut cases = Vec::new();
    for solver in ["minimal_residual", "steepest_descent", "bicgstab"] {
        for preconditioner in ["none", "jacobi", "neumann"] {
            cases.push(("kvaerno3", solver, preconditioner));
        }
    }
    cases.push(("radau_iia_5", "bicgstab", "jacobi"));
    cases.push(("radau_iia_5", "lu", "jacobi"));
    cases.push(("rodas3p", "minimal_residual", "neumann"));
    cases.push(("ros3p", "bicgstab", "jacobi"));
    for (algorithm, solver, preconditioner) in cases {
        let named = [
            format!("linear_solver={solver}"),
            format!("preconditioner={preconditioner}"),
        ];
        let what = format!("{algorithm} {solver} {preconditioner}");
        let (cpu, host) = both_with(
            &van_der_pol(P::F64),
            settings(algorithm, P::F64, adaptive(), &named),
            Sweep::new("mu", vec![0.5, 3.0, 10.0]),
        );
        succeeded += cpu.status().iter().filter(|&&s| s == 0).count();
        if let Some(d) = difference(&cpu, &host, &what) {
            failures.push(d);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Most runs succeed: the comparison is not only of failures.
    assert!(succeeded >= 30, "{succeeded} runs succeeded");
}

#[test]
fn fixed_steps_of_adaptive_methods_and_failing_solvers_match_the_cpu() {
    if !have_compiler() {
        return;
    }
    // Fixed steps: no error estimate is computed (the error buffer is empty).
    for algorithm in [
        "crank_nicolson",
        "backwards_euler_pc",
        "radau_iia_5",
        "rodas3p",
    ] {
        let (cpu, host) = both_with(
            &van_der_pol(P::F32),
            settings(algorithm, P::F32, fixed(), &[]),
            sweep(),
        );
        assert!(cpu.status().iter().all(|&s| s == 0), "{algorithm} fixed");
        assert_identical(&cpu, &host, &format!("{algorithm} fixed"));
    }
    // Newton and linear solvers that cannot converge: large fixed steps
    // on the stiffest runs, one Newton iteration, two Krylov iterations.
    for (algorithm, named) in [
        (
            "kvaerno5",
            vec!["newton_max_iters=1", "newton_tolerance=1e-14"],
        ),
        (
            "radau_iia_5",
            vec!["linear_solver=minimal_residual", "krylov_max_iters=2"],
        ),
        (
            "rodas3p",
            vec!["linear_solver=steepest_descent", "krylov_max_iters=2"],
        ),
    ] {
        let control = ControllerOptions {
            kind: Some(ControllerKind::Fixed),
            dt: Some(0.05),
            ..ControllerOptions::default()
        };
        let named: Vec<String> = named.iter().map(|s| s.to_string()).collect();
        let (cpu, host) = both_with(
            &van_der_pol(P::F64),
            settings(algorithm, P::F64, control, &named),
            sweep(),
        );
        let failed = Status::MAX_NEWTON_ITERATIONS.0 | Status::MAX_LINEAR_ITERATIONS.0;
        assert!(
            cpu.status().iter().any(|&s| s & failed != 0),
            "{algorithm}: some run fails ({:?})",
            cpu.status()
        );
        assert_identical(&cpu, &host, algorithm);
    }
}

/// A stiff relaxation towards a forcing, with a second driver and an
/// observable of both.
fn relaxed(precision: P) -> Model {
    Model::builder(
        "dx = -k * (x - stim) + 0.1 * y\n\
         dy = x - y * load\n\
         forcing = stim * load",
    )
    .name("relaxed")
    .precision(precision)
    .states([("x", 0.0), ("y", 1.0)])
    .parameters([("k", 50.0)])
    .drivers([("stim", 0.0), ("load", 1.0)])
    .observables(["forcing"])
    .build()
    .expect("a valid model")
}

#[test]
fn implicit_steps_with_time_varying_drivers_and_summaries_match_the_cpu() {
    if !have_compiler() {
        return;
    }
    let model = relaxed(P::F64);
    let even: Vec<f64> = (0..9).map(|i| 0.125 * i as f64).collect();
    let uneven = vec![0.0, 0.1, 0.45, 0.5, 0.7, 0.85, 1.0];
    let wave = |times: &[f64]| -> Vec<f64> { times.iter().map(|t| (6.0 * t).sin()).collect() };
    let ramp = |times: &[f64]| -> Vec<f64> { times.iter().map(|t| 1.0 + 0.5 * t).collect() };
    let series = |times: &[f64]| {
        DriverSeries::with_times(
            model.drivers(),
            times.to_vec(),
            [("stim", wave(times)), ("load", ramp(times))],
        )
        .expect("a series")
    };
    // Rosenbrock reads the drivers' rates in df/dt: both spacings, and a
    // clamped spline whose end slopes differ from the natural one's.
    let cases = [
        ("kvaerno5", P::F64, series(&even), vec![]),
        (
            "radau_iia_5",
            P::F32,
            // Wrapped: the same first and last samples.
            DriverSeries::with_times(
                model.drivers(),
                uneven.clone(),
                [
                    ("stim", uneven.iter().map(|t| (TAU * t).cos()).collect()),
                    (
                        "load",
                        uneven
                            .iter()
                            .map(|t| 1.0 + 0.5 * (PI * t).sin().powi(2))
                            .collect(),
                    ),
                ],
            )
            .expect("a periodic series"),
            vec!["driver_interpolation=linear", "driver_extrapolation=wrap"],
        ),
        ("rodas3p", P::F64, series(&uneven), vec![]),
        (
            "rosenbrock23",
            P::F32,
            series(&even)
                .with_end_slopes("stim", 6.0, 1.0)
                .expect("slopes"),
            vec!["driver_boundary=clamped"],
        ),
        ("crank_nicolson", P::F64, series(&even), vec![]),
    ];
    for (algorithm, precision, drivers, named) in cases {
        let named: Vec<String> = named.iter().map(|s| s.to_string()).collect();
        let settings = SolverSettings {
            drivers: Some(drivers),
            time: LoopSettings {
                duration: 1.5,
                settling_time: 0.05,
                save_every: Some(0.1),
                ..LoopSettings::default()
            },
            outputs: OutputSettings {
                outputs: Some(
                    [
                        "state",
                        "observables",
                        "mean",
                        "max",
                        "rms",
                        "peaks[2]",
                        "dxdt_max",
                    ]
                    .map(String::from)
                    .to_vec(),
                ),
                summarise_every: Some(0.25),
                sample_summaries_every: Some(0.01),
                ..OutputSettings::default()
            },
            ..settings(algorithm, precision, adaptive(), &named)
        };
        let (cpu, host) = both_with(
            &relaxed(precision),
            settings,
            Sweep::new("k", vec![5.0, 50.0, 500.0]),
        );
        let what = format!("{algorithm} {precision:?} driven");
        assert!(
            cpu.status().iter().all(|&s| s == 0),
            "{what}: {:?}",
            cpu.status()
        );
        assert!(
            cpu.arrays().iter().any(|a| a.name.contains("peaks")),
            "{what}: summaries"
        );
        assert_identical(&cpu, &host, &what);
    }
}
