//! Linear solvers × preconditioners on deterministic SPD and
//! non-symmetric diagonally dominant systems of the form `A = I + E`
//! (as `I − hγJ` is), in f64 and f32; LU to round-off; iteration limits.

// Dense-matrix index arithmetic reads clearer as index loops.
#![allow(clippy::needless_range_loop)]

use std::cell::Cell;

use cubie::Precision;
use cubie::Real;
use cubie::backend::cpu::CpuForm;
use cubie::backend::cpu::jit::JitReal;
use cubie::backend::cpu::solvers::LinearOperator;
use cubie::memory::{BufferRegistry, Component, LaneBuf, LaneMask, MAX_LANES, RunArena};
use cubie::solvers::{
    LinearOutcome, LinearSolverComponent, LinearSolverKind, LinearSolverSettings, LinearSolverSpec,
    PreconditionerKind, SolverError,
};

/// Dense matrices behind the matrix-free interface, one per lane
/// (`a[l]`), counting each lane's calls.
struct Dense<T> {
    n: usize,
    a: Vec<Vec<T>>,
    calls: [Cell<u32>; MAX_LANES],
}

impl<T> Dense<T> {
    fn new(n: usize, a: Vec<Vec<T>>) -> Self {
        Dense {
            n,
            a,
            calls: Default::default(),
        }
    }

    fn called(&self, mask: LaneMask) {
        for l in mask.lanes() {
            self.calls[l].set(self.calls[l].get() + 1);
        }
    }
}

impl<T: Real> LinearOperator<T> for Dense<T> {
    fn apply(&self, v: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask) {
        self.called(mask);
        let n = self.n;
        for l in mask.lanes() {
            let a = &self.a[l];
            for i in 0..n {
                let s = (0..n).fold(T::zero(), |s, j| s + a[i * n + j] * v.get(j, l));
                out.set(i, l, s);
            }
        }
    }
    fn diagonal(&self, out: LaneBuf<'_, T>, mask: LaneMask) {
        self.called(mask);
        for l in mask.lanes() {
            for i in 0..self.n {
                out.set(i, l, self.a[l][i * self.n + i]);
            }
        }
    }
    fn dense(&self, out: LaneBuf<'_, T>, mask: LaneMask) {
        self.called(mask);
        for l in mask.lanes() {
            out.lane(l).write_from(&self.a[l]);
        }
    }
}

/// Deterministic uniform numbers in [0, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `A = I + E`, `E` with diagonal in [0.05, 0.45] and off-diagonal entries
/// of at most 0.35/(n−1) in size: strictly diagonally dominant, ‖E‖∞ < 0.8
/// (so the Neumann series converges). Symmetric (hence SPD) on request.
fn matrix(n: usize, seed: u64, symmetric: bool) -> Vec<f64> {
    let mut rng = Lcg(seed);
    let off = 0.35 / (n - 1) as f64;
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = if i == j {
                1.0 + 0.05 + 0.4 * rng.next()
            } else {
                off * (2.0 * rng.next() - 1.0)
            };
        }
    }
    if symmetric {
        for i in 0..n {
            for j in 0..i {
                let m = 0.5 * (a[i * n + j] + a[j * n + i]);
                a[i * n + j] = m;
                a[j * n + i] = m;
            }
        }
    }
    a
}

fn cells<T: JitReal>(v: &[f64]) -> Vec<Cell<T>> {
    v.iter().map(|&x| Cell::new(T::from_f64(x))).collect()
}

/// The right-hand side `A x_true` of a seed's `x_true` (in f64).
fn truth(a: &[f64], n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Lcg(seed ^ 0xABCD);
    let x_true: Vec<f64> = (0..n).map(|_| 2.0 * rng.next() - 1.0).collect();
    let b: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| a[i * n + j] * x_true[j]).sum())
        .collect();
    (x_true, b)
}

