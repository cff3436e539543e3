//! Random command lines for `cubie solve`: adversarial values for every
//! numeric and list option, in any combination, give a result or a clean
//! error, never a panic or a signal. Bounded for CI: every solve is capped
//! at a few thousand steps and a few runs.

use std::cell::Cell;
use std::process::Command;

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

/// A value an option might be given: numbers of every magnitude and sign,
/// non-finite spellings, malformed text.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        (-400i32..400).prop_map(|e| format!("1e{e}")),
        (-1e6f64..1e6).prop_map(|x| format!("{x}")),
        prop::sample::select(vec![
            "0",
            "-0",
            "-1",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "1e999",
            "-1e-320",
            "",
            " ",
            "1x",
            "0x10",
            "1,5",
            "--",
            "=",
            "1e",
            "+-1",
            "99999999999999999999",
        ])
        .prop_map(str::to_string),
        "[a-z0-9.:=,+-]{0,12}",
    ]
}

/// One option and its value.
fn option() -> impl Strategy<Value = Vec<String>> {
    let numeric = prop::sample::select(vec![
        "--duration",
        "--t0",
        "--settling-time",
        "--dt",
        "--dt-min",
        "--dt-max",
        "--atol",
        "--rtol",
        "--save-every",
        "--sample-summaries-every",
        "--summarise-every",
        "--threads",
        "--memory-limit",
    ]);
    prop_oneof![
        (numeric, value()).prop_map(|(flag, v)| vec![flag.to_string(), v]),
        (value(), value(), 0u32..70)
            .prop_map(|(a, b, n)| vec!["--sweep".to_string(), format!("rho={a}:{b}:{n}")]),
        value().prop_map(|v| vec!["--sweep".to_string(), format!("x={v},{v}")]),
        prop::sample::select(vec![
            "mean",
            "max,rms",
            "peaks[3]",
            "peaks[99999999999]",
            "",
            "x"
        ])
        .prop_map(|o| vec!["--outputs".to_string(), o.to_string()]),
        prop::sample::select(vec!["tsit5", "euler", "rodas3p", "radau_iia_5", "nope"])
            .prop_map(|a| vec!["--algorithm".to_string(), a.to_string()]),
        prop::sample::select(vec!["f32", "f64", "f16"])
            .prop_map(|p| vec!["--precision".to_string(), p.to_string()]),
        value().prop_map(|v| vec!["--set".to_string(), format!("newton_tolerance={v}")]),
    ]
}

/// Runs one command line; `Ok(true)` when it solved, `Ok(false)` when it
/// was refused cleanly.
fn run(options: Vec<Vec<String>>) -> Result<bool, TestCaseError> {
    let model = format!("{}/../../examples/lorenz.toml", env!("CARGO_MANIFEST_DIR"));
    let mut args: Vec<String> = vec!["solve".into(), model, "--quiet".into()];
    // Keeps every solve short whatever the options ask for.
    args.extend(["--set".into(), "max_steps=2000".into()]);
    args.extend(options.into_iter().flatten());
    let out = Command::new(env!("CARGO_BIN_EXE_cubie"))
        .args(&args)
        .output()
        .expect("the cubie binary runs");
    let err = String::from_utf8_lossy(&out.stderr);
    prop_assert!(!err.contains("panicked"), "{args:?}: {err}");
    // 0: solved; 1: cubie's error; 2: clap's usage error. Not a signal.
    let code = out.status.code();
    prop_assert!(matches!(code, Some(0..=2)), "{args:?}: {code:?} {err}");
    if code == Some(1) {
        prop_assert!(err.starts_with("error: "), "{args:?}: {err}");
        prop_assert!(err.len() < 2000, "{args:?}: {err}");
    }
    Ok(code == Some(0))
}

#[test]
fn random_command_lines_give_a_result_or_a_clean_error() {
    let config = ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let (solved, refused) = (Cell::new(0), Cell::new(0));
    let outcome = runner.run(&prop::collection::vec(option(), 1..5), |options| {
        let counter = if run(options)? { &solved } else { &refused };
        counter.set(counter.get() + 1);
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    // The generator reaches both outcomes, or the test proves little.
    assert!(
        solved.get() > 0 && refused.get() > 0,
        "{solved:?} solved, {refused:?} refused"
    );
}
