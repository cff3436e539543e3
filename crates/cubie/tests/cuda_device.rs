//! The CUDA backend on a GPU: the kernel launched on device 0 against the
//! CPU backend. Needs a GPU, its driver and NVRTC; without a device every
//! test prints a line and passes (set `CUBIE_REQUIRE_GPU=1` to fail
//! instead, as `scripts/gpu-check.sh` does).
//!
//! Fixed-step Lorenz (explicit and implicit steps) uses only `+ - * /` and `sqrt` and the GPU does not contract
//! `a * b + c` (NVRTC `--fmad=false`), so it must be bit-identical to the
//! CPU. Adaptive controllers call `pow`, whose last bit may differ
//! between CUDA's and the host's libraries, so adaptive runs are compared
//! to a tolerance.

mod common;

use cubie::backend::Backend;
use cubie::backend::cuda::cache::KernelCache;
use cubie::backend::cuda::{CudaDevice, DeviceKernel};
use cubie::batch::{GridKind, Sweep};
use cubie::controllers::{ControllerKind, ControllerOptions};
use cubie::results::SolveResult;
use cubie::system::Model;
use cubie::time_loop::LoopSettings;
use cubie::{Precision, Solver, SolverSettings, emit_cuda};

fn device_or_skip() -> Option<CudaDevice> {
    match CudaDevice::open() {
        Ok(device) => Some(device),
        Err(e) => {
            assert!(
                std::env::var("CUBIE_REQUIRE_GPU").is_err(),
                "a GPU is required here: {e}"
            );
            eprintln!("note: no usable GPU ({e}); the device tests are skipped");
            None
        }
    }
}

fn settings(
    algorithm: &str,
    precision: Precision,
    adaptive: bool,
    backend: Backend,
) -> SolverSettings {
    let control = if adaptive {
        ControllerOptions {
            atol: Some(vec![1e-6]),
            rtol: Some(vec![1e-6]),
            ..ControllerOptions::default()
        }
    } else {
        ControllerOptions {
            kind: Some(ControllerKind::Fixed),
            dt: Some(1e-3),
            ..ControllerOptions::default()
        }
    };
    SolverSettings {
        algorithm: algorithm.parse().expect("an algorithm"),
        precision: Some(precision),
        time: LoopSettings {
            duration: 1.0,
            save_every: Some(0.1),
            ..LoopSettings::default()
        },
        control,
        // The CPU's generic forms are what the kernel mirrors.
        named: if backend == Backend::Cpu {
            vec!["fused_steps=false".into()]
        } else {
            Vec::new()
        },
        backend,
        ..SolverSettings::default()
    }
}

fn solve(model: &Model, settings: &SolverSettings, runs: usize) -> SolveResult {
    let solver = Solver::new(model, settings).expect("solver");
    let batch = solver
        .grid(
            &[Sweep::linspace("rho", 0.0, 21.0, runs)],
            GridKind::Combinatorial,
        )
        .expect("grid");
    solver.solve(&batch).expect("solve")
}

/// Compares every array; `tolerance` 0 asks for identical bits.
fn compare(cpu: &SolveResult, gpu: &SolveResult, tolerance: f64, what: &str) {
    assert_eq!(cpu.arrays().len(), gpu.arrays().len(), "{what}");
    for (a, b) in cpu.arrays().iter().zip(gpu.arrays()) {
        assert_eq!(a.name, b.name, "{what}");
        assert_eq!(a.shape, b.shape, "{what}: {}", a.name);
        let counts = a.name.contains("counter") || a.name.contains("status");
        match (a.data.to_f64(), b.data.to_f64()) {
            (Some(x), Some(y)) if !(counts && tolerance > 0.0) => {
                for (i, (p, q)) in x.iter().zip(&y).enumerate() {
                    let same = p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan());
                    let close = (p - q).abs() <= tolerance * (1.0 + p.abs());
                    assert!(
                        same || (tolerance > 0.0 && close),
                        "{what}: {}[{i}] is {p} on the CPU and {q} on the GPU",
                        a.name
                    );
                }
            }
            // Step counts of adaptive runs may differ by a step or two.
            (Some(_), Some(_)) => {}
            _ => assert_eq!(a.data, b.data, "{what}: {}", a.name),
        }
    }
}

#[test]
fn fixed_step_lorenz_is_bit_identical_to_the_cpu() {
    if device_or_skip().is_none() {
        return;
    }
    let model = common::lorenz(Precision::F64);
    for precision in [Precision::F64, Precision::F32] {
        // Implicit steps too: Newton, LU and the norms use only `+ - * /`
        // and `sqrt`, which CUDA rounds as the host does.
        for algorithm in [
            "classical-rk4",
            "tsit5",
            "kvaerno5",
            "crank_nicolson",
            "radau_iia_5",
            "rodas3p",
        ] {
            let what = format!("{algorithm} {precision:?} fixed");
            // Not a multiple of the block size: the last block is partly idle.
            let cpu = solve(
                &model,
                &settings(algorithm, precision, false, Backend::Cpu),
                1000,
            );
            let gpu = solve(
                &model,
                &settings(algorithm, precision, false, Backend::Cuda),
                1000,
            );
            assert!(gpu.status().iter().all(|&s| s == 0), "{what}");
            compare(&cpu, &gpu, 0.0, &what);
        }
    }
}

