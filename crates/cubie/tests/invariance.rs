//! Results do not depend on where the registry puts buffers, nor on the
//! number of threads: the same solve with every buffer shared, every buffer
//! local, or on one thread instead of many gives bit-identical output, for
//! every algorithm and every kind of output (state and observable series,
//! summaries, counters).

use cubie::batch::{GridKind, Sweep};
use cubie::controllers::ControllerOptions;
use cubie::outputs::OutputSettings;
use cubie::results::SolveResult;
use cubie::step::{StepFamily, algorithms};
use cubie::system::Model;
use cubie::time_loop::LoopSettings;
use cubie::{Precision, Solver, SolverSettings};

fn settings(algorithm: &str, adaptive: bool) -> SolverSettings {
    SolverSettings {
        algorithm: algorithm.parse().unwrap(),
        precision: Some(Precision::F64),
        time: LoopSettings {
            duration: 0.5,
            settling_time: 0.1,
            save_every: Some(0.05),
            ..LoopSettings::default()
        },
        control: if adaptive {
            ControllerOptions {
                atol: Some(vec![1e-7]),
                rtol: Some(vec![1e-7]),
                ..ControllerOptions::default()
            }
        } else {
            ControllerOptions {
                dt: Some(0.004),
                ..ControllerOptions::default()
            }
        },
        outputs: OutputSettings {
            outputs: Some(
                [
                    "state",
                    "observables",
                    "time",
                    "counters",
                    "mean_std_rms",
                    "extrema",
                    "peaks[2]",
                    "dxdt_extrema",
                ]
                .map(String::from)
                .to_vec(),
            ),
            summarise_every: Some(0.1),
            ..OutputSettings::default()
        },
        ..SolverSettings::default()
    }
}

fn model() -> Model {
    Model::builder(
        "dx = sigma * (y - x)\ndy = x * (rho - z) - y\ndz = x * y - beta * z\n\
         energy = x^2 + y^2 + z^2",
    )
    .states([("x", 1.0), ("y", 0.0), ("z", 0.0)])
    .parameters([("rho", 21.0)])
    .constants([("sigma", 10.0), ("beta", 8.0 / 3.0)])
    .observable("energy")
    .build()
    .expect("model")
}

fn solve(settings: &SolverSettings) -> SolveResult {
    let solver = Solver::new(&model(), settings).expect("solver builds");
    let inputs = solver
        .grid(
            &[
                Sweep::linspace("rho", 0.0, 28.0, 48),
                Sweep::new("x", vec![1.0, -2.0]),
            ],
            GridKind::Combinatorial,
        )
        .expect("grid");
    solver.solve(&inputs).expect("solve")
}

fn with_every_location(base: &SolverSettings, location: &str) -> SolverSettings {
    let keys = Solver::new(&model(), base)
        .expect("solver builds")
        .location_settings();
    assert!(!keys.is_empty());
    let mut s = base.clone();
    s.named
        .extend(keys.iter().map(|k| format!("{k}={location}")));
    s
}

fn assert_identical(a: &SolveResult, b: &SolveResult, what: &str) {
    assert_eq!(a.arrays().len(), b.arrays().len(), "{what}");
    for (x, y) in a.arrays().iter().zip(b.arrays()) {
        assert_eq!(x.name, y.name, "{what}");
        assert_eq!(x.shape, y.shape, "{what}: {}", x.name);
        let (vx, vy) = (x.data.to_f64(), y.data.to_f64());
        match (vx, vy) {
            (Some(vx), Some(vy)) => {
                let same = vx.iter().zip(&vy).all(|(p, q)| p.to_bits() == q.to_bits());
                assert!(same, "{what}: `{}` differs", x.name);
            }
            _ => assert_eq!(x.data, y.data, "{what}: {}", x.name),
        }
    }
}

#[test]
fn every_algorithm_is_bit_identical_with_all_buffers_shared_or_local() {
    // Explicit steps run fused by default (stages in registers); the generic
    // step, whose stages live in registry buffers, is checked too.
    let variants = algorithms().iter().flat_map(|a| {
        let generic = (a.family == StepFamily::Explicit).then_some(false);
        [Some(true), generic]
            .into_iter()
            .flatten()
            .map(move |fused| (a, fused))
    });
    for (algorithm, fused) in variants {
        let mut base = settings(algorithm.name, algorithm.adaptive);
        if !fused {
            base.named.push("fused_steps=false".into());
        }
        let shared = solve(&with_every_location(&base, "shared"));
        let local = solve(&with_every_location(&base, "local"));
        let default = solve(&base);
        assert!(
            shared.status().iter().all(|s| *s == 0),
            "{}",
            algorithm.name
        );
        for name in ["state", "observables", "summary_peaks", "counters"] {
            assert!(shared.get(name).is_some(), "{name} missing");
        }
        assert_identical(
            &shared,
            &local,
            &format!("{}: shared vs local", algorithm.name),
        );
        assert_identical(
            &shared,
            &default,
            &format!("{}: shared vs default", algorithm.name),
        );
    }
}

#[test]
fn every_algorithm_is_bit_identical_on_one_thread_and_many() {
    for algorithm in algorithms() {
        let mut one = settings(algorithm.name, algorithm.adaptive);
        one.threads = Some(1);
        let mut many = one.clone();
        many.threads = Some(4);
        assert_identical(
            &solve(&one),
            &solve(&many),
            &format!("{}: 1 vs 4 threads", algorithm.name),
        );
    }
}

#[test]
fn a_location_setting_moves_the_buffer_in_the_plan() {
    let model = model();
    let base = settings("tsit5", true);
    let plan = |s: &SolverSettings| Solver::new(&model, s).unwrap().plan().unwrap();
    let mut local = base.clone();
    local.named = vec!["stage_rhs_location=local".into()];
    let row = |p: &cubie::memory::LayoutReport| {
        p.rows
            .iter()
            .find(|r| r.name == "stage_rhs")
            .map(|r| r.location.to_string())
            .unwrap()
    };
    assert_eq!(row(&plan(&base)), "shared");
    assert_eq!(row(&plan(&local)), "local");
    // The FSAL cache follows: it aliases the accumulator once stage_rhs is local.
    let cache_alias = plan(&local)
        .rows
        .iter()
        .find(|r| r.name == "stage_cache")
        .and_then(|r| r.alias.clone());
    assert_eq!(cache_alias.as_deref(), Some("stage_accumulator"));

    let mut bad = base.clone();
    bad.named = vec!["stage_rhss_location=local".into()];
    let err = Solver::new(&model, &bad).unwrap_err().to_string();
    assert!(err.contains("stage_rhs_location"), "{err}");
    let mut bad_value = base;
    bad_value.named = vec!["stage_rhs_location=texture".into()];
    assert!(Solver::new(&model, &bad_value).is_err());
}