/// Solves `A x = A x_true` from x = 0; returns (outcome, max |x − x_true|,
/// true residual norm computed in f64).
fn solve<T: JitReal>(
    settings: LinearSolverSettings,
    a: &[f64],
    n: usize,
    seed: u64,
) -> (LinearOutcome, f64, f64) {
    let mut reg = BufferRegistry::new(T::PRECISION);
    let comp = LinearSolverComponent::register(&mut reg, None, LinearSolverSpec { n, settings })
        .expect("register");
    let solver = comp.cpu::<T>(&reg).expect("build");
    let arena = reg.new_arena::<T>(comp.id()).expect("arena");
    let (x_true, b) = truth(a, n, seed);
    let op = Dense::new(n, vec![a.iter().map(|&x| T::from_f64(x)).collect()]);
    let rhs = cells::<T>(&b);
    let x = cells::<T>(&vec![0.0; n]);
    let out = solver.solve(
        &op,
        LaneBuf::scalar(&rhs),
        LaneBuf::scalar(&x),
        &arena,
        LaneMask::all(1),
    )[0];
    let xs: Vec<f64> = x.iter().map(|c| c.get().to_f64()).collect();
    let err = xs
        .iter()
        .zip(&x_true)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let res = (0..n)
        .map(|i| {
            let ax: f64 = (0..n).map(|j| a[i * n + j] * xs[j]).sum();
            (b[i] - ax).powi(2)
        })
        .sum::<f64>()
        .sqrt();
    (out, err, res)
}

const KINDS: [LinearSolverKind; 3] = [
    LinearSolverKind::MinimalResidual,
    LinearSolverKind::SteepestDescent,
    LinearSolverKind::Bicgstab,
];
const PRECONDS: [PreconditionerKind; 3] = [
    PreconditionerKind::None,
    PreconditionerKind::Jacobi,
    PreconditionerKind::Neumann,
];

fn iterative_to_tolerance<T: JitReal>(tol: f64) {
    for kind in KINDS {
        for preconditioner in PRECONDS {
            for order in [1, 3] {
                if order > 1 && preconditioner != PreconditionerKind::Neumann {
                    continue;
                }
                let settings = LinearSolverSettings {
                    kind,
                    preconditioner,
                    preconditioner_order: order,
                    krylov_tolerance: tol,
                    krylov_max_iters: 500,
                };
                for n in 3..=8 {
                    for symmetric in [true, false] {
                        let seed = 17 * n as u64 + symmetric as u64;
                        let a = matrix(n, seed, symmetric);
                        let (out, err, res) = solve::<T>(settings, &a, n, seed);
                        let what = format!(
                            "{kind}/{preconditioner}({order}) n={n} sym={symmetric} {:?}",
                            T::PRECISION
                        );
                        assert!(out.converged, "{what}: {out:?}");
                        assert!(out.iterations >= 1, "{what}: started converged");
                        // The solver's own residual check, re-done in f64
                        // (f32 rounding of A and b allows a small excess).
                        assert!(res <= 3.0 * tol, "{what}: residual {res}");
                        // ‖A⁻¹‖ ≤ 1/(1 − 0.8) bounds the error by 5·residual.
                        assert!(err <= 5.0 * 3.0 * tol, "{what}: error {err}");
                    }
                }
            }
        }
    }
}

#[test]
fn iterative_solvers_f64() {
    iterative_to_tolerance::<f64>(1e-10);
}

#[test]
fn iterative_solvers_f32() {
    iterative_to_tolerance::<f32>(1e-5);
}

#[test]
fn preconditioning_reduces_iterations() {
    let n = 8;
    let a = matrix(n, 5, false);
    let iters = |preconditioner, preconditioner_order| {
        let s = LinearSolverSettings {
            kind: LinearSolverKind::MinimalResidual,
            preconditioner,
            preconditioner_order,
            krylov_tolerance: 1e-12,
            krylov_max_iters: 1000,
        };
        solve::<f64>(s, &a, n, 5).0.iterations
    };
    let plain = iters(PreconditionerKind::None, 1);
    let neumann4 = iters(PreconditionerKind::Neumann, 4);
    assert!(neumann4 < plain, "neumann(4) {neumann4} vs none {plain}");
}

#[test]
fn lu_is_exact_to_round_off() {
    for n in 3..=8 {
        for symmetric in [true, false] {
            let a = matrix(n, 3 * n as u64, symmetric);
            let s = LinearSolverSettings {
                kind: LinearSolverKind::Lu,
                ..Default::default()
            };
            let (out, err, _) = solve::<f64>(s, &a, n, 1);
            assert_eq!(
                out,
                LinearOutcome {
                    converged: true,
                    iterations: 1
                }
            );
            assert!(err < 1e-14, "n={n}: {err}");
            let (out, err, _) = solve::<f32>(s, &a, n, 1);
            assert!(out.converged && err < 2e-6, "f32 n={n}: {err}");
        }
    }
}

