//! The Lorenz ensemble of the Julia reference problem (rho swept over
//! [0, 21], t in [0, 1]) in f32: cubie's classical-rk4 at dt = 0.001 and
//! tsit5 at atol = rtol = 1e-6, against a plain hand-written Rust RK4 loop
//! that integrates the same problem run by run on the same threads — the
//! practical limit for scalar code.
//!
//! A stiff ensemble follows: Van der Pol at mu ~ 1000 (4,096 runs over a
//! sweep of mu) with radau_iia_5, kvaerno5 and rodas3p at 1e-6.
//!
//! Run with `cargo bench -p cubie --bench ensembles`; throughput is
//! runs x steps per second (rk4) or runs per second (the adaptive solves).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;

use cubie::batch::{BatchInputs, GridKind, Sweep};
use cubie::controllers::ControllerOptions;
use cubie::system::Model;
use cubie::time_loop::LoopSettings;
use cubie::{Precision, Solver, SolverSettings};

const SIZES: [usize; 2] = [1024, 65_536];
const DT: f32 = 0.001;
const STEPS: usize = 1000;

fn lorenz() -> Model {
    Model::builder("dx = sigma * (y - x)\ndy = x * (rho - z) - y\ndz = x * y - beta * z")
        .precision(Precision::F32)
        .states([("x", 1.0), ("y", 0.0), ("z", 0.0)])
        .parameters([("rho", 21.0)])
        .constants([("sigma", 10.0), ("beta", 8.0 / 3.0)])
        .build()
        .expect("model")
}

#[inline(always)]
fn lorenz_rhs(rho: f32, s: [f32; 3]) -> [f32; 3] {
    const SIGMA: f32 = 10.0;
    const BETA: f32 = 8.0 / 3.0;
    [
        SIGMA * (s[1] - s[0]),
        s[0] * (rho - s[2]) - s[1],
        s[0] * s[1] - BETA * s[2],
    ]
}

/// The baseline: classical RK4, one run at a time, runs spread over threads.
fn hand_written_rk4(rho: &[f32], finals: &mut [[f32; 3]]) {
    finals.par_iter_mut().zip(rho).for_each(|(out, &rho)| {
        let mut y = [1.0f32, 0.0, 0.0];
        let h = DT;
        for _ in 0..STEPS {
            let k1 = lorenz_rhs(rho, y);
            let y2 = std::array::from_fn(|i| y[i] + 0.5 * h * k1[i]);
            let k2 = lorenz_rhs(rho, y2);
            let y3 = std::array::from_fn(|i| y[i] + 0.5 * h * k2[i]);
            let k3 = lorenz_rhs(rho, y3);
            let y4 = std::array::from_fn(|i| y[i] + h * k3[i]);
            let k4 = lorenz_rhs(rho, y4);
            y = std::array::from_fn(|i| {
                y[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
            });
        }
        *out = y;
    });
}

fn solver(algorithm: &str, control: ControllerOptions) -> Solver {
    let settings = SolverSettings {
        algorithm: algorithm.parse().expect("a known algorithm"),
        precision: Some(Precision::F32),
        time: LoopSettings {
            duration: 1.0,
            ..LoopSettings::default()
        },
        control,
        ..SolverSettings::default()
    };
    Solver::new(&lorenz(), &settings).expect("solver")
}

fn inputs(solver: &Solver, runs: usize) -> BatchInputs {
    solver
        .grid(
            &[Sweep::linspace("rho", 0.0, 21.0, runs)],
            GridKind::Combinatorial,
        )
        .expect("grid")
}

fn bench(c: &mut Criterion) {
    let rk4 = solver(
        "classical-rk4",
        ControllerOptions {
            dt: Some(DT as f64),
            ..ControllerOptions::default()
        },
    );
    let tsit5 = solver(
        "tsit5",
        ControllerOptions {
            atol: Some(vec![1e-6]),
            rtol: Some(vec![1e-6]),
            ..ControllerOptions::default()
        },
    );
    let mut group = c.benchmark_group("lorenz_rk4_dt1e-3");
    group.sample_size(10);
    for runs in SIZES {
        let batch = inputs(&rk4, runs);
        let rho: Vec<f32> = batch.parameters.iter().map(|&r| r as f32).collect();
        group.throughput(Throughput::Elements((runs * STEPS) as u64));
        group.bench_with_input(BenchmarkId::new("hand_written", runs), &runs, |b, _| {
            let mut finals = vec![[0.0f32; 3]; runs];
            b.iter(|| hand_written_rk4(&rho, &mut finals));
        });
        group.bench_with_input(BenchmarkId::new("cubie", runs), &runs, |b, _| {
            b.iter(|| rk4.solve(&batch).expect("solve"));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("lorenz_tsit5_tol1e-6");
    group.sample_size(10);
    for runs in SIZES {
        let batch = inputs(&tsit5, runs);
        group.throughput(Throughput::Elements(runs as u64));
        group.bench_with_input(BenchmarkId::new("cubie", runs), &runs, |b, _| {
            b.iter(|| tsit5.solve(&batch).expect("solve"));
        });
    }
    group.finish();
}

/// Van der Pol in the stiff scaling of the IVP test set (eps = 1/mu^2),
/// swept over mu from about 700 to 1400.
fn van_der_pol() -> Model {
    Model::builder("dy1 = y2\ndy2 = ((1 - y1^2) * y2 - y1) / eps")
        .states([("y1", 2.0), ("y2", 0.0)])
        .parameters([("eps", 1e-6)])
        .build()
        .expect("model")
}

fn stiff(c: &mut Criterion) {
    const RUNS: usize = 4096;
    let mut group = c.benchmark_group("van_der_pol_mu1000_tol1e-6");
    group.sample_size(10);
    group.throughput(Throughput::Elements(RUNS as u64));
    for algorithm in ["radau_iia_5", "kvaerno5", "rodas3p"] {
        let settings = SolverSettings {
            algorithm: algorithm.parse().expect("a known algorithm"),
            precision: Some(Precision::F64),
            time: LoopSettings {
                duration: 2.0,
                ..LoopSettings::default()
            },
            control: ControllerOptions {
                atol: Some(vec![1e-6]),
                rtol: Some(vec![1e-6]),
                ..ControllerOptions::default()
            },
            ..SolverSettings::default()
        };
        let solver = Solver::new(&van_der_pol(), &settings).expect("solver");
        let runs = solver
            .grid(
                &[Sweep::linspace("eps", 0.5e-6, 2e-6, RUNS)],
                GridKind::Combinatorial,
            )
            .expect("grid");
        group.bench_function(BenchmarkId::new(algorithm, RUNS), |b| {
            b.iter(|| solver.solve(&runs).expect("solve"));
        });
    }
    group.finish();
}

criterion_group!(benches, bench, stiff);
criterion_main!(benches);
