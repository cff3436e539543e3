//! The implicit steps in lane blocks: a stiff batch whose runs need
//! different numbers of Newton and Krylov iterations, whose solves fail in
//! some lanes and not others (iteration limits under strained solver
//! settings, no solution of the stage equations near a blow-up, non-finite
//! values), gives bit-identical output in blocks of 1, 2, 4, 8 and 16 runs,
//! for every implicit algorithm and every linear solver.

use cubie::batch::{GridKind, Sweep};
use cubie::controllers::ControllerOptions;
use cubie::drivers::DriverSeries;
use cubie::outputs::OutputSettings;
use cubie::results::SolveResult;
use cubie::solvers::{LinearSolverKind, PreconditionerKind};
use cubie::step::{StepFamily, algorithms};
use cubie::system::Model;
use cubie::time_loop::LoopSettings;
use cubie::{ImplicitOptions, Precision, Solver, SolverSettings};

/// Van der Pol of stiffness `mu`, forced by `u`, and `w' = k w²`, which
/// blows up at `t = 1 / k`: near it the stage equations of a long step
/// have no solution, and the state at last is not finite.
fn model() -> Model {
    Model::builder("dx = y\ndy = mu * ((1 - x^2) * y) - x + u\ndw = k * w^2\nenergy = x^2 + y^2")
        .states([("x", 2.0), ("y", 0.0), ("w", 1.0)])
        .parameters([("mu", 1.0), ("k", 0.0)])
        .driver("u", 0.0)
        .observable("energy")
        .build()
        .expect("model")
}

/// The settings of a solve, the driver a sampled series (each stage sees
/// it at its own time, in each lane).
fn settings(
    algorithm: &str,
    adaptive: bool,
    implicit: ImplicitOptions,
    precision: Precision,
) -> SolverSettings {
    let times: Vec<f64> = (0..=40).map(|i| i as f64 * 0.0123).collect();
    let forcing: Vec<f64> = times.iter().map(|t| (7.0 * t).sin()).collect();
    let drivers = DriverSeries::with_times(model().drivers(), times, [("u", forcing)]);
    SolverSettings {
        algorithm: algorithm.parse().expect("algorithm"),
        precision: Some(precision),
        drivers: Some(drivers.expect("series")),
        time: LoopSettings {
            duration: 0.4,
            save_every: Some(0.05),
            max_steps: 20_000,
            ..LoopSettings::default()
        },
        control: if adaptive {
            ControllerOptions {
                atol: Some(vec![1e-6]),
                rtol: Some(vec![1e-6]),
                ..ControllerOptions::default()
            }
        } else {
            ControllerOptions {
                dt: Some(0.004),
                ..ControllerOptions::default()
            }
        },
        implicit,
        outputs: OutputSettings {
            outputs: Some(
                ["state", "observables", "time", "counters"]
                    .map(String::from)
                    .to_vec(),
            ),
            ..OutputSettings::default()
        },
        ..SolverSettings::default()
    }
}

/// 30 runs (a partial last block for every width but 1 and 2): `mu`
/// from mild to very stiff, `k` = 0 (no blow-up), 2 (`w` = 5 at the end)
/// and 4 (blows up at 0.25).
fn solve(base: &SolverSettings, lanes: usize) -> SolveResult {
    let mut settings = base.clone();
    settings.lanes = Some(lanes);
    let solver = Solver::new(&model(), &settings).expect("solver builds");
    let inputs = solver
        .grid(
            &[
                Sweep::new("mu", vec![0.5, 10.0, 100.0, 1e3, 1e4]),
                Sweep::new("k", vec![0.0, 2.0, 4.0]),
                Sweep::new("x", vec![2.0, -0.5]),
            ],
            GridKind::Combinatorial,
        )
        .expect("grid");
    solver.solve(&inputs).expect("solve")
}

fn assert_identical(a: &SolveResult, b: &SolveResult, what: &str) {
    assert_eq!(a.arrays().len(), b.arrays().len(), "{what}");
    for (x, y) in a.arrays().iter().zip(b.arrays()) {
        assert_eq!(x.name, y.name, "{what}");
        assert_eq!(x.shape, y.shape, "{what}: {}", x.name);
        match (x.data.to_f64(), y.data.to_f64()) {
            (Some(vx), Some(vy)) => {
                let same = vx.iter().zip(&vy).all(|(p, q)| p.to_bits() == q.to_bits());
                assert!(same, "{what}: `{}` differs", x.name);
            }
            _ => assert_eq!(x.data, y.data, "{what}: {}", x.name),
        }
    }
}

fn check(base: &SolverSettings, what: &str) {
    let one = solve(base, 1);
    let status = one.status();
    assert_eq!(status.len(), 30);
    let failed = status.iter().filter(|s| **s != 0).count();
    assert!(
        failed > 0 && failed < 30,
        "{what}: {failed} of 30 runs failed"
    );
    for lanes in [2, 4, 8, 16] {
        assert_identical(
            &one,
            &solve(base, lanes),
            &format!("{what}: 1 vs {lanes} lanes"),
        );
    }
}

#[test]
fn every_implicit_algorithm_is_bit_identical_in_lane_blocks() {
    for precision in [Precision::F64, Precision::F32] {
        for a in algorithms()
            .iter()
            .filter(|a| a.family != StepFamily::Explicit)
        {
            let base = settings(a.name, a.adaptive, ImplicitOptions::default(), precision);
            check(&base, &format!("{} {precision:?}", a.name));
        }
    }
}

#[test]
fn strained_solvers_fail_per_lane_identically_in_lane_blocks() {
    // Few Newton and Krylov iterations: solves fail in some lanes of a
    // block (steps rejected and retried, or runs stopped) and not others.
    let strained = |linear_solver, preconditioner| ImplicitOptions {
        linear_solver: Some(linear_solver),
        preconditioner: Some(preconditioner),
        preconditioner_order: Some(2),
        krylov_tolerance: Some(1e-8),
        krylov_max_iters: Some(3),
        newton_tolerance: Some(1e-8),
        newton_max_iters: Some(3),
        newton_max_backtracks: Some(2),
        ..ImplicitOptions::default()
    };
    let solvers = [
        (LinearSolverKind::Lu, PreconditionerKind::None),
        (LinearSolverKind::Bicgstab, PreconditionerKind::Jacobi),
        (
            LinearSolverKind::MinimalResidual,
            PreconditionerKind::Neumann,
        ),
        (
            LinearSolverKind::SteepestDescent,
            PreconditionerKind::Jacobi,
        ),
    ];
    let some = [
        "backwards_euler",
        "crank_nicolson",
        "l_stable_sdirk_4",
        "kvaerno5",
        "radau_iia_5",
        "firk_gauss_legendre_2",
        "rodas3p",
        "ros3p",
    ];
    for name in some {
        let a = algorithms()
            .iter()
            .find(|a| a.name == name)
            .expect("in the catalogue");
        for (kind, pre) in solvers {
            let base = settings(a.name, a.adaptive, strained(kind, pre), Precision::F64);
            check(&base, &format!("{name} {kind}/{pre}"));
        }
    }
}
