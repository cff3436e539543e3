//! Batches larger than memory: chunked solves, streamed `.npz` and CSV,
//! the Zarr store, resume after a kill or an interrupt, shards in separate
//! processes, `cubie merge`. Every path must give the same bytes as a
//! one-piece solve.

mod common;

use common::{cubie, text};

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use cubie::results::ArrayData;
use cubie::results::zarr::{read_store, store_info};

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cubie"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the cubie binary runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn lorenz() -> String {
    format!("{}/../../examples/lorenz.toml", env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cubie-large-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A sweep with saved series, summaries and counters: every kind of array.
fn solve_args<'a>(model: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "solve",
        model,
        "--algorithm",
        "tsit5",
        "--sweep",
        "rho=0:28:300",
        "--sweep",
        "x=1,-2",
        "--duration",
        "2",
        "--save-every",
        "0.05",
        "--outputs",
        "state,observables,time,counters,mean,extrema",
        "--summarise-every",
        "0.5",
        "--quiet",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    args
}

/// The raw `.npy` bytes of every member of an archive (zip timestamps
/// aside, two equal archives hold equal members).
fn npz_members(file: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut zip = npyz::zip::ZipArchive::new(std::fs::File::open(file).unwrap()).unwrap();
    let mut members = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        members.insert(entry.name().to_string(), bytes);
    }
    members
}

/// Every file of a store (hidden partial files aside), relative path to
/// bytes.
fn store_files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let p = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(root, root, &mut files);
    files
}

fn assert_same_store(a: &Path, b: &Path) {
    let (fa, fb) = (store_files(a), store_files(b));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "file lists differ"
    );
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{} differs", name.display());
    }
}

#[test]
fn a_tiny_memory_limit_streams_npz_and_csv_identical_to_one_piece() {
    let dir = scratch("stream");
    let model = lorenz();
    let (one, many) = (dir.join("one.npz"), dir.join("many.npz"));
    ok(&cubie(&solve_args(&model, path(&one), &[])));
    // About 9 KiB of results per run: 600 runs cannot be solved at once.
    ok(&cubie(&solve_args(
        &model,
        path(&many),
        &["--memory-limit", "400K"],
    )));
    let out = cubie(
        &solve_args(
            &model,
            path(&dir.join("x.npz")),
            &["--memory-limit", "400K"],
        )
        .into_iter()
        .filter(|a| *a != "--quiet")
        .collect::<Vec<_>>(),
    );
    let summary = ok(&out);
    let chunks: usize = summary
        .split(" chunks)")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the summary counts the chunks: {summary}"));
    assert!(chunks >= 5, "{chunks} chunks");
    let (a, b) = (npz_members(&one), npz_members(&many));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert!(a.contains_key("summary_mean.npy") && a.contains_key("counters.npy"));
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs");
    }

    let (one, many) = (dir.join("one.csv"), dir.join("many.csv"));
    ok(&cubie(&solve_args(&model, path(&one), &[])));
    ok(&cubie(&solve_args(
        &model,
        path(&many),
        &["--chunk-runs", "7"],
    )));
    let (a, b) = (std::fs::read(&one).unwrap(), std::fs::read(&many).unwrap());
    assert!(a == b, "chunked CSV differs");
    // Nothing but the outputs is left behind.
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["many.csv", "many.npz", "one.csv", "one.npz", "x.npz"]
    );
}

/// The store's numeric arrays as the `.npz` holds them.
fn assert_store_matches_npz(store: &Path, npz: &Path) {
    let (info, result) = read_store(store).unwrap();
    assert!(info.is_complete());
    let mut archive = npyz::npz::NpzArchive::open(npz).unwrap();
    let names: Vec<String> = archive.array_names().map(str::to_string).collect();
    let mut compared = 0;
    for name in names {
        let npy = archive.by_name(&name).unwrap().unwrap();
        let shape: Vec<usize> = npy.shape().iter().map(|&n| n as usize).collect();
        if name.ends_with("_labels") {
            // Labels are coordinates of the store; checked below.
            continue;
        }
        let array = result
            .get(&name)
            .unwrap_or_else(|| panic!("{name} missing from the store"));
        assert_eq!(array.shape, shape, "{name}");
        let same = match &array.data {
            ArrayData::F64(v) => {
                let w = npy.into_vec::<f64>().unwrap();
                v.iter().zip(&w).all(|(a, b)| a.to_bits() == b.to_bits()) && v.len() == w.len()
            }
            ArrayData::F32(v) => {
                let w = npy.into_vec::<f32>().unwrap();
                v.iter().zip(&w).all(|(a, b)| a.to_bits() == b.to_bits()) && v.len() == w.len()
            }
            ArrayData::I32(v) => *v == npy.into_vec::<i32>().unwrap(),
            ArrayData::I64(v) => *v == npy.into_vec::<i64>().unwrap(),
            ArrayData::Str(_) => unreachable!("labels are read as labels"),
        };
        assert!(same, "{name} differs");
        compared += 1;
    }
    assert!(compared >= 9, "{compared} arrays compared");
    assert_eq!(
        result.labels("state_labels"),
        Some(&["x".to_string(), "y".into(), "z".into()][..])
    );
    assert_eq!(
        result.labels("counter_labels").map(<[String]>::len),
        Some(3)
    );
}

