//! The CUDA runtime's parts that need no GPU: the module cache (NVRTC
//! only; skipped with a message where NVRTC cannot be loaded), the typed
//! errors of a machine without a driver or device, and the placement of
//! buffers within the shared-memory budget of a block.

mod common;

use cubie::backend::Backend;
use cubie::backend::cuda::cache::KernelCache;
use cubie::backend::cuda::device::{CudaDevice, driver_available};
use cubie::backend::cuda::placement::{DEFAULT_SHARED_BUDGET, SharedBudget};
use cubie::backend::cuda::{CudaError, CudaKernel, nvrtc};
use cubie::controllers::ControllerOptions;
use cubie::system::Model;
use cubie::{Precision, SolveError, Solver, SolverSettings, emit_cuda, emit_cuda_for};

fn kernel(algorithm: &str) -> CudaKernel {
    let settings = SolverSettings {
        algorithm: algorithm.parse().expect("an algorithm"),
        control: ControllerOptions {
            dt: Some(1e-3),
            ..ControllerOptions::default()
        },
        ..SolverSettings::default()
    };
    emit_cuda(&common::lorenz(Precision::F32), &settings).expect("emits")
}

fn nvrtc_or_skip() -> bool {
    if !nvrtc::available() {
        assert!(
            std::env::var("CUBIE_REQUIRE_NVRTC").is_err(),
            "NVRTC is required here but cannot be loaded"
        );
        eprintln!("note: NVRTC cannot be loaded; the module cache tests are skipped");
        return false;
    }
    true
}

#[test]
fn a_second_compile_of_the_same_kernel_is_a_cache_hit() {
    if !nvrtc_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cache = KernelCache::at(dir.path().join("kernels"));
    let rk4 = kernel("classical-rk4");

    let cold = cache.compile(&rk4, "compute_90").expect("compiles");
    assert!(!cold.hit, "the first compile is a miss");
    assert!(cold.store_error.is_none(), "{:?}", cold.store_error);
    let path = cold.path.clone().expect("a cache file");
    assert!(path.starts_with(dir.path()));
    let stored = std::fs::read_to_string(&path).expect("the module was stored");
    assert_eq!(stored, cold.ptx);
    let written = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");

    let warm = cache.compile(&rk4, "compute_90").expect("from the cache");
    assert!(warm.hit, "the second compile is a hit");
    assert_eq!(warm.ptx, cold.ptx);
    assert_eq!(warm.path.as_ref(), Some(&path));
    let after = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(written, after, "a hit writes nothing");
    eprintln!(
        "compile: cold {:.3} s, cached {:.6} s",
        cold.time.as_secs_f64(),
        warm.time.as_secs_f64()
    );

    // Another architecture or another source is a miss, with its own file.
    let other_arch = cache.compile(&rk4, "compute_80").expect("compiles");
    assert!(!other_arch.hit);
    assert_ne!(other_arch.path.as_ref(), Some(&path));
    let tsit5 = kernel("tsit5");
    let other_source = cache.compile(&tsit5, "compute_90").expect("compiles");
    assert!(!other_source.hit);
    assert_ne!(other_source.path.as_ref(), Some(&path));
    let files = std::fs::read_dir(dir.path().join("kernels"))
        .expect("lists")
        .count();
    assert_eq!(files, 3, "one module per (source, arch), no temporary left");
}

#[test]
fn a_damaged_cache_file_is_recompiled_and_replaced() {
    if !nvrtc_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cache = KernelCache::at(dir.path());
    let rk4 = kernel("classical-rk4");
    let cold = cache.compile(&rk4, "compute_90").expect("compiles");
    let path = cold.path.expect("a cache file");
    std::fs::write(&path, "half a mod").expect("damages it");
    let again = cache.compile(&rk4, "compute_90").expect("compiles");
    assert!(!again.hit, "a damaged module is not used");
    assert_eq!(std::fs::read_to_string(&path).expect("reads"), cold.ptx);
}

#[test]
fn a_cache_that_cannot_be_written_still_compiles() {
    if !nvrtc_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    // A file where the cache directory should be.
    let blocked = dir.path().join("not-a-dir");
    std::fs::write(&blocked, "").expect("a file");
    let cache = KernelCache::at(&blocked);
    let compiled = cache.compile(&kernel("classical-rk4"), "compute_90");
    let compiled = compiled.expect("the compile itself succeeds");
    assert!(!compiled.hit);
    assert!(compiled.store_error.is_some());
    assert!(compiled.ptx.contains(".entry cubie_solve"));
}

#[test]
fn without_a_gpu_the_cuda_backend_fails_with_one_typed_line() {
    if let Ok(device) = CudaDevice::open() {
        eprintln!(
            "note: a GPU is present ({}); the no-GPU error test is skipped",
            device.info.name
        );
        return;
    }
    let settings = SolverSettings {
        backend: Backend::Cuda,
        ..SolverSettings::default()
    };
    let err = Solver::new(&common::lorenz(Precision::F64), &settings).expect_err("no GPU");
    let message = err.to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    match err {
        SolveError::Cuda(CudaError::NoDriver) => {
            assert!(!driver_available());
            assert!(message.contains("no CUDA driver"), "{message}");
            assert!(message.contains("libcuda"), "{message}");
        }
        SolveError::Cuda(CudaError::NoDevice) => {
            assert!(driver_available());
            assert!(message.contains("no CUDA device"), "{message}");
        }
        other => panic!("not a driver or device error: {other}"),
    }
}

