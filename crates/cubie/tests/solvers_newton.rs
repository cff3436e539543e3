//! Damped Newton–Krylov on systems with known roots, backward-Euler steps
//! of stiff problems (Robertson, Van der Pol), rootless and non-finite
//! problems, backtracking and limits.

// Dense-matrix index arithmetic reads clearer as index loops.
#![allow(clippy::needless_range_loop)]

use std::cell::Cell;

use cubie::Precision;
use cubie::backend::cpu::CpuForm;
use cubie::backend::cpu::solvers::NonlinearProblem;
use cubie::memory::{BufferRegistry, Component};
use cubie::settings::SettingsMap;
use cubie::solvers::{
    LinearSolverKind, LinearSolverSettings, NewtonComponent, NewtonOutcome, NewtonSettings,
    NewtonSpec, NewtonStatus, PreconditionerKind, SolverError,
};

/// A problem given by closures over f64 vectors, counting residual calls.
struct Problem<R, J> {
    n: usize,
    residual: R,
    jacobian: J,
    evaluations: Cell<u32>,
}

fn get(x: &[Cell<f64>]) -> Vec<f64> {
    x.iter().map(Cell::get).collect()
}

impl<R: Fn(&[f64]) -> Vec<f64>, J: Fn(&[f64]) -> Vec<f64>> NonlinearProblem<f64> for Problem<R, J> {
    fn residual(&self, x: &[Cell<f64>], out: &[Cell<f64>]) {
        self.evaluations.set(self.evaluations.get() + 1);
        for (o, v) in out.iter().zip((self.residual)(&get(x))) {
            o.set(v);
        }
    }
    fn jacobian_apply(&self, x: &[Cell<f64>], v: &[Cell<f64>], out: &[Cell<f64>]) {
        let j = (self.jacobian)(&get(x));
        for i in 0..self.n {
            out[i].set((0..self.n).map(|k| j[i * self.n + k] * v[k].get()).sum());
        }
    }
    fn jacobian_diagonal(&self, x: &[Cell<f64>], out: &[Cell<f64>]) {
        let j = (self.jacobian)(&get(x));
        for i in 0..self.n {
            out[i].set(j[i * self.n + i]);
        }
    }
    fn jacobian_dense(&self, x: &[Cell<f64>], out: &[Cell<f64>]) {
        for (o, v) in out.iter().zip((self.jacobian)(&get(x))) {
            o.set(v);
        }
    }
}

fn problem<R: Fn(&[f64]) -> Vec<f64>, J: Fn(&[f64]) -> Vec<f64>>(
    n: usize,
    residual: R,
    jacobian: J,
) -> Problem<R, J> {
    Problem {
        n,
        residual,
        jacobian,
        evaluations: Cell::new(0),
    }
}

/// Registers Newton under a `step` root, builds, solves from `x0`.
fn run<P: NonlinearProblem<f64>>(
    p: &P,
    x0: &[f64],
    newton: NewtonSettings,
    linear: LinearSolverSettings,
) -> (NewtonOutcome, Vec<f64>) {
    let mut reg = BufferRegistry::new(Precision::F64);
    let step = reg.add_component("step", None).expect("root");
    let comp = NewtonComponent::register(
        &mut reg,
        Some(step),
        NewtonSpec {
            n: x0.len(),
            settings: newton,
            linear,
        },
    )
    .expect("register");
    let solver = comp.cpu::<f64>(&reg).expect("build");
    let arena = reg.new_arena::<f64>(step).expect("arena");
    let x: Vec<Cell<f64>> = x0.iter().map(|&v| Cell::new(v)).collect();
    let out = solver.solve(p, &x, &arena);
    (out, get(&x))
}

fn tight() -> NewtonSettings {
    NewtonSettings {
        tolerance: 1e-10,
        ..Default::default()
    }
}

