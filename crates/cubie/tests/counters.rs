//! Per-run counters: accepted steps, rejected steps, derivative
//! evaluations.

mod common;

use cubie::batch::{GridKind, Sweep};
use cubie::controllers::ControllerOptions;
use cubie::time_loop::LoopSettings;
use cubie::{Precision, Solver, SolverSettings};

fn counters(algorithm: &str, control: ControllerOptions) -> (Vec<i64>, Vec<String>) {
    let settings = SolverSettings {
        algorithm: algorithm.parse().unwrap(),
        time: LoopSettings {
            duration: 1.0,
            ..LoopSettings::default()
        },
        control,
        ..SolverSettings::default()
    };
    let solver = Solver::new(&common::lorenz(Precision::F64), &settings).unwrap();
    let runs = solver
        .grid(
            &[Sweep::new("rho", vec![0.0, 28.0])],
            GridKind::Combinatorial,
        )
        .unwrap();
    let result = solver.solve(&runs).unwrap();
    let values = result.get("counters").unwrap().data.to_f64().unwrap();
    (
        values.into_iter().map(|v| v as i64).collect(),
        result.labels("counter_labels").unwrap().to_vec(),
    )
}

#[test]
fn fixed_steps_count_exactly() {
    let (c, labels) = counters(
        "classical-rk4",
        ControllerOptions {
            dt: Some(0.01),
            ..ControllerOptions::default()
        },
    );
    assert_eq!(
        labels,
        ["accepted_steps", "rejected_steps", "dxdt_evaluations"]
    );
    // 100 steps of 4 stages, for both runs.
    assert_eq!(c, vec![100, 0, 400, 100, 0, 400]);
}

#[test]
fn adaptive_steps_count_rejections_and_reuse_of_the_last_stage() {
    let (c, _) = counters(
        "dormand-prince-54",
        ControllerOptions {
            dt: Some(0.5), // far too large for rho = 28: rejected at first
            atol: Some(vec![1e-8]),
            rtol: Some(vec![1e-8]),
            ..ControllerOptions::default()
        },
    );
    let (accepted, rejected, evaluations) = (c[3], c[4], c[5]);
    assert!(rejected > 0, "{c:?}");
    // Seven stages, the first reused after every accepted step: 6 per
    // attempt plus one for the very first stage and one after each rejection.
    assert_eq!(
        evaluations,
        6 * (accepted + rejected) + 1 + rejected,
        "{c:?}"
    );
    assert!(c[3] > c[0], "the chaotic run needs more steps: {c:?}");
}
