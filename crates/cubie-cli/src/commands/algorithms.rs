//! `cubie algorithms`: every algorithm with its family and orders.

use anyhow::Result;
use clap::Args;
use cubie::step::algorithms;

/// Arguments of `cubie algorithms`.
#[derive(Debug, Args)]
pub struct AlgorithmsArgs {
    /// Print JSON (one object per algorithm).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: AlgorithmsArgs) -> Result<()> {
    let all = algorithms();
    if args.json {
        println!("{}", serde_json::to_string_pretty(all)?);
        return Ok(());
    }
    println!(
        "{:<22} {:<10} {:>5} {:>11} {:>8} {:>6}  aliases",
        "name", "family", "order", "error order", "adaptive", "stages"
    );
    for a in all {
        println!(
            "{:<22} {:<10} {:>5} {:>11} {:>8} {:>6}  {}",
            a.name,
            a.family.name(),
            a.order,
            a.error_order.map_or("-".to_string(), |o| o.to_string()),
            if a.adaptive { "yes" } else { "no" },
            a.stages,
            a.aliases.join(", ")
        );
    }
    Ok(())
}
