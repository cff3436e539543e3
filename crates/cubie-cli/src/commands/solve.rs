//! `cubie solve`: integrate a batch of runs and write the results.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use std::sync::atomic::AtomicBool;

use cubie::batch::{GridKind, RunSource, Sweep, runs_from_csv};
use cubie::controllers::{ControllerKind, ControllerOptions};
use cubie::drivers::DriverSeries;
use cubie::outputs::OutputSettings;
use cubie::pipeline::{ChunkPlan, Shard, SolveControl};
use cubie::results::zarr::{OpenMode, StoreSpec, ZarrStore, store_info};
use cubie::results::{
    CsvStream, NpzStream, ResultSink, ResultsError, SolveResult, check_disk_space,
};
use cubie::time_loop::{LoopSettings, Status};
use cubie::{Algorithm, CodeGenerator, Precision, Solver, SolverSettings};
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
    /// Runs integrated together in one lane block on the CPU: 1, 2, 4, 8,
    /// 16 or 32. When absent, chosen from the host's vector width and the
    /// method (with AVX-512 in f64: 32 for the C compiler's lane code and
    /// adaptive explicit methods, 8 for Cranelift's fixed-step loop, 16 for
    /// implicit methods). Results do not depend on it.
    #[arg(long)]
    pub lanes: Option<usize>,
    /// Code generator of the fused explicit step's lane code: cranelift
    /// (built in), c (the host's C compiler, `$CC` else `cc`, for the
    /// machine's full vector width; compiled once per model and machine,
    /// then cached) or auto (c when a C compiler runs, else cranelift).
    /// Results do not depend on it.
    #[arg(long, default_value = "auto")]
    pub codegen: CodeGenerator,
    /// Host memory the batch may use, e.g. 512M or 8G (the memory
    /// available when the solve starts when absent).
    #[arg(long, value_parser = parse_memory_limit)]
    pub memory_limit: Option<u64>,
    /// Where to write the results: FILE.npz, FILE.csv or a chunked,
    /// compressed store DIR.zarr (the one that resumes and shards).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Runs solved (and written) per chunk; by default about 4 MiB of
    /// results (a .zarr store: about 32 MiB), fewer where the memory limit
    /// asks for it.
    #[arg(long)]
    pub chunk_runs: Option<usize>,
    /// Continue an interrupted .zarr solve: whole chunks are kept, the
    /// rest solved. The store must be of the same solve.
    #[arg(long)]
    pub resume: bool,
    /// Solve only the K-th of N contiguous slices of the batch's chunks
    /// (K from 1) into a .zarr store, e.g. one per cluster job.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Where the runs are integrated: `cpu` (every core) or `cuda` (GPU 0,
    /// through the CUDA driver and NVRTC).
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda"])]
    pub backend: String,
    /// Print where the time went to stderr, one `timing: KEY SECONDS` line
    /// each (with `--backend cuda`: compile, module load, transfers and the
    /// kernel by CUDA events).
    #[arg(long)]
    pub timings: bool,
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

