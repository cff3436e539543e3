//! `cubie solve` at its limits: every time setting's bad values, negative
//! numbers without `=`, thread counts, errors printed once, and output
//! files that are whole or absent however the solve ends.

mod common;

use common::{cubie, text};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn lorenz() -> String {
    format!("{}/../../examples/lorenz.toml", env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cubie-limits-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_bad_time_value_is_a_clear_error() {
    let model = lorenz();
    let flags = [
        "--duration",
        "--t0",
        "--settling-time",
        "--dt",
        "--dt-min",
        "--dt-max",
        "--save-every",
        "--summarise-every",
        "--sample-summaries-every",
    ];
    // Values no time setting of these accepts with a one-second solve, or
    // that t0 (any finite start) and settling time (zero or more) refuse.
    for flag in flags {
        for value in ["NaN", "inf", "-inf", "1e999", "-1", "1e-300", "0"] {
            let accepted = match (flag, value) {
                ("--t0", "-1" | "0" | "1e-300") => true,
                ("--settling-time", "0" | "1e-300") => true,
                // Lower bound of an adaptive step: tiny is allowed.
                ("--dt-min", "1e-300") => true,
                _ => false,
            };
            let mut args = vec!["solve", &model, "--quiet", flag, value];
            if flag.contains("summar") {
                args.extend(["--outputs", "mean", "--save-every", "0.1"]);
                if flag == "--sample-summaries-every" {
                    args.extend(["--summarise-every", "0.5"]);
                }
            }
            let out = cubie(&args);
            let err = text(&out.stderr);
            assert!(!err.contains("panicked"), "{flag} {value}: {err}");
            assert_eq!(out.status.success(), accepted, "{flag} {value}: {err}");
            if !accepted {
                assert!(err.starts_with("error: "), "{flag} {value}: {err}");
                // cubie's own message, not clap's.
                assert!(
                    !err.contains("unexpected argument"),
                    "{flag} {value}: {err}"
                );
                assert!(err.len() < 400, "{flag} {value}: {err}");
            }
        }
    }
}

#[test]
fn negative_values_reach_cubies_own_checks() {
    let model = lorenz();
    let out = cubie(&["solve", &model, "--save-every", "-1"]);
    assert_eq!(
        text(&out.stderr).trim(),
        "error: save_every must be a positive finite number, got -1"
    );
    let out = cubie(&["solve", &model, "--atol", "-1"]);
    assert!(text(&out.stderr).contains("atol[0] = -1 is invalid"));
}

#[test]
fn huge_grids_and_saves_are_refused_with_the_memory_they_need() {
    let model = lorenz();
    // A batch is solved in chunks, so its size is bounded by the disk that
    // takes its results, not by memory.
    let dir = scratch("huge-grid");
    let npz = dir.join("huge.npz");
    let out = cubie(&[
        "solve",
        &model,
        "--sweep",
        "rho=0:1:100000",
        "--sweep",
        "x=0:1:100000",
        "--memory-limit",
        "1G",
        "--out",
        npz.to_str().unwrap(),
    ]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("huge.npz` needs about 1.3 TiB"), "{err}");
    assert!(err.contains("free"), "{err}");
    assert!(names(&dir).is_empty());
    let out = cubie(&[
        "solve",
        &model,
        "--save-every",
        "1e-9",
        "--memory-limit",
        "1G",
    ]);
    assert!(
        text(&out.stderr).contains("saved states"),
        "{}",
        text(&out.stderr)
    );
    let out = cubie(&["solve", &model, "--memory-limit", "lots"]);
    assert!(text(&out.stderr).contains("is not a size"));
}

#[test]
fn threads_out_of_range_are_errors() {
    let model = lorenz();
    for threads in ["0", "10000"] {
        let out = cubie(&["solve", &model, "--threads", threads]);
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("use 1 to 1024 worker threads"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn lane_widths_are_checked_and_do_not_change_results() {
    let model = lorenz();
    for lanes in ["0", "3", "64"] {
        let out = cubie(&["solve", &model, "--lanes", lanes]);
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("use 1, 2, 4, 8, 16 or 32 runs per lane block"),
            "{}",
            text(&out.stderr)
        );
    }
    let dir = scratch("lanes");
    let solve = |lanes: &str| {
        let path = dir.join(format!("lanes{lanes}.csv"));
        let out = cubie(&[
            "solve",
            &model,
            "--sweep",
            "rho=0:28:11",
            "--save-every",
            "0.1",
            "--lanes",
            lanes,
            "--out",
            path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        std::fs::read(&path).unwrap()
    };
    let one = solve("1");
    assert_eq!(one, solve("4"));
    assert_eq!(one, solve("16"));
    assert_eq!(one, solve("32"));
}

#[test]
fn an_os_error_is_printed_once() {
    let dir = scratch("oserror");
    let file = dir.join("plain-file");
    std::fs::write(&file, "not a directory").unwrap();
    let target = file.join("out.npz");
    let out = cubie(&["solve", &lorenz(), "--out", target.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.matches("Not a directory").count(), 1, "{err}");
    assert_eq!(names(&dir), vec!["plain-file"]);
}

#[test]
fn concurrent_solves_to_one_file_leave_one_whole_file() {
    let dir = scratch("race");
    let out = dir.join("runs.npz");
    let model = lorenz();
    let spawn = |runs: &str| {
        Command::new(env!("CARGO_BIN_EXE_cubie"))
            .args([
                "solve",
                &model,
                "--sweep",
                &format!("rho=0:21:{runs}"),
                "--save-every",
                "0.001",
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ])
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn("300"), spawn("500"));
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    assert_eq!(names(&dir), vec!["runs.npz"]);
    let mut archive = npyz::npz::NpzArchive::open(&out).unwrap();
    let runs = archive.by_name("status").unwrap().unwrap().shape()[0] as usize;
    let shape = archive.by_name("state").unwrap().unwrap().shape().to_vec();
    assert!(runs == 300 || runs == 500, "{runs}");
    assert_eq!(shape, vec![runs as u64, 1001, 3]);
}

#[test]
fn a_solve_killed_while_writing_leaves_no_partial_file() {
    let dir = scratch("killed");
    let out = dir.join("big.csv");
    // About 100 MB of CSV: long enough to be caught writing.
    let mut child = Command::new(env!("CARGO_BIN_EXE_cubie"))
        .args([
            "solve",
            &lorenz(),
            "--sweep",
            "rho=0:21:128",
            "--duration",
            "10",
            "--save-every",
            "0.001",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut caught = false;
    while started.elapsed() < Duration::from_secs(60) {
        if names(&dir).iter().any(|n| n.ends_with(".partial")) {
            let killed = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(killed.success());
            caught = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let status = child.wait_with_output().unwrap();
    if !caught || status.status.success() {
        // The write finished before the signal: the file must be whole.
        eprintln!("skipped: the solve finished before it could be interrupted");
        assert_eq!(names(&dir), vec!["big.csv"]);
        return;
    }
    assert_eq!(status.status.code(), Some(130));
    assert!(text(&status.stderr).contains("interrupted"));
    assert!(names(&dir).is_empty(), "{:?}", names(&dir));
}
