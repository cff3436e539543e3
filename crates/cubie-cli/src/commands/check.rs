//! `cubie check MODEL.toml`: validate a model and summarise it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use cubie::system::Model;

/// Arguments of `cubie check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The model file (TOML).
    pub model: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs the check: the summary on stdout, or the error (with its source
/// line) on stderr and a failing exit status.
pub fn run(args: &CheckArgs) -> ExitCode {
    let model = match Model::from_file(&args.model) {
        Ok(model) => model,
        Err(e) => {
            eprintln!("{}", e.render());
            return ExitCode::FAILURE;
        }
    };
    let summary = model.summary();
    if args.json {
        match serde_json::to_string_pretty(&summary) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("error: cannot write the summary as JSON: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{summary}");
        println!("ok: {} is a valid model", args.model.display());
    }
    ExitCode::SUCCESS
}
