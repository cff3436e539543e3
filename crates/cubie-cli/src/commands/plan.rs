//! `cubie plan`: the registry's memory layout of a solve's kernel.

use anyhow::Result;
use clap::Args;
use cubie::Solver;

use super::KernelArgs;

/// Arguments of `cubie plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub kernel: KernelArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// `cuda` adds the CUDA kernel's launch configuration.
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda"])]
    pub backend: String,
    /// Runs to size the launch for (with `--backend cuda`).
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
}

pub fn run(args: PlanArgs) -> Result<()> {
    let (model, settings) = args.kernel.load()?;
    let solver = Solver::new(&model, &settings)?;
    let launch = if args.backend == "cuda" {
        Some(cubie::emit_cuda(&model, &settings)?)
    } else {
        None
    };
    let report = match &launch {
        Some(kernel) => kernel.layout.clone(),
        None => solver.plan()?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "memory plan for {} with {} ({}, {} backend):",
            model.name(),
            solver.algorithm().name,
            solver.precision(),
            args.backend
        );
        print!("{report}");
        if let Some(kernel) = &launch {
            println!(
                "cuda launch: {} runs per block, {} blocks for {} runs, {} shared bytes per block \
                 ({} per run), {} persistent elements per run",
                kernel.runs_per_block,
                kernel.blocks(args.runs),
                args.runs,
                kernel.shared_bytes_per_block(),
                kernel.shared_per_run * kernel.element_bytes,
                kernel.persistent_per_run
            );
        }
    }
    Ok(())
}
