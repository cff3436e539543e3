//! Damped Newton–Krylov on systems with known roots, backward-Euler steps
//! of stiff problems (Robertson, Van der Pol), rootless and non-finite
//! problems, backtracking and limits.

// Dense-matrix index arithmetic reads clearer as index loops.
#![allow(clippy::needless_range_loop)]

use std::cell::Cell;

use cubie::Precision;
use cubie::backend::cpu::CpuForm;
use cubie::backend::cpu::solvers::NonlinearProblem;
use cubie::memory::{BufferRegistry, Component, LaneBuf, LaneMask, MAX_LANES, RunArena};
use cubie::settings::SettingsMap;
use cubie::solvers::{
    LinearSolverKind, LinearSolverSettings, NewtonComponent, NewtonOutcome, NewtonSettings,
    NewtonSpec, NewtonStatus, PreconditionerKind, SolverError,
};

/// A function of run `run`'s system at `x`.
type Fun = Box<dyn Fn(usize, &[f64]) -> Vec<f64>>;

/// A family of problems given by closures over f64 vectors: `residual(run,
/// x)` and the dense Jacobian `jacobian(run, x)` of run `run`'s system.
struct Problem {
    n: usize,
    residual: Fun,
    jacobian: Fun,
}

/// One problem for every run (closures that ignore the run).
fn problem(
    n: usize,
    residual: impl Fn(&[f64]) -> Vec<f64> + 'static,
    jacobian: impl Fn(&[f64]) -> Vec<f64> + 'static,
) -> Problem {
    Problem {
        n,
        residual: Box::new(move |_, x| residual(x)),
        jacobian: Box::new(move |_, x| jacobian(x)),
    }
}

/// A lane block of a [`Problem`]: lane `l` is run `runs[l]`; counts the
/// residual and Jacobian calls of each lane.
struct Block<'a> {
    p: &'a Problem,
    runs: &'a [usize],
    residuals: [Cell<u32>; MAX_LANES],
    jacobians: [Cell<u32>; MAX_LANES],
}

fn lane(x: LaneBuf<'_, f64>, l: usize) -> Vec<f64> {
    x.lane(l).iter().map(Cell::get).collect()
}

fn bump(c: &Cell<u32>) {
    c.set(c.get() + 1);
}

impl Block<'_> {
    fn jacobian(&self, x: LaneBuf<'_, f64>, l: usize) -> Vec<f64> {
        bump(&self.jacobians[l]);
        (self.p.jacobian)(self.runs[l], &lane(x, l))
    }
}

impl NonlinearProblem<f64> for Block<'_> {
    fn residual(&self, x: LaneBuf<'_, f64>, out: LaneBuf<'_, f64>, mask: LaneMask) {
        for l in mask.lanes() {
            bump(&self.residuals[l]);
            out.lane(l)
                .write_from(&(self.p.residual)(self.runs[l], &lane(x, l)));
        }
    }
    fn jacobian_apply(
        &self,
        x: LaneBuf<'_, f64>,
        v: LaneBuf<'_, f64>,
        out: LaneBuf<'_, f64>,
        mask: LaneMask,
    ) {
        let n = self.p.n;
        for l in mask.lanes() {
            let j = self.jacobian(x, l);
            for i in 0..n {
                out.set(i, l, (0..n).map(|k| j[i * n + k] * v.get(k, l)).sum());
            }
        }
    }
    fn jacobian_diagonal(&self, x: LaneBuf<'_, f64>, out: LaneBuf<'_, f64>, mask: LaneMask) {
        let n = self.p.n;
        for l in mask.lanes() {
            let j = self.jacobian(x, l);
            for i in 0..n {
                out.set(i, l, j[i * n + i]);
            }
        }
    }
    fn jacobian_dense(&self, x: LaneBuf<'_, f64>, out: LaneBuf<'_, f64>, mask: LaneMask) {
        for l in mask.lanes() {
            out.lane(l).write_from(&self.jacobian(x, l));
        }
    }
}

/// What one lane of a block solve ended with.
#[derive(Debug, Clone, PartialEq)]
struct LaneResult {
    outcome: NewtonOutcome,
    /// The final iterate, as bits.
    x: Vec<u64>,
    residuals: u32,
    jacobians: u32,
}

impl LaneResult {
    fn x(&self) -> Vec<f64> {
        self.x.iter().map(|&b| f64::from_bits(b)).collect()
    }
}

/// What a masked-off lane's cells hold before and after a block solve.
const SENTINEL: f64 = -777.25;

