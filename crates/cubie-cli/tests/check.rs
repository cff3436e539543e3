//! `cubie check` end to end.

mod common;

use common::{cubie, example, text};

#[test]
fn check_prints_a_summary() {
    let out = cubie(&["check", &example("lorenz.toml")]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert!(stdout.contains("model `lorenz` (f64)"), "{stdout}");
    assert!(
        stdout.contains("states (3):       x = 1, y = 0, z = 0"),
        "{stdout}"
    );
    assert!(stdout.contains("parameters (1):   rho = 21"), "{stdout}");
    assert!(stdout.contains("observables (1):  energy"), "{stdout}");
    assert!(
        stdout.contains("jacobian:         8 of 9 entries non-zero"),
        "{stdout}"
    );
    assert!(stdout.contains("is a valid model"), "{stdout}");
}

#[test]
fn check_json_is_the_summary() {
    let out = cubie(&["check", "--json", &example("hodgkin_huxley.toml")]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json["name"], "hodgkin_huxley");
    let states: Vec<&str> = json["states"]
        .as_array()
        .expect("states array")
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert_eq!(states, ["V", "n", "m", "h"]);
    assert_eq!(json["drivers"][0]["name"], "I_ext");
    let dxdt = &json["operations"]["dxdt"];
    assert!(dxdt["tree"].as_u64() >= dxdt["shared"].as_u64());
}

#[test]
fn check_reports_errors_with_file_line_and_column() {
    let path = format!("{}/tests/data/typo.toml", env!("CARGO_MANIFEST_DIR"));
    let out = cubie(&["check", &path]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "{path}:3:6: unknown symbol `sigmaa` (did you mean `sigma`?)"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 | dx = sigmaa * (y - x)\n  |      ^^^^^^"),
        "{stderr}"
    );
}

#[test]
fn check_fails_on_a_missing_file() {
    let out = cubie(&["check", "no-such-model.toml"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no-such-model.toml: cannot read model file"));
}

/// Writes `bytes` to a fresh file named `name` and returns its path.
fn temp_model(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cubie-check-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the model");
    path
}

#[test]
fn check_locates_errors_that_have_no_token() {
    // Latin-1 `é` (0xE9) on line 3: the byte offset, line and column.
    let path = temp_model(
        "latin1.toml",
        b"equations = \"dx = -x\"\n[states]\nx = 1 # caf\xe9\n",
    );
    let out = cubie(&["check", &path.display().to_string()]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("latin1.toml:3:12: the file is not valid UTF-8: the byte at offset 42"),
        "{stderr}"
    );

    // An unclosed `(`: at the `(`, not at the end of the equations.
    let path = temp_model(
        "unclosed.toml",
        b"equations = \"\"\"\ndx = sigma * (y - x\ndy = -y\n\"\"\"\n[states]\nx = 1\ny = 0\n[constants]\nsigma = 10\n",
    );
    let out = cubie(&["check", &path.display().to_string()]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "unclosed.toml:2:14: this `(` is never closed: expected a matching `)` before `dy`"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 | dx = sigma * (y - x\n  |              ^"),
        "{stderr}"
    );

    // A constant folded to infinity.
    let path = temp_model(
        "overflow.toml",
        b"equations = \"dx = 10^400 * x\"\n[states]\nx = 1\n",
    );
    let out = cubie(&["check", &path.display().to_string()]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("overflow.toml:1:19: `10^400` is a constant expression whose value is inf"),
        "{stderr}"
    );
    for name in ["latin1.toml", "unclosed.toml", "overflow.toml"] {
        let dir = std::env::temp_dir().join(format!("cubie-check-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(dir);
    }
}
