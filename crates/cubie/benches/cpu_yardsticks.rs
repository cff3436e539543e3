//! The CPU backend on one thread against plain C loops over runs: the
//! yardsticks of the SIMD-lanes work. Prints one table; it asserts nothing
//! (speed is measured here, never in tests).
//!
//! - Lorenz, 65,536 runs, rho = linspace(0, 21), t in [0, 1], final state
//!   only: classical RK4 at dt = 0.001 (C: runs in structure-of-arrays
//!   tiles, the loop over runs innermost, so that `-O3 -march=native`
//!   vectorizes it across runs) and tsit5 at atol = rtol = 1e-6 (C: scalar,
//!   run after run, OrdinaryDiffEq's PI controller and error norm, the
//!   tableau printed from cubie's own), in f64 and f32; the C compiled at
//!   `-O3 -march=native`, at the same with `-ffp-contract=off` (no fused
//!   multiply-adds but those written, as cubie's own code; gcc contracts
//!   `a * b + c` by default) and at `-O2 -fno-tree-vectorize`.
//! - The stiff ensemble: Van der Pol at mu ~ 1000 (eps = 1/mu^2 swept over
//!   [0.5e-6, 2e-6]), 4,096 runs, t in [0, 2], 1e-6, with radau_iia_5,
//!   kvaerno5 and rodas3p (cubie only: compare with an earlier run's table).
//!
//! cubie runs three times per Lorenz case: in lane blocks of one run (the
//! scalar path), of the host's default width with Cranelift's lane code,
//! and with the C compiler's (`--codegen c`, what the default `auto`
//! picks where a C compiler runs; its default width). The
//! stiff cases run twice (no C lane code there). `CUBIE_BENCH_LANES`
//! replaces the default widths. Compilation is not timed.
//!
//! Run with `cargo bench -p cubie --bench cpu_yardsticks`. The C parts are
//! skipped with a line when no C compiler (`$CC`, else `cc`) runs.
//! `CUBIE_BENCH_RUNS` replaces 65,536.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use cubie::backend::cpu::jit::host_cc;
use cubie::batch::{BatchInputs, GridKind, Sweep};
use cubie::controllers::{ControllerKind, ControllerOptions};
use cubie::step::erk_tableau;
use cubie::system::Model;
use cubie::time_loop::LoopSettings;
use cubie::{CodeGenerator, Precision, Solver, SolverSettings};

/// Timed repetitions; the fastest counts.
const REPEATS: usize = 3;

fn lorenz() -> Model {
    Model::builder("dx = sigma * (y - x)\ndy = x * (rho - z) - y\ndz = x * y - beta * z")
        .states([("x", 1.0), ("y", 0.0), ("z", 0.0)])
        .parameters([("rho", 21.0)])
        .constants([("sigma", 10.0), ("beta", 8.0 / 3.0)])
        .build()
        .expect("model")
}

fn van_der_pol() -> Model {
    Model::builder("dy1 = y2\ndy2 = ((1 - y1^2) * y2 - y1) / eps")
        .states([("y1", 2.0), ("y2", 0.0)])
        .parameters([("eps", 1e-6)])
        .build()
        .expect("model")
}

/// A one-thread solver of `model`, `lanes` runs per lane block (the
/// default when `None`), its lane code from `codegen`.
fn solver(
    model: &Model,
    algorithm: &str,
    precision: Precision,
    control: ControllerOptions,
    duration: f64,
    lanes: Option<usize>,
    codegen: CodeGenerator,
) -> Solver {
    let settings = SolverSettings {
        algorithm: algorithm.parse().expect("a known algorithm"),
        precision: Some(precision),
        threads: Some(1),
        lanes,
        codegen,
        time: LoopSettings {
            duration,
            ..LoopSettings::default()
        },
        control,
        ..SolverSettings::default()
    };
    Solver::new(model, &settings).expect("solver")
}

/// The fastest of [`REPEATS`] solves, in seconds, and the sum of the
/// first state's final values (to check the C against).
fn time_cubie(solver: &Solver, batch: &BatchInputs) -> (f64, f64) {
    let mut best = f64::INFINITY;
    let mut checksum = 0.0;
    for _ in 0..REPEATS {
        let start = Instant::now();
        let result = solver.solve(batch).expect("solve");
        best = best.min(start.elapsed().as_secs_f64());
        let finals = result
            .arrays()
            .iter()
            .find(|a| a.name == "final_state")
            .expect("final states");
        let n = finals.shape.last().copied().unwrap_or(1).max(1);
        let values = finals.data.to_f64().expect("real final states");
        checksum = values.iter().step_by(n).sum();
    }
    (best, checksum)
}

