//! `cubie plan`: the registry's memory layout of a solve's kernel.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use cubie::{Algorithm, Precision, Solver, SolverSettings};

use super::load_model;

/// Arguments of `cubie plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The model file (TOML).
    pub model: PathBuf,
    /// Algorithm name or alias.
    #[arg(long, default_value = "dormand-prince-54")]
    pub algorithm: String,
    /// Any setting by name (`<buffer>_location=shared|local`, ...).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Precision (the model's when absent).
    #[arg(long)]
    pub precision: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: PlanArgs) -> Result<()> {
    let model = load_model(&args.model)?;
    let precision = args
        .precision
        .as_deref()
        .map(str::parse::<Precision>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let settings = SolverSettings {
        algorithm: args.algorithm.parse::<Algorithm>()?,
        precision,
        named: args.set,
        ..SolverSettings::default()
    };
    let solver = Solver::new(&model, &settings)?;
    let report = solver.plan()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "memory plan for {} with {} ({}):",
            model.name(),
            solver.algorithm().name,
            solver.precision()
        );
        print!("{report}");
    }
    Ok(())
}
