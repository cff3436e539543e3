//! The `cubie` command line.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// cubie: batch ODE integration on CPU cores or an NVIDIA GPU.
#[derive(Debug, Parser)]
#[command(name = "cubie", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a model file and print a summary of it.
    Check(commands::check::CheckArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => commands::check::run(&args),
    }
}
