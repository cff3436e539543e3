//! The implicit steps as components: their memory as the registry lays it
//! out (totals, the step → Newton → linear-solver chain, the DIRK caches
//! aliasing the Newton solver's scratch), their settings, and how a failed
//! Newton solve is reported.

mod common;

use cubie::batch::{GridKind, Sweep};
use cubie::controllers::ControllerOptions;
use cubie::memory::{LayoutReport, Region};
use cubie::step::{AlgorithmEntry, StepFamily, algorithms};
use cubie::system::Model;
use cubie::time_loop::{LoopSettings, Status};
use cubie::{Precision, Solver, SolverSettings};

const N: usize = 3;

fn implicit() -> impl Iterator<Item = &'static AlgorithmEntry> {
    algorithms().iter().filter(|a| a.family.is_implicit())
}

fn settings(algorithm: &str, named: &[&str]) -> SolverSettings {
    SolverSettings {
        algorithm: algorithm.parse().unwrap(),
        precision: Some(Precision::F64),
        control: ControllerOptions {
            kind: Some(cubie::controllers::ControllerKind::Fixed),
            dt: Some(0.01),
            ..ControllerOptions::default()
        },
        named: named.iter().map(|s| s.to_string()).collect(),
        ..SolverSettings::default()
    }
}

fn plan(algorithm: &str, named: &[&str]) -> LayoutReport {
    Solver::new(&common::lorenz(Precision::F64), &settings(algorithm, named))
        .expect("solver builds")
        .plan()
        .expect("plan")
}

fn row<'a>(plan: &'a LayoutReport, owner: &str, name: &str) -> &'a cubie::memory::ReportRow {
    plan.rows
        .iter()
        .find(|r| r.owner == owner && r.name == name)
        .unwrap_or_else(|| panic!("no row {owner}/{name}"))
}

/// Shared elements a component's own buffers need, worked out by hand
/// from the step's documented buffers (n = 3, default `lu` solver).
fn expected_step_shared(a: &AlgorithmEntry) -> usize {
    let s = a.stages;
    // Newton: delta, residual, residual_temp, stage_base_bt; lu: matrix, pivots.
    let newton = |m: usize| 4 * m + m * m + m;
    match a.family {
        StepFamily::Implicit | StepFamily::Dirk => N + N + s * N + newton(N),
        StepFamily::Firk => {
            let filter = if a.adaptive { N * N + N } else { 0 };
            2 * s * N + 2 * N + newton(s * N) + filter
        }
        StepFamily::Rosenbrock => s * N + 3 * N + N * N + N,
        StepFamily::Explicit => unreachable!(),
    }
}

#[test]
fn every_implicit_step_hosts_its_solvers_and_its_totals_add_up() {
    for a in implicit() {
        let p = plan(a.name, &[]);
        let solver_owner = match a.family {
            StepFamily::Rosenbrock => "kernel/loop/step/linear_solver",
            _ => "kernel/loop/step/newton/linear_solver",
        };
        assert!(
            p.rows.iter().any(|r| r.owner == solver_owner),
            "{}: no {solver_owner} in the plan",
            a.name
        );
        let step_shared = row(&p, "kernel/loop", "step_shared").size;
        assert_eq!(step_shared, expected_step_shared(a), "{}", a.name);
        // The caches overlay the shared scratch: no persistent memory.
        assert_eq!(
            row(&p, "kernel/loop", "step_persistent").size,
            0,
            "{}",
            a.name
        );
        if a.family != StepFamily::Rosenbrock {
            let host = row(&p, "kernel/loop/step", "solver_scratch");
            let newton_rows: usize = p
                .rows
                .iter()
                .filter(|r| r.owner == "kernel/loop/step/newton" && r.location == Region::Shared)
                .map(|r| r.size)
                .sum();
            assert_eq!(host.size, newton_rows, "{}", a.name);
        }
    }
}

#[test]
fn dirk_caches_overlay_the_solver_scratch_when_shared_and_fall_back_when_local() {
    // kvaerno3 is first-same-as-last: both caches are n long.
    let shared = plan("kvaerno3", &[]);
    let scratch = row(&shared, "kernel/loop/step", "solver_scratch");
    let mut taken = Vec::new();
    for name in ["increment_cache", "rhs_cache"] {
        let r = row(&shared, "kernel/loop/step", name);
        assert_eq!(r.alias.as_deref(), Some("solver_scratch"));
        assert!(!r.fell_back, "{name}");
        assert_eq!(r.location, Region::Shared);
        assert_eq!(r.size, N);
        assert!(r.arena_offset >= scratch.arena_offset);
        assert!(r.arena_offset + r.size <= scratch.arena_offset + scratch.size);
        taken.push(r.arena_offset);
    }
    assert_ne!(
        taken[0], taken[1],
        "the two caches must not overlap each other"
    );

    // Every Newton and linear-solver buffer local: the scratch is empty
    // and the caches become persistent-local slices.
    let local = plan(
        "kvaerno3",
        &[
            "delta_location=local",
            "residual_location=local",
            "residual_temp_location=local",
            "stage_base_bt_location=local",
            "lu_matrix_location=local",
            "pivots_location=local",
        ],
    );
    assert_eq!(row(&local, "kernel/loop/step", "solver_scratch").size, 0);
    for name in ["increment_cache", "rhs_cache"] {
        let r = row(&local, "kernel/loop/step", name);
        assert!(r.fell_back, "{name}");
        assert_eq!(r.location, Region::Persistent);
    }
    assert_eq!(row(&local, "kernel/loop", "step_persistent").size, 2 * N);
    // A method that is not first-same-as-last has no rhs cache to keep.
    let sdirk = plan("l_stable_sdirk_4", &[]);
    assert_eq!(row(&sdirk, "kernel/loop/step", "rhs_cache").size, 0);
}