/// Registers Newton under a `step` root and solves a block of
/// `runs.len()` lanes, lane `l` being run `runs[l]` from `x0(runs[l])`, in
/// the lanes of `mask`. A block of more than one lane starts with every
/// cell of its arena and of the masked-off lanes of `x` at a sentinel,
/// and checks that the masked-off lanes still hold it afterwards and were
/// never evaluated. Returns the lanes of `mask`.
fn solve_block(
    p: &Problem,
    runs: &[usize],
    mask: LaneMask,
    x0: &dyn Fn(usize) -> Vec<f64>,
    newton: NewtonSettings,
    linear: LinearSolverSettings,
) -> Vec<(usize, LaneResult)> {
    let (n, w) = (p.n, runs.len());
    let mut reg = BufferRegistry::new(Precision::F64);
    let step = reg.add_component("step", None).expect("root");
    let comp = NewtonComponent::register(
        &mut reg,
        Some(step),
        NewtonSpec {
            n,
            settings: newton,
            linear,
        },
    )
    .expect("register");
    let solver = comp.cpu::<f64>(&reg).expect("build");
    let arena = RunArena::<f64>::with_lanes(reg.arena_layout(step).expect("layout"), w);
    if w > 1 {
        for c in arena.cells() {
            c.set(SENTINEL);
        }
    }
    let cells: Vec<Cell<f64>> = (0..n * w).map(|_| Cell::new(SENTINEL)).collect();
    let x = LaneBuf::new(&cells, w);
    for l in mask.lanes() {
        x.lane(l).write_from(&x0(runs[l]));
    }
    let block = Block {
        p,
        runs,
        residuals: Default::default(),
        jacobians: Default::default(),
    };
    let out = solver.solve(&block, x, &arena, mask);
    for l in LaneMask::all(w).without(mask).lanes() {
        let what = format!("masked-off lane {l} of {w} ({mask:?})");
        assert!(lane(x, l).iter().all(|&v| v == SENTINEL), "{what}: x");
        assert!(
            arena
                .cells()
                .iter()
                .skip(l)
                .step_by(w)
                .all(|c| c.get() == SENTINEL),
            "{what}: arena"
        );
        assert_eq!(
            (block.residuals[l].get(), block.jacobians[l].get()),
            (0, 0),
            "{what}: evaluations"
        );
    }
    mask.lanes()
        .map(|l| {
            let result = LaneResult {
                outcome: out[l],
                x: lane(x, l).iter().map(|v| v.to_bits()).collect(),
                residuals: block.residuals[l].get(),
                jacobians: block.jacobians[l].get(),
            };
            (l, result)
        })
        .collect()
}

/// One run alone, in a block of one lane.
fn solve_one(
    p: &Problem,
    run: usize,
    x0: &dyn Fn(usize) -> Vec<f64>,
    newton: NewtonSettings,
    linear: LinearSolverSettings,
) -> LaneResult {
    let mut out = solve_block(p, &[run], LaneMask::all(1), x0, newton, linear);
    out.pop().expect("one lane").1
}

