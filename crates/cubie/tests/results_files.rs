//! The `.npz` and CSV writers: what is written reads back, with numpy too.

use std::path::PathBuf;
use std::process::Command;

use cubie::Precision;
use cubie::results::{ArrayData, NamedArray, SolveResult};

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cubie-results-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sample_result() -> SolveResult {
    let mut r = SolveResult::new(Precision::F32, 2);
    r.insert(NamedArray::new(
        "final_state",
        vec![2, 2],
        ArrayData::F32(vec![1.5, -2.0, 3.25, 4.0]),
    ));
    r.insert(NamedArray::new(
        "status",
        vec![2],
        ArrayData::I32(vec![0, 4]),
    ));
    r.insert(NamedArray::new(
        "parameters",
        vec![2, 1],
        ArrayData::F32(vec![0.5, 0.75]),
    ));
    r.insert(NamedArray::new(
        "initial_values",
        vec![2, 2],
        ArrayData::F32(vec![1.0, 0.0, 1.0, 0.0]),
    ));
    r.insert(NamedArray::labels(
        "state_labels",
        &["x".into(), "velocity".into()],
    ));
    r.insert(NamedArray::labels("parameter_labels", &["k".into()]));
    r
}

#[test]
fn npz_round_trips_through_npyz() {
    let dir = scratch_dir("npyz");
    let path = dir.join("out.npz");
    sample_result().write(&path).unwrap();
    let mut npz = npyz::npz::NpzArchive::open(&path).unwrap();
    let finals = npz.by_name("final_state").unwrap().unwrap();
    assert_eq!(finals.shape(), &[2, 2]);
    assert_eq!(
        finals.into_vec::<f32>().unwrap(),
        vec![1.5, -2.0, 3.25, 4.0]
    );
    let status = npz.by_name("status").unwrap().unwrap();
    assert_eq!(status.into_vec::<i32>().unwrap(), vec![0, 4]);
    let labels = npz.by_name("state_labels").unwrap().unwrap();
    assert_eq!(
        labels.into_vec::<String>().unwrap(),
        vec!["x".to_string(), "velocity".to_string()]
    );
    // No temporary file is left beside the result.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("out.npz")]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn npz_loads_in_numpy_without_pickle() {
    let have_numpy = Command::new("python3")
        .args(["-c", "import numpy"])
        .status()
        .is_ok_and(|s| s.success());
    if !have_numpy {
        eprintln!("skipped: python3 with numpy is not installed");
        return;
    }
    let dir = scratch_dir("numpy");
    let path = dir.join("out.npz");
    sample_result().write(&path).unwrap();
    let script = "import numpy as np, sys\n\
        d = np.load(sys.argv[1], allow_pickle=False)\n\
        assert d['final_state'].dtype == np.float32, d['final_state'].dtype\n\
        assert d['final_state'].shape == (2, 2)\n\
        assert d['final_state'][1, 0] == 3.25\n\
        assert list(d['status']) == [0, 4]\n\
        assert list(d['state_labels']) == ['x', 'velocity'], d['state_labels']\n\
        print('ok')";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "numpy could not read the archive: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn csv_without_time_series_has_one_row_per_run() {
    let dir = scratch_dir("csv");
    let path = dir.join("out.csv");
    sample_result().write(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "run,status,k,x_initial,velocity_initial,x_final,velocity_final"
    );
    assert_eq!(lines[2], "1,4,0.75,1,0,3.25,4");
    assert_eq!(lines.len(), 3);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unknown_extension_is_an_error_and_writes_nothing() {
    let dir = scratch_dir("ext");
    let path = dir.join("out.txt");
    let err = sample_result().write(&path).unwrap_err();
    assert!(err.to_string().contains(".npz"), "{err}");
    assert!(!path.exists());
    std::fs::remove_dir_all(dir).unwrap();
}