pub fn run(args: SolveArgs, cancel: &AtomicBool) -> Result<()> {
    let model = load_model(&args.model)?;
    let precision = args
        .precision
        .as_deref()
        .map(str::parse::<Precision>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let grid: GridKind = args.grid.parse().map_err(anyhow::Error::msg)?;
    let format = OutputFormat::of(args.out.as_deref())?;
    if (args.resume || args.shard.is_some()) && format != OutputFormat::Zarr {
        bail!("--resume and --shard need a .zarr store: use --out NAME.zarr");
    }
    let shard: Option<Shard> = args.shard.as_deref().map(str::parse).transpose()?;
    // The controller's name is parsed here, at the edge; the library takes
    // the typed kind.
    let controller: Option<ControllerKind> =
        args.controller.as_deref().map(str::parse).transpose()?;
    let algorithm: Algorithm = args.algorithm.parse()?;
    let backend = super::parse_backend(&args.backend)?;
    let settings = SolverSettings {
        backend,
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
        lanes: args.lanes,
        codegen: args.codegen,
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
    let setup = Instant::now();
    let solver = Solver::new(&model, &settings)?;
    let setup = setup.elapsed();
    let runs: Box<dyn RunSource> = match &args.inputs {
        Some(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open runs CSV `{}`", path.display()))?;
            Box::new(
                runs_from_csv(&solver.input_space(), file, solver.precision())
                    .with_context(|| format!("in `{}`", path.display()))?,
            )
        }
        None => {
            let sweeps = args
                .sweeps
                .iter()
                .map(|s| s.parse::<Sweep>())
                .collect::<Result<Vec<_>, _>>()?;
            Box::new(solver.grid_runs(&sweeps, grid)?)
        }
    };
    let n_runs = runs.n_runs();
    if n_runs == 0 {
        bail!("the batch has no runs");
    }

    let plan = chunk_plan(&args, &solver, format, n_runs)?;
    let chunks = match shard {
        Some(s) => plan.shard(s.index, s.count)?,
        None => 0..plan.n_chunks(),
    };
    let shard_runs = plan.runs(chunks.start).start..plan.runs(chunks.end.max(1) - 1).end;
    let shard_runs = if chunks.is_empty() { 0..0 } else { shard_runs };
    // Before anything is created: the chunks still to write must fit.
    if let Some(out) = &args.out {
        let whole = match format {
            OutputFormat::Zarr if out.is_dir() => store_info(out).map(|i| i.chunks).ok(),
            _ => None,
        };
        let todo = chunks
            .clone()
            .filter(|&k| whole.as_ref().is_none_or(|w| w.get(k) != Some(&true)))
            .map(|k| plan.runs(k).len() as u128)
            .sum::<u128>();
        check_disk_space(out, format.disk_bytes(solver.footprint().per_run, todo))?;
    }
    let mut preview = Preview::default();
    let mut file: Option<Box<dyn ResultSink>> = match (&args.out, format) {
        (Some(out), OutputFormat::Npz) => Some(Box::new(NpzStream::create(out, n_runs)?)),
        (Some(out), OutputFormat::Csv) => Some(Box::new(CsvStream::create(out)?)),
        (Some(out), OutputFormat::Zarr) => {
            let spec = StoreSpec {
                n_runs,
                chunk_runs: plan.chunk_runs(),
                identity: identity(&args, &solver)?,
            };
            let mode = if args.resume {
                OpenMode::Resume
            } else if shard.is_some() {
                OpenMode::Join
            } else {
                OpenMode::Create
            };
            Some(Box::new(ZarrStore::open(out, spec, mode)?))
        }
        _ => None,
    };
    let sink: &mut dyn ResultSink = match file.as_deref_mut() {
        Some(sink) => sink,
        None => &mut preview,
    };

    let progress = Progress::new(shard_runs.len(), args.quiet);
    let started = Instant::now();
    let report = |n: usize| progress.update(n);
    let control = SolveControl {
        progress: Some(&report),
        cancel: Some(cancel),
    };
    let outcome = solver.solve_chunks(&*runs, &plan, chunks.clone(), sink, control)?;
    let elapsed = started.elapsed();
    progress.bar.finish_and_clear();
    if args.timings {
        print_timings(&solver, setup, elapsed);
    }

    if outcome.interrupted {
        let kept = match (&args.out, format) {
            (Some(out), OutputFormat::Zarr) => {
                let info = store_info(out)?;
                format!(
                    "{} of {} chunks are in {}; continue with --resume",
                    info.complete_chunks(),
                    info.chunks.len(),
                    out.display()
                )
            }
            (Some(_), _) => {
                "no results were written (use a .zarr store to keep finished chunks)".into()
            }
            (None, _) => "nothing was written".into(),
        };
        // Dropping an unfinished .npz or .csv deletes its partial files.
        drop(file);
        return Err(Interrupted(kept).into());
    }
    if !args.quiet {
        let solved = outcome.runs_solved;
        println!(
            "{} runs with {} in {} precision: {} succeeded, {} failed ({:.3} s{})",
            solved,
            solver.algorithm().name,
            solver.precision(),
            solved - outcome.runs_failed,
            outcome.runs_failed,
            elapsed.as_secs_f64(),
            match outcome.chunks_solved {
                0 | 1 => String::new(),
                n => format!(", {n} chunks"),
            }
        );
        if outcome.chunks_kept > 0 {
            println!(
                "  {} chunks already in the store were kept",
                outcome.chunks_kept
            );
        }
        for (flag, name) in Status::FLAGS {
            if let Some((_, count)) = outcome.flag_counts.iter().find(|(f, _)| *f == flag.0) {
                println!("  {count} runs: {name}");
            }
        }
        match (&args.out, format) {
            (Some(out), OutputFormat::Zarr) => {
                let info = store_info(out)?;
                if info.is_complete() {
                    println!("wrote {} ({} chunks)", out.display(), info.chunks.len());
                } else {
                    println!(
                        "wrote {} of {} chunks of {}; missing: {}",
                        info.complete_chunks(),
                        info.chunks.len(),
                        out.display(),
                        info.missing()
                    );
                }
            }
            (Some(out), _) => println!("wrote {}", out.display()),
            (None, _) => {
                if let Some(result) = &preview.first {
                    print_finals(result);
                }
            }
        }
    }
    Ok(())
}

/// The `--timings` lines: `timing: KEY SECONDS`, and the device's name.
fn print_timings(solver: &Solver, setup: Duration, solve: Duration) {
    let line = |key: &str, d: Duration| eprintln!("timing: {key} {:.6}", d.as_secs_f64());
    if let Some(device) = solver.cuda_device() {
        eprintln!(
            "timing: device {} (compute {}.{})",
            device.name, device.compute_capability.0, device.compute_capability.1
        );
    }
    line("setup", setup);
    if let Some(t) = solver.cuda_timings() {
        let cache = if t.cached { "cached" } else { "cold" };
        eprintln!("timing: compile {:.6} {cache}", t.compile.as_secs_f64());
        line("module_load", t.load);
        line("upload", t.upload);
        line("kernel", t.kernel);
        line("download", t.download);
        eprintln!("timing: launches {}", t.launches);
    }
    line("solve", solve);
    line("total", setup + solve);
}

/// A solve stopped by an interrupt, after keeping what was done.
#[derive(Debug)]
pub struct Interrupted(pub String);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted; {}", self.0)
    }
}

