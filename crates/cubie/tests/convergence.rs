//! The observed order of convergence of every algorithm (explicit
//! Runge–Kutta, backward Euler, Crank–Nicolson, DIRK, FIRK, Rosenbrock),
//! run through the whole solver, equals its theoretical order on a problem
//! with a known solution: y' = y cos(t), y(0) = 1, so y(t) = exp(sin t).

use cubie::batch::GridKind;
use cubie::controllers::ControllerOptions;
use cubie::step::algorithms;
use cubie::system::Model;
use cubie::time_loop::LoopSettings;
use cubie::{Precision, Solver, SolverSettings};

const T_END: f64 = 10.0;

fn final_error(algorithm: &str, dt: f64) -> f64 {
    let model = Model::builder("dy = y * cos(t)")
        .state("y", 1.0)
        .build()
        .expect("model");
    let settings = SolverSettings {
        algorithm: algorithm.parse().unwrap(),
        precision: Some(Precision::F64),
        time: LoopSettings {
            duration: T_END,
            ..LoopSettings::default()
        },
        control: ControllerOptions {
            kind: Some(cubie::controllers::ControllerKind::Fixed),
            dt: Some(dt),
            ..ControllerOptions::default()
        },
        ..SolverSettings::default()
    };
    let solver = Solver::new(&model, &settings).expect("solver");
    let result = solver
        .solve(&solver.grid(&[], GridKind::Combinatorial).expect("grid"))
        .expect("solve");
    (result.final_state()[0] - T_END.sin().exp()).abs()
}

#[test]
fn every_algorithm_converges_at_its_order() {
    for algorithm in algorithms() {
        let p = algorithm.order as f64;
        // Step sizes where each order's error lies between about 1e-2 and
        // 1e-13: asymptotic, yet far above round-off.
        let dt = match algorithm.order {
            1 | 2 => 1.0 / 64.0,
            3 | 4 => 1.0 / 16.0,
            5 => 1.0 / 8.0,
            // Gauss–Legendre (6) and vern7 have tiny error constants.
            6 | 7 => 1.0 / 2.0,
            _ => 1.0,
        };
        // Least-squares slope of log(error) against log(dt) over four
        // halvings, leaving out errors that round-off already dominates.
        let points: Vec<(f64, f64)> = (0..4)
            .map(|k| dt / f64::from(1 << k))
            .map(|h| (h.ln(), final_error(algorithm.name, h)))
            .filter(|(_, e)| *e > 1e-13)
            .map(|(h, e)| (h, e.ln()))
            .collect();
        assert!(
            points.len() >= 3,
            "{}: too few usable points",
            algorithm.name
        );
        let n = points.len() as f64;
        let (mx, my) = (
            points.iter().map(|p| p.0).sum::<f64>() / n,
            points.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let observed = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>()
            / points.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
        eprintln!(
            "{}: order {observed:.2} (theory {p}) from {points:?}",
            algorithm.name
        );
        // Within half an order: a wrong coefficient loses a whole order.
        assert!(
            (observed - p).abs() < 0.5,
            "{}: observed order {observed:.2}, theoretical {p}",
            algorithm.name
        );
    }
}
