//! Helpers of the host-emulation tests: the compiler check, bit-for-bit
//! comparison of two results, and one solve on the CPU backend and on the
//! emulated CUDA kernel.

use std::process::Command;

use cubie::backend::Backend;
use cubie::batch::{GridKind, Sweep};
use cubie::results::SolveResult;
use cubie::system::Model;
use cubie::{Solver, SolverSettings};

/// True when a C++ compiler runs; in CI a missing one fails the test.
pub fn have_compiler() -> bool {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let found = Command::new(cxx).arg("--version").output().is_ok();
    assert!(found || !super::in_ci(), "no C++ compiler in CI");
    if !found {
        eprintln!("note: no C++ compiler found; the host emulation tests are skipped");
    }
    found
}

/// The first difference between two results, if any.
pub fn difference(cpu: &SolveResult, host: &SolveResult, what: &str) -> Option<String> {
    let result = std::panic::catch_unwind(|| assert_identical(cpu, host, what));
    result.err().map(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| what.to_string())
    })
}

/// Panics unless both results have the same arrays, bit for bit (any NaN
/// matching any NaN).
pub fn assert_identical(cpu: &SolveResult, host: &SolveResult, what: &str) {
    let names = |r: &SolveResult| {
        r.arrays()
            .iter()
            .map(|a| a.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(cpu), names(host), "{what}: the same arrays");
    for (a, b) in cpu.arrays().iter().zip(host.arrays()) {
        assert_eq!(a.shape, b.shape, "{what}: {}", a.name);
        match (a.data.to_f64(), b.data.to_f64()) {
            (Some(x), Some(y)) => {
                for (i, (p, q)) in x.iter().zip(&y).enumerate() {
                    assert!(
                        p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()),
                        "{what}: {}[{i}] is {p} on the CPU and {q} in the kernel",
                        a.name
                    );
                }
            }
            _ => assert_eq!(a.data, b.data, "{what}: {}", a.name),
        }
    }
}

/// `settings` solved for `sweep` on the CPU backend (generic step forms)
/// and on the host-emulated CUDA kernel.
pub fn both_with(
    model: &Model,
    settings: SolverSettings,
    sweep: Sweep,
) -> (SolveResult, SolveResult) {
    let solve = |backend: Backend| {
        let mut settings = settings.clone();
        if backend == Backend::Cpu {
            settings.named.push("fused_steps=false".into());
        }
        settings.backend = backend;
        let solver = Solver::new(model, &settings).expect("solver");
        let runs = solver
            .grid(std::slice::from_ref(&sweep), GridKind::Combinatorial)
            .expect("grid");
        solver.solve(&runs).expect("solve")
    };
    (solve(Backend::Cpu), solve(Backend::CudaHostEmulation))
}
