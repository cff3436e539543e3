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
    /// Integrate a batch of runs of a model and write the results.
    Solve(Box<commands::solve::SolveArgs>),
    /// Print the buffer registry's memory layout of a solve's kernel.
    Plan(commands::plan::PlanArgs),
    /// List every algorithm with its family and orders.
    Algorithms(commands::algorithms::AlgorithmsArgs),
}

/// Prints an error with its chain of causes.
fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Exit status of a process ended by SIGINT, as shells report it.
const INTERRUPTED: i32 = 130;

fn main() -> ExitCode {
    // On SIGINT, SIGTERM or SIGHUP a results file being written is
    // deleted, so an interrupted solve leaves nothing half-written.
    let handler = ctrlc::set_handler(|| {
        cubie::results::remove_partial_files();
        eprintln!("cubie: interrupted; no results were written");
        std::process::exit(INTERRUPTED);
    });
    if let Err(e) = handler {
        eprintln!(
            "warning: cannot handle interrupts ({e}); an interrupted write may leave a .partial file"
        );
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => commands::check::run(&args),
        Command::Solve(args) => report(commands::solve::run(*args)),
        Command::Plan(args) => report(commands::plan::run(args)),
        Command::Algorithms(args) => report(commands::algorithms::run(args)),
    }
}