#[test]
fn lu_pivots_and_reports_singular_matrices() {
    // A zero leading entry needs a row swap.
    let a = vec![0.0, 2.0, 1.0, 3.0, 1.0, 0.0, 1.0, 0.0, 4.0];
    let s = LinearSolverSettings {
        kind: LinearSolverKind::Lu,
        ..Default::default()
    };
    let (out, err, _) = solve::<f64>(s, &a, 3, 9);
    assert!(out.converged && err < 1e-14, "{err}");
    let singular = vec![1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 1.0, 0.0, 1.0];
    let (out, _, _) = solve::<f64>(s, &singular, 3, 9);
    assert!(!out.converged);
}

#[test]
fn iteration_limit_reports_non_convergence() {
    let n = 8;
    let a = matrix(n, 11, false);
    for kind in KINDS {
        let s = LinearSolverSettings {
            kind,
            preconditioner: PreconditionerKind::None,
            preconditioner_order: 1,
            krylov_tolerance: 1e-14,
            krylov_max_iters: 2,
        };
        let (out, _, res) = solve::<f64>(s, &a, n, 11);
        assert_eq!(out.iterations, 2, "{kind}");
        assert!(!out.converged && res > 1e-14, "{kind}: {res}");
    }
}

#[test]
fn settings_parse_validate_and_list_keys() {
    use cubie::settings::SettingsMap;
    let map = SettingsMap::from_pairs(&[
        "linear_solver=bicgstab",
        "preconditioner=jacobi",
        "krylov_tolerance=1e-8",
        "krylov_max_iters=50",
    ])
    .expect("pairs");
    let s = LinearSolverSettings::from_settings(&map).expect("settings");
    assert_eq!(
        s,
        LinearSolverSettings {
            kind: LinearSolverKind::Bicgstab,
            preconditioner: PreconditionerKind::Jacobi,
            preconditioner_order: 1,
            krylov_tolerance: 1e-8,
            krylov_max_iters: 50,
        }
    );
    map.check_all_known().expect("all keys known");
    let d = LinearSolverSettings::default();
    assert_eq!(
        (
            d.kind,
            d.preconditioner,
            d.preconditioner_order,
            d.krylov_tolerance,
            d.krylov_max_iters
        ),
        (
            LinearSolverKind::MinimalResidual,
            PreconditionerKind::Neumann,
            1,
            1e-3,
            100
        )
    );
    let err = "gmres".parse::<LinearSolverKind>().expect_err("unknown");
    assert_eq!(
        err.to_string(),
        "unknown linear solver `gmres`; valid: minimal_residual, steepest_descent, bicgstab, lu"
    );
    assert!(matches!(
        "ilu".parse::<PreconditionerKind>(),
        Err(SolverError::UnknownKind {
            what: "preconditioner",
            ..
        })
    ));
    for (key, value) in [
        ("preconditioner_order", "0"),
        ("krylov_tolerance", "-1"),
        ("krylov_max_iters", "0"),
    ] {
        let map = SettingsMap::from_pairs(&[format!("{key}={value}")]).expect("pair");
        assert!(
            matches!(LinearSolverSettings::from_settings(&map), Err(SolverError::InvalidSetting { key: k, .. }) if k == key),
            "{key}"
        );
    }
    let map = SettingsMap::from_pairs(&["krylov_max_iters=many"]).expect("pair");
    assert!(matches!(
        LinearSolverSettings::from_settings(&map),
        Err(SolverError::Settings(_))
    ));
    let mut reg = BufferRegistry::new(Precision::F64);
    assert_eq!(
        LinearSolverComponent::register(
            &mut reg,
            None,
            LinearSolverSpec {
                n: 0,
                settings: LinearSolverSettings::default(),
            },
        ),
        Err(SolverError::EmptySystem)
    );
}

#[test]
fn buffers_follow_the_kind() {
    let mut reg = BufferRegistry::new(Precision::F64);
    let n = 4;
    let mut comp = LinearSolverComponent::register(
        &mut reg,
        None,
        LinearSolverSpec {
            n,
            settings: LinearSolverSettings::default(),
        },
    )
    .expect("register");
    let id = comp.id();
    assert_eq!(reg.shared_elements(id), Ok(2 * n));
    assert_eq!(
        reg.location_settings(id),
        Ok(vec![
            "preconditioned_vec_location".into(),
            "temp_location".into()
        ])
    );
    let mut s = LinearSolverSettings {
        kind: LinearSolverKind::Bicgstab,
        ..Default::default()
    };
    comp.reconfigure(&mut reg, s).expect("bicgstab");
    assert_eq!(reg.shared_elements(id), Ok(5 * n));
    s.preconditioner = PreconditionerKind::Jacobi;
    comp.reconfigure(&mut reg, s).expect("jacobi");
    assert_eq!(reg.shared_elements(id), Ok(6 * n));
    s.kind = LinearSolverKind::Lu;
    comp.reconfigure(&mut reg, s).expect("lu");
    assert_eq!(reg.shared_elements(id), Ok(n * n + n));
    assert_eq!(reg.buffer(id, "lu_matrix").map(|b| b.size), Ok(n * n));
}

