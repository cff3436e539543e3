//! The `cubie` command line.

mod commands;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// Print (or write) the CUDA C of a solve's kernel; needs no GPU.
    Emit(commands::emit::EmitArgs),
    /// List every algorithm with its family and orders.
    Algorithms(commands::algorithms::AlgorithmsArgs),
    /// Join the shard stores of one sweep (`solve --shard K/N`) into one.
    Merge(commands::merge::MergeArgs),
}

/// Prints an error with its chain of causes; an interrupted solve exits
/// as shells expect of SIGINT.
fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<commands::solve::Interrupted>() => {
            eprintln!("cubie: {e}");
            ExitCode::from(INTERRUPTED as u8)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Exit status of a process ended by SIGINT, as shells report it.
const INTERRUPTED: i32 = 130;

/// Set by the first SIGINT, SIGTERM or SIGHUP: the solve stops after
/// keeping what is whole.
static CANCEL: AtomicBool = AtomicBool::new(false);

fn main() -> ExitCode {
    // The first signal asks the solve to stop cleanly (finished chunks of a
    // store are kept, a .npz or .csv is not written); a second stops at
    // once, deleting any results file being written.
    let handler = ctrlc::set_handler(|| {
        if CANCEL.swap(true, Ordering::SeqCst) {
            cubie::results::remove_partial_files();
            eprintln!("cubie: interrupted again; stopped at once");
            std::process::exit(INTERRUPTED);
        }
        eprintln!("cubie: stopping after the chunks in progress (interrupt again to stop at once)");
    });
    if let Err(e) = handler {
        eprintln!(
            "warning: cannot handle interrupts ({e}); an interrupted write may leave a .partial file"
        );
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => commands::check::run(&args),
        Command::Solve(args) => report(commands::solve::run(*args, &CANCEL)),
        Command::Plan(args) => report(commands::plan::run(args)),
        Command::Emit(args) => report(commands::emit::run(args)),
        Command::Algorithms(args) => report(commands::algorithms::run(args)),
        Command::Merge(args) => report(commands::merge::run(args)),
    }
}