#[test]
fn solver_settings_are_routed_and_checked() {
    let model = common::lorenz(Precision::F64);
    let build = |algorithm: &str, named: &[&str]| Solver::new(&model, &settings(algorithm, named));
    for a in implicit() {
        build(a.name, &["newton_tolerance=1e-8", "krylov_tolerance=1e-9"])
            .unwrap_or_else(|e| panic!("{}: {e}", a.name));
    }
    build(
        "kvaerno3",
        &[
            "linear_solver=bicgstab",
            "preconditioner=jacobi",
            "newton_max_iters=20",
        ],
    )
    .expect("bicgstab with jacobi");
    // An explicit step has no Newton solver: the key is unknown there.
    let err = build("tsit5", &["newton_tolerance=1e-8"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("newton_tolerance"), "{err}");
    let err = build("kvaerno3", &["newton_max_iters=0"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("newton_max_iters"), "{err}");
    let err = build("kvaerno3", &["linear_solver=gmres"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("gmres"), "{err}");
    // Radau hosts two linear solvers: the unqualified key is ambiguous,
    // the qualified ones are not.
    let err = build("radau_iia_5", &["lu_matrix_location=local"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("ambiguous"), "{err}");
    let p = Solver::new(
        &model,
        &settings("radau_iia_5", &["error_filter.lu_matrix_location=local"]),
    )
    .expect("qualified key")
    .plan()
    .expect("plan");
    assert_eq!(
        row(&p, "kernel/loop/step/error_filter", "lu_matrix").location,
        Region::Local
    );
    assert_eq!(
        row(&p, "kernel/loop/step/newton/linear_solver", "lu_matrix").location,
        Region::Shared
    );
}

/// y' = p y²: backward Euler's equation `z = h p (y + z)²` has no real
/// root once `4 h p y > 1`, so Newton cannot converge.
fn blow_up(ps: &[f64], control: ControllerOptions) -> cubie::results::SolveResult {
    let model = Model::builder("dy = p * y * y")
        .state("y", 1.0)
        .parameter("p", 0.5)
        .precision(Precision::F64)
        .build()
        .expect("model");
    let s = SolverSettings {
        algorithm: "backwards_euler".parse().unwrap(),
        precision: Some(Precision::F64),
        time: LoopSettings {
            duration: 1.0,
            ..LoopSettings::default()
        },
        control,
        threads: Some(2),
        ..SolverSettings::default()
    };
    let solver = Solver::new(&model, &s).expect("solver");
    let inputs = solver
        .grid(&[Sweep::new("p", ps.to_vec())], GridKind::Verbatim)
        .expect("grid");
    solver.solve(&inputs).expect("solve")
}

#[test]
fn a_newton_failure_flags_its_run_and_leaves_the_others_untouched() {
    let fixed = ControllerOptions {
        kind: Some(cubie::controllers::ControllerKind::Fixed),
        dt: Some(0.01),
        ..ControllerOptions::default()
    };
    let good = [-1.0, 0.5, 0.25];
    let with_bad = [-1.0, 0.5, 100.0, 0.25];
    let clean = blow_up(&good, fixed.clone());
    let mixed = blow_up(&with_bad, fixed);
    assert!(clean.status().iter().all(|&s| s == 0));
    let bad = Status(mixed.status()[2]);
    assert!(
        bad.contains(Status::MAX_NEWTON_ITERATIONS),
        "{:?}",
        bad.names()
    );
    // The failed run stops at the last state it reached, not at the failed
    // solve's guess.
    let stopped = mixed.final_state()[2];
    assert!(stopped.is_finite() && stopped >= 1.0, "{stopped}");
    for (i, j) in [(0, 0), (1, 1), (2, 3)] {
        assert_eq!(mixed.status()[j], 0);
        assert_eq!(
            clean.final_state()[i].to_bits(),
            mixed.final_state()[j].to_bits(),
            "run {i}"
        );
    }
    // Backward Euler is accurate to O(h) on the good runs: y = 1/(1 - p t).
    assert!((clean.final_state()[1] - 2.0).abs() < 0.05);
}

#[test]
fn an_adaptive_solve_retries_a_failed_newton_solve_with_a_smaller_step() {
    // A first step of 1 has no backward-Euler solution (4·1·0.5·1 > 1).
    let result = blow_up(
        &[0.5],
        ControllerOptions {
            dt: Some(1.0),
            atol: Some(vec![1e-4]),
            rtol: Some(vec![1e-4]),
            ..ControllerOptions::default()
        },
    );
    assert_eq!(result.status(), &[0]);
    let counters = result.values("counters").expect("counters");
    assert!(counters[1] >= 1.0, "rejected steps: {counters:?}");
    let y = result.final_state()[0];
    eprintln!("adaptive backward Euler: y(1) = {y} (exact 2), counters {counters:?}");
    assert!((y - 2.0).abs() < 0.1, "{y}");
}