// Lane blocks: every lane of a block solves exactly, bit for bit, what its
// run solves alone, however the lanes' iterations end.

const N: usize = 6;
const LANE_RUNS: usize = 12;

/// Run `run`'s matrix, right-hand side and initial guess:
/// 0–5. diagonally dominant (symmetric for even runs), converging after
///      different numbers of iterations (run 3 from a nonzero guess);
/// 6. a zero right-hand side: converged before any iteration;
/// 7. the zero matrix: breakdown (`lu`: singular);
/// 8. a NaN entry: non-finite;
/// 9. symmetric indefinite: the projections stall at the limit;
/// 10. rows reversed: `lu` pivots, the iterations struggle;
/// 11. scaled by 10³: large residuals.
fn lane_system(run: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let dominant = |seed: u64, symmetric: bool| matrix(N, seed, symmetric);
    let a = match run {
        0..=6 => dominant(100 + run as u64, run.is_multiple_of(2)),
        7 => vec![0.0; N * N],
        8 => {
            let mut a = dominant(7, false);
            a[2 * N + 3] = f64::NAN;
            a
        }
        9 => {
            let mut a = dominant(9, true);
            for i in 0..N {
                a[i * N + i] *= if i % 2 == 0 { 1.0 } else { -1.0 };
            }
            a
        }
        10 => {
            let a = dominant(10, false);
            (0..N * N).map(|k| a[(N - 1 - k / N) * N + k % N]).collect()
        }
        _ => dominant(11, false).iter().map(|v| 1e3 * v).collect(),
    };
    let (_, mut b) = truth(&a, N, run as u64);
    if run == 6 {
        b = vec![0.0; N];
    }
    if run == 7 {
        b = vec![1.0; N];
    }
    let x0 = vec![if run == 3 { 0.5 } else { 0.0 }; N];
    (a, b, x0)
}

/// One lane of a block solve: the outcome, the final `x` and `rhs` (as
/// f64 bits) and the operator calls made for it.
type LaneResult = (LinearOutcome, Vec<u64>, Vec<u64>, u32);

const SENTINEL: f64 = -777.25;

fn bits<T: JitReal>(v: LaneBuf<'_, T>, l: usize) -> Vec<u64> {
    v.lane(l)
        .iter()
        .map(|c| c.get().to_f64().to_bits())
        .collect()
}

/// Solves a block of `runs.len()` lanes, lane `l` being run `runs[l]`, in
/// the lanes of `mask`. A block of more than one lane starts with every
/// arena cell, and the masked-off lanes of `x` and `rhs`, at a sentinel,
/// and checks that the masked-off lanes still hold it and were never
/// operated on. Returns the lanes of `mask`.
fn solve_block<T: JitReal>(
    settings: LinearSolverSettings,
    runs: &[usize],
    mask: LaneMask,
) -> Vec<(usize, LaneResult)> {
    let w = runs.len();
    let mut reg = BufferRegistry::new(T::PRECISION);
    let comp = LinearSolverComponent::register(&mut reg, None, LinearSolverSpec { n: N, settings })
        .expect("register");
    let solver = comp.cpu::<T>(&reg).expect("build");
    let arena = RunArena::<T>::with_lanes(reg.arena_layout(comp.id()).expect("layout"), w);
    let sentinel = T::from_f64(SENTINEL);
    if w > 1 {
        for c in arena.cells() {
            c.set(sentinel);
        }
    }
    let (rhs_cells, x_cells) = (
        cells::<T>(&vec![SENTINEL; N * w]),
        cells::<T>(&vec![SENTINEL; N * w]),
    );
    let (rhs, x) = (LaneBuf::new(&rhs_cells, w), LaneBuf::new(&x_cells, w));
    let mut matrices = Vec::new();
    for (l, &run) in runs.iter().enumerate() {
        let (a, b, x0) = lane_system(run);
        matrices.push(a.iter().map(|&v| T::from_f64(v)).collect());
        if mask.contains(l) {
            for i in 0..N {
                rhs.set(i, l, T::from_f64(b[i]));
                x.set(i, l, T::from_f64(x0[i]));
            }
        }
    }
    let op = Dense::new(N, matrices);
    let out = solver.solve(&op, rhs, x, &arena, mask);
    let untouched = |v: LaneBuf<'_, T>, l: usize| v.lane(l).iter().all(|c| c.get() == sentinel);
    for l in LaneMask::all(w).without(mask).lanes() {
        let what = format!("masked-off lane {l} of {w} ({mask:?}, {settings:?})");
        assert!(untouched(x, l) && untouched(rhs, l), "{what}");
        let lane_cells = arena.cells().iter().skip(l).step_by(w);
        assert!(
            lane_cells.into_iter().all(|c| c.get() == sentinel),
            "{what}: arena"
        );
        assert_eq!(op.calls[l].get(), 0, "{what}: operator calls");
    }
    mask.lanes()
        .map(|l| (l, (out[l], bits(x, l), bits(rhs, l), op.calls[l].get())))
        .collect()
}

