//! `cubie solve`: integrate a batch of runs and write the results.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use cubie::batch::{GridKind, Sweep, runs_from_csv};
use cubie::controllers::{ControllerKind, ControllerOptions};
use cubie::drivers::DriverSeries;
use cubie::outputs::OutputSettings;
use cubie::time_loop::{LoopSettings, Status};
use cubie::{Algorithm, Precision, Solver, SolverSettings};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::load_model;

/// Arguments of `cubie solve`.
#[derive(Debug, Args)]
pub struct SolveArgs {
    /// The model file (TOML).
    pub model: PathBuf,
    /// Algorithm name or alias (`cubie algorithms` lists them).
    #[arg(long, default_value = "dormand-prince-54")]
    pub algorithm: String,
    /// Length of the output interval.
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub duration: f64,
    /// Start time.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub t0: f64,
    /// Time integrated before output starts.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub settling_time: f64,
    /// Step of a fixed-step solve; first step of an adaptive one (chosen
    /// automatically when absent).
    #[arg(long, allow_hyphen_values = true)]
    pub dt: Option<f64>,
    /// Smallest step an adaptive controller may take.
    #[arg(long, allow_hyphen_values = true)]
    pub dt_min: Option<f64>,
    /// Largest step an adaptive controller may take.
    #[arg(long, allow_hyphen_values = true)]
    pub dt_max: Option<f64>,
    /// Absolute tolerance: one value, or one per state (comma-separated).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub atol: Option<Vec<f64>>,
    /// Relative tolerance: one value, or one per state (comma-separated).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub rtol: Option<Vec<f64>>,
    /// Step controller: fixed, i, pi, pid or gustafsson (the algorithm's
    /// default when absent).
    #[arg(long)]
    pub controller: Option<String>,
    /// Save the state every S time units (nothing but the final state when
    /// absent).
    #[arg(long, allow_hyphen_values = true)]
    pub save_every: Option<f64>,
    /// Outputs to write (comma-separated): state, observables, time,
    /// counters and summary metrics (mean, max, peaks[3], ...). Default: the
    /// time series --save-every asks for, plus counters.
    #[arg(long, value_delimiter = ',')]
    pub outputs: Option<Vec<String>>,
    /// States and observables saved in the time series (default: all).
    #[arg(long, value_delimiter = ',')]
    pub save_variables: Option<Vec<String>>,
    /// States and observables summarised (default: all).
    #[arg(long, value_delimiter = ',')]
    pub summarise_variables: Option<Vec<String>>,
    /// Interval between summary samples (default: --save-every, else --dt).
    #[arg(long, allow_hyphen_values = true)]
    pub sample_summaries_every: Option<f64>,
    /// Summary window length: a whole multiple of the sampling interval.
    #[arg(long, allow_hyphen_values = true)]
    pub summarise_every: Option<f64>,
    /// Sweep a state or parameter: NAME=START:STOP:COUNT or NAME=V1,V2,...
    #[arg(long = "sweep", value_name = "SWEEP")]
    pub sweeps: Vec<String>,
    /// How sweeps combine into runs.
    #[arg(long, default_value = "combinatorial")]
    pub grid: String,
    /// A CSV of runs (header = state and parameter names) instead of sweeps.
    #[arg(long, conflicts_with = "sweeps")]
    pub inputs: Option<PathBuf>,
    /// Driver time series: a CSV with a `t` column and one column per driver
    /// (drivers not in it keep the model's default value).
    #[arg(long)]
    pub drivers: Option<PathBuf>,
    /// Any setting by name (controller gains, max_steps, <buffer>_location, ...).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Precision of the solve (the model's when absent).
    #[arg(long)]
    pub precision: Option<String>,
    /// Worker threads, 1 to 1024 (all cores when absent; never more than
    /// the batch has runs).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Host memory the batch may use, e.g. 512M or 8G (the memory
    /// available when the solve starts when absent).
    #[arg(long, value_parser = parse_memory_limit)]
    pub memory_limit: Option<u64>,
    /// Where to write the results: FILE.npz or FILE.csv.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar and no summary.
    #[arg(long)]
    pub quiet: bool,
}

fn parse_memory_limit(text: &str) -> Result<u64, String> {
    cubie::kernel::parse_bytes(text)
}

/// Shows a bar on stderr once a solve has run for a second, and only on a
/// terminal.
struct Progress {
    bar: ProgressBar,
    start: Instant,
    visible: std::sync::atomic::AtomicBool,
    enabled: bool,
}

