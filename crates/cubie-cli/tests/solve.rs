//! `cubie solve`, `cubie plan` and `cubie algorithms` from the outside:
//! real solves write their files; bad input is a clear error, a non-zero
//! exit and no output file.

mod common;

use common::{cubie, example, text};

use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cubie-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[test]
fn solve_writes_npz_and_csv() {
    let dir = scratch("ok");
    let npz = dir.join("lorenz.npz");
    let model = example("lorenz.toml");
    let out = cubie(&[
        "solve",
        &model,
        "--algorithm",
        "tsit5",
        "--sweep",
        "rho=0:21:8",
        "--save-every",
        "0.25",
        "--out",
        npz.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("8 runs with tsit5"),
        "{}",
        text(&out.stdout)
    );
    let mut archive = npyz::npz::NpzArchive::open(&npz).unwrap();
    let shape = archive.by_name("state").unwrap().unwrap().shape().to_vec();
    assert_eq!(shape, vec![8, 5, 3]);
    let time = archive
        .by_name("time")
        .unwrap()
        .unwrap()
        .into_vec::<f64>()
        .unwrap();
    assert_eq!(time, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    let status = archive
        .by_name("status")
        .unwrap()
        .unwrap()
        .into_vec::<i32>()
        .unwrap();
    assert_eq!(status, vec![0; 8]);

    let csv = dir.join("runs.csv");
    let out = cubie(&[
        "solve",
        &model,
        "--algorithm",
        "rk4",
        "--dt",
        "0.01",
        "--precision",
        "f32",
        "--sweep",
        "rho=1,2,3",
        "--out",
        csv.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "--quiet prints nothing");
    let table = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(table.lines().count(), 4);
    assert!(table.starts_with("run,status,rho,x_initial"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn solve_reads_runs_from_csv() {
    let dir = scratch("inputs");
    let runs = dir.join("runs.csv");
    std::fs::write(&runs, "rho,x\n0,1\n28,2\n").unwrap();
    let out = cubie(&[
        "solve",
        &example("lorenz.toml"),
        "--inputs",
        runs.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 runs"),
        "{}",
        text(&out.stdout)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_input_fails_clearly_and_writes_nothing() {
    let dir = scratch("bad");
    let model = example("lorenz.toml");
    let bad_csv = dir.join("bad.csv");
    std::fs::write(&bad_csv, "rho,x\n0,1\n2,oops\n").unwrap();
    let out_file = dir.join("out.npz");
    let out_path = out_file.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--algorithm", "rk99"], "unknown algorithm `rk99`"),
        (vec!["--sweep", "rhoo=1,2"], "unknown variable `rhoo`"),
        (
            vec![
                "--grid", "verbatim", "--sweep", "rho=1,2", "--sweep", "x=1,2,3",
            ],
            "equal length",
        ),
        (vec!["--inputs", bad_csv.to_str().unwrap()], "line 3"),
        (vec!["--duration", "-1"], "duration must be positive"),
        (vec!["--algorithm", "rk4", "--dt", "0"], "dt"),
        (vec!["--algorithm", "rk4", "--dt", "-0.1"], "dt"),
        (vec!["--algorithm", "rk4"], "needs a step size"),
        (vec!["--set", "kpp=1"], "unknown setting `kpp`"),
        (
            vec!["--controller", "pi", "--algorithm", "rk4", "--dt", "0.1"],
            "error estimate",
        ),
        (vec!["--sweep", "rho=1:2"], "bad sweep"),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["solve", model.as_str(), "--out", out_path];
        args.extend(extra.iter().copied());
        let out = cubie(&args);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{extra:?} should fail");
        assert!(
            stderr.to_lowercase().contains(&expected.to_lowercase()),
            "{extra:?}: stderr `{stderr}` lacks `{expected}`"
        );
        assert!(stderr.starts_with("error:"), "{extra:?}: {stderr}");
        assert!(!out_file.exists(), "{extra:?} left an output file");
    }
    // Only the CSV written by this test is in the folder.
    assert_eq!(entries(&dir), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn plan_shows_the_registry_layout() {
    let model = example("lorenz.toml");
    let out = cubie(&["plan", &model, "--algorithm", "tsit5"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("kernel/loop/step"), "{table}");
    assert!(table.contains("stage_cache"), "{table}");
    let out = cubie(&[
        "plan",
        &model,
        "--json",
        "--set",
        "stage_rhs_location=local",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = json["rows"].as_array().unwrap();
    let stage_rhs = rows.iter().find(|r| r["name"] == "stage_rhs").unwrap();
    assert_eq!(stage_rhs["location"], "local");
}

#[test]
fn algorithms_lists_every_algorithm_as_json() {
    let out = cubie(&["algorithms", "--json"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = json.as_array().unwrap();
    let tsit5 = all.iter().find(|a| a["name"] == "tsit5").unwrap();
    assert_eq!(tsit5["order"], 5);
    assert_eq!(tsit5["adaptive"], true);
    assert_eq!(tsit5["family"], "explicit");
    let rk45 = all
        .iter()
        .find(|a| a["name"] == "dormand-prince-54")
        .unwrap();
    assert!(
        rk45["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "rk45")
    );
    for a in all {
        for key in ["name", "aliases", "family", "order", "adaptive"] {
            assert!(a.get(key).is_some(), "{a} lacks {key}");
        }
    }
}

#[test]
fn solve_takes_drivers_and_writes_summaries() {
    let dir = scratch("drivers");
    let model = dir.join("forced.toml");
    std::fs::write(
        &model,
        "equations = \"dx = -x + stim\\nout = 2 * x\"\nobservables = [\"out\"]\n\
         [states]\nx = 0.0\n[drivers]\nstim = 0.0\n",
    )
    .unwrap();
    let forcing = dir.join("forcing.csv");
    let rows: String = (0..=60)
        .map(|i| format!("{},{}\n", i as f64 * 0.1, (i as f64 * 0.1).sin()))
        .collect();
    std::fs::write(&forcing, format!("t,stim\n{rows}")).unwrap();
    let npz = dir.join("out.npz");
    let out = cubie(&[
        "solve",
        model.to_str().unwrap(),
        "--algorithm",
        "tsit5",
        "--duration",
        "5",
        "--drivers",
        forcing.to_str().unwrap(),
        "--save-every",
        "0.5",
        "--outputs",
        "state,observables,mean,peaks[1]",
        "--summarise-every",
        "2.5",
        "--out",
        npz.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut archive = npyz::npz::NpzArchive::open(&npz).unwrap();
    let x = archive
        .by_name("state")
        .unwrap()
        .unwrap()
        .into_vec::<f64>()
        .unwrap();
    let observed = archive
        .by_name("observables")
        .unwrap()
        .unwrap()
        .into_vec::<f64>()
        .unwrap();
    // The observable is twice the state at every save.
    for (o, x) in observed.iter().zip(&x) {
        assert!((o - 2.0 * x).abs() < 1e-12);
    }
    // x' = -x + sin t from 0: x(5) = (sin 5 - cos 5 + e^-5) / 2.
    let exact = (5f64.sin() - 5f64.cos() + (-5f64).exp()) / 2.0;
    assert!(
        (x[x.len() - 1] - exact).abs() < 1e-4,
        "{} vs {exact}",
        x[x.len() - 1]
    );
    let shape = archive
        .by_name("summary_mean")
        .unwrap()
        .unwrap()
        .shape()
        .to_vec();
    assert_eq!(shape, vec![1, 2, 2]);
    assert!(
        archive.by_name("time").unwrap().is_none(),
        "time was not asked for"
    );

    let one_sample = dir.join("one.csv");
    std::fs::write(&one_sample, "t,stim\n0,1\n").unwrap();
    let out = cubie(&[
        "solve",
        model.to_str().unwrap(),
        "--drivers",
        one_sample.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("sample"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_time_series_csv_has_a_status_column_and_nan_after_a_failure() {
    let dir = scratch("failed-series");
    let model = dir.join("root.toml");
    std::fs::write(
        &model,
        "equations = \"dx = sqrt(c - t)\"\n[states]\nx = 0.0\n[parameters]\nc = 10.0\n",
    )
    .unwrap();
    let csv = dir.join("series.csv");
    let out = cubie(&[
        "solve",
        model.to_str().unwrap(),
        "--save-every",
        "0.25",
        "--sweep",
        "c=10,0.5",
        "--out",
        csv.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<Vec<&str>> = table.lines().map(|r| r.split(',').collect()).collect();
    assert_eq!(rows[0], ["run", "status", "time", "x"]);
    assert_eq!(rows.len(), 1 + 2 * 5);
    for row in &rows[1..6] {
        assert_eq!(&row[..2], ["0", "0"], "{table}");
    }
    // Run 1 fails at t = 0.5, where its derivative turns NaN.
    let status: i32 = rows[6][1].parse().unwrap();
    assert!(status & 16 != 0, "{table}");
    let values: Vec<&str> = rows[6..].iter().map(|r| r[3]).collect();
    assert!(values[..3].iter().all(|v| *v != "NaN"), "{table}");
    assert_eq!(values[3..], ["NaN", "NaN"], "{table}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `--codegen`: without a C compiler, `c` is a clear error naming it and
/// `auto`, the default, falls back to Cranelift; a name that is no
/// generator is refused.
#[test]
fn codegen_without_a_c_compiler() {
    let dir = scratch("codegen");
    let model = example("lorenz.toml");
    let run = |codegen: &[&str], name: &str| {
        let out = dir.join(name);
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_cubie"))
            .env("CC", "/nonexistent/cubie-test-cc")
            .args([
                "solve",
                &model,
                "--algorithm",
                "classical-rk4",
                "--dt",
                "0.01",
                "--sweep",
                "rho=0:21:32",
                "--out",
                out.to_str().unwrap(),
            ])
            .args(codegen)
            .output()
            .expect("the cubie binary runs");
        (output, out)
    };
    let (out, path) = run(&["--codegen", "c"], "c.npz");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("/nonexistent/cubie-test-cc"), "{err}");
    assert!(!path.exists(), "no output after an error");
    for (codegen, name) in [
        (&["--codegen", "auto"][..], "auto.npz"),
        (&[], "default.npz"),
    ] {
        let (out, path) = run(codegen, name);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(path.exists());
    }
    let (out, _) = run(&["--codegen", "llvm"], "llvm.npz");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cranelift, c or auto"),
        "{}",
        text(&out.stderr)
    );
}
