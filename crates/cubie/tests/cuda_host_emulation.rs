//! The CUDA backend's generated kernel, compiled for the host by the C++
//! compiler, against the CPU backend: for every explicit algorithm, both
//! precisions, fixed-step and adaptive (with the automatic first step and
//! with a given one), every output array is bit-identical to the CPU's
//! generic forms. The emitter performs the CPU forms' operations in their
//! order and the host compiler does not contract `a * b + c`, so any
//! difference is a bug, not rounding.
//!
//! Skipped with a message where no C++ compiler can be run.

mod common;

use std::process::Command;

use cubie::backend::Backend;
use cubie::batch::{GridKind, Sweep};
use cubie::controllers::{ControllerKind, ControllerOptions};
use cubie::results::SolveResult;
use cubie::step::{StepFamily, algorithms};
use cubie::system::Model;
use cubie::time_loop::LoopSettings;
use cubie::{Precision, Solver, SolverSettings};

fn have_compiler() -> bool {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let found = Command::new(cxx).arg("--version").output().is_ok();
    // CI installs one: there, a missing compiler is a failure.
    assert!(found || !common::in_ci(), "no C++ compiler in CI");
    if !found {
        eprintln!("note: no C++ compiler found; the host emulation tests are skipped");
    }
    found
}

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

/// The first difference between two results, if any.
fn difference(cpu: &SolveResult, host: &SolveResult, what: &str) -> Option<String> {
    let result = std::panic::catch_unwind(|| assert_identical(cpu, host, what));
    result.err().map(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| what.to_string())
    })
}

fn assert_identical(cpu: &SolveResult, host: &SolveResult, what: &str) {
    let names = |r: &SolveResult| {
        r.arrays()
            .iter()
            .map(|a| a.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(cpu), names(host), "{what}: the same arrays");
    for (a, b) in cpu.arrays().iter().zip(host.arrays()) {
        assert_eq!(a.shape, b.shape, "{what}: {}", a.name);
        match (a.data.to_f64(), b.data.to_f64()) {
            (Some(x), Some(y)) => {
                for (i, (p, q)) in x.iter().zip(&y).enumerate() {
                    assert!(
                        p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()),
                        "{what}: {}[{i}] is {p} on the CPU and {q} in the kernel",
                        a.name
                    );
                }
            }
            _ => assert_eq!(a.data, b.data, "{what}: {}", a.name),
        }
    }
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
    let solve = |backend: Backend| {
        let mut named: Vec<String> = named.iter().map(|s| s.to_string()).collect();
        if backend == Backend::Cpu {
            named.push("fused_steps=false".into());
        }
        let settings = SolverSettings {
            algorithm: algorithm.parse().expect("an algorithm"),
            time: time.clone(),
            control: control.clone(),
            named,
            backend,
            ..SolverSettings::default()
        };
        let solver = Solver::new(model, &settings).expect("solver");
        let runs = solver
            .grid(std::slice::from_ref(&sweep), GridKind::Combinatorial)
            .expect("grid");
        solver.solve(&runs).expect("solve")
    };
    (solve(Backend::Cpu), solve(Backend::CudaHostEmulation))
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
        let (cpu, host) = both(
            &root_of_time,
            algorithm,
            control,
            time.clone(),
            &[],
            sweep.clone(),
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
