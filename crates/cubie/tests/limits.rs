//! Sizes and limits: counts that overflow, batches that do not fit, time
//! settings that cannot be resolved, thread counts, metric widths. Each is
//! refused with a clear error before any work starts.

mod common;

use cubie::batch::{BatchError, GridKind, Sweep};
use cubie::kernel::{KernelError, MemoryError};
use cubie::outputs::{OutputError, OutputSettings};
use cubie::time_loop::{LoopError, LoopSettings};
use cubie::{Precision, SolveError, Solver, SolverSettings};
use proptest::prelude::*;

fn settings() -> SolverSettings {
    SolverSettings {
        algorithm: "tsit5".parse().unwrap(),
        ..Default::default()
    }
}

fn solver(settings: &SolverSettings) -> Result<Solver, SolveError> {
    Solver::new(&common::lorenz(Precision::F64), settings)
}

fn loop_error(settings: &SolverSettings) -> LoopError {
    match solver(settings) {
        Err(SolveError::Kernel(KernelError::Loop(e))) => e,
        other => panic!("expected a loop error, got {other:?}"),
    }
}

fn timed(time: LoopSettings) -> SolverSettings {
    SolverSettings { time, ..settings() }
}

#[test]
fn a_grid_whose_run_count_overflows_is_refused_not_wrapped() {
    let s = solver(&settings()).unwrap();
    for sizes in [[384_773, 49_477, 34_724, 27_905], [65_536; 4], [100_000; 4]] {
        let sweeps: Vec<Sweep> = ["rho", "x", "y", "z"]
            .iter()
            .zip(sizes)
            .map(|(name, n)| Sweep::linspace(*name, 0.0, 1.0, n))
            .collect();
        match s.grid(&sweeps, GridKind::Combinatorial) {
            Err(SolveError::Batch(BatchError::TooManyRuns { sizes: text })) => {
                assert!(text.contains(&sizes[0].to_string()), "{text}");
            }
            other => panic!("{sizes:?}: expected TooManyRuns, got {other:?}"),
        }
    }
}

#[test]
fn a_batch_larger_than_the_memory_limit_is_refused_before_it_is_made() {
    let limited = SolverSettings {
        memory_limit: Some(1 << 20),
        time: LoopSettings {
            save_every: Some(0.01),
            ..LoopSettings::default()
        },
        ..settings()
    };
    let s = solver(&limited).unwrap();
    // 101 saves x 3 states x 8 bytes = 2.4 KiB a run: 400 runs fit in 1 MiB,
    // 100,000 do not.
    let small = s
        .grid(
            &[Sweep::linspace("rho", 0.0, 1.0, 400)],
            GridKind::Combinatorial,
        )
        .unwrap();
    assert!(s.solve(&small).is_ok());
    let err = s
        .grid(
            &[Sweep::linspace("rho", 0.0, 1.0, 100_000)],
            GridKind::Combinatorial,
        )
        .unwrap_err();
    let SolveError::Memory(MemoryError::TooLarge { needed, runs, .. }) = &err else {
        panic!("expected a memory error, got {err:?}");
    };
    assert_eq!(*runs, 100_000);
    assert!(*needed > 1 << 20);
    let text = err.to_string();
    assert!(text.contains("the memory limit is 1.0 MiB"), "{text}");
    assert!(text.contains("saved states"), "{text}");

    // A sweep of 10^11 values is refused by size, without making its values.
    let huge: Sweep = "rho=0:1:100000000000".parse().unwrap();
    assert_eq!(huge.len(), 100_000_000_000);
    assert!(matches!(
        s.grid(&[huge], GridKind::Combinatorial),
        Err(SolveError::Memory(_))
    ));
}

#[test]
fn one_run_that_cannot_fit_is_refused_when_the_solver_is_built() {
    // 1e9 saves of 3 states: 22 GiB for one run.
    let err = solver(&SolverSettings {
        memory_limit: Some(1 << 30),
        time: LoopSettings {
            save_every: Some(1e-9),
            ..LoopSettings::default()
        },
        ..settings()
    })
    .unwrap_err();
    assert!(
        matches!(err, SolveError::Kernel(KernelError::Memory(_))),
        "{err:?}"
    );
    assert!(err.to_string().contains("1 run x "), "{err}");
}

#[test]
fn save_intervals_time_cannot_resolve_are_errors() {
    for every in [1e-20, 1e-19, 1e-300, f64::MIN_POSITIVE] {
        let err = loop_error(&timed(LoopSettings {
            save_every: Some(every),
            ..LoopSettings::default()
        }));
        assert!(
            matches!(
                err,
                LoopError::Unresolvable {
                    what: "save_every",
                    ..
                }
            ),
            "{every}: {err:?}"
        );
    }
    for every in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = loop_error(&timed(LoopSettings {
            save_every: Some(every),
            ..LoopSettings::default()
        }));
        assert!(matches!(err, LoopError::SaveEvery(_)), "{every}: {err:?}");
    }
}

#[test]
fn a_span_lost_in_rounding_is_an_error_up_front() {
    let err = loop_error(&timed(LoopSettings {
        t0: 1e16,
        ..LoopSettings::default()
    }));
    let LoopError::Unresolvable {
        what, spacing, at, ..
    } = err
    else {
        panic!("expected Unresolvable, got {err:?}");
    };
    assert_eq!((what, spacing, at), ("duration", 2.0, 1e16));
    // A long enough duration at the same start is fine.
    assert!(
        solver(&timed(LoopSettings {
            t0: 1e16,
            duration: 1e4,
            ..LoopSettings::default()
        }))
        .is_ok()
    );
    let err = loop_error(&timed(LoopSettings {
        t0: 1e308,
        settling_time: 1e308,
        ..LoopSettings::default()
    }));
    assert!(matches!(err, LoopError::EndNotFinite(_)), "{err:?}");
}

