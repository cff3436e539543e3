//! Step controllers (their CPU form): error norm, decisions against hand-computed
//! OrdinaryDiffEq formulas, behaviour on a real embedded pair, initial step,
//! defaults and validation.

use std::cell::Cell;

use cubie::backend::cpu::step_controller::{StepController, StepDecision, scaled_rms_norm};
use cubie::controllers::{ControllerError, ControllerKind, ControllerSettings, Tolerance};
use cubie::step::{ButcherTableau, erk_tableau};

fn cells<T: Copy>(v: &[T]) -> Vec<Cell<T>> {
    v.iter().map(|&x| Cell::new(x)).collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

#[test]
fn norm_matches_hand_computation() {
    let err = cells(&[1e-3, -2e-3]);
    let prev = cells(&[1.0, -2.0]);
    let new = cells(&[1.5, 0.5]);
    // scale_0 = 1e-3 + 1.5 * 0.1, scale_1 = 2e-3 + 2 * 0.1
    let norm = scaled_rms_norm(&err, &prev, &new, &[1e-3, 2e-3], &[0.1]);
    assert!(close(norm, 0.008422806256796058, 1e-14), "{norm}");

    // Through a controller with per-state atol and scalar rtol, in f32.
    let s = ControllerSettings {
        atol: Tolerance::PerState(vec![1e-3, 2e-3]),
        rtol: Tolerance::Scalar(0.1),
        ..ControllerSettings::for_algorithm("tsit5").unwrap()
    };
    let c = StepController::<f32>::new(&s, 2).unwrap();
    let n32 = c.error_norm(
        &cells(&[1e-3f32, -2e-3]),
        &cells(&[1.0f32, -2.0]),
        &cells(&[1.5f32, 0.5]),
    );
    assert!(close(n32 as f64, 0.008422806256796058, 1e-6), "{n32}");
    assert_eq!(scaled_rms_norm::<f64>(&[], &[], &[], &[1.0], &[1.0]), 0.0);
}

fn dp5_controller() -> StepController<f64> {
    let s = ControllerSettings::for_algorithm("rk45").unwrap();
    assert_eq!(s.kind, ControllerKind::Pi);
    StepController::new(&s, 1).unwrap()
}

#[test]
fn pi_decisions_follow_ordinarydiffeq() {
    let c = dp5_controller();
    assert_eq!(c.memory_elements(), 1);
    let mem = cells(&[0.0]);

    // First step: errold = qoldinit = 1e-4, q = 0.5^0.17 / 1e-4^0.04 / 0.9.
    match c.propose(0.5, 0.01, &mem) {
        StepDecision::Accept(dt) => assert!(close(dt, 0.007005152734225618, 1e-14), "{dt}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(mem[0].get(), 0.5);

    // Reject: dt / min(1/qmin, q11/gamma) with q11 = 2^0.17; memory kept.
    match c.propose(2.0, 0.01, &mem) {
        StepDecision::Reject(dt) => assert!(close(dt, 0.007999584130499131, 1e-14), "{dt}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(mem[0].get(), 0.5);

    // Zero error: q = 1/qmax, errold floored at qoldinit.
    match c.propose(0.0, 0.01, &mem) {
        StepDecision::Accept(dt) => assert!(close(dt, 0.1, 1e-15), "{dt}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(mem[0].get(), 1e-4);

    // Growth clamped at qmax, then at dt_max = 1.
    mem[0].set(1.0);
    assert_eq!(c.propose(1e-30, 0.5, &mem), StepDecision::Accept(1.0));
    // Shrink clamped at qmin on rejection.
    mem[0].set(1.0);
    assert_eq!(
        c.propose(1e10, 0.01, &mem),
        StepDecision::Reject(0.01 / 5.0)
    );
    // Non-finite error: reject with min_gain.
    assert_eq!(
        c.propose(f64::NAN, 0.01, &mem),
        StepDecision::Reject(0.01 * 0.2)
    );
}

#[test]
fn pi_deadband_keeps_dt() {
    let s = ControllerSettings {
        qsteady_min: 1.0,
        qsteady_max: 1.2,
        ..ControllerSettings::for_algorithm("dormand-prince-54").unwrap()
    };
    let c = StepController::<f64>::new(&s, 1).unwrap();
    let mem = cells(&[1.0]);
    // q = norm^0.17 / 1^0.04 / 0.9 = 1.1 inside [1, 1.2]: dt unchanged.
    let norm = (1.1f64 * 0.9).powf(1.0 / 0.17);
    assert_eq!(c.propose(norm, 0.01, &mem), StepDecision::Accept(0.01));
    // Just outside the band the step changes.
    mem[0].set(1.0);
    let norm = (0.95f64 * 0.9).powf(1.0 / 0.17);
    match c.propose(norm, 0.01, &mem) {
        StepDecision::Accept(dt) => assert!(close(dt, 0.01 / 0.95, 1e-12), "{dt}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn too_small_is_reported_at_dt_min() {
    let s = ControllerSettings {
        dt_min: 1e-6,
        ..ControllerSettings::for_algorithm("tsit5").unwrap()
    };
    let c = StepController::<f64>::new(&s, 1).unwrap();
    let mem = cells(&[0.0]);
    assert_eq!(c.propose(100.0, 1e-6, &mem), StepDecision::TooSmall);
    // Above the floor, a too-small retry is raised to dt_min first.
    assert_eq!(c.propose(100.0, 2e-6, &mem), StepDecision::Reject(1e-6));
    // An accepted step never stops the run; its successor is at least dt_min.
    assert_eq!(c.propose(0.9, 1e-7, &mem), StepDecision::Accept(1e-6));
}

#[test]
fn i_controller_formula() {
    let s = ControllerSettings::for_algorithm("dormand-prince-54")
        .unwrap()
        .with_kind(ControllerKind::I);
    assert_eq!(s.kp, 1.0 / 5.0);
    let c = StepController::<f64>::new(&s, 1).unwrap();
    assert_eq!(c.memory_elements(), 0);
    let q: f64 = 0.3f64.powf(0.2) / 0.9;
    match c.propose(0.3, 0.01, &[]) {
        StepDecision::Accept(dt) => assert!(close(dt, 0.01 / q, 1e-14)),
        other => panic!("{other:?}"),
    }
    let q: f64 = 3.0f64.powf(0.2) / 0.9;
    match c.propose(3.0, 0.01, &[]) {
        StepDecision::Reject(dt) => assert!(close(dt, 0.01 / q, 1e-14)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn pid_uses_its_history() {
    let s = ControllerSettings::for_algorithm("bogacki-shampine-32")
        .unwrap()
        .with_kind(ControllerKind::Pid);
    let k = 3.0;
    assert_eq!(
        [s.kp, s.ki, s.kd],
        [1.0 / (18.0 * k), 1.0 / (9.0 * k), 1.0 / (18.0 * k)]
    );
    let c = StepController::<f64>::new(&s, 1).unwrap();
    assert_eq!(c.memory_elements(), 2);
    let mem = cells(&[0.5, 0.25]);
    let q = 0.8f64.powf(s.kp) * 0.5f64.powf(s.ki) * 0.25f64.powf(s.kd) / 0.9;
    match c.propose(0.8, 0.01, &mem) {
        StepDecision::Accept(dt) => assert!(close(dt, 0.01 / q, 1e-14)),
        other => panic!("{other:?}"),
    }
    assert_eq!((mem[0].get(), mem[1].get()), (0.8, 0.5));
}

#[test]
fn gustafsson_uses_previous_dt_and_error() {
    let s = ControllerSettings::for_algorithm("radau_iia_5").unwrap();
    assert_eq!(s.kind, ControllerKind::Gustafsson);
    assert_eq!(s.kp, 0.25);
    let c = StepController::<f64>::new(&s, 1).unwrap();
    assert_eq!(c.memory_elements(), 2);

    // Same error sequence (0.5 then 0.3), different first dt.
    let run = |dt_first: f64| {
        let mem = cells(&[0.0, 0.0]);
        assert!(c.propose(0.5, dt_first, &mem).accepted());
        c.propose(0.3, 0.01, &mem).dt().unwrap()
    };
    let a = run(0.01);
    let b = run(0.02);
    assert!(close(a, 0.012160801393263311, 1e-14), "{a}");
    assert!(close(b, 0.006908669027395361, 1e-14), "{b}");

    // Before any accepted step a rejection shrinks by 10; afterwards by q.
    let mem = cells(&[0.0, 0.0]);
    assert_eq!(c.propose(4.0, 0.01, &mem), StepDecision::Reject(0.01 * 0.1));
    assert!(c.propose(0.5, 0.01, &mem).accepted());
    let q = 4.0f64.powf(0.25) / 0.9;
    match c.propose(4.0, 0.01, &mem) {
        StepDecision::Reject(dt) => assert!(close(dt, 0.01 / q, 1e-14)),
        other => panic!("{other:?}"),
    }

    // Newton-iteration damping of the safety factor.
    let s2 = ControllerSettings {
        newton_max_iters: Some(10),
        ..s
    };
    let c2 = StepController::<f64>::new(&s2, 1).unwrap();
    let fac: f64 = 0.9f64.min(21.0 * 0.9 / (7.0 + 20.0));
    let mem = cells(&[0.0, 0.0]);
    match c2.propose_with_newton(0.05, 0.01, 7, &mem) {
        StepDecision::Accept(dt) => assert!(close(dt, 0.01 * fac / 0.05f64.powf(0.25), 1e-14)),
        other => panic!("{other:?}"),
    }
}

/// Adaptive integration of y' = -y, y(0) = 1 over [0, 10] with an embedded
/// pair; returns (final error, accepted steps, rejected steps).
fn integrate_decay(t: &ButcherTableau, c: &StepController<f64>) -> (f64, usize, usize) {
    let s = t.stages();
    let b_hat = t.b_hat().unwrap();
    let y = cells(&[1.0]);
    let y_new = cells(&[0.0]);
    let err = cells(&[0.0]);
    let mem = cells(&vec![0.0; c.memory_elements()]);
    let scratch = cells(&[0.0; 3]);
    let f = |_t: f64, y: &[Cell<f64>], out: &[Cell<f64>]| out[0].set(-y[0].get());
    let mut dt = c.initial_dt(f, 0.0, &y, &scratch);
    let (mut time, t_end) = (0.0, 10.0);
    let (mut accepted, mut rejected) = (0, 0);
    let mut k = vec![0.0; s];
    while time < t_end {
        let h = dt.min(t_end - time);
        for i in 0..s {
            let yi = y[0].get() + h * (0..i).map(|j| t.a(i, j) * k[j]).sum::<f64>();
            k[i] = -yi;
        }
        let inc: f64 = t.b().iter().zip(&k).map(|(w, x)| w * x).sum();
        let inc_hat: f64 = b_hat.iter().zip(&k).map(|(w, x)| w * x).sum();
        y_new[0].set(y[0].get() + h * inc);
        err[0].set(h * (inc - inc_hat));
        let norm = c.error_norm(&err, &y, &y_new);
        match c.propose(norm, h, &mem) {
            StepDecision::Accept(next) => {
                accepted += 1;
                time += h;
                y[0].set(y_new[0].get());
                dt = next;
            }
            StepDecision::Reject(retry) => {
                rejected += 1;
                dt = retry;
            }
            StepDecision::TooSmall => panic!("step too small at t = {time}"),
        }
        assert!(accepted + rejected < 100_000);
    }
    ((y[0].get() - (-t_end).exp()).abs(), accepted, rejected)
}

#[test]
fn every_adaptive_controller_meets_tolerance_on_decay() {
    let tol = 1e-6;
    for (name, lo, hi) in [("heun-21", 1000, 2500), ("bogacki-shampine-32", 60, 200)] {
        let t = erk_tableau(name).unwrap();
        let base = ControllerSettings {
            atol: Tolerance::Scalar(tol),
            rtol: Tolerance::Scalar(tol),
            ..ControllerSettings::for_algorithm(name).unwrap()
        };
        for kind in [
            ControllerKind::I,
            ControllerKind::Pi,
            ControllerKind::Pid,
            ControllerKind::Gustafsson,
        ] {
            let s = base.clone().with_kind(kind);
            let c = StepController::<f64>::new(&s, 1).unwrap();
            let (e, acc, rej) = integrate_decay(t, &c);
            eprintln!("{name} {kind}: error {e:.2e}, {acc} accepted, {rej} rejected");
            // The local error per step is held near tol·(1 + |y|): the global
            // error stays within a modest multiple of tol.
            assert!(e < 20.0 * tol, "{name} {kind}: error {e:e}");
            assert!((lo..=hi).contains(&acc), "{name} {kind}: {acc} steps");
            assert!(rej * 5 <= acc, "{name} {kind}: {rej} rejections");
        }
        // Tighter tolerance costs more steps (the controller really adapts).
        let tight = ControllerSettings {
            atol: Tolerance::Scalar(tol / 100.0),
            rtol: Tolerance::Scalar(tol / 100.0),
            ..base.clone()
        };
        let (_, loose_steps, _) = integrate_decay(t, &StepController::new(&base, 1).unwrap());
        let (e, tight_steps, _) = integrate_decay(t, &StepController::new(&tight, 1).unwrap());
        assert!(e < 20.0 * tol / 100.0);
        assert!(
            tight_steps > 2 * loose_steps,
            "{tight_steps} vs {loose_steps}"
        );
    }
}

#[test]
fn fixed_controller_keeps_dt() {
    let s = ControllerSettings {
        dt0: Some(0.125),
        ..ControllerSettings::for_algorithm("classical-rk4").unwrap()
    };
    assert_eq!(s.kind, ControllerKind::Fixed);
    let c = StepController::<f32>::new(&s, 1).unwrap();
    assert_eq!(c.memory_elements(), 0);
    assert_eq!(c.propose(1e9, 0.125, &[]), StepDecision::Accept(0.125));
}

#[test]
fn initial_step_on_decay() {
    let s = ControllerSettings::for_algorithm("dormand-prince-54").unwrap();
    let c = StepController::<f64>::new(&s, 1).unwrap();
    let f = |_t: f64, y: &[Cell<f64>], out: &[Cell<f64>]| out[0].set(-y[0].get());
    let scratch = cells(&[0.0; 3]);
    let dt = c.initial_step(f, 0.0, &cells(&[1.0]), &scratch);
    // OrdinaryDiffEq's formula by hand: dt0 = 0.01, dt1 = (93/83)·10^(-(2 + log10 d2)/5).
    assert!(close(dt, 0.030892205333956393, 1e-10), "{dt}");
    // Hairer's textbook h = (0.01 / max(d1, d2))^(1/(p+1)) = 0.0521 for
    // atol = rtol = 1e-6: same scale.
    assert!(dt > 0.0521 / 2.0 && dt < 0.0521 * 2.0);

    // Clamped to dt_max, and dt0 wins when given.
    let small = ControllerSettings {
        dt_max: 1e-3,
        ..s.clone()
    };
    let c2 = StepController::<f64>::new(&small, 1).unwrap();
    assert_eq!(c2.initial_step(f, 0.0, &cells(&[1.0]), &scratch), 1e-3);
    let given = ControllerSettings {
        dt0: Some(0.01),
        ..s.clone()
    };
    let c3 = StepController::<f64>::new(&given, 1).unwrap();
    assert_eq!(c3.initial_dt(f, 0.0, &cells(&[1.0]), &scratch), 0.01);

    // A state at rest: no scale information, small default step times 100.
    let dt = c.initial_step(f, 0.0, &cells(&[0.0]), &scratch);
    assert!(close(dt, 100.0 * (93.0 / 83.0) * 1e-6, 1e-12), "{dt}");
}

#[test]
fn defaults_reproduce_the_julia_constants() {
    // cubie_alias, beta1, beta2, qmin, qmax, gamma, qsteady_min, qsteady_max
    // as in the Julia reference's controller_constants.csv (Float32).
    const CSV: &str = "\
heun-21,0.35,0.2,0.2,10.0,0.9,1.0,1.0
bogacki-shampine-32,0.23333333,0.13333334,0.2,10.0,0.9,1.0,1.0
dormand-prince-54,0.17,0.04,0.2,10.0,0.9,1.0,1.0
cash-karp-54,0.14,0.08,0.2,10.0,0.9,1.0,1.0
fehlberg-45,0.14,0.08,0.2,10.0,0.9,1.0,1.0
dormand-prince-853,0.125,0.0,0.33333334,6.0,0.9,1.0,1.0
tsit5,0.14,0.08,0.2,10.0,0.9,1.0,1.0
vern7,0.1,0.057142857,0.2,10.0,0.9,1.0,1.0
backwards_euler,0.7,0.4,0.2,10.0,0.9,1.0,1.2
crank_nicolson,0.35,0.2,0.2,10.0,0.9,1.0,1.2
l_stable_sdirk_4,0.175,0.1,0.2,10.0,0.9,1.0,1.2
ros3p,0.23333333,0.13333334,0.2,10.0,0.9,1.0,1.2
kvaerno5,0.14,0.08,0.2,10.0,0.9,1.0,1.2";
    for line in CSV.lines() {
        let mut it = line.split(',');
        let alias = it.next().unwrap();
        let v: Vec<f32> = it.map(|x| x.parse().unwrap()).collect();
        let s = ControllerSettings::for_algorithm(alias).unwrap();
        assert_eq!(s.kind, ControllerKind::Pi, "{alias}");
        let ours = [
            s.kp,
            -s.ki,
            s.min_gain,
            s.max_gain,
            s.safety,
            s.qsteady_min,
            s.qsteady_max,
        ]
        .map(|x| x as f32);
        assert_eq!(ours.as_slice(), v.as_slice(), "{alias}");
    }
    let radau = ControllerSettings::for_algorithm("radau_iia_5").unwrap();
    assert_eq!(
        (radau.kind, radau.max_gain, radau.qsteady_max),
        (ControllerKind::Gustafsson, 8.0, 1.2)
    );
    // Not in the table: OrdinaryDiffEq's general rule; without an error
    // estimate, fixed.
    let ralston = ControllerSettings::for_algorithm("ralston-33").unwrap();
    assert_eq!(ralston.kind, ControllerKind::Fixed);
    let pi = ralston.with_kind(ControllerKind::Pi);
    assert_eq!((pi.kp, pi.ki), (7.0 / 30.0, -2.0 / 15.0));
    let fb = ControllerSettings::fallback(3, Some(2), true);
    assert_eq!((fb.kind, fb.qsteady_max), (ControllerKind::Pi, 1.2));
    // Aliases resolve.
    assert_eq!(
        ControllerSettings::for_algorithm("ode45").unwrap(),
        ControllerSettings::for_algorithm("dormand-prince-54").unwrap()
    );
}

#[test]
fn kinds_parse_and_list_names() {
    for k in ControllerKind::ALL {
        assert_eq!(k.name().parse::<ControllerKind>().unwrap(), k);
    }
    assert_eq!("PI".parse::<ControllerKind>().unwrap(), ControllerKind::Pi);
    let err = "pidd".parse::<ControllerKind>().unwrap_err();
    assert!(matches!(err, ControllerError::UnknownKind { .. }));
    let msg = err.to_string();
    for n in ["fixed", "i", "pi", "pid", "gustafsson"] {
        assert!(msg.contains(n), "{msg}");
    }
    let err = ControllerSettings::for_algorithm("nonesuch").unwrap_err();
    assert!(err.to_string().contains("tsit5"), "{err}");
}

#[test]
fn invalid_settings_are_rejected() {
    let good = ControllerSettings::for_algorithm("tsit5").unwrap();
    good.validate(3).unwrap();
    let check = |s: ControllerSettings, n: usize| s.validate(n).unwrap_err();

    let e = check(
        ControllerSettings {
            atol: Tolerance::PerState(vec![1e-6, 1e-6]),
            ..good.clone()
        },
        3,
    );
    assert!(matches!(
        e,
        ControllerError::ToleranceLength {
            which: "atol",
            len: 2,
            n_states: 3
        }
    ));
    let e = check(
        ControllerSettings {
            rtol: Tolerance::PerState(vec![1e-6, -1.0, 1e-6]),
            ..good.clone()
        },
        3,
    );
    assert!(matches!(
        e,
        ControllerError::InvalidTolerance {
            which: "rtol",
            index: 1,
            ..
        }
    ));
    let e = check(
        ControllerSettings {
            atol: Tolerance::Scalar(0.0),
            ..good.clone()
        },
        3,
    );
    assert!(matches!(
        e,
        ControllerError::InvalidTolerance { which: "atol", .. }
    ));
    let e = check(
        ControllerSettings {
            dt_min: 1.0,
            dt_max: 0.1,
            ..good.clone()
        },
        3,
    );
    assert!(matches!(e, ControllerError::StepBounds { .. }));
    let e = check(
        ControllerSettings {
            min_gain: 2.0,
            max_gain: 1.5,
            ..good.clone()
        },
        3,
    );
    assert!(matches!(e, ControllerError::GainBounds { .. }));
    let e = check(
        ControllerSettings {
            safety: 1.5,
            ..good.clone()
        },
        3,
    );
    assert!(matches!(e, ControllerError::Safety(_)));
    let e = check(
        ControllerSettings {
            qsteady_min: 1.2,
            qsteady_max: 1.0,
            ..good.clone()
        },
        3,
    );
    assert!(matches!(e, ControllerError::Deadband { .. }));
    let e = check(
        ControllerSettings {
            dt0: Some(5.0),
            ..good.clone()
        },
        3,
    );
    assert!(matches!(e, ControllerError::InvalidDt0 { .. }));
    let e = check(good.clone().with_kind(ControllerKind::Fixed), 3);
    assert!(matches!(e, ControllerError::FixedNeedsDt0));
    assert!(StepController::<f64>::new(&good.clone().with_kind(ControllerKind::Fixed), 3).is_err());

    // Adaptive controller with an algorithm that has no error estimate.
    let e = good.validate_for(false).unwrap_err();
    assert!(matches!(
        e,
        ControllerError::NeedsErrorEstimate {
            kind: ControllerKind::Pi
        }
    ));
    good.validate_for(true).unwrap();
    ControllerSettings {
        dt0: Some(0.1),
        ..good.with_kind(ControllerKind::Fixed)
    }
    .validate_for(false)
    .unwrap();
}

/// A block of lanes decides as each lane alone does, whatever each lane's
/// case (accept, reject, zero, non-finite, too small), and lanes outside
/// the mask get no decision and keep their memory.
#[test]
fn a_block_of_lanes_decides_as_each_lane_alone() {
    use cubie::memory::{LaneBuf, LaneMask, MAX_LANES};
    let norms = [0.5, 2.0, 0.0, f64::NAN, f64::INFINITY, 1e-30, 100.0, 0.9];
    let dts = [0.01, 0.02, 0.5, 0.01, 0.03, 0.2, 1e-6, 0.05];
    let w = norms.len();
    for kind in [
        ControllerKind::Fixed,
        ControllerKind::I,
        ControllerKind::Pi,
        ControllerKind::Pid,
        ControllerKind::Gustafsson,
    ] {
        let s = ControllerSettings {
            kind,
            dt_min: 1e-6,
            dt0: (kind == ControllerKind::Fixed).then_some(0.01),
            newton_max_iters: Some(6),
            ..ControllerSettings::for_algorithm("kvaerno5").unwrap()
        };
        let c = StepController::<f64>::new(&s, 1).unwrap();
        let m = c.memory_elements();
        // Element-major, lanes innermost; every lane its own history.
        let start: Vec<f64> = (0..m * w)
            .map(|k| {
                if (k % w) % 3 == 0 {
                    0.0
                } else {
                    0.01 * (k + 1) as f64
                }
            })
            .collect();
        let block = cells(&start);
        let mask = LaneMask::all(w).without(LaneMask::lane(5));
        let mut norm16 = [0.0; MAX_LANES];
        let mut dt16 = [0.0; MAX_LANES];
        norm16[..w].copy_from_slice(&norms);
        dt16[..w].copy_from_slice(&dts);
        let iters = [3; MAX_LANES];
        let got = c.propose_lanes(&norm16, &dt16, Some(&iters), LaneBuf::new(&block, w), mask);
        for l in 0..w {
            let alone = cells(&(0..m).map(|i| start[i * w + l]).collect::<Vec<_>>());
            let after: Vec<f64> = (0..m).map(|i| block[i * w + l].get()).collect();
            if mask.contains(l) {
                let want = c.propose_with_newton(norms[l], dts[l], 3, &alone);
                assert_eq!(got[l], want, "{kind:?} lane {l}");
                let alone: Vec<f64> = alone.iter().map(Cell::get).collect();
                assert_eq!(after, alone, "{kind:?} lane {l}: memory");
            } else {
                let before: Vec<f64> = (0..m).map(|i| start[i * w + l]).collect();
                assert_eq!(after, before, "{kind:?} lane {l} is outside the mask");
            }
        }
    }
}
