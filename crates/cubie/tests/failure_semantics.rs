//! What a failed run's outputs hold: NaN from the failure on (saves and
//! summary windows it never completed), its final state the last state it
//! reached, and the non-finite flag whenever a non-finite derivative made
//! it fail, whatever the algorithm; the other runs of its batch untouched.

use cubie::batch::{BatchInputs, GridKind, Sweep};
use cubie::controllers::ControllerOptions;
use cubie::outputs::OutputSettings;
use cubie::results::SolveResult;
use cubie::system::Model;
use cubie::time_loop::{LoopSettings, Status};
use cubie::{Precision, Solver, SolverSettings};

/// `dx = sqrt(c - t)`: a derivative that turns NaN once `t` passes `c`
/// (0.5 lands on a save time; 10 never fails), with an observable.
fn root_of_time() -> Model {
    Model::builder("dx = sqrt(c - t)\ntwice = 2 * x")
        .states([("x", 0.0)])
        .parameters([("c", 10.0)])
        .observable("twice")
        .build()
        .expect("model")
}

/// `dx = log(x)` from `x = 0`: non-finite at the initial state.
fn log_at_zero() -> Model {
    Model::builder("dx = log(x)")
        .states([("x", 0.0)])
        .build()
        .expect("model")
}

/// `dy = sqrt(x)` while `x = 0.5 - t` goes negative.
fn root_of_state() -> Model {
    Model::builder("dx = -1\ndy = sqrt(x)")
        .states([("x", 0.5), ("y", 0.0)])
        .build()
        .expect("model")
}

/// Algorithms of every family; the fixed-step ones get `dt = 0.01`.
const ALGORITHMS: [(&str, bool); 8] = [
    ("tsit5", true),
    ("dormand-prince-54", true),
    ("euler", false),
    ("classical-rk4", false),
    ("l_stable_sdirk_4", true),
    ("radau_iia_5", true),
    ("rodas3p", true),
    ("backwards_euler", false),
];

fn settings(algorithm: &str, adaptive: bool, time: LoopSettings) -> SolverSettings {
    SolverSettings {
        algorithm: algorithm.parse().unwrap(),
        time,
        control: ControllerOptions {
            dt: (!adaptive).then_some(0.01),
            ..ControllerOptions::default()
        },
        ..SolverSettings::default()
    }
}

fn saving(duration: f64, settling_time: f64) -> LoopSettings {
    LoopSettings {
        duration,
        settling_time,
        save_every: Some(0.1),
        ..LoopSettings::default()
    }
}

fn solve(model: &Model, settings: &SolverSettings, c: &[f64]) -> SolveResult {
    let solver = Solver::new(model, settings).expect("solver");
    let runs: BatchInputs = if c.is_empty() {
        solver.grid(&[], GridKind::Combinatorial).expect("grid")
    } else {
        solver
            .grid(&[Sweep::new("c", c.to_vec())], GridKind::Combinatorial)
            .expect("grid")
    };
    solver.solve(&runs).expect("solve")
}

#[test]
fn a_non_finite_derivative_raises_the_non_finite_flag_for_every_algorithm() {
    for (algorithm, adaptive) in ALGORITHMS {
        let cases = [
            ("log(x) at x = 0", log_at_zero(), vec![]),
            ("sqrt(c - t) past t = c", root_of_time(), vec![0.5]),
            ("sqrt(x) once x < 0", root_of_state(), vec![]),
        ];
        for (what, model, c) in cases {
            let s = settings(algorithm, adaptive, saving(1.0, 0.0));
            let result = solve(&model, &s, &c);
            let status = Status(result.status()[0]);
            assert!(
                status.contains(Status::NON_FINITE_STATE),
                "{algorithm}, {what}: status {status:?} ({:?})",
                status.names()
            );
            let finals = result.final_state();
            assert!(
                finals.iter().all(|v| v.is_finite()),
                "{algorithm}, {what}: the final state is the last one reached: {finals:?}"
            );
        }
    }
}