#[test]
fn a_store_holds_the_same_results_as_the_npz() {
    let dir = scratch("store");
    let model = lorenz();
    let (npz, store) = (dir.join("one.npz"), dir.join("runs.zarr"));
    ok(&cubie(&solve_args(&model, path(&npz), &[])));
    ok(&cubie(&solve_args(
        &model,
        path(&store),
        &["--chunk-runs", "37"],
    )));
    let info = store_info(&store).unwrap();
    assert_eq!((info.spec.n_runs, info.spec.chunk_runs), (600, 37));
    assert_eq!(info.chunks.len(), 17);
    assert_store_matches_npz(&store, &npz);
    // A second solve into it is refused, and leaves it as it was.
    let before = store_files(&store);
    let again = cubie(&solve_args(&model, path(&store), &["--chunk-runs", "37"]));
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("--resume"),
        "{}",
        text(&again.stderr)
    );
    assert!(store_files(&store) == before);
}

#[test]
fn python_reads_the_store_with_xarray_and_no_cubie() {
    let probe = Command::new("python3")
        .args(["-c", "import zarr, xarray, numpy"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: python3 with zarr, xarray and numpy is not installed");
        return;
    }
    let dir = scratch("python");
    let model = lorenz();
    let (npz, store) = (dir.join("one.npz"), dir.join("runs.zarr"));
    ok(&cubie(&solve_args(&model, path(&npz), &[])));
    ok(&cubie(&solve_args(
        &model,
        path(&store),
        &["--chunk-runs", "64"],
    )));
    let script = r#"
import sys, numpy as np, xarray as xr, zarr
store, npz = sys.argv[1], sys.argv[2]
ds = xr.open_zarr(store, consolidated=False)
ref = np.load(npz)
for name in ["final_state", "state", "observables", "status", "counters", "summary_mean",
             "summary_extrema", "summary_time", "time"]:
    assert np.array_equal(ds[name].values, ref[name], equal_nan=True), name
assert ds["state"].dims == ("run", "time", "saved_state_var"), ds["state"].dims
assert list(ds["state_var"].values) == list(ref["state_labels"]), ds["state_var"].values
assert ds.sizes["run"] == 600
assert ds.attrs["cubie"]["identity"]["algorithm"] == "tsit5"
group = zarr.open_group(store, mode="r")
assert group["state"].chunks[0] == 64
print("ok")
"#;
    let out = Command::new("python3")
        .args(["-c", script, path(&store), path(&npz)])
        .output()
        .unwrap();
    assert!(
        out.status.success() && text(&out.stdout).contains("ok"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A solve of many small chunks, slow enough to be stopped part-way.
fn long_args<'a>(model: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "solve",
        model,
        "--algorithm",
        "tsit5",
        "--sweep",
        "rho=0:28:2048",
        "--duration",
        "4",
        "--save-every",
        "0.002",
        "--chunk-runs",
        "16",
        "--threads",
        "1",
        "--quiet",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    args
}

/// Waits until the store holds at least `chunks` whole chunks (or the
/// solve ends), then sends `signal`. False when the solve ended first.
fn stop_after(child: &mut Child, store: &Path, chunks: usize, signal: &str) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let whole = std::fs::read_dir(store.join("status").join("c"))
            // Hidden names are chunk markers still being written.
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .count()
            })
            .unwrap_or(0);
        if whole >= chunks {
            let sent = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .unwrap();
            assert!(sent.success());
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("the solve wrote no chunk in two minutes");
}

#[test]
fn killed_and_interrupted_solves_resume_to_the_same_store() {
    let dir = scratch("resume");
    let model = lorenz();
    let reference = dir.join("reference.zarr");
    ok(&cubie(&long_args(&model, path(&reference), &[])));
    assert!(store_info(&reference).unwrap().is_complete());

    // Killed outright (as by the OOM killer or a lost node).
    let killed = dir.join("killed.zarr");
    let mut child = spawn(&long_args(&model, path(&killed), &[]));
    let stopped = stop_after(&mut child, &killed, 3, "-KILL");
    let status = child.wait().unwrap();
    if stopped {
        assert!(!status.success());
        let info = store_info(&killed).unwrap();
        assert!(!info.is_complete(), "killed after the last chunk");
        assert!(info.complete_chunks() >= 3);
    } else {
        eprintln!("note: the solve ended before it could be killed");
    }
    let resumed = cubie(&long_args(&model, path(&killed), &["--resume"]));
    ok(&resumed);
    assert_same_store(&reference, &killed);

    // Interrupted: stops cleanly, says how to continue.
    let interrupted = dir.join("interrupted.zarr");
    let mut child = spawn(&long_args(&model, path(&interrupted), &[]));
    let stopped = stop_after(&mut child, &interrupted, 2, "-INT");
    let out = child.wait_with_output().unwrap();
    if stopped && !out.status.success() {
        assert_eq!(out.status.code(), Some(130));
        let err = text(&out.stderr);
        assert!(err.contains("continue with --resume"), "{err}");
        assert!(!store_info(&interrupted).unwrap().is_complete());
    }
    ok(&cubie(&long_args(
        &model,
        path(&interrupted),
        &["--resume"],
    )));
    assert_same_store(&reference, &interrupted);
    // Resuming a whole store solves nothing and changes nothing.
    ok(&cubie(&long_args(
        &model,
        path(&interrupted),
        &["--resume"],
    )));
    assert_same_store(&reference, &interrupted);
}

#[test]
fn a_store_of_another_solve_is_refused_with_what_differs() {
    let dir = scratch("mismatch");
    let model = lorenz();
    let store = dir.join("runs.zarr");
    ok(&cubie(&solve_args(
        &model,
        path(&store),
        &["--chunk-runs", "100"],
    )));
    let before = store_files(&store);
    let mut args = solve_args(&model, path(&store), &["--resume"]);
    let i = args.iter().position(|a| *a == "tsit5").unwrap();
    args[i] = "vern7";
    let out = cubie(&args);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("written by a different solve"), "{err}");
    assert!(
        err.contains("algorithm: the store has \"tsit5\", this solve \"vern7\""),
        "{err}"
    );
    assert!(store_files(&store) == before);
    // --resume and --shard are for stores only.
    for flag in [&["--resume"][..], &["--shard", "1/2"]] {
        let out = cubie(&solve_args(&model, path(&dir.join("x.npz")), flag));
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains(".zarr"), "{}", text(&out.stderr));
    }
    let bad = cubie(&solve_args(
        &model,
        path(&dir.join("y.zarr")),
        &["--shard", "3/2"],
    ));
    assert!(
        text(&bad.stderr).contains("bad shard `3/2`"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn shards_in_separate_processes_make_the_unsharded_store() {
    let dir = scratch("shards");
    let model = lorenz();
    let reference = dir.join("reference.zarr");
    ok(&cubie(&solve_args(
        &model,
        path(&reference),
        &["--chunk-runs", "40"],
    )));

    // Three processes at once, into one store.
    let shared = dir.join("shared.zarr");
    let shards = ["1/3", "2/3", "3/3"];
    let children: Vec<Child> = shards
        .iter()
        .map(|s| {
            spawn(&solve_args(
                &model,
                path(&shared),
                &["--chunk-runs", "40", "--shard", s],
            ))
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        ok(&out);
    }
    assert_same_store(&reference, &shared);

    // One store per shard, then merged.
    let parts: Vec<PathBuf> = (1..=3).map(|k| dir.join(format!("part{k}.zarr"))).collect();
    for (part, shard) in parts.iter().zip(shards) {
        ok(&cubie(&solve_args(
            &model,
            path(part),
            &["--chunk-runs", "40", "--shard", shard],
        )));
        assert!(!store_info(part).unwrap().is_complete());
    }
    let merged = dir.join("merged.zarr");
    let incomplete = cubie(&["merge", path(&merged), path(&parts[0]), path(&parts[2])]);
    assert!(!incomplete.status.success());
    assert!(
        text(&incomplete.stderr).contains("missing 5..9"),
        "{}",
        text(&incomplete.stderr)
    );
    assert!(!merged.exists());
    let mut args = vec!["merge", path(&merged)];
    args.extend(parts.iter().map(|p| path(p)));
    ok(&cubie(&args));
    assert_same_store(&reference, &merged);
}

#[test]
fn an_output_larger_than_the_disk_is_refused_before_solving() {
    let dir = scratch("disk");
    let started = Instant::now();
    let out = cubie(&[
        "solve",
        &lorenz(),
        "--sweep",
        "rho=0:28:100000000",
        "--duration",
        "100",
        "--save-every",
        "0.001",
        "--out",
        path(&dir.join("huge.zarr")),
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("free") && err.contains("huge.zarr"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(!dir.join("huge.zarr").join("status").exists());
}
