//! What the CLI tests share: running the binary and reading its output.
#![allow(dead_code)]

use std::process::{Command, Output};

/// Runs `cubie` with `args` and waits for it.
pub fn cubie(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cubie"))
        .args(args)
        .output()
        .expect("the cubie binary runs")
}

/// The path of an example model.
pub fn example(name: &str) -> String {
    format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