impl std::error::Error for Interrupted {}

/// The kinds of output `--out` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutputFormat {
    None,
    Npz,
    Csv,
    Zarr,
}

impl OutputFormat {
    fn of(out: Option<&std::path::Path>) -> Result<Self> {
        let Some(out) = out else {
            return Ok(OutputFormat::None);
        };
        Ok(match out.extension().and_then(|e| e.to_str()) {
            Some("npz") => OutputFormat::Npz,
            Some("csv") => OutputFormat::Csv,
            Some("zarr") => OutputFormat::Zarr,
            _ => bail!(
                "--out {}: use a name ending in .npz, .csv or .zarr",
                out.display()
            ),
        })
    }

    /// Disk bytes for `runs` runs of `per_run` result bytes: the `.npz`
    /// holds them as they are, CSV text takes about three characters per
    /// byte of binary, a store at most its uncompressed size.
    fn disk_bytes(self, per_run: u128, runs: u128) -> u128 {
        let bytes = per_run.saturating_mul(runs);
        match self {
            OutputFormat::None => 0,
            OutputFormat::Npz => bytes,
            OutputFormat::Csv => bytes.saturating_mul(3),
            OutputFormat::Zarr => bytes,
        }
    }
}

/// The chunks of the batch: fixed by the store for `.zarr` (its own, when
/// resuming or joining one), else the largest the memory limit allows.
fn chunk_plan(
    args: &SolveArgs,
    solver: &Solver,
    format: OutputFormat,
    n_runs: usize,
) -> Result<ChunkPlan> {
    let chunk_runs = match (args.chunk_runs, format, &args.out) {
        (Some(c), _, _) => Some(c),
        (None, OutputFormat::Zarr, Some(out)) => {
            let existing = if (args.resume || args.shard.is_some()) && out.is_dir() {
                store_info(out).ok().map(|info| info.spec.chunk_runs)
            } else {
                None
            };
            Some(existing.unwrap_or_else(|| solver.store_chunk_runs(n_runs)))
        }
        _ => None,
    };
    Ok(match chunk_runs {
        Some(c) => {
            let plan = ChunkPlan::new(n_runs, c)?;
            solver.check_chunks(&plan)?;
            plan
        }
        None => solver.chunk_plan(n_runs)?,
    })
}

/// Everything that determines a solve's results, recorded in a store so
/// that a resumed solve or a shard can be checked against it.
fn identity(
    args: &SolveArgs,
    solver: &Solver,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    use serde_json::{Value, json};
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
    };
    let mut set = args.set.clone();
    set.sort();
    let mut map = serde_json::Map::new();
    let mut put = |key: &str, value: Value| {
        map.insert(key.to_string(), value);
    };
    put("cubie_version", json!(env!("CARGO_PKG_VERSION")));
    put("model", json!(read(&args.model)?));
    put("algorithm", json!(solver.algorithm().name));
    put("precision", json!(solver.precision().to_string()));
    put("t0", json!(args.t0));
    put("duration", json!(args.duration));
    put("settling_time", json!(args.settling_time));
    put("save_every", json!(args.save_every));
    put("dt", json!(args.dt));
    put("dt_min", json!(args.dt_min));
    put("dt_max", json!(args.dt_max));
    put("atol", json!(args.atol));
    put("rtol", json!(args.rtol));
    put("controller", json!(args.controller));
    put("outputs", json!(args.outputs));
    put("save_variables", json!(args.save_variables));
    put("summarise_variables", json!(args.summarise_variables));
    put("sample_summaries_every", json!(args.sample_summaries_every));
    put("summarise_every", json!(args.summarise_every));
    put("set", json!(set));
    put("grid", json!(args.grid));
    put("sweeps", json!(args.sweeps));
    put(
        "inputs",
        match &args.inputs {
            Some(path) => json!(read(path)?),
            None => Value::Null,
        },
    );
    put(
        "drivers",
        match &args.drivers {
            Some(path) => json!(read(path)?),
            None => Value::Null,
        },
    );
    Ok(map)
}

/// Without `--out`: the first chunk, to show its first runs.
#[derive(Debug, Default)]
struct Preview {
    first: Option<SolveResult>,
}

impl ResultSink for Preview {
    fn write_chunk(
        &mut self,
        _index: usize,
        _runs: std::ops::Range<usize>,
        chunk: &SolveResult,
    ) -> Result<(), ResultsError> {
        if self.first.is_none() {
            self.first = Some(chunk.clone());
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ResultsError> {
        Ok(())
    }
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
