//! Helpers shared by the integration tests: the Lorenz model and the
//! external Julia reference data.

#![allow(dead_code)]

use std::path::PathBuf;

use cubie::Precision;
use cubie::batch::{BatchInputs, GridKind, Sweep};
use cubie::system::Model;
use cubie::{Solver, SolverSettings};

/// The Lorenz system of the reference ensemble.
pub fn lorenz(precision: Precision) -> Model {
    Model::builder(
        "dx = sigma * (y - x)\n\
         dy = x * (rho - z) - y\n\
         dz = x * y - beta * z",
    )
    .name("lorenz")
    .precision(precision)
    .states([("x", 1.0), ("y", 0.0), ("z", 0.0)])
    .parameters([("rho", 21.0)])
    .constants([("sigma", 10.0), ("beta", 8.0 / 3.0)])
    .build()
    .expect("the Lorenz model is valid")
}

/// The Julia reference folder, or `None` (with a message) when it is not
/// beside the repository.
pub fn reference_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CUBIE_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/lorenz_julia")
        });
    if dir.join("julia_reference_ne.npz").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: reference data not found at {} (set CUBIE_REFERENCE_DIR)",
            dir.display()
        );
        None
    }
}

/// The reference archive.
pub struct Reference {
    archive: npyz::npz::NpzArchive<std::io::BufReader<std::fs::File>>,
}

impl Reference {
    pub fn open(dir: &std::path::Path) -> Self {
        Reference {
            archive: npyz::npz::NpzArchive::open(dir.join("julia_reference_ne.npz"))
                .expect("reference archive opens"),
        }
    }

    /// An array widened to f64, or `None` if absent.
    pub fn get(&mut self, name: &str) -> Option<Vec<f64>> {
        let array = self.archive.by_name(name).expect("archive readable")?;
        let single = matches!(array.dtype(), npyz::DType::Plain(t) if t.num_bytes() == Some(4));
        let values = if single {
            array
                .into_vec::<f32>()
                .ok()?
                .into_iter()
                .map(f64::from)
                .collect()
        } else {
            array.into_vec::<f64>().ok()?
        };
        Some(values)
    }
}

/// The reference runs: rho from the archive, the default initial state.
pub fn reference_inputs(solver: &Solver, rho: &[f64]) -> BatchInputs {
    solver
        .grid(&[Sweep::new("rho", rho.to_vec())], GridKind::Verbatim)
        .expect("rho sweep")
}

/// Relative RMS distance of `values` from `golden` over every run and state.
pub fn relative_error(values: &[f64], golden: &[f64]) -> f64 {
    let num: f64 = values
        .iter()
        .zip(golden)
        .map(|(v, g)| (v - g) * (v - g))
        .sum();
    let den: f64 = golden.iter().map(|g| g * g).sum();
    (num / den).sqrt()
}

/// Solves the reference ensemble and returns the final states.
pub fn solve_reference(settings: &SolverSettings, rho: &[f64]) -> Vec<f64> {
    let model = lorenz(settings.precision.unwrap_or(Precision::F64));
    let solver = Solver::new(&model, settings).expect("solver builds");
    let result = solver
        .solve(&reference_inputs(&solver, rho))
        .expect("solve runs");
    assert!(
        result.status().iter().all(|s| *s == 0),
        "{}: some runs failed: {:?}",
        settings.algorithm,
        result
            .status()
            .iter()
            .filter(|s| **s != 0)
            .take(5)
            .collect::<Vec<_>>()
    );
    result.final_state()
}