/// `lu`, then every iterative solver and preconditioner with a limit of
/// 40 iterations, then of 4.
fn lane_settings(tol: f64) -> Vec<LinearSolverSettings> {
    let mut all = vec![LinearSolverSettings {
        kind: LinearSolverKind::Lu,
        ..Default::default()
    }];
    for krylov_max_iters in [40, 4] {
        for kind in KINDS {
            for preconditioner in PRECONDS {
                all.push(LinearSolverSettings {
                    kind,
                    preconditioner,
                    preconditioner_order: 2,
                    krylov_tolerance: tol,
                    krylov_max_iters,
                });
            }
        }
    }
    all
}

fn lanes_match_their_runs<T: JitReal>(tol: f64) {
    for settings in lane_settings(tol) {
        let alone: Vec<LaneResult> = (0..LANE_RUNS)
            .map(|run| {
                solve_block::<T>(settings, &[run], LaneMask::all(1))[0]
                    .1
                    .clone()
            })
            .collect();
        let what = format!("{settings:?} {:?}", T::PRECISION);
        // The runs end in different ways.
        let (converged, failed): (Vec<_>, Vec<_>) = alone.iter().partition(|r| r.0.converged);
        let iterations: Vec<u32> = converged.iter().map(|r| r.0.iterations).collect();
        if settings.kind == LinearSolverKind::Lu {
            assert!(
                converged.len() >= 9 && failed.len() == 2,
                "{what}: {alone:?}"
            );
            // A failed factorisation (singular, NaN) leaves the guess.
            for r in &failed {
                assert!(r.1.iter().all(|&b| b == 0), "{what}: {r:?}");
            }
        } else if settings.krylov_max_iters == 4 {
            // Some converge, some stop at the limit.
            assert!(
                failed.iter().any(|r| r.0.iterations == 4) && !iterations.is_empty(),
                "{what}: {alone:?}"
            );
        } else {
            assert!(converged.len() >= 6, "{what}: {alone:?}");
            let started = iterations.iter().filter(|&&i| i > 0);
            assert!(
                iterations.contains(&0) && iterations.iter().max() > started.min(),
                "{what}: {iterations:?}"
            );
            // Breakdown in the first iteration.
            assert!(
                failed.iter().any(|r| r.0.iterations == 1),
                "{what}: {alone:?}"
            );
        }
        for w in [2, 4, 8, 16] {
            let runs: Vec<usize> = (0..w).map(|l| (5 * l + w + 1) % LANE_RUNS).collect();
            for mask in [LaneMask::all(w), LaneMask::from_fn(w, |l| l % 4 != 2)] {
                for (l, result) in solve_block::<T>(settings, &runs, mask) {
                    assert_eq!(
                        result, alone[runs[l]],
                        "{what}: lane {l} of {w} (run {}, {mask:?})",
                        runs[l]
                    );
                }
            }
        }
    }
}

#[test]
fn lanes_solve_exactly_what_their_runs_solve_alone_f64() {
    lanes_match_their_runs::<f64>(1e-10);
}

#[test]
fn lanes_solve_exactly_what_their_runs_solve_alone_f32() {
    lanes_match_their_runs::<f32>(1e-5);
}