/// The C yardsticks, for `real` = `float` or `double`.
fn c_source() -> String {
    let tsit5 = erk_tableau("tsit5").expect("tsit5");
    let s = tsit5.stages();
    let b_hat = tsit5.b_hat().expect("an embedded pair");
    let mut c = String::from(YARDSTICK_HEAD);
    // The tableau as cubie has it, printed to round-trip.
    let _ = writeln!(c, "#define S {s}");
    let _ = write!(c, "static const double A[S][S] = {{");
    for i in 0..s {
        let row: Vec<String> = (0..s)
            .map(|j| {
                if j < i {
                    format!("{:?}", tsit5.a(i, j))
                } else {
                    "0.0".into()
                }
            })
            .collect();
        let _ = write!(c, "{{{}}},", row.join(", "));
    }
    let _ = writeln!(c, "}};");
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(c, "static const double B[S] = {{{}}};", list(tsit5.b()));
    let _ = writeln!(c, "static const double BHAT[S] = {{{}}};", list(b_hat));
    let _ = writeln!(c, "static const double C[S] = {{{}}};", list(tsit5.c()));
    let _ = writeln!(c, "#define FSAL {}", i32::from(tsit5.fsal()));
    c.push_str(YARDSTICK_BODY);
    c
}

const YARDSTICK_HEAD: &str = r#"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
typedef REAL real;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
#define SIGMA ((real)10.0)
#define BETA ((real)(8.0 / 3.0))
"#;

const YARDSTICK_BODY: &str = r#"
static inline void lorenz(real rho, const real* y, real* f) {
    f[0] = SIGMA * (y[1] - y[0]);
    f[1] = y[0] * (rho - y[2]) - y[1];
    f[2] = y[0] * y[1] - BETA * y[2];
}

/* Classical RK4, tiles of runs in structure-of-arrays, runs innermost. */
#define TILE 1024
static void rk4(int n, const real* rho, real* x, real* y, real* z) {
    const real h = (real)0.001, half = (real)0.5 * h, sixth = h / (real)6.0;
    for (int b = 0; b < n; b += TILE) {
        const int m = n - b < TILE ? n - b : TILE;
        real* X = x + b; real* Y = y + b; real* Z = z + b; const real* R = rho + b;
        for (int step = 0; step < 1000; ++step) {
            for (int i = 0; i < m; ++i) {
                const real x0 = X[i], y0 = Y[i], z0 = Z[i], r = R[i];
                const real a1 = SIGMA * (y0 - x0), b1 = x0 * (r - z0) - y0, c1 = x0 * y0 - BETA * z0;
                const real x1 = x0 + half * a1, y1 = y0 + half * b1, z1 = z0 + half * c1;
                const real a2 = SIGMA * (y1 - x1), b2 = x1 * (r - z1) - y1, c2 = x1 * y1 - BETA * z1;
                const real x2 = x0 + half * a2, y2 = y0 + half * b2, z2 = z0 + half * c2;
                const real a3 = SIGMA * (y2 - x2), b3 = x2 * (r - z2) - y2, c3 = x2 * y2 - BETA * z2;
                const real x3 = x0 + h * a3, y3 = y0 + h * b3, z3 = z0 + h * c3;
                const real a4 = SIGMA * (y3 - x3), b4 = x3 * (r - z3) - y3, c4 = x3 * y3 - BETA * z3;
                X[i] = x0 + sixth * (a1 + 2 * a2 + 2 * a3 + a4);
                Y[i] = y0 + sixth * (b1 + 2 * b2 + 2 * b3 + b4);
                Z[i] = z0 + sixth * (c1 + 2 * c2 + 2 * c3 + c4);
            }
        }
    }
}

/* Tsit5 with OrdinaryDiffEq's PI controller (beta1 = 7/50, beta2 = 2/25,
   gamma = 0.9, qmin = 1/5, qmax = 10, qoldinit = 1e-4) and RMS norm. */