#[test]
fn the_generic_explicit_step_raises_the_flag_too() {
    for algorithm in ["tsit5", "dormand-prince-853"] {
        let mut s = settings(algorithm, true, saving(1.0, 0.0));
        s.named = vec!["fused_steps=false".into()];
        for (model, c) in [(log_at_zero(), vec![]), (root_of_time(), vec![0.5])] {
            let status = Status(solve(&model, &s, &c).status()[0]);
            assert!(
                status.contains(Status::NON_FINITE_STATE),
                "{algorithm}: {status:?}"
            );
        }
    }
}

#[test]
fn a_derivative_non_finite_at_the_start_stops_at_once() {
    // No shorter step can mend it: the run stops after one attempt rather
    // than shrinking the step down to dt_min.
    let mut s = settings("tsit5", true, saving(1.0, 0.0));
    s.outputs.outputs = Some(vec!["state".into(), "time".into(), "counters".into()]);
    let result = solve(&log_at_zero(), &s, &[]);
    assert_eq!(result.status(), [Status::NON_FINITE_STATE.0]);
    let counters = result.values("counters").expect("counters");
    assert_eq!((counters[0], counters[1]), (0.0, 1.0), "{counters:?}");
}

#[test]
fn saves_after_a_failure_are_nan_and_the_final_state_is_the_last_reached() {
    for (algorithm, adaptive) in ALGORITHMS {
        let s = settings(algorithm, adaptive, saving(1.0, 0.0));
        let result = solve(&root_of_time(), &s, &[0.5]);
        assert!(!Status(result.status()[0]).is_success(), "{algorithm}");
        let state = result.values("state").expect("state");
        let twice = result.values("observables").expect("observables");
        assert_eq!(state.len(), 11);
        // Saves at 0, 0.1, ..., 0.5 were reached; 0.6 to 1 never were.
        for k in 0..11 {
            let reached = k <= 5;
            for (name, v) in [("state", state[k]), ("observable", twice[k])] {
                assert_eq!(
                    v.is_finite(),
                    reached,
                    "{algorithm}: {name} save {k} = {v} ({state:?})"
                );
            }
        }
        assert!(state[5] > 0.2, "{algorithm}: {state:?}");
        // The run stops at t = 0.5: its final state is that save's.
        assert_eq!(result.final_state(), [state[5]], "{algorithm}");
    }
}

#[test]
fn summary_windows_not_completed_are_nan() {
    let mut s = settings("tsit5", true, saving(1.0, 0.0));
    s.outputs = OutputSettings {
        outputs: Some(vec!["state".into(), "mean".into(), "max".into()]),
        summarise_every: Some(0.3),
        ..OutputSettings::default()
    };
    // Windows end at 0.2, 0.5, 0.8 (samples 0-2, 3-5, 6-8). The run with
    // c = 0.45 fails inside the second window, cutting it short.
    let result = solve(&root_of_time(), &s, &[10.0, 0.45]);
    assert!(Status(result.status()[0]).is_success());
    assert!(!Status(result.status()[1]).is_success());
    for metric in ["summary_mean", "summary_max"] {
        let a = result.get(metric).expect("metric");
        assert_eq!(a.shape, [2, 3, 2], "{metric}");
        let v = a.data.to_f64().expect("numbers");
        // (run, window, variable): run 0 whole, run 1 only window 0.
        assert!(v[..6].iter().all(|x| x.is_finite()), "{metric}: {v:?}");
        assert!(v[6..8].iter().all(|x| x.is_finite()), "{metric}: {v:?}");
        assert!(v[8..].iter().all(|x| x.is_nan()), "{metric}: {v:?}");
    }
    let state = result.values("state").expect("state");
    // Saves at 0 to 0.4 reached, 0.5 on never.
    assert!(state[11..16].iter().all(|x| x.is_finite()), "{state:?}");
    assert!(state[16..].iter().all(|x| x.is_nan()), "{state:?}");
}

