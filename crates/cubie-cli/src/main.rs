//! The `cubie` command line.

use clap::Parser;

/// cubie: batch ODE integration on CPU cores or an NVIDIA GPU.
#[derive(Debug, Parser)]
#[command(name = "cubie", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