static void tsit5(real rho, real* y, real tol) {
    real k[S][3], ys[3], yn[3];
    double t = 0.0;
    real dt = (real)1e-3, qold = (real)1e-4;
    lorenz(rho, y, k[0]);
    while (t < 1.0) {
        if (t + dt > 1.0) dt = (real)(1.0 - t);
        for (int i = 1; i < S; ++i) {
            for (int e = 0; e < 3; ++e) {
                real v = y[e];
                for (int j = 0; j < i; ++j) v += dt * (real)A[i][j] * k[j][e];
                ys[e] = v;
            }
            lorenz(rho, ys, k[i]);
        }
        real norm = 0;
        for (int e = 0; e < 3; ++e) {
            real v = y[e], err = 0;
            for (int j = 0; j < S; ++j) { v += dt * (real)B[j] * k[j][e]; err += dt * (real)(B[j] - BHAT[j]) * k[j][e]; }
            yn[e] = v;
            const real scale = tol + tol * fmax(fabs(y[e]), fabs(v));
            norm += (err / scale) * (err / scale);
        }
        const real eest = sqrt(norm / 3);
        const real q11 = pow(eest, (real)0.14);
        if (eest <= 1) {
            real q = q11 / pow(qold, (real)0.08) / (real)0.9;
            q = q < (real)0.1 ? (real)0.1 : (q > 5 ? 5 : q);
            t += dt;
            memcpy(y, yn, sizeof yn);
            if (FSAL) memcpy(k[0], k[S - 1], sizeof k[0]); else lorenz(rho, y, k[0]);
            qold = eest > (real)1e-4 ? eest : (real)1e-4;
            dt = dt / q;
        } else {
            real q = q11 / (real)0.9;
            dt = dt / (q > 5 ? 5 : q);
        }
    }
}

int main(int argc, char** argv) {
    const int n = atoi(argv[2]);
    const int adaptive = strcmp(argv[1], "tsit5") == 0;
    real* rho = malloc(n * sizeof(real));
    real* x = malloc(n * sizeof(real));
    real* y = malloc(n * sizeof(real));
    real* z = malloc(n * sizeof(real));
    double best = 1e300, checksum = 0;
    for (int rep = 0; rep < 3; ++rep) {
        for (int i = 0; i < n; ++i) { rho[i] = (real)(21.0 * i / (n - 1)); x[i] = 1; y[i] = 0; z[i] = 0; }
        const double start = now();
        if (adaptive) {
            for (int i = 0; i < n; ++i) { real s[3] = {x[i], y[i], z[i]}; tsit5(rho[i], s, (real)1e-6); x[i] = s[0]; }
        } else {
            rk4(n, rho, x, y, z);
        }
        const double took = now() - start;
        if (took < best) best = took;
        checksum = 0;
        for (int i = 0; i < n; ++i) checksum += x[i];
    }
    printf("%.6f %.9g\n", best, checksum);
    return 0;
}
"#;

