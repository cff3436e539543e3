//! Results do not depend on where the registry puts buffers, on the
//! number of threads, nor on the lane width: the same solve with every
//! buffer shared, every buffer local, on one thread instead of many, or in
//! lane blocks of 1, 2, 4, 8 or 16 runs gives bit-identical output, for
//! every algorithm and every kind of output (state and observable series,
//! summaries, counters, statuses).

use cubie::batch::{GridKind, Sweep};
use cubie::controllers::ControllerOptions;
use cubie::drivers::DriverSeries;
use cubie::outputs::OutputSettings;
use cubie::results::SolveResult;
use cubie::step::{StepFamily, algorithms};
use cubie::system::Model;
use cubie::time_loop::LoopSettings;
use cubie::{CodeGenerator, Precision, Solver, SolverSettings};

fn settings(algorithm: &str, adaptive: bool) -> SolverSettings {
    SolverSettings {
        algorithm: algorithm.parse().unwrap(),
        precision: Some(Precision::F64),
        // Cranelift's lane code here; the C compiler's has its own test.
        codegen: CodeGenerator::Cranelift,
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

/// Every algorithm, with whether its step runs fused. Explicit steps run
/// fused by default (stages in registers); the generic step, whose stages
/// live in registry buffers, is checked too.
fn variants() -> impl Iterator<Item = (&'static cubie::step::AlgorithmEntry, bool)> {
    algorithms().iter().flat_map(|a| {
        let generic = (a.family == StepFamily::Explicit).then_some(false);
        [Some(true), generic]
            .into_iter()
            .flatten()
            .map(move |fused| (a, fused))
    })
}

#[test]
fn every_algorithm_is_bit_identical_with_all_buffers_shared_or_local() {
    for (algorithm, fused) in variants() {
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

/// Lorenz with a forcing driver and a state that blows up in finite time
/// (at `t = 1 / k`): runs whose `k` is large fail part-way, each at its
/// own step, while the others in their lane block go on.
fn blow_up_model() -> Model {
    Model::builder(
        "dx = sigma * (y - x)\ndy = x * (rho - z) - y\ndz = x * y - beta * z + u\n\
         dw = k * w^2\nenergy = x^2 + y^2 + z^2",
    )
    .states([("x", 1.0), ("y", 0.0), ("z", 0.0), ("w", 1.0)])
    .parameters([("rho", 21.0), ("k", 0.0)])
    .constants([("sigma", 10.0), ("beta", 8.0 / 3.0)])
    .driver("u", 0.0)
    .observable("energy")
    .build()
    .expect("model")
}

/// 45 runs: not a multiple of any lane width but 1, so the last block is
/// partial; `k` = 4 and 9 blow up within the solve, the others do not.
/// `forced`: the driver follows a sampled series (else it is constant,
/// which lets explicit steps run fused).
fn solve_in_lanes(base: &SolverSettings, lanes: usize, forced: bool) -> SolveResult {
    let model = blow_up_model();
    let mut settings = base.clone();
    settings.lanes = Some(lanes);
    if forced {
        let times: Vec<f64> = (0..=40).map(|i| i as f64 * 0.02).collect();
        let forcing: Vec<f64> = times.iter().map(|t| (7.0 * t).sin()).collect();
        settings.drivers = Some(
            DriverSeries::with_times(model.drivers(), times, [("u", forcing)]).expect("series"),
        );
    }
    let solver = Solver::new(&model, &settings).expect("solver builds");
    let inputs = solver
        .grid(
            &[
                Sweep::linspace("rho", 0.0, 28.0, 9),
                Sweep::new("k", vec![0.0, 0.5, 4.0, 9.0, 1.0]),
            ],
            GridKind::Combinatorial,
        )
        .expect("grid");
    solver.solve(&inputs).expect("solve")
}

#[test]
fn every_algorithm_is_bit_identical_in_lane_blocks_of_any_width() {
    for (algorithm, fused) in variants() {
        let mut base = settings(algorithm.name, algorithm.adaptive);
        if !fused {
            base.named.push("fused_steps=false".into());
        }
        // The fused explicit step needs constant drivers; every other
        // variant is forced, so drivers are checked in lanes too.
        let forced = !(fused && algorithm.family == StepFamily::Explicit);
        let one = solve_in_lanes(&base, 1, forced);
        let status = one.status();
        assert_eq!(status.len(), 45);
        // Lanes that fail sit in the same blocks as lanes that finish.
        let failed = status.iter().filter(|s| **s != 0).count();
        assert!(
            failed > 0 && failed < 45,
            "{}: {failed} of 45 runs failed",
            algorithm.name
        );
        for lanes in [2, 4, 8, 16, 32] {
            assert_identical(
                &one,
                &solve_in_lanes(&base, lanes, forced),
                &format!("{} (fused {fused}): 1 vs {lanes} lanes", algorithm.name),
            );
        }
    }
}

#[test]
fn a_lane_width_the_backend_does_not_offer_is_refused() {
    let mut bad = settings("tsit5", true);
    bad.lanes = Some(3);
    let err = Solver::new(&model(), &bad).unwrap_err().to_string();
    assert!(err.contains("lanes = 3"), "{err}");
}

#[test]
fn explicit_algorithms_are_bit_identical_with_the_c_compilers_lane_code() {
    if cubie::backend::cpu::jit::host_cc::compiler_version().is_none() {
        eprintln!("skipped: no C compiler runs (`$CC`, else `cc`)");
        return;
    }
    for algorithm in algorithms()
        .iter()
        .filter(|a| a.family == StepFamily::Explicit)
    {
        let base = settings(algorithm.name, algorithm.adaptive);
        let one = solve_in_lanes(&base, 1, false);
        let mut c = base.clone();
        c.codegen = CodeGenerator::HostC;
        for lanes in [4, 16, 32] {
            assert_identical(
                &one,
                &solve_in_lanes(&c, lanes, false),
                &format!("{}: Cranelift, 1 lane vs C, {lanes} lanes", algorithm.name),
            );
        }
    }
}
