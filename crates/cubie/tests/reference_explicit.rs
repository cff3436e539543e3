//! Every explicit algorithm against DifferentialEquations.jl on the Lorenz
//! ensemble: at each fixed dt and tolerance where Julia's own error is
//! well above float32 round-off, cubie's error against the golden states
//! is at most twice Julia's.

mod common;

use common::{Reference, check_against_julia, reference_dir, relative_error, solve_reference};
use cubie::Precision;
use cubie::SolverSettings;
use cubie::controllers::ControllerOptions;
use cubie::time_loop::LoopSettings;

const FIXED: [&str; 10] = [
    "euler",
    "heun-21",
    "bogacki-shampine-32",
    "classical-rk4",
    "dormand-prince-54",
    "cash-karp-54",
    "fehlberg-45",
    "dormand-prince-853",
    "tsit5",
    "vern7",
];

const ADAPTIVE: [&str; 8] = [
    "heun-21",
    "bogacki-shampine-32",
    "dormand-prince-54",
    "cash-karp-54",
    "fehlberg-45",
    "dormand-prince-853",
    "tsit5",
    "vern7",
];

#[test]
fn fixed_step_explicit_methods_match_julia() {
    check_against_julia("fixed", &FIXED, &|_, _, _| false);
}

#[test]
fn adaptive_explicit_methods_match_julia() {
    check_against_julia("adaptive", &ADAPTIVE, &|_, _, _| false);
}

#[test]
fn tsit5_in_f64_at_tight_tolerance_matches_the_golden_states() {
    let Some(dir) = reference_dir() else { return };
    let mut reference = Reference::open(&dir);
    let rho = reference.get("golden_rho").expect("golden_rho");
    let golden = reference.get("golden_states").expect("golden_states");
    let s = SolverSettings {
        algorithm: "tsit5".parse().unwrap(),
        precision: Some(Precision::F64),
        time: LoopSettings {
            duration: 1.0,
            ..LoopSettings::default()
        },
        control: ControllerOptions {
            atol: Some(vec![1e-12]),
            rtol: Some(vec![1e-12]),
            ..ControllerOptions::default()
        },
        ..SolverSettings::default()
    };
    let error = relative_error(&solve_reference(&s, &rho), &golden);
    eprintln!("tsit5 f64 at 1e-12: relative error {error:.3e}");
    assert!(error < 1e-9, "tsit5 f64 error {error:.3e}");
}
