//! The Rust API takes typed values (controller kind, the implicit solvers'
//! settings, buffer locations, backend); names are parsed at the edge with
//! the valid names in the error.

mod common;

use cubie::controllers::{ControllerError, ControllerKind, ControllerOptions};
use cubie::memory::Location;
use cubie::solvers::{LinearSolverKind, PreconditionerKind};
use cubie::time_loop::LoopSettings;
use cubie::{Backend, ImplicitOptions, Precision, SolveError, Solver, SolverSettings};

#[test]
fn a_typed_controller_kind_is_honoured() {
    let model = common::lorenz(Precision::F64);
    let settings = |kind| SolverSettings {
        algorithm: "classical-rk4".parse().unwrap(),
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

fn radau(implicit: ImplicitOptions, named: &[&str]) -> SolverSettings {
    SolverSettings {
        algorithm: "radau_iia_5".parse().unwrap(),
        time: LoopSettings {
            duration: 1.0,
            ..LoopSettings::default()
        },
        implicit,
        named: named.iter().map(|s| s.to_string()).collect(),
        backend: Backend::Cpu,
        ..SolverSettings::default()
    }
}

fn bits(settings: &SolverSettings) -> Vec<u64> {
    let model = common::lorenz(Precision::F64);
    let solver = Solver::new(&model, settings).expect("solver builds");
    let result = solver
        .solve(&common::reference_inputs(&solver, &[21.0, 28.0]))
        .expect("solve runs");
    assert!(result.status().iter().all(|s| *s == 0));
    result.final_state().iter().map(|x| x.to_bits()).collect()
}

#[test]
fn typed_solver_settings_are_the_named_ones() {
    let typed = ImplicitOptions {
        linear_solver: Some(LinearSolverKind::Lu),
        preconditioner: Some(PreconditionerKind::Jacobi),
        newton_tolerance: Some(1e-10),
        newton_max_iters: Some(20),
        ..ImplicitOptions::default()
    };
    let named = [
        "linear_solver=lu",
        "preconditioner=jacobi",
        "newton_tolerance=1e-10",
        "newton_max_iters=20",
    ];
    let by_type = bits(&radau(typed, &[]));
    assert_eq!(by_type, bits(&radau(ImplicitOptions::default(), &named)));
    // And they take effect: the default solver gives other bits.
    assert_ne!(by_type, bits(&radau(ImplicitOptions::default(), &[])));
}

#[test]
fn a_setting_given_typed_and_named_is_refused() {
    let typed = ImplicitOptions {
        linear_solver: Some(LinearSolverKind::Lu),
        ..ImplicitOptions::default()
    };
    let model = common::lorenz(Precision::F64);
    match Solver::new(&model, &radau(typed, &["linear_solver=bicgstab"])) {
        Err(e @ SolveError::ConflictingSetting { .. }) => {
            assert!(
                e.to_string().contains("`linear_solver` is set twice"),
                "{e}"
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn typed_locations_move_buffers() {
    let model = common::lorenz(Precision::F64);
    let mut settings = SolverSettings {
        algorithm: "tsit5".parse().unwrap(),
        ..SolverSettings::default()
    };
    let location = |s: &SolverSettings| {
        let plan = Solver::new(&model, s)
            .expect("builds")
            .plan()
            .expect("plan");
        plan.rows
            .iter()
            .find(|r| r.name == "stage_rhs")
            .map(|r| r.location.to_string())
    };
    assert_eq!(location(&settings).as_deref(), Some("shared"));
    settings.locations = vec![("stage_rhs".into(), Location::Local)];
    assert_eq!(location(&settings).as_deref(), Some("local"));
    // An unknown buffer is refused with the valid names, as by name.
    settings.locations = vec![("stage_rhss".into(), Location::Local)];
    let err = Solver::new(&model, &settings).unwrap_err().to_string();
    assert!(err.contains("stage_rhs_location"), "{err}");
}
