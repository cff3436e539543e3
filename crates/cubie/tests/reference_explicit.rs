//! Every explicit algorithm against DifferentialEquations.jl on the Lorenz
//! ensemble: at each fixed dt and tolerance where Julia's own error is
//! well above float32 round-off, cubie's error against the golden states
//! is at most twice Julia's.

mod common;

use common::{Reference, reference_dir, relative_error, solve_reference};
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

/// Julia's error must lie in this band for a comparison to mean anything.
const BAND: (f64, f64) = (3e-5, 3e-2);

fn settings(algorithm: &str, control: ControllerOptions) -> SolverSettings {
    SolverSettings {
        algorithm: algorithm.into(),
        precision: Some(Precision::F32),
        time: LoopSettings {
            duration: 1.0,
            ..LoopSettings::default()
        },
        control,
        ..SolverSettings::default()
    }
}

fn check(kind: &str, algorithms: &[&str], step_key: &str) {
    let Some(dir) = reference_dir() else { return };
    let mut reference = Reference::open(&dir);
    let rho = reference.get("golden_rho").expect("golden_rho");
    let golden = reference.get("golden_states").expect("golden_states");
    let per_point = rho.len() * 3;
    for algorithm in algorithms {
        let steps = reference
            .get(&format!("{kind}_{algorithm}_{step_key}"))
            .unwrap_or_else(|| panic!("no {kind} reference for {algorithm}"));
        let finals = reference
            .get(&format!("{kind}_{algorithm}_finals"))
            .expect("finals");
        let mut compared = 0;
        for (i, &step) in steps.iter().enumerate() {
            let julia = relative_error(&finals[i * per_point..(i + 1) * per_point], &golden);
            if !(BAND.0..=BAND.1).contains(&julia) {
                continue;
            }
            let control = if kind == "fixed" {
                ControllerOptions {
                    dt: Some(step),
                    kind: Some("fixed".into()),
                    ..ControllerOptions::default()
                }
            } else {
                ControllerOptions {
                    dt: Some(0.01),
                    dt_min: Some(1e-6),
                    dt_max: Some(0.5),
                    atol: Some(vec![step]),
                    rtol: Some(vec![step]),
                    ..ControllerOptions::default()
                }
            };
            let ours = relative_error(
                &solve_reference(&settings(algorithm, control), &rho),
                &golden,
            );
            eprintln!(
                "{kind} {algorithm} {step_key}={step:e}: cubie {ours:.3e}, julia {julia:.3e}"
            );
            assert!(
                ours <= 2.0 * julia,
                "{kind} {algorithm} at {step:e}: cubie's error {ours:.3e} is more than twice Julia's {julia:.3e}"
            );
            compared += 1;
        }
        assert!(
            compared > 0,
            "{kind} {algorithm}: no reference point in the band"
        );
    }
}

#[test]
fn fixed_step_explicit_methods_match_julia() {
    check("fixed", &FIXED, "dts");
}

#[test]
fn adaptive_explicit_methods_match_julia() {
    check("adaptive", &ADAPTIVE, "tols");
}

#[test]
fn tsit5_in_f64_at_tight_tolerance_matches_the_golden_states() {
    let Some(dir) = reference_dir() else { return };
    let mut reference = Reference::open(&dir);
    let rho = reference.get("golden_rho").expect("golden_rho");
    let golden = reference.get("golden_states").expect("golden_states");
    let mut s = settings(
        "tsit5",
        ControllerOptions {
            atol: Some(vec![1e-12]),
            rtol: Some(vec![1e-12]),
            ..ControllerOptions::default()
        },
    );
    s.precision = Some(Precision::F64);
    let error = relative_error(&solve_reference(&s, &rho), &golden);
    eprintln!("tsit5 f64 at 1e-12: relative error {error:.3e}");
    assert!(error < 1e-9, "tsit5 f64 error {error:.3e}");
}