fn linear(kind: LinearSolverKind, preconditioner: PreconditionerKind) -> LinearSolverSettings {
    LinearSolverSettings {
        kind,
        preconditioner,
        krylov_tolerance: 1e-12,
        krylov_max_iters: 200,
        ..Default::default()
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

const ALL_KINDS: [LinearSolverKind; 4] = [
    LinearSolverKind::MinimalResidual,
    LinearSolverKind::SteepestDescent,
    LinearSolverKind::Bicgstab,
    LinearSolverKind::Lu,
];

#[test]
fn cubic_roots_with_every_linear_solver() {
    let c = [-3.0, -0.5, 0.0, 2.0, 10.0];
    let p = problem(
        5,
        |x: &[f64]| x.iter().zip(&c).map(|(x, c)| x * x * x + x - c).collect(),
        |x: &[f64]| {
            let mut j = vec![0.0; 25];
            for i in 0..5 {
                j[i * 5 + i] = 3.0 * x[i] * x[i] + 1.0;
            }
            j
        },
    );
    for kind in ALL_KINDS {
        let (out, x) = run(
            &p,
            &[0.0; 5],
            tight(),
            linear(kind, PreconditionerKind::Jacobi),
        );
        assert_eq!(out.status, NewtonStatus::Converged, "{kind}: {out:?}");
        assert!(
            out.iterations >= 3 && !out.linear_limit_hit,
            "{kind}: {out:?}"
        );
        for (xi, ci) in x.iter().zip(&c) {
            assert!(
                (xi * xi * xi + xi - ci).abs() <= 1e-10,
                "{kind}: x = {xi}, c = {ci}"
            );
        }
    }
    // Known values: x³ + x = 2 at 1, = 10 at 2.
    let (_, x) = run(
        &p,
        &[0.0; 5],
        tight(),
        linear(LinearSolverKind::Lu, PreconditionerKind::None),
    );
    assert!((x[3] - 1.0).abs() < 1e-10 && (x[4] - 2.0).abs() < 1e-10 && x[2].abs() < 1e-10);
}

/// Robertson's kinetics: y' = f(y), k1 = 0.04, k2 = 3e7, k3 = 1e4.
fn robertson_f(y: &[f64]) -> Vec<f64> {
    let r1 = 0.04 * y[0];
    let r2 = 3e7 * y[1] * y[1];
    let r3 = 1e4 * y[1] * y[2];
    vec![-r1 + r3, r1 - r2 - r3, r2]
}

fn robertson_j(y: &[f64]) -> Vec<f64> {
    vec![
        -0.04,
        1e4 * y[2],
        1e4 * y[1],
        0.04,
        -6e7 * y[1] - 1e4 * y[2],
        -1e4 * y[1],
        0.0,
        6e7 * y[1],
        0.0,
    ]
}

/// Backward Euler: G(y) = y − y0 − h f(y), G' = I − h J.
fn backward_euler<F: Fn(&[f64]) -> Vec<f64>, Jf: Fn(&[f64]) -> Vec<f64>>(
    y0: Vec<f64>,
    h: f64,
    f: F,
    jac: Jf,
) -> impl NonlinearProblem<f64> {
    let n = y0.len();
    let y0r = y0.clone();
    let fr = move |y: &[f64]| {
        let fy = f(y);
        (0..n)
            .map(|i| y[i] - y0r[i] - h * fy[i])
            .collect::<Vec<f64>>()
    };
    let jr = move |y: &[f64]| {
        let j = jac(y);
        (0..n * n)
            .map(|k| if k / n == k % n { 1.0 } else { 0.0 } - h * j[k])
            .collect::<Vec<f64>>()
    };
    problem(n, fr, jr)
}

#[test]
fn backward_euler_robertson_step() {
    // Near the solution at t = 40 (0.7158, 9.19e-6, 0.2842): fully stiff
    // (h·‖J‖ up to 1e4 here), the situation an integrator meets mid-run.
    let y0 = vec![0.7158271, 9.185535e-6, 1.0 - 0.7158271 - 9.185535e-6];
    for h in [1e-3, 1.0, 10.0] {
        let p = backward_euler(y0.clone(), h, robertson_f, robertson_j);
        for (kind, pre) in [
            (LinearSolverKind::Lu, PreconditionerKind::None),
            (LinearSolverKind::Bicgstab, PreconditionerKind::Jacobi),
        ] {
            let (out, y) = run(&p, &y0, tight(), linear(kind, pre));
            assert!(out.converged(), "h={h} {kind}: {out:?}");
            let f = robertson_f(&y);
            let g: Vec<f64> = (0..3).map(|i| y[i] - y0[i] - h * f[i]).collect();
            assert!(norm(&g) <= 1e-10, "h={h} {kind}: {g:?}");
            // Backward Euler keeps the linear invariant y1 + y2 + y3 = 1.
            assert!(
                (y.iter().sum::<f64>() - 1.0).abs() < 1e-10,
                "h={h} {kind}: {y:?}"
            );
            // y1 is consumed, y3 produced.
            assert!(y[0] < y0[0] && y[2] > y0[2], "h={h} {kind}: {y:?}");
            assert!(y.iter().all(|&v| v >= -1e-12), "h={h} {kind}: {y:?}");
        }
    }
}

#[test]
fn backward_euler_van_der_pol_step_agrees_across_solvers() {
    let mu = 100.0;
    let f = move |y: &[f64]| vec![y[1], mu * ((1.0 - y[0] * y[0]) * y[1]) - y[0]];
    let j = move |y: &[f64]| {
        vec![
            0.0,
            1.0,
            -2.0 * mu * y[0] * y[1] - 1.0,
            mu * (1.0 - y[0] * y[0]),
        ]
    };
    let y0 = vec![2.0, 0.0];
    let p = backward_euler(y0.clone(), 0.05, f, j);
    let mut results = Vec::new();
    for kind in [
        LinearSolverKind::Lu,
        LinearSolverKind::Bicgstab,
        LinearSolverKind::MinimalResidual,
    ] {
        let (out, y) = run(&p, &y0, tight(), linear(kind, PreconditionerKind::Jacobi));
        assert!(out.converged(), "{kind}: {out:?}");
        let fy = f(&y);
        assert!(norm(&[y[0] - 2.0 - 0.05 * fy[0], y[1] - 0.05 * fy[1]]) <= 1e-10);
        results.push(y);
    }
    for r in &results[1..] {
        assert!((r[0] - results[0][0]).abs() < 1e-9 && (r[1] - results[0][1]).abs() < 1e-9);
    }
    // The step moves toward the slow manifold: y0 decreases, y1 < 0.
    assert!(
        results[0][0] < 2.0 && results[0][1] < 0.0,
        "{:?}",
        results[0]
    );
}

#[test]
fn backtracking_rescues_an_overshooting_newton_step() {
    // Plain Newton on atan(x) diverges from |x0| > 1.39; damping converges.
    let p = problem(
        1,
        |x: &[f64]| vec![x[0].atan()],
        |x: &[f64]| vec![1.0 / (1.0 + x[0] * x[0])],
    );
    let (out, x) = run(
        &p,
        &[3.0],
        tight(),
        linear(LinearSolverKind::Lu, PreconditionerKind::None),
    );
    assert!(out.converged(), "{out:?}");
    assert!(x[0].abs() < 1e-10);
    // More residual evaluations than one per iteration plus the first: some
    // steps were shrunk.
    assert!(
        p.evaluations.get() > out.iterations + 1,
        "{} evals, {out:?}",
        p.evaluations.get()
    );
}

#[test]
fn rootless_and_non_finite_problems_fail_cleanly() {
    // x² + 1 has no real root: backtracking eventually cannot decrease it.
    let p = problem(
        1,
        |x: &[f64]| vec![x[0] * x[0] + 1.0],
        |x: &[f64]| vec![2.0 * x[0]],
    );
    for kind in ALL_KINDS {
        let (out, x) = run(&p, &[0.7], tight(), linear(kind, PreconditionerKind::None));
        assert!(!out.converged(), "{kind}: {out:?}");
        assert!(matches!(
            out.status,
            NewtonStatus::Diverged | NewtonStatus::MaxIterations
        ));
        assert!(x[0].is_finite(), "{kind}: {x:?}");
    }
    let nan = problem(
        2,
        |_: &[f64]| vec![f64::NAN, 0.0],
        |_: &[f64]| vec![1.0, 0.0, 0.0, 1.0],
    );
    let (out, x) = run(&nan, &[1.0, 2.0], tight(), LinearSolverSettings::default());
    assert_eq!((out.status, out.iterations), (NewtonStatus::Diverged, 0));
    assert_eq!(x, vec![1.0, 2.0]);
}

#[test]
fn limits_are_reported() {
    let p = problem(
        1,
        |x: &[f64]| vec![x[0].powi(3) + x[0] - 10.0],
        |x: &[f64]| vec![3.0 * x[0] * x[0] + 1.0],
    );
    let few = NewtonSettings {
        max_iters: 2,
        ..tight()
    };
    let (out, _) = run(
        &p,
        &[0.0],
        few,
        linear(LinearSolverKind::Lu, PreconditionerKind::None),
    );
    assert_eq!(
        (out.status, out.iterations),
        (NewtonStatus::MaxIterations, 2)
    );

    // One Krylov iteration per correction on a coupled system: every linear
    // solve hits its limit, Newton still converges (inexactly).
    let q = problem(
        2,
        |x: &[f64]| {
            vec![
                x[0] + 0.3 * x[1] - 1.0 + 0.1 * x[0].powi(3),
                0.2 * x[0] + x[1] - 2.0,
            ]
        },
        |x: &[f64]| vec![1.0 + 0.3 * x[0] * x[0], 0.3, 0.2, 1.0],
    );
    let lin = LinearSolverSettings {
        kind: LinearSolverKind::MinimalResidual,
        preconditioner: PreconditionerKind::None,
        krylov_tolerance: 1e-14,
        krylov_max_iters: 1,
        ..Default::default()
    };
    let (out, _) = run(&q, &[0.0, 0.0], tight(), lin);
    assert!(out.converged() && out.linear_limit_hit, "{out:?}");
    assert_eq!(out.linear_iterations, out.iterations);
}

#[test]
fn settings_defaults_keys_and_validation() {
    let d = NewtonSettings::default();
    assert_eq!(
        (d.tolerance, d.max_iters, d.damping, d.max_backtracks),
        (1e-3, 100, 0.5, 8)
    );
    let map = SettingsMap::from_pairs(&[
        "newton_tolerance=1e-8",
        "newton_max_iters=20",
        "newton_damping=0.25",
        "newton_max_backtracks=4",
        "linear_solver=lu",
    ])
    .expect("pairs");
    let (n, l) = NewtonComponent::settings_from(&map).expect("settings");
    assert_eq!(
        n,
        NewtonSettings {
            tolerance: 1e-8,
            max_iters: 20,
            damping: 0.25,
            max_backtracks: 4
        }
    );
    assert_eq!(l.kind, LinearSolverKind::Lu);
    map.check_all_known().expect("known");
    assert_eq!(
        NewtonComponent::setting_keys(),
        vec![
            "newton_tolerance",
            "newton_max_iters",
            "newton_damping",
            "newton_max_backtracks",
            "linear_solver",
            "preconditioner",
            "preconditioner_order",
            "krylov_tolerance",
            "krylov_max_iters",
        ]
    );
    for bad in [
        "newton_damping=0",
        "newton_damping=1.5",
        "newton_tolerance=0",
        "newton_max_iters=0",
        "newton_max_backtracks=0",
    ] {
        let map = SettingsMap::from_pairs(&[bad]).expect("pair");
        assert!(
            matches!(
                NewtonSettings::from_settings(&map),
                Err(SolverError::InvalidSetting { .. })
            ),
            "{bad}"
        );
    }
}
