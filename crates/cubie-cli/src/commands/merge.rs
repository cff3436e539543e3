//! `cubie merge`: join the shard stores of one sweep into one store.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use cubie::results::zarr::merge_stores;

/// Arguments of `cubie merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The store to write (new, or a store of the same solve).
    pub out: PathBuf,
    /// The shard stores (`cubie solve --shard K/N --out ...`).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

pub fn run(args: MergeArgs) -> Result<()> {
    let info = merge_stores(&args.out, &args.inputs)?;
    println!(
        "merged {} stores into {} ({} runs, {} chunks)",
        args.inputs.len(),
        args.out.display(),
        info.spec.n_runs,
        info.chunks.len()
    );
    Ok(())
}