impl Progress {
    fn new(runs: usize, quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(runs as u64), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} runs ({eta} left)",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress {
            bar,
            start: Instant::now(),
            visible: false.into(),
            enabled: !quiet && std::io::stderr().is_terminal(),
        }
    }

    fn update(&self, finished: usize) {
        use std::sync::atomic::Ordering;
        if !self.enabled {
            return;
        }
        if !self.visible.load(Ordering::Relaxed) && self.start.elapsed() > Duration::from_secs(1) {
            self.visible.store(true, Ordering::Relaxed);
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        self.bar.set_position(finished as u64);
    }
}

pub fn run(args: SolveArgs) -> Result<()> {
    let model = load_model(&args.model)?;
    let precision = args
        .precision
        .as_deref()
        .map(str::parse::<Precision>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let grid: GridKind = args.grid.parse().map_err(anyhow::Error::msg)?;
    if let Some(out) = &args.out {
        let ext = out.extension().and_then(|e| e.to_str());
        if !matches!(ext, Some("npz" | "csv")) {
            bail!(
                "--out {}: use a file name ending in .npz or .csv",
                out.display()
            );
        }
    }
    // The controller's name is parsed here, at the edge; the library takes
    // the typed kind.
    let controller: Option<ControllerKind> =
        args.controller.as_deref().map(str::parse).transpose()?;
    let algorithm: Algorithm = args.algorithm.parse()?;
    let settings = SolverSettings {
        algorithm,
        precision,
        time: LoopSettings {
            t0: args.t0,
            duration: args.duration,
            settling_time: args.settling_time,
            save_every: args.save_every,
            ..LoopSettings::default()
        },
        control: ControllerOptions {
            kind: controller,
            dt: args.dt,
            dt_min: args.dt_min,
            dt_max: args.dt_max,
            atol: args.atol.clone(),
            rtol: args.rtol.clone(),
        },
        named: args.set.clone(),
        threads: args.threads,
        memory_limit: args.memory_limit,
        drivers: args
            .drivers
            .as_ref()
            .map(|path| DriverSeries::from_csv_file(model.drivers(), path))
            .transpose()?,
        outputs: OutputSettings {
            outputs: args.outputs.clone(),
            save_variables: args.save_variables.clone(),
            summarise_variables: args.summarise_variables.clone(),
            sample_summaries_every: args.sample_summaries_every,
            summarise_every: args.summarise_every,
        },
        ..SolverSettings::default()
    };
    let solver = Solver::new(&model, &settings)?;
    let inputs = match &args.inputs {
        Some(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open runs CSV `{}`", path.display()))?;
            runs_from_csv(&solver.input_space(), file, solver.precision())
                .with_context(|| format!("in `{}`", path.display()))?
        }
        None => {
            let sweeps = args
                .sweeps
                .iter()
                .map(|s| s.parse::<Sweep>())
                .collect::<Result<Vec<_>, _>>()?;
            solver.grid(&sweeps, grid)?
        }
    };

    let progress = Progress::new(inputs.n_runs, args.quiet);
    let started = Instant::now();
    let result = solver.solve_with_progress(&inputs, Some(&|n| progress.update(n)))?;
    let elapsed = started.elapsed();
    progress.bar.finish_and_clear();

    if let Some(out) = &args.out {
        result.write(out)?;
    }
    if !args.quiet {
        let failed = result.status().iter().filter(|s| **s != 0).count();
        println!(
            "{} runs with {} in {} precision: {} succeeded, {} failed ({:.3} s)",
            result.n_runs,
            solver.algorithm().name,
            solver.precision(),
            result.n_runs - failed,
            failed,
            elapsed.as_secs_f64()
        );
        for (flag, name) in Status::FLAGS {
            let count = result
                .status()
                .iter()
                .filter(|s| Status(**s).contains(flag))
                .count();
            if count > 0 {
                println!("  {count} runs: {name}");
            }
        }
        match &args.out {
            Some(out) => println!("wrote {}", out.display()),
            None => print_finals(&result),
        }
    }
    Ok(())
}

/// Without `--out`, the first runs' final states, so a quick solve shows
/// its answer.
fn print_finals(result: &cubie::results::SolveResult) {
    const SHOWN: usize = 10;
    let labels = result.labels("state_labels").unwrap_or_default();
    let finals = result.final_state();
    let n = labels.len();
    println!(
        "final state of the first {} runs (use --out to keep them all):",
        SHOWN.min(result.n_runs)
    );
    println!(
        "  {:>6}  {}",
        "run",
        labels
            .iter()
            .map(|l| format!("{l:>14}"))
            .collect::<String>()
    );
    for run in 0..result.n_runs.min(SHOWN) {
        let values: String = finals[run * n..(run + 1) * n]
            .iter()
            .map(|v| format!("{v:>14.6e}"))
            .collect();
        println!("  {run:>6}  {values}");
    }
}
