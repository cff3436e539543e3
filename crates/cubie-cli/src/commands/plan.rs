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
    /// Free device memory to size the launches for (with `--backend
    /// cuda`), e.g. 80G; without it the chunks are left to solve time,
    /// which asks the device.
    #[arg(long, value_parser = parse_bytes)]
    pub device_memory: Option<u64>,
}

fn parse_bytes(text: &str) -> Result<u64, String> {
    cubie::kernel::parse_bytes(text)
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
            println!("{}", chunks_line(kernel, args.runs, args.device_memory)?);
        }
    }
    Ok(())
}

/// The `cuda chunks` line: device bytes per run, and the launches a batch
/// takes when the free device memory is given.
fn chunks_line(
    kernel: &cubie::backend::cuda::CudaKernel,
    runs: usize,
    free: Option<u64>,
) -> Result<String> {
    use cubie::backend::cuda::chunks::{chunk_runs, device_bytes};
    let bytes = device_bytes(kernel)?;
    let head = format!(
        "cuda chunks: {} device bytes per run ({} fixed)",
        bytes.per_run, bytes.fixed
    );
    Ok(match free {
        None => format!(
            "{head}; computed at solve time from free device memory (--device-memory BYTES sizes them here)"
        ),
        Some(free) => {
            // Threads' local memory is known once the module is loaded.
            let per_launch = chunk_runs(runs, bytes, free, 0, kernel.runs_per_block)?;
            format!(
                "{head}; with {free} bytes free (before local memory): {} launches of up to {per_launch} runs",
                runs.div_ceil(per_launch.max(1))
            )
        }
    })
}
