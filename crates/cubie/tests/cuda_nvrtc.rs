//! NVRTC compiles the generated kernel of every algorithm, with every
//! linear solver and preconditioner, in both precisions, for sm_90 (PTX for `compute_90`),
//! with no error and no warning. No GPU is needed: only the NVRTC library
//! (`pip install nvidia-cuda-nvrtc` brings one; `.ci/run` installs it and
//! puts it on the loader's path). Skipped with a message where it cannot
//! be loaded. Kernels with every summary metric and with time-varying
//! drivers (both lookups: computed on even samples, bisected otherwise)
//! are held to the same standard.

mod common;

use cubie::backend::cuda::nvrtc;
use cubie::controllers::ControllerOptions;
use cubie::drivers::DriverSeries;
use cubie::outputs::{METRIC_NAMES, OutputSettings};
use cubie::step::algorithms;
use cubie::system::Model;
use cubie::time_loop::LoopSettings;
use cubie::{Precision, SolverSettings, emit_cuda};

#[test]
fn every_emitted_kernel_compiles_for_sm_90_without_warnings() {
    if !nvrtc::available() {
        assert!(
            std::env::var("CUBIE_REQUIRE_NVRTC").is_err(),
            "NVRTC is required here but cannot be loaded"
        );
        eprintln!("note: NVRTC cannot be loaded; the NVRTC compile check is skipped");
        return;
    }
    let mut compiled = 0;
    // Every algorithm with its default solvers, and the implicit solvers'
    // other kinds and preconditioners on one algorithm of each family.
    // The variants only in f64: the solvers' code does not depend on it.
    let both = [Precision::F32, Precision::F64];
    let mut cases: Vec<(&str, Vec<String>, &[Precision])> = algorithms()
        .iter()
        .map(|a| (a.name, Vec::new(), both.as_slice()))
        .collect();
    for solver in ["minimal_residual", "steepest_descent", "bicgstab"] {
        let variants = [
            ("kvaerno5", "none"),
            ("kvaerno5", "jacobi"),
            ("kvaerno5", "neumann"),
            ("rodas3p", "none"),
            ("rodas3p", "jacobi"),
            ("rodas3p", "neumann"),
            ("radau_iia_5", "jacobi"),
        ];
        for (algorithm, preconditioner) in variants {
            cases.push((
                algorithm,
                vec![
                    format!("linear_solver={solver}"),
                    format!("preconditioner={preconditioner}"),
                ],
                &both[1..],
            ));
        }
    }
    for (name, named, precisions) in &cases {
        let algorithm = algorithms()
            .iter()
            .find(|a| a.name == *name)
            .expect("a catalogued algorithm");
        for &precision in *precisions {
            let settings = SolverSettings {
                algorithm: algorithm.name.parse().expect("an algorithm"),
                precision: Some(precision),
                time: LoopSettings {
                    save_every: Some(0.01),
                    ..LoopSettings::default()
                },
                control: ControllerOptions {
                    dt: (!algorithm.adaptive).then_some(1e-3),
                    ..ControllerOptions::default()
                },
                named: named.clone(),
                ..SolverSettings::default()
            };
            let kernel = emit_cuda(&common::lorenz(precision), &settings).expect("emits");
            let what = format!("{} {named:?} {precision:?}", algorithm.name);
            let ptx =
                nvrtc::compile(&kernel, "compute_90").unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(ptx.log.is_empty(), "{what}: NVRTC says\n{}", ptx.log);
            assert!(ptx.ptx.contains(".entry cubie_solve"), "{what}");
            compiled += 1;
        }
    }
    assert!(compiled >= 70, "{compiled} kernels");
}

#[test]
fn a_compile_error_names_the_source_line() {
    if !nvrtc::available() {
        eprintln!("note: NVRTC cannot be loaded; skipped");
        return;
    }
    let settings = SolverSettings::default();
    let mut kernel = emit_cuda(&common::lorenz(Precision::F64), &settings).expect("emits");
    kernel.source = kernel
        .source
        .replace("int evaluations = 0;", "int evaluations = undeclared_name;");
    let err = nvrtc::compile(&kernel, "compute_90").expect_err("does not compile");
    let message = err.to_string();
    assert!(message.contains("undeclared_name"), "{message}");
    assert!(message.contains("cubie_kernel.cu("), "{message}");
}

/// PTX for `compute_90` with an empty log, or a panic naming `what`.
fn compiles_cleanly(kernel: &cubie::backend::cuda::CudaKernel, what: &str) {
    let ptx = nvrtc::compile(kernel, "compute_90").unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(ptx.log.is_empty(), "{what}: NVRTC says\n{}", ptx.log);
    assert!(ptx.ptx.contains(".entry cubie_solve"), "{what}");
}

#[test]
fn summaries_and_drivers_compile_for_sm_90_without_warnings() {
    if !nvrtc::available() {
        assert!(
            std::env::var("CUBIE_REQUIRE_NVRTC").is_err(),
            "NVRTC is required here but cannot be loaded"
        );
        eprintln!("note: NVRTC cannot be loaded; the NVRTC compile check is skipped");
        return;
    }
    let mut outputs: Vec<String> = ["state", "counters"].map(String::from).to_vec();
    outputs.extend(METRIC_NAMES.iter().map(|m| m.replace("[n]", "[2]")));
    let summaries = SolverSettings {
        precision: Some(Precision::F32),
        time: LoopSettings {
            save_every: Some(0.01),
            ..LoopSettings::default()
        },
        outputs: OutputSettings {
            outputs: Some(outputs),
            summarise_every: Some(0.1),
            ..OutputSettings::default()
        },
        ..SolverSettings::default()
    };
    let kernel = emit_cuda(&common::lorenz(Precision::F32), &summaries).expect("emits");
    assert!(kernel.sizes.summaries_per_run() > 0);
    compiles_cleanly(&kernel, "every summary metric");

    let model = Model::builder("dx = -x + stim * load\nforcing = stim")
        .states([("x", 0.0)])
        .drivers([("stim", 0.0), ("load", 1.0), ("w", 2.0)])
        .observables(["forcing"])
        .build()
        .expect("model");
    let even = DriverSeries::evenly_spaced(
        model.drivers(),
        0.0,
        0.25,
        [
            ("stim", vec![0.0, 1.0, 0.0, -1.0, 0.0]),
            ("load", vec![1.0; 5]),
        ],
    )
    .expect("series");
    let uneven = DriverSeries::with_times(
        model.drivers(),
        vec![0.0, 0.1, 0.5, 0.7],
        [("stim", vec![0.0, 1.0, -1.0, 2.0])],
    )
    .expect("series");
    for (what, series, named, precision) in [
        (
            "cubic, wrap, even",
            even,
            "driver_extrapolation=wrap",
            Precision::F64,
        ),
        (
            "linear, hold, uneven",
            uneven,
            "driver_interpolation=linear",
            Precision::F32,
        ),
    ] {
        let settings = SolverSettings {
            precision: Some(precision),
            time: LoopSettings {
                save_every: Some(0.01),
                ..LoopSettings::default()
            },
            named: vec![named.to_string()],
            drivers: Some(series),
            ..SolverSettings::default()
        };
        let kernel = emit_cuda(&model, &settings).expect("emits");
        assert!(
            kernel.source.contains("cubie_driver_coefficients"),
            "{what}"
        );
        compiles_cleanly(&kernel, what);
    }
}