/// Builds, solves from `x0`: the outcome and the final iterate.
fn run(
    p: &Problem,
    x0: &[f64],
    newton: NewtonSettings,
    linear: LinearSolverSettings,
) -> (NewtonOutcome, Vec<f64>) {
    let r = solve_one(p, 0, &|_| x0.to_vec(), newton, linear);
    (r.outcome, r.x())
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
        move |x: &[f64]| x.iter().zip(&c).map(|(x, c)| x * x * x + x - c).collect(),
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
fn backward_euler<F: Fn(&[f64]) -> Vec<f64> + 'static, Jf: Fn(&[f64]) -> Vec<f64> + 'static>(
    y0: Vec<f64>,
    h: f64,
    f: F,
    jac: Jf,
) -> Problem {
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
    let r = solve_one(
        &p,
        0,
        &|_| vec![3.0],
        tight(),
        linear(LinearSolverKind::Lu, PreconditionerKind::None),
    );
    let out = r.outcome;
    assert!(out.converged(), "{out:?}");
    assert!(r.x()[0].abs() < 1e-10);
    // More residual evaluations than one per iteration plus the first: some
    // steps were shrunk.
    assert!(
        r.residuals > out.iterations + 1,
        "{} evals, {out:?}",
        r.residuals
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

// Lane blocks: every lane of a block solves exactly, bit for bit, what its
// run solves alone, however the lanes' iterations end.

/// Runs of the lane family, by `run % 6` (the kind) and `run / 6` (a
/// variant), in 3 unknowns:
/// 0. a mildly coupled cubic, small right-hand side: converges quickly;
/// 1. the same with a large right-hand side: backtracks, converges late or
///    hits the iteration limit;
/// 2. `atan` from far away: backtracks;
/// 3. `ln x` from 10: the first full step leaves the domain (a non-finite
///    trial), a shorter one is accepted;
/// 4. `x² + 1` (variant 0): no root, backtracking fails (diverged); `x²`
///    (variant 1): a double root, linear convergence, the iteration limit;
/// 5. `x² + 1` walled off below 0.5 (NaN there): every trial of the second
///    iteration is non-finite (variant 0), or the start is (variant 1).
const LANE_RUNS: usize = 12;

fn lane_family() -> Problem {
    let rhs = |run: usize, i: usize| {
        let v = (run / 6) as f64;
        match run % 6 {
            0 => (1.0 + v) * (i as f64 + 0.5),
            _ => 40.0 * (1.0 + 2.0 * v) * (i as f64 + 1.0),
        }
    };
    let residual = move |run: usize, x: &[f64]| -> Vec<f64> {
        let v = (run / 6) as f64;
        (0..3)
            .map(|i| {
                let left = if i > 0 { x[i - 1] } else { 0.0 };
                let right = if i < 2 { x[i + 1] } else { 0.0 };
                match run % 6 {
                    0 | 1 => x[i].powi(3) + x[i] + 0.2 * (right - left) - rhs(run, i),
                    2 => (x[i] - 0.5 * i as f64).atan() + 0.05 * (right - left),
                    3 => x[i].ln() + 3.0 + v + 0.1 * i as f64,
                    4 => x[i] * x[i] + 1.0 - v,
                    _ if x[i] >= 0.5 => x[i] * x[i] + 1.0,
                    _ => f64::NAN,
                }
            })
            .collect()
    };
    let jacobian = |run: usize, x: &[f64]| -> Vec<f64> {
        let mut j = vec![0.0; 9];
        for i in 0..3 {
            let (d, c) = match run % 6 {
                0 | 1 => (3.0 * x[i] * x[i] + 1.0, 0.2),
                2 => (1.0 / (1.0 + (x[i] - 0.5 * i as f64).powi(2)), 0.05),
                3 => (1.0 / x[i], 0.0),
                _ => (2.0 * x[i], 0.0),
            };
            j[i * 3 + i] = d;
            if i < 2 {
                j[i * 3 + i + 1] = c;
            }
            if i > 0 {
                j[i * 3 + i - 1] = -c;
            }
        }
        j
    };
    Problem {
        n: 3,
        residual: Box::new(residual),
        jacobian: Box::new(jacobian),
    }
}

fn lane_start(run: usize) -> Vec<f64> {
    let v = (run / 6) as f64;
    match run % 6 {
        0 | 1 => vec![0.1 * v; 3],
        2 => vec![3.0 + v, -2.5, 4.0],
        3 => vec![10.0, 8.0 + v, 12.0],
        4 => vec![0.7, -0.3, 1.1 + v],
        _ if v == 0.0 => vec![1.0, 1.5, 2.0],
        _ => vec![1.0, 0.25, 2.0],
    }
}

/// The lane blocks' run assignments: width `w`, lane `l` runs
/// `(7 l + w) mod LANE_RUNS`, every lane or those not `1 mod 3`.
fn lane_blocks() -> Vec<(Vec<usize>, LaneMask)> {
    let mut blocks = Vec::new();
    for w in [2, 4, 8, 16] {
        let runs: Vec<usize> = (0..w).map(|l| (7 * l + w) % LANE_RUNS).collect();
        blocks.push((runs.clone(), LaneMask::all(w)));
        blocks.push((runs, LaneMask::from_fn(w, |l| l % 3 != 1)));
    }
    blocks
}

fn lane_linear_settings() -> Vec<LinearSolverSettings> {
    let s = |kind, preconditioner, krylov_max_iters| LinearSolverSettings {
        kind,
        preconditioner,
        preconditioner_order: 2,
        krylov_tolerance: 1e-10,
        krylov_max_iters,
    };
    vec![
        s(LinearSolverKind::Lu, PreconditionerKind::None, 1),
        s(LinearSolverKind::Bicgstab, PreconditionerKind::Jacobi, 50),
        s(
            LinearSolverKind::MinimalResidual,
            PreconditionerKind::Neumann,
            50,
        ),
        s(
            LinearSolverKind::SteepestDescent,
            PreconditionerKind::Jacobi,
            50,
        ),
        s(
            LinearSolverKind::MinimalResidual,
            PreconditionerKind::None,
            2,
        ),
        s(LinearSolverKind::Bicgstab, PreconditionerKind::None, 1),
    ]
}

#[test]
fn lanes_solve_exactly_what_their_runs_solve_alone() {
    let p = lane_family();
    let newton = NewtonSettings {
        tolerance: 1e-9,
        max_iters: 12,
        ..Default::default()
    };
    for linear in lane_linear_settings() {
        let alone: Vec<LaneResult> = (0..LANE_RUNS)
            .map(|run| solve_one(&p, run, &lane_start, newton, linear))
            .collect();
        // The family covers what the lanes must keep apart.
        let converged: Vec<u32> = alone
            .iter()
            .filter(|r| r.outcome.converged())
            .map(|r| r.outcome.iterations)
            .collect();
        assert!(
            converged.iter().min() < converged.iter().max(),
            "{linear:?}: converged at {converged:?}"
        );
        let status = |s: NewtonStatus, non_finite: bool| {
            alone
                .iter()
                .filter(|r| r.outcome.status == s && r.outcome.non_finite == non_finite)
                .count()
        };
        assert!(
            status(NewtonStatus::MaxIterations, false) > 0,
            "{linear:?}: {alone:#?}"
        );
        assert!(status(NewtonStatus::Diverged, false) > 0, "{linear:?}");
        assert!(status(NewtonStatus::Diverged, true) >= 2, "{linear:?}");
        assert!(
            alone
                .iter()
                .any(|r| r.outcome.non_finite && r.outcome.iterations == 0),
            "{linear:?}"
        );
        for (runs, mask) in lane_blocks() {
            for (l, result) in solve_block(&p, &runs, mask, &lane_start, newton, linear) {
                assert_eq!(
                    result,
                    alone[runs[l]],
                    "{linear:?}: lane {l} of {} (run {}, {mask:?})",
                    runs.len(),
                    runs[l]
                );
            }
        }
    }
}

#[test]
fn lanes_take_their_own_minimum_iterations_and_limits() {
    // The steps' `solve_with(.., 1)`: a lane that starts converged takes one
    // iteration (and keeps its start if it cannot improve), the others go on.
    let p = lane_family();
    let newton = NewtonSettings {
        tolerance: 1e-3,
        max_iters: 3,
        damping: 0.25,
        max_backtracks: 3,
    };
    let linear = LinearSolverSettings {
        kind: LinearSolverKind::Lu,
        ..Default::default()
    };
    // Run 0 started at its root (as found by a tight solve).
    let root = solve_one(&p, 0, &lane_start, tight(), linear).x();
    let start = |run: usize| {
        if run == 0 {
            root.clone()
        } else {
            lane_start(run)
        }
    };
    let mut reg = BufferRegistry::new(Precision::F64);
    let step = reg.add_component("step", None).expect("root");
    let comp = NewtonComponent::register(
        &mut reg,
        Some(step),
        NewtonSpec {
            n: 3,
            settings: newton,
            linear,
        },
    )
    .expect("register");
    let solver = comp.cpu::<f64>(&reg).expect("build");
    let layout = reg.arena_layout(step).expect("layout");
    let solve = |runs: &[usize], min_iters: u32| {
        let w = runs.len();
        let arena = RunArena::<f64>::with_lanes(layout, w);
        let cells: Vec<Cell<f64>> = (0..3 * w).map(|_| Cell::new(0.0)).collect();
        let x = LaneBuf::new(&cells, w);
        for (l, &run) in runs.iter().enumerate() {
            x.lane(l).write_from(&start(run));
        }
        let block = Block {
            p: &p,
            runs,
            residuals: Default::default(),
            jacobians: Default::default(),
        };
        let out = solver.solve_with(&block, x, &arena, LaneMask::all(w), min_iters);
        (0..w)
            .map(|l| {
                let bits: Vec<u64> = lane(x, l).iter().map(|v| v.to_bits()).collect();
                (out[l], bits, block.residuals[l].get())
            })
            .collect::<Vec<_>>()
    };
    for min_iters in [0, 1, 2] {
        let runs: Vec<usize> = (0..8).map(|l| [0, 1, 2, 3, 6, 7, 0, 9][l]).collect();
        let block = solve(&runs, min_iters);
        for (l, &run) in runs.iter().enumerate() {
            assert_eq!(
                block[l],
                solve(&[run], min_iters)[0],
                "min {min_iters}, lane {l}"
            );
        }
        // An extra iteration from the root cannot lower its residual: the
        // lane stops after it, converged, at its start.
        assert_eq!(block[0].0.iterations, min_iters.min(1), "{:?}", block[0]);
        let root_bits: Vec<u64> = root.iter().map(|v| v.to_bits()).collect();
        assert_eq!(block[0].1, root_bits);
        assert!(block[0].0.converged());
        assert!(
            block
                .iter()
                .any(|b| b.0.status == NewtonStatus::MaxIterations && b.0.iterations == 3),
            "{block:?}"
        );
    }
}
