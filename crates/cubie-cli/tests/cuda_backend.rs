//! `--backend cuda` on the command line: without a GPU one line and a
//! failing status (no panic); `cubie plan --backend cuda` sizes the
//! launches; a placement over the shared-memory budget is refused with
//! the buffers named. With a GPU, `cubie solve --backend cuda --timings`
//! reports where the time went.

mod common;

use common::{cubie, example, text};

fn gpu_present() -> bool {
    cubie::backend::cuda::CudaDevice::open().is_ok()
}

#[test]
fn without_a_gpu_solve_fails_with_one_line() {
    if gpu_present() {
        eprintln!("note: a GPU is present; the no-GPU error test is skipped");
        return;
    }
    let lorenz = example("lorenz.toml");
    let out = cubie(&[
        "solve",
        &lorenz,
        "--backend",
        "cuda",
        "--sweep",
        "rho=0:21:8",
    ]);
    assert!(!out.status.success());
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with("error: no CUDA driver") || stderr.starts_with("error: no CUDA device"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn with_a_gpu_solve_reports_its_timings() {
    if !gpu_present() {
        eprintln!("note: no GPU; the --timings test is skipped");
        return;
    }
    let lorenz = example("lorenz.toml");
    let out = cubie(&[
        "solve",
        &lorenz,
        "--backend",
        "cuda",
        "--timings",
        "--algorithm",
        "rk4",
        "--dt",
        "0.001",
        "--sweep",
        "rho=0:21:4096",
    ]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for key in [
        "compile", "upload", "kernel", "download", "launches", "total",
    ] {
        assert!(
            stderr.contains(&format!("timing: {key} ")),
            "{key} in {stderr}"
        );
    }
    assert!(text(&out.stdout).contains("4096 succeeded"));
}

#[test]
fn solve_refuses_an_unknown_backend() {
    let lorenz = example("lorenz.toml");
    let out = cubie(&["solve", &lorenz, "--backend", "tpu"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cpu, cuda"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn plan_states_how_launches_are_sized() {
    let lorenz = example("lorenz.toml");
    let out = cubie(&[
        "plan",
        &lorenz,
        "--algorithm",
        "rk4",
        "--dt",
        "0.001",
        "--backend",
        "cuda",
        "--runs",
        "2097152",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = stdout
        .lines()
        .find(|l| l.starts_with("cuda chunks:"))
        .unwrap_or_else(|| panic!("a chunks line in {stdout}"));
    // f64: initial and final state (3 + 3), rho: 7 * 8; status 4; 3 counters 24.
    assert!(line.contains("84 device bytes per run"), "{line}");
    assert!(line.contains("computed at solve time"), "{line}");
}

#[test]
fn plan_with_device_memory_counts_the_launches() {
    let lorenz = example("lorenz.toml");
    let plan = |memory: &str| {
        let out = cubie(&[
            "plan",
            &lorenz,
            "--algorithm",
            "rk4",
            "--dt",
            "0.001",
            "--backend",
            "cuda",
            "--runs",
            "2097152",
            "--device-memory",
            memory,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .find(|l| l.starts_with("cuda chunks:"))
            .map(str::to_string)
            .expect("a chunks line")
    };
    // 80 GiB hold all 2^21 runs of 84 bytes.
    assert!(plan("80G").contains("1 launches of up to 2097152 runs"));
    // 128 MiB: 64 MiB margin, 64 MiB / 84 B = 798,915 runs, cut to whole
    // blocks of 128: 798,848 runs, so 3 launches.
    let small = plan("128M");
    assert!(small.contains("3 launches of up to 798848 runs"), "{small}");
}

#[test]
fn plan_refuses_shared_placements_over_the_budget() {
    let dir = tempfile_dir();
    let model = dir.join("wide.toml");
    let equations: String = (0..16).map(|i| format!("dx{i} = -x{i}\n")).collect();
    let states: String = (0..16).map(|i| format!("x{i} = 1.0\n")).collect();
    std::fs::write(
        &model,
        format!("equations = \"\"\"\n{equations}\"\"\"\n[states]\n{states}"),
    )
    .expect("writes the model");
    let model = model.to_string_lossy().into_owned();
    let args = [
        "plan",
        model.as_str(),
        "--algorithm",
        "tsit5",
        "--backend",
        "cuda",
    ];
    // The defaults are moved to fit.
    let fits = cubie(&args);
    assert!(fits.status.success(), "{}", text(&fits.stderr));
    // The user's placement stays, and cannot fit.
    let mut over = args.to_vec();
    over.extend([
        "--set",
        "stage_rhs_location=shared",
        "--set",
        "stage_accumulator_location=shared",
    ]);
    let out = cubie(&over);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for word in ["stage_rhs", "stage_accumulator", "49152"] {
        assert!(stderr.contains(word), "`{word}` in {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh directory under the target dir (the CLI tests take no tempfile
/// dependency).
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cubie-cli-cuda-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    dir
}
