//! The Rust API takes a typed controller kind; names are parsed at the edge
//! with the valid names in the error.

mod common;

use cubie::controllers::{ControllerError, ControllerKind, ControllerOptions};
use cubie::time_loop::LoopSettings;
use cubie::{Precision, Solver, SolverSettings};

#[test]
fn a_typed_controller_kind_is_honoured() {
    let model = common::lorenz(Precision::F64);
    let settings = |kind| SolverSettings {
        algorithm: "classical-rk4".into(),
        time: LoopSettings {
            duration: 1.0,
            ..LoopSettings::default()
        },
        control: ControllerOptions {
            kind: Some(kind),
            dt: Some(0.125),
            ..ControllerOptions::default()
        },
        ..SolverSettings::default()
    };
    let solver = Solver::new(&model, &settings(ControllerKind::Fixed)).expect("solver builds");
    let result = solver
        .solve(&common::reference_inputs(&solver, &[21.0]))
        .expect("solve runs");
    assert!(result.status().iter().all(|s| *s == 0));
    // RK4 has no error estimate: asking for `pi` must be refused, not ignored.
    let err = Solver::new(&model, &settings(ControllerKind::Pi)).unwrap_err();
    assert!(
        err.to_string()
            .contains("controller `pi` needs an error estimate"),
        "{err}"
    );
}

#[test]
fn controller_names_parse_and_an_unknown_name_lists_the_valid_ones() {
    assert_eq!("PID".parse::<ControllerKind>(), Ok(ControllerKind::Pid));
    let err = "bogus".parse::<ControllerKind>().unwrap_err();
    assert!(matches!(err, ControllerError::UnknownKind { .. }));
    assert_eq!(
        err.to_string(),
        "unknown step controller `bogus`; valid names: fixed, i, pi, pid, gustafsson"
    );
}
