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

use common::emulation::{Case, assert_identical, both, difference, have_compiler};
use cubie::Precision;
use cubie::batch::Sweep;
use cubie::controllers::{ControllerKind, ControllerOptions};
use cubie::step::{StepFamily, algorithms};
use cubie::system::Model;
use cubie::time_loop::{LoopSettings, Status};

/// Van der Pol, stiff for large `mu`, with a transcendental term so the
/// Jacobian is not constant in `x` alone, and an observable.
fn van_der_pol(precision: Precision) -> Model {
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
        for precision in [Precision::F64, Precision::F32] {
            let case = Case {
                algorithm: algorithm.name,
                control: if algorithm.adaptive {
                    adaptive()
                } else {
                    fixed()
                },
                time: time(),
                named: Vec::new(),
                sweep: sweep(),
            };
            let what = format!("{} {precision:?}", algorithm.name);
            let (cpu, host) = both(&van_der_pol(precision), &case);
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
        let case = Case {
            algorithm,
            control: adaptive(),
            time: time(),
            named: vec![
                format!("linear_solver={solver}"),
                format!("preconditioner={preconditioner}"),
            ],
            sweep: Sweep::new("mu", vec![0.5, 3.0, 10.0]),
        };
        let what = format!("{algorithm} {solver} {preconditioner}");
        let (cpu, host) = both(&van_der_pol(Precision::F64), &case);
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
        let case = Case {
            algorithm,
            control: fixed(),
            time: time(),
            named: Vec::new(),
            sweep: sweep(),
        };
        let (cpu, host) = both(&van_der_pol(Precision::F32), &case);
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
        let case = Case {
            algorithm,
            control: ControllerOptions {
                kind: Some(ControllerKind::Fixed),
                dt: Some(0.05),
                ..ControllerOptions::default()
            },
            time: time(),
            named: named.iter().map(|s| s.to_string()).collect(),
            sweep: sweep(),
        };
        let (cpu, host) = both(&van_der_pol(Precision::F64), &case);
        let failed = Status::MAX_NEWTON_ITERATIONS.0 | Status::MAX_LINEAR_ITERATIONS.0;
        assert!(
            cpu.status().iter().any(|&s| s & failed != 0),
            "{algorithm}: some run fails ({:?})",
            cpu.status()
        );
        assert_identical(&cpu, &host, algorithm);
    }
}
