//! Helpers shared by the integration tests: the Lorenz model and the
//! external Julia reference data.

#![allow(dead_code)]

pub mod emulation;

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

/// The reference archive's file name inside its folder.
pub const REFERENCE_FILE: &str = "julia_reference_ne.npz";

/// The copy of the Julia reference kept in the repository.
pub fn default_reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/lorenz_julia")
}

/// True when the tests run in CI (`CI=true`, as CI services set it).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Where the reference is: `Ok(Some(dir))` when `dir` (else the
/// repository's copy) holds the archive; when it does not, an error naming
/// the missing file in CI, where a silent skip would hide a lost check, and
/// `Ok(None)` elsewhere.
pub fn locate_reference(dir: Option<PathBuf>, ci: bool) -> Result<Option<PathBuf>, String> {
    let dir = dir.unwrap_or_else(default_reference_dir);
    let file = dir.join(REFERENCE_FILE);
    if file.is_file() {
        Ok(Some(dir))
    } else if ci {
        Err(format!(
            "reference data missing: {} not found (CI=true, so the reference tests \
             cannot be skipped; restore tests/data/lorenz_julia or set CUBIE_REFERENCE_DIR)",
            file.display()
        ))
    } else {
        Ok(None)
    }
}

/// The Julia reference folder (`CUBIE_REFERENCE_DIR`, else the repository's
/// copy), or `None` with a printed line when it is missing outside CI.
/// In CI a missing reference fails the test.
pub fn reference_dir() -> Option<PathBuf> {
    let given = std::env::var_os("CUBIE_REFERENCE_DIR").map(PathBuf::from);
    match locate_reference(given.clone(), in_ci()) {
        Ok(Some(dir)) => Some(dir),
        Ok(None) => {
            eprintln!(
                "skipped: reference data not found at {} (set CUBIE_REFERENCE_DIR)",
                given
                    .unwrap_or_else(default_reference_dir)
                    .join(REFERENCE_FILE)
                    .display()
            );
            None
        }
        Err(message) => panic!("{message}"),
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

/// Julia's error must lie in this band for a comparison to mean anything:
/// above float32 round-off, below where a method's order stops showing.
pub const BAND: (f64, f64) = (3e-5, 3e-2);

/// Checks `algorithms` against the Julia reference at every fixed dt
/// (`kind = "fixed"`) or tolerance (`"adaptive"`) where Julia's error lies
/// in [`BAND`]: cubie's error against the golden states must be at most
/// twice Julia's, unless `known_deviation(algorithm, step, cubie_error)`
/// excuses the point. Prints every comparison.
pub fn check_against_julia(
    kind: &str,
    algorithms: &[&str],
    known_deviation: &dyn Fn(&str, f64, f64) -> bool,
) {
    use cubie::controllers::ControllerOptions;
    use cubie::time_loop::LoopSettings;

    let Some(dir) = reference_dir() else { return };
    let step_key = if kind == "fixed" { "dts" } else { "tols" };
    let mut reference = Reference::open(&dir);
    let rho = reference.get("golden_rho").expect("golden_rho");
    let golden = reference.get("golden_states").expect("golden_states");
    let per_point = rho.len() * 3;
    let mut failures = Vec::new();
    for &algorithm in algorithms {
        let adaptive = cubie::step::find_algorithm(algorithm)
            .expect("known algorithm")
            .adaptive;
        if kind == "adaptive" && !adaptive {
            eprintln!("{kind} {algorithm}: no error estimate, skipped");
            continue;
        }
        let steps = reference
            .get(&format!("{kind}_{algorithm}_{step_key}"))
            .unwrap_or_else(|| panic!("no {kind} reference for {algorithm}"));
        let finals = reference
            .get(&format!("{kind}_{algorithm}_finals"))
            .expect("finals");
        let mut compared = 0;
        for (i, &step) in steps.iter().enumerate() {
            let julia = relative_error(&finals[i * per_point..(i + 1) * per_point], &golden);
            if !(BAND.0..=BAND.1).contains(&julia) {
                continue;
            }
            let control = if kind == "fixed" {
                ControllerOptions {
                    dt: Some(step),
                    kind: Some(cubie::controllers::ControllerKind::Fixed),
                    ..ControllerOptions::default()
                }
            } else {
                // Julia's settings for the adaptive reference.
                ControllerOptions {
                    dt: Some(0.01),
                    dt_min: Some(1e-6),
                    dt_max: Some(0.5),
                    atol: Some(vec![step]),
                    rtol: Some(vec![step]),
                    ..ControllerOptions::default()
                }
            };
            let settings = SolverSettings {
                algorithm: algorithm.parse().unwrap(),
                precision: Some(Precision::F32),
                time: LoopSettings {
                    duration: 1.0,
                    ..LoopSettings::default()
                },
                control,
                ..SolverSettings::default()
            };
            let ours = relative_error(&solve_reference(&settings, &rho), &golden);
            eprintln!(
                "{kind} {algorithm} {step_key}={step:e}: cubie {ours:.3e}, julia {julia:.3e}"
            );
            if known_deviation(algorithm, step, ours) {
                eprintln!("  (known deviation)");
            } else if ours > 2.0 * julia {
                failures.push(format!(
                    "{kind} {algorithm} at {step:e}: cubie {ours:.3e} > 2 x julia {julia:.3e}"
                ));
            }
            compared += 1;
        }
        assert!(
            compared > 0,
            "{kind} {algorithm}: no reference point in the band"
        );
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
