//! `cubie emit`: the CUDA C of a solve's kernel, with no GPU: one device
//! function per component, the same bytes every time, written to a file
//! on request, and a clear refusal of what the backend does not emit yet.

mod common;

use common::{cubie, example, text};

#[test]
fn emit_prints_one_function_per_component_the_same_every_time() {
    let model = example("lorenz.toml");
    let args = ["emit", &model, "--algorithm", "tsit5", "--precision", "f32"];
    let first = cubie(&args);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let source = text(&first.stdout);
    for function in [
        "void cubie_dxdt(",
        "void cubie_observables(",
        "float cubie_error_norm(",
        "int cubie_propose(",
        "float cubie_initial_dt(",
        "cubie_step_report cubie_step(",
        "void cubie_loop(",
        "extern \"C\" __global__ void cubie_solve(",
    ] {
        assert_eq!(source.matches(function).count(), 1, "{function}");
    }
    // Constants are literals of the precision; buffers come from the registry.
    assert!(source.contains("2.6666667f"), "beta baked in");
    assert!(source.contains("float* stage_rhs = shared + 0;"));
    // Time is double in every precision; no buffer of an f32 kernel is.
    assert!(!source.contains("[[maybe_unused]] double"));
    let again = cubie(&args);
    assert_eq!(first.stdout, again.stdout, "deterministic");
    // The user's locations are the registry's.
    let local = cubie(&[
        "emit",
        &model,
        "--algorithm",
        "tsit5",
        "--set",
        "stage_rhs_location=local",
    ]);
    assert!(text(&local.stdout).contains("double stage_rhs[3] = {};"));
}

#[test]
fn emit_writes_a_file_of_any_family_and_reports_bad_settings_in_one_line() {
    let dir = std::env::temp_dir().join(format!("cubie-emit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kernel.cu");
    let model = example("lorenz.toml");
    let out = cubie(&[
        "emit",
        &model,
        "--algorithm",
        "rk4",
        "--dt",
        "0.001",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains("One explicit Runge-Kutta step (4 stages)"));
    assert!(text(&out.stderr).contains("lines"));

    let implicit = cubie(&["emit", &model, "--algorithm", "radau_iia_5"]);
    assert!(implicit.status.success(), "{}", text(&implicit.stderr));
    let source = text(&implicit.stdout);
    assert!(source.contains("One fully implicit step (3 stages)"));
    assert!(
        source.contains("cubie_newton_solve(problem, z, 1, solver_scratch, newton_persistent)")
    );

    let refused = cubie(&[
        "emit",
        &model,
        "--algorithm",
        "radau_iia_5",
        "--set",
        "linear_solver=gauss",
    ]);
    assert!(!refused.status.success());
    let err = text(&refused.stderr);
    assert!(err.contains("gauss") && err.contains("bicgstab"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn plan_with_the_cuda_backend_gives_the_kernels_layout_and_launch() {
    let model = example("lorenz.toml");
    let out = cubie(&[
        "plan",
        &model,
        "--algorithm",
        "tsit5",
        "--backend",
        "cuda",
        "--runs",
        "1000",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    // tsit5 on 3 states: stage_rhs (3) and stage_accumulator (6 x 3) shared,
    // the FSAL cache overlaid on stage_rhs.
    assert!(report.contains("(f64, cuda backend)"), "{report}");
    assert!(
        report.contains("cuda launch: 128 runs per block, 8 blocks for 1000 runs, 21504 shared bytes per block (168 per run)"),
        "{report}"
    );
    // The CPU's plan of the same solve keeps its stages in registers.
    let cpu = text(&cubie(&["plan", &model, "--algorithm", "tsit5"]).stdout);
    assert!(!cpu.contains("cuda launch"));
    assert!(cpu.contains("shared 0 (0 bytes)"), "{cpu}");
}
