//! `cubie emit`: the CUDA C of a solve's kernel, generated from the
//! component tree. Needs no GPU.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use cubie::{Algorithm, Precision, SolverSettings};

use super::load_model;

/// Arguments of `cubie emit`.
#[derive(Debug, Args)]
pub struct EmitArgs {
    /// The model file (TOML).
    pub model: PathBuf,
    /// Algorithm name or alias.
    #[arg(long, default_value = "dormand-prince-54")]
    pub algorithm: String,
    /// Precision (the model's when absent).
    #[arg(long)]
    pub precision: Option<String>,
    /// Step size: the fixed step, or an adaptive solve's first step.
    #[arg(long)]
    pub dt: Option<f64>,
    /// Any setting by name (`<buffer>_location=shared|local`, `atol=...`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Write the source here instead of printing it.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: EmitArgs) -> Result<()> {
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
        control: cubie::controllers::ControllerOptions {
            dt: args.dt,
            ..Default::default()
        },
        ..SolverSettings::default()
    };
    let kernel = cubie::emit_cuda(&model, &settings)?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, &kernel.source)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            eprintln!(
                "wrote {} ({} lines; {} shared bytes per run)",
                path.display(),
                kernel.source.lines().count(),
                kernel.shared_per_run * kernel.element_bytes
            );
        }
        None => print!("{}", kernel.source),
    }
    Ok(())
}
