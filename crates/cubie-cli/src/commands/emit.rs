//! `cubie emit`: the CUDA C of a solve's kernel, generated from the
//! component tree. Needs no GPU.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::KernelArgs;

/// Arguments of `cubie emit`.
#[derive(Debug, Args)]
pub struct EmitArgs {
    #[command(flatten)]
    pub kernel: KernelArgs,
    /// Write the source here instead of printing it.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: EmitArgs) -> Result<()> {
    let (model, settings) = args.kernel.load()?;
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