/// A yardstick compiled with `flags` for `real`, or why not.
fn compile(
    dir: &std::path::Path,
    real: &str,
    flags: &[&str],
) -> Result<std::path::PathBuf, String> {
    let source = dir.join("yardsticks.c");
    if !source.exists() {
        std::fs::write(&source, c_source()).map_err(|e| e.to_string())?;
    }
    let exe = dir.join(format!(
        "yardstick-{real}-{}",
        flags.join("").replace(['-', '='], "")
    ));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args(flags)
        .arg(format!("-DREAL={real}"))
        .arg("-o")
        .arg(&exe)
        .arg(&source)
        .arg("-lm")
        .output()
        .map_err(|e| format!("`{cc}` cannot run: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(exe)
}

/// `(seconds, checksum)` of one yardstick run.
fn time_c(exe: &std::path::Path, case: &str, runs: usize) -> Option<(f64, f64)> {
    let out = Command::new(exe)
        .arg(case)
        .arg(runs.to_string())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace().map(|w| w.parse::<f64>().ok());
    Some((words.next()??, words.next()??))
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let runs: usize = std::env::var("CUBIE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(65_536);
    let lanes: Option<usize> = std::env::var("CUBIE_BENCH_LANES")
        .ok()
        .and_then(|v| v.parse().ok());
    let dir = tempfile::tempdir().expect("a temporary folder");
    let yardsticks: [(&str, &[&str]); 3] = [
        ("C -O3", &["-O3", "-march=native"]),
        ("C exact", &["-O3", "-march=native", "-ffp-contract=off"]),
        ("C -O2", &["-O2", "-fno-tree-vectorize"]),
    ];
    println!("Lorenz, {runs} runs, t in [0, 1], final state only, one thread; best of {REPEATS}");
    let have_cc = host_cc::compiler_version().is_some();
    println!(
        "cubie: 1 lane, lane blocks by Cranelift, lane blocks by the C compiler (--codegen c, \
         the default's choice here); ratios: cubie s / C s for each; C exact: -O3 \
         -ffp-contract=off"
    );
    let mut header = format!(
        "{:<12} {:>9} {:>9} {:>9}",
        "case", "1 lane", "cranelift", "c"
    );
    for (name, _) in &yardsticks {
        let _ = write!(header, " {name:>9} {:>7} {:>7}", "ratio", "c ratio");
    }
    println!("{header}  checksums (cubie, C)");
    let model = lorenz();
    for (precision, real) in [(Precision::F64, "double"), (Precision::F32, "float")] {
        for (case, algorithm, control) in [
            (
                "rk4",
                "classical-rk4",
                ControllerOptions {
                    kind: Some(ControllerKind::Fixed),
                    dt: Some(1e-3),
                    ..ControllerOptions::default()
                },
            ),
            (
                "tsit5",
                "tsit5",
                ControllerOptions {
                    atol: Some(vec![1e-6]),
                    rtol: Some(vec![1e-6]),
                    ..ControllerOptions::default()
                },
            ),
        ] {
            let cranelift = CodeGenerator::Cranelift;
            let build = |lanes, codegen| {
                solver(
                    &model,
                    algorithm,
                    precision,
                    control.clone(),
                    1.0,
                    lanes,
                    codegen,
                )
            };
            let scalar_solver = build(Some(1), cranelift);
            let lane_solver = build(lanes, cranelift);
            let batch = lane_solver
                .grid(
                    &[Sweep::linspace("rho", 0.0, 21.0, runs)],
                    GridKind::Combinatorial,
                )
                .expect("grid");
            let (scalar_seconds, _) = time_cubie(&scalar_solver, &batch);
            let (seconds, checksum) = time_cubie(&lane_solver, &batch);
            let mut sums = vec![format!("{checksum:.6e}")];
            let c_seconds = have_cc.then(|| {
                let (c_seconds, c_sum) = time_cubie(&build(lanes, CodeGenerator::HostC), &batch);
                sums.push(format!("{c_sum:.6e}"));
                c_seconds
            });
            let mut line = format!(
                "{:<12} {scalar_seconds:>9.4} {seconds:>9.4} {:>9}",
                format!("{case} {precision:?}"),
                c_seconds.map_or("no C".into(), |s| format!("{s:.4}"))
            );
            for (_, flags) in &yardsticks {
                match compile(dir.path(), real, flags).map(|exe| time_c(&exe, case, runs)) {
                    Ok(Some((yard, c_sum))) => {
                        let c_ratio = c_seconds.map_or("-".into(), |s| format!("{:.2}", s / yard));
                        let _ = write!(line, " {yard:>9.4} {:>7.2} {c_ratio:>7}", seconds / yard);
                        sums.push(format!("{c_sum:.6e}"));
                    }
                    Ok(None) => {
                        let _ = write!(line, " {:>9} {:>7} {:>7}", "failed", "-", "-");
                    }
                    Err(why) => {
                        let first = why.lines().next().unwrap_or("").to_string();
                        let _ = write!(line, " {:>9} {:>7} {:>7}", "no C", "-", "-");
                        sums.push(first);
                    }
                }
            }
            println!("{line}  {}", sums.join(", "));
        }
    }

    let stiff_runs = 4096;
    println!();
    println!(
        "Van der Pol, mu ~ 1000, {stiff_runs} runs, t in [0, 2], atol = rtol = 1e-6, f64, one thread"
    );
    let model = van_der_pol();
    for algorithm in ["radau_iia_5", "kvaerno5", "rodas3p"] {
        let control = ControllerOptions {
            atol: Some(vec![1e-6]),
            rtol: Some(vec![1e-6]),
            ..ControllerOptions::default()
        };
        let scalar_solver = solver(
            &model,
            algorithm,
            Precision::F64,
            control.clone(),
            2.0,
            Some(1),
            CodeGenerator::Cranelift,
        );
        let lane_solver = solver(
            &model,
            algorithm,
            Precision::F64,
            control,
            2.0,
            lanes,
            CodeGenerator::Cranelift,
        );
        let batch = lane_solver
            .grid(
                &[Sweep::linspace("eps", 0.5e-6, 2e-6, stiff_runs)],
                GridKind::Combinatorial,
            )
            .expect("grid");
        let (scalar_seconds, scalar_sum) = time_cubie(&scalar_solver, &batch);
        let (seconds, checksum) = time_cubie(&lane_solver, &batch);
        println!(
            "{algorithm:<22} 1 lane {scalar_seconds:>8.4} s, lanes {seconds:>8.4} s ({:.2}x)  checksums {scalar_sum:.6e}, {checksum:.6e}",
            scalar_seconds / seconds
        );
    }
}