#[test]
fn adaptive_lorenz_agrees_with_the_cpu() {
    if device_or_skip().is_none() {
        return;
    }
    let model = common::lorenz(Precision::F64);
    for (precision, tolerance) in [(Precision::F64, 1e-8), (Precision::F32, 1e-3)] {
        for algorithm in [
            "tsit5",
            "dormand-prince-54",
            "kvaerno5",
            "radau_iia_5",
            "rodas3p",
        ] {
            let what = format!("{algorithm} {precision:?} adaptive");
            let cpu = solve(
                &model,
                &settings(algorithm, precision, true, Backend::Cpu),
                777,
            );
            let gpu = solve(
                &model,
                &settings(algorithm, precision, true, Backend::Cuda),
                777,
            );
            assert_eq!(cpu.status(), gpu.status(), "{what}");
            compare(&cpu, &gpu, tolerance, &what);
        }
    }
}

#[test]
fn many_launches_give_the_result_of_one() {
    let Some(device) = device_or_skip() else {
        return;
    };
    let model = common::lorenz(Precision::F64);
    let settings = settings("classical-rk4", Precision::F64, false, Backend::Cuda);
    let kernel = emit_cuda(&model, &settings).expect("emits");
    let loaded = DeviceKernel::load(&device, &kernel, &KernelCache::disabled()).expect("loads");
    let n = 1000;
    let initial: Vec<f64> = (0..n).flat_map(|_| [1.0, 0.0, 0.0]).collect();
    let rho: Vec<f64> = (0..n).map(|i| 21.0 * i as f64 / n as f64).collect();
    let whole = loaded.run(n, &initial, &rho, None).expect("one launch");
    // 256 runs per launch: 4 launches, the last one partial.
    let parts = loaded
        .run_in_launches(n, &initial, &rho, None, 256)
        .expect("4 launches");
    assert_eq!(whole.final_state, parts.final_state);
    assert_eq!(whole.saved_states, parts.saved_states);
    assert_eq!(whole.status, parts.status);
    assert_eq!(whole.counters, parts.counters);
    assert_eq!(loaded.timings().launches, 1 + 4);
    assert!(loaded.timings().kernel.as_nanos() > 0);
}

#[test]
fn a_second_load_reads_the_module_cache() {
    let Some(device) = device_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cache = KernelCache::at(dir.path());
    let kernel = emit_cuda(
        &common::lorenz(Precision::F32),
        &settings("tsit5", Precision::F32, true, Backend::Cuda),
    )
    .expect("emits");
    let cold = DeviceKernel::load(&device, &kernel, &cache).expect("loads");
    let warm = DeviceKernel::load(&device, &kernel, &cache).expect("loads");
    assert!(!cold.timings().cached);
    assert!(warm.timings().cached);
    eprintln!(
        "compile on {}: cold {:.3} s, cached {:.6} s",
        device.info.name,
        cold.timings().compile.as_secs_f64(),
        warm.timings().compile.as_secs_f64()
    );
}

#[test]
fn more_than_48_kib_of_shared_memory_per_block_runs() {
    let Some(device) = device_or_skip() else {
        return;
    };
    // 12 states: tsit5's accumulator alone is 12 * 6 * 8 * 128 = 73,728
    // bytes per block, placed in shared by the user.
    let n = 12;
    let equations: String = (0..n)
        .map(|i| format!("dx{i} = -k * x{i} + 0.1 * x{}\n", (i + 1) % n))
        .collect();
    let states: Vec<(String, f64)> = (0..n).map(|i| (format!("x{i}"), 1.0 + i as f64)).collect();
    let model = Model::builder(&equations)
        .name("ring")
        .precision(Precision::F64)
        .states(states.iter().map(|(n, v)| (n.as_str(), *v)))
        .parameters([("k", 1.0)])
        .build()
        .expect("a valid model");
    if device.info.max_shared_per_block < 12 * 7 * 8 * 128 {
        eprintln!("note: the device has too little shared memory for this test");
        return;
    }
    let with = |backend: Backend| {
        let mut s = settings("tsit5", Precision::F64, false, backend);
        s.named.push("stage_accumulator_location=shared".into());
        s.named.push("stage_rhs_location=shared".into());
        let solver = Solver::new(&model, &s).expect("solver");
        let batch = solver
            .grid(
                &[Sweep::linspace("k", 0.5, 2.0, 300)],
                GridKind::Combinatorial,
            )
            .expect("grid");
        solver.solve(&batch).expect("solve")
    };
    compare(
        &with(Backend::Cpu),
        &with(Backend::Cuda),
        0.0,
        "ring, shared > 48 KiB",
    );
}