/// A model of `n` decoupled states: big enough shared buffers to pass a
/// block's budget.
fn wide_model(n: usize) -> Model {
    let equations: String = (0..n).map(|i| format!("dx{i} = -k * x{i}\n")).collect();
    let states: Vec<(String, f64)> = (0..n).map(|i| (format!("x{i}"), 1.0)).collect();
    Model::builder(&equations)
        .name("wide")
        .precision(Precision::F64)
        .states(states.iter().map(|(n, v)| (n.as_str(), *v)))
        .parameters([("k", 1.0)])
        .build()
        .expect("a valid model")
}

fn emit_with(model: &Model, named: &[&str]) -> Result<CudaKernel, SolveError> {
    let settings = SolverSettings {
        algorithm: "tsit5".parse().expect("tsit5"),
        named: named.iter().map(|s| s.to_string()).collect(),
        ..SolverSettings::default()
    };
    emit_cuda(model, &settings)
}

#[test]
fn default_placements_move_to_local_until_a_block_fits() {
    let model = wide_model(16);
    // Every buffer in shared would be 16 * 7 * 8 * 128 bytes per block.
    let kernel = emit_with(&model, &[]).expect("fits by moving defaults");
    assert!(
        kernel.shared_bytes_per_block() <= DEFAULT_SHARED_BUDGET,
        "{} bytes",
        kernel.shared_bytes_per_block()
    );
    // The largest default buffer went first; the small one could stay.
    assert!(
        kernel.source.contains("stage_rhs = shared"),
        "stage_rhs stays"
    );
    // A small model keeps its defaults in shared.
    let small = emit_with(&wide_model(2), &[]).expect("fits");
    assert!(small.source.contains("stage_accumulator = shared"));
    assert!(small.source.contains("stage_rhs = shared"));
}

#[test]
fn a_user_placement_wins_over_the_default() {
    let model = wide_model(16);
    // The user keeps the accumulator shared: the default stage_rhs moves.
    let kernel = emit_with(&model, &["stage_accumulator_location=shared"]);
    let err = kernel.expect_err("16 * 6 * 8 * 128 bytes cannot fit 48 KiB");
    let message = err.to_string();
    assert!(message.contains("stage_accumulator"), "{message}");
    assert!(message.contains("49152"), "names the budget: {message}");
    assert!(
        !message.contains("stage_rhs"),
        "stage_rhs was moved: {message}"
    );

    // 7 * 6 = 42 elements, 43 with the odd stride: 43 * 8 * 128 bytes fit
    // once stage_rhs is local.
    let kernel = emit_with(&wide_model(7), &["stage_accumulator_location=shared"])
        .expect("fits once stage_rhs is local");
    assert!(kernel.source.contains("stage_accumulator = shared"));
    assert!(!kernel.source.contains("stage_rhs = shared"));
}

#[test]
fn a_user_placement_that_cannot_fit_names_every_shared_buffer() {
    let err = emit_with(
        &wide_model(16),
        &[
            "stage_rhs_location=shared",
            "stage_accumulator_location=shared",
        ],
    )
    .expect_err("too big");
    let message = err.to_string();
    assert!(matches!(
        err,
        SolveError::Cuda(CudaError::SharedMemory { .. })
    ));
    for word in ["stage_rhs", "stage_accumulator", "49152", "128 runs"] {
        assert!(message.contains(word), "`{word}` in: {message}");
    }
    assert!(!message.contains('\n'), "one line: {message}");
}

#[test]
fn on_a_device_user_placements_may_use_its_maximum_and_defaults_keep_48_kib() {
    let model = wide_model(16);
    let settings = SolverSettings {
        algorithm: "tsit5".parse().expect("tsit5"),
        named: vec!["stage_accumulator_location=shared".into()],
        ..SolverSettings::default()
    };
    // An H100/H200 block may opt in to 227 KiB.
    let device = SharedBudget::device(227 << 10);
    assert_eq!(device.default, DEFAULT_SHARED_BUDGET);
    // 16 * 6 = 96 elements of the user's, 97 with the odd stride:
    // 97 * 8 * 128 = 99,328 bytes, over 48 KiB, so the default stage_rhs
    // still moves out, and the rest fits the maximum.
    let kernel = emit_cuda_for(&model, &settings, device).expect("fits the device");
    assert_eq!(kernel.shared_bytes_per_block(), 99_328);
    assert!(kernel.source.contains("stage_accumulator = shared"));
    assert!(!kernel.source.contains("stage_rhs = shared"));
    // A device of 64 KiB refuses it, naming its budget.
    let small = emit_cuda_for(&model, &settings, SharedBudget::device(64 << 10));
    let message = small.expect_err("over 64 KiB").to_string();
    assert!(message.contains("65536 bytes"), "{message}");
    // Without user placements nothing goes past the default budget.
    let defaults = SolverSettings {
        algorithm: "tsit5".parse().expect("tsit5"),
        ..SolverSettings::default()
    };
    let kernel = emit_cuda_for(&model, &defaults, device).expect("fits");
    assert!(kernel.shared_bytes_per_block() <= DEFAULT_SHARED_BUDGET);
}