#[test]
fn a_fixed_step_beyond_the_step_budget_is_an_error() {
    let mut s = settings();
    s.algorithm = "rk4".parse().unwrap();
    s.control.dt = Some(1e-12);
    let err = loop_error(&s);
    assert!(
        matches!(err, LoopError::FixedStepsExceedBudget { max_steps, .. } if max_steps == 10_000_000),
        "{err:?}"
    );
    s.control.dt = Some(1e-3);
    assert!(solver(&s).is_ok());
}

#[test]
fn thread_counts_are_bounded() {
    for threads in [0, 1025, 10_000] {
        let err = solver(&SolverSettings {
            threads: Some(threads),
            ..settings()
        })
        .unwrap_err();
        assert!(matches!(err, SolveError::ThreadCount(t) if t == threads));
    }
    // More threads than runs: the extra threads are not started, and the
    // answer is the same as on one thread.
    let many = solver(&SolverSettings {
        threads: Some(64),
        ..settings()
    })
    .unwrap();
    let one = solver(&SolverSettings {
        threads: Some(1),
        ..settings()
    })
    .unwrap();
    let sweeps = [Sweep::linspace("rho", 0.0, 21.0, 3)];
    let runs = many.grid(&sweeps, GridKind::Combinatorial).unwrap();
    assert_eq!(
        many.solve(&runs).unwrap().final_state(),
        one.solve(&runs).unwrap().final_state()
    );
}

#[test]
fn peaks_are_bounded_by_the_samples_of_a_window() {
    let with = |metric: &str| SolverSettings {
        time: LoopSettings {
            save_every: Some(0.1),
            ..LoopSettings::default()
        },
        outputs: OutputSettings {
            outputs: Some(vec![metric.into()]),
            summarise_every: Some(0.5),
            ..OutputSettings::default()
        },
        ..settings()
    };
    let err = solver(&with("peaks[99999999999]")).unwrap_err();
    assert!(
        matches!(
            err,
            SolveError::Kernel(KernelError::Outputs(OutputError::TooManyPeaks {
                n: 99_999_999_999,
                samples: 5,
                ..
            }))
        ),
        "{err:?}"
    );
    assert!(solver(&with("negative_peaks[5]")).is_ok());
    assert!(solver(&with("negative_peaks[6]")).is_err());
}

#[test]
fn extreme_numbers_read_as_typed_in_messages() {
    let mut s = settings();
    s.control.dt_max = Some(1e-300);
    let text = solver(&s).unwrap_err().to_string();
    assert!(text.contains("dt_max = 1e-300"), "{text}");
    assert!(text.len() < 200, "{text}");
}

/// Any value, ordinary or not, for each time setting.
fn any_time() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MIN_POSITIVE),
        Just(f64::MAX),
        (-300i32..300).prop_map(|e| 10f64.powi(e)),
        (-300i32..300).prop_map(|e| -(10f64.powi(e))),
        -10.0..10.0f64,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    /// No combination of time settings panics or allocates without bound:
    /// a solver is refused or built, and a built one has countable saves.
    #[test]
    fn time_settings_never_panic(
        values in proptest::collection::vec(any_time(), 9),
        which in proptest::collection::vec(any::<bool>(), 9),
    ) {
        let pick = |i: usize, default: Option<f64>| if which[i] { Some(values[i]) } else { default };
        let time = LoopSettings {
            t0: pick(0, Some(0.0)).unwrap_or(0.0),
            duration: pick(1, Some(1.0)).unwrap_or(1.0),
            settling_time: pick(2, Some(0.0)).unwrap_or(0.0),
            save_every: pick(3, None),
            ..LoopSettings::default()
        };
        let mut s = SolverSettings {
            time,
            memory_limit: Some(1 << 30),
            outputs: OutputSettings {
                outputs: pick(4, None).map(|_| vec!["mean".to_string()]),
                summarise_every: pick(4, None),
                sample_summaries_every: pick(5, None),
                ..OutputSettings::default()
            },
            ..settings()
        };
        s.control.dt = pick(6, None);
        s.control.dt_min = pick(7, None);
        s.control.dt_max = pick(8, None);
        if let Ok(built) = solver(&s) {
            let saves = s.time.n_saves() as u128;
            prop_assert!(saves * 3 * 8 <= 1 << 30);
            prop_assert!(built.footprint().total(1) <= 1 << 30);
        }
    }
}

#[test]
fn a_run_that_stalls_far_from_zero_is_flagged_not_reported_as_success() {
    // x' = x^2 from x = 1 blows up one time unit after t0; near t0 = 1e6 the
    // steps shrink below what f64 times resolve there.
    let model = cubie::system::Model::builder("dx = x * x")
        .states([("x", 1.0)])
        .build()
        .unwrap();
    let mut s = timed(LoopSettings {
        t0: 1e6,
        duration: 2.0,
        ..LoopSettings::default()
    });
    s.control.dt_min = Some(1e-300);
    let solver = Solver::new(&model, &s).unwrap();
    let runs = solver.grid(&[], GridKind::Combinatorial).unwrap();
    let result = solver.solve(&runs).unwrap();
    assert_ne!(result.status()[0], 0);
}
