//! One module per subcommand.

pub mod algorithms;
pub mod check;
pub mod emit;
pub mod merge;
pub mod plan;
pub mod solve;

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use cubie::controllers::ControllerOptions;
use cubie::system::Model;
use cubie::{Algorithm, Precision, SolverSettings};

/// Loads a model file; a mistake in it is reported with its source line.
pub fn load_model(path: &Path) -> Result<Model> {
    Model::from_file(path).map_err(|e| anyhow::Error::msg(e.render()))
}

/// The `--backend` value (`cpu` or `cuda`; clap checks the spelling).
pub fn parse_backend(name: &str) -> Result<cubie::Backend> {
    match name {
        "cpu" => Ok(cubie::Backend::Cpu),
        "cuda" => Ok(cubie::Backend::Cuda),
        other => anyhow::bail!("unknown backend `{other}`: use cpu or cuda"),
    }
}

/// What picks one solve's kernel, for the commands that inspect one
/// (`plan`, `emit`).
#[derive(Debug, Args)]
pub struct KernelArgs {
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
}

impl KernelArgs {
    /// The model and the settings of its solve.
    pub fn load(&self) -> Result<(Model, SolverSettings)> {
        let model = load_model(&self.model)?;
        let precision = self
            .precision
            .as_deref()
            .map(str::parse::<Precision>)
            .transpose()
            .map_err(anyhow::Error::msg)?;
        let settings = SolverSettings {
            algorithm: self.algorithm.parse::<Algorithm>()?,
            precision,
            named: self.set.clone(),
            control: ControllerOptions {
                dt: self.dt,
                ..ControllerOptions::default()
            },
            ..SolverSettings::default()
        };
        Ok((model, settings))
    }
}