#[test]
fn a_failure_in_the_settling_time_leaves_every_output_nan() {
    let mut s = settings("tsit5", true, saving(1.0, 1.0));
    s.outputs = OutputSettings {
        outputs: Some(vec!["state".into(), "observables".into(), "mean".into()]),
        summarise_every: Some(0.5),
        ..OutputSettings::default()
    };
    let result = solve(&root_of_time(), &s, &[0.5]);
    assert!(Status(result.status()[0]).contains(Status::NON_FINITE_STATE));
    for name in ["state", "observables", "summary_mean"] {
        let v = result.values(name).expect(name);
        assert!(
            !v.is_empty() && v.iter().all(|x| x.is_nan()),
            "{name}: {v:?}"
        );
    }
    let finals = result.final_state();
    assert!(finals[0] > 0.2 && finals[0].is_finite(), "{finals:?}");
}

#[test]
fn max_steps_leaves_the_unreached_saves_nan() {
    let s = SolverSettings {
        algorithm: "tsit5".parse().unwrap(),
        time: LoopSettings {
            max_steps: 3,
            ..saving(1.0, 0.0)
        },
        ..SolverSettings::default()
    };
    let result = solve(&root_of_time(), &s, &[10.0]);
    assert_eq!(result.status(), [Status::MAX_STEPS.0]);
    let state = result.values("state").expect("state");
    // Three steps reach at most the saves at 0.1 and 0.2 (each save ends a step).
    assert!(state[0].is_finite() && state[0] == 0.0);
    assert!(state[4..].iter().all(|x| x.is_nan()), "{state:?}");
    let reached = state.iter().filter(|x| x.is_finite()).count();
    assert!((1..=4).contains(&reached), "{state:?}");
}

#[test]
fn a_failed_run_leaves_the_others_of_its_batch_bit_identical() {
    for (algorithm, adaptive) in ALGORITHMS {
        let s = settings(algorithm, adaptive, saving(1.0, 0.0));
        let c = [10.0, 0.5, 3.0, 0.45, 2.0];
        let batch = solve(&root_of_time(), &s, &c);
        let status = batch.status().to_vec();
        let state = batch.values("state").expect("state");
        let finals = batch.final_state();
        for (run, &ci) in c.iter().enumerate() {
            let alone = solve(&root_of_time(), &s, &[ci]);
            assert_eq!(alone.status()[0], status[run], "{algorithm} run {run}");
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&alone.values("state").unwrap()),
                bits(&state[run * 11..(run + 1) * 11]),
                "{algorithm} run {run}"
            );
            assert_eq!(
                alone.final_state()[0].to_bits(),
                finals[run].to_bits(),
                "{algorithm} run {run}"
            );
        }
        assert!(Status(status[0]).is_success(), "{algorithm}: {status:?}");
        assert!(!Status(status[1]).is_success(), "{algorithm}: {status:?}");
    }
}

#[test]
fn f32_solves_fill_nan_too() {
    let mut s = settings("tsit5", true, saving(1.0, 0.0));
    s.precision = Some(Precision::F32);
    let result = solve(&root_of_time(), &s, &[0.5]);
    assert!(Status(result.status()[0]).contains(Status::NON_FINITE_STATE));
    let state = result.values("state").expect("state");
    assert!(state[6..].iter().all(|x| x.is_nan()), "{state:?}");
}

#[test]
fn a_time_series_csv_carries_each_run_status_and_writes_nan() {
    let s = settings("tsit5", true, saving(1.0, 0.0));
    let result = solve(&root_of_time(), &s, &[10.0, 0.5]);
    let failed = result.status()[1];
    assert!(failed != 0);
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("series.csv");
    result.write(&path).expect("written");
    let table = std::fs::read_to_string(&path).expect("read");
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows[0], "run,status,time,x,twice");
    assert_eq!(rows.len(), 1 + 2 * 11);
    assert!(rows[1].starts_with("0,0,0,"), "{}", rows[1]);
    // Run 1: reached saves up to t = 0.5, NaN after, its status on every row.
    let run1: Vec<Vec<&str>> = rows[12..].iter().map(|r| r.split(',').collect()).collect();
    for (k, row) in run1.iter().enumerate() {
        assert_eq!(row[0], "1");
        assert_eq!(row[1], failed.to_string());
        let reached = k <= 5;
        assert_eq!(row[3] != "NaN", reached, "{row:?}");
        assert_eq!(row[4] != "NaN", reached, "{row:?}");
    }
}
