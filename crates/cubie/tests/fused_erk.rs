//! The fused ERK step (the whole step compiled as one native function)
//! agrees with the generic step for every explicit tableau, fixed-step and
//! adaptive, in both precisions, and reuses the FSAL stage the same way.

mod common;

use cubie::batch::{GridKind, Sweep};
use cubie::controllers::ControllerOptions;
use cubie::step::{StepFamily, algorithms};
use cubie::time_loop::LoopSettings;
use cubie::{Precision, Solver, SolverSettings};

/// Final states and counters of two Lorenz runs (rho = 21 and 28).
fn solve(
    algorithm: &str,
    precision: Precision,
    adaptive: bool,
    fused: bool,
) -> (Vec<f64>, Vec<f64>) {
    let control = if adaptive {
        ControllerOptions {
            dt: Some(1e-3),
            atol: Some(vec![1e-6]),
            rtol: Some(vec![1e-6]),
            ..ControllerOptions::default()
        }
    } else {
        ControllerOptions {
            kind: Some(cubie::controllers::ControllerKind::Fixed),
            dt: Some(1e-3),
            ..ControllerOptions::default()
        }
    };
    let settings = SolverSettings {
        algorithm: algorithm.parse().unwrap(),
        time: LoopSettings {
            duration: 0.5,
            ..LoopSettings::default()
        },
        control,
        named: vec![format!("fused_steps={fused}")],
        ..SolverSettings::default()
    };
    let solver = Solver::new(&common::lorenz(precision), &settings).expect("solver");
    let runs = solver
        .grid(
            &[Sweep::new("rho", vec![21.0, 28.0])],
            GridKind::Combinatorial,
        )
        .expect("grid");
    let result = solver.solve(&runs).expect("solve");
    let counters = result
        .get("counters")
        .expect("counters")
        .data
        .to_f64()
        .expect("numbers");
    (result.final_state().to_vec(), counters)
}

fn compare(precision: Precision, tolerance: f64) {
    for algorithm in algorithms()
        .iter()
        .filter(|a| a.family == StepFamily::Explicit)
    {
        for adaptive in [false, true] {
            let (fused, fused_counters) = solve(algorithm.name, precision, adaptive, true);
            let (generic, generic_counters) = solve(algorithm.name, precision, adaptive, false);
            assert_eq!(fused.len(), generic.len());
            assert!(fused.iter().all(|x| x.is_finite() && *x != 0.0));
            for (f, g) in fused.iter().zip(&generic) {
                assert!(
                    (f - g).abs() <= tolerance * g.abs(),
                    "{} adaptive={adaptive} {precision:?}: fused {fused:?} vs generic {generic:?}",
                    algorithm.name
                );
            }
            // Same accepted/rejected steps and derivative evaluations: the
            // FSAL stage is reused exactly as the generic step reuses it.
            assert_eq!(
                fused_counters, generic_counters,
                "{} adaptive={adaptive} {precision:?}",
                algorithm.name
            );
        }
    }
}

#[test]
fn fused_and_generic_steps_agree_in_f64() {
    compare(Precision::F64, 1e-12);
}

#[test]
fn fused_and_generic_steps_agree_in_f32() {
    compare(Precision::F32, 1e-5);
}

#[test]
fn an_unknown_fused_setting_value_is_refused() {
    let settings = SolverSettings {
        algorithm: "classical-rk4".parse().unwrap(),
        named: vec!["fused_steps=maybe".into()],
        ..SolverSettings::default()
    };
    assert!(Solver::new(&common::lorenz(Precision::F64), &settings).is_err());
}

/// The plan shows the memory of the form taken: the fused step keeps its
/// stages in registers, so the generic path's stage buffers are empty.
#[test]
fn the_plan_shows_the_fused_steps_memory() {
    let plan = |fused: bool| {
        let settings = SolverSettings {
            algorithm: "tsit5".parse().unwrap(),
            named: vec![format!("fused_steps={fused}")],
            ..SolverSettings::default()
        };
        Solver::new(&common::lorenz(Precision::F64), &settings)
            .expect("solver")
            .plan()
            .expect("plan")
    };
    let size = |p: &cubie::memory::LayoutReport, name: &str| {
        p.rows
            .iter()
            .find(|r| r.owner == "kernel/loop/step" && r.name == name)
            .map(|r| (r.size, r.location))
            .expect("row")
    };
    use cubie::memory::Region;
    let (fused, generic) = (plan(true), plan(false));
    // Tsit5: 7 stages of the 3-state Lorenz system.
    assert_eq!(size(&generic, "stage_rhs"), (3, Region::Shared));
    assert_eq!(size(&generic, "stage_accumulator"), (18, Region::Shared));
    // The fused form was taken: its stage buffers hold nothing ...
    assert_eq!(size(&fused, "stage_rhs").0, 0);
    assert_eq!(size(&fused, "stage_accumulator").0, 0);
    // ... and the FSAL cache, which it does use, is memory of its own.
    assert_eq!(size(&fused, "stage_cache"), (3, Region::Persistent));
    assert_eq!(size(&generic, "stage_cache"), (3, Region::Shared));
    let total = |p: &cubie::memory::LayoutReport| p.totals[0].arena;
    assert_eq!(total(&generic) - total(&fused), 3 + 18 - 3);
}
