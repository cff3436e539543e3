//! The public entry point: a [`Solver`] is one model compiled with one
//! algorithm and set of settings, ready to integrate batches.

use thiserror::Error;

use crate::Precision;
use crate::backend::cpu::jit::CodeGenerator;
use crate::backend::cpu::{CpuKernel, default_lanes};
use crate::backend::cuda::placement::{SharedBudget, fit_shared};
use crate::backend::cuda::{
    CudaDevice, CudaKernel, CudaTimings, DeviceKernel, HostEmulation, KernelCache,
};
use crate::backend::outputs::{Labels, pack};
use crate::batch::{
    BatchError, BatchInputs, GridKind, GridRuns, InputSpace, RunSource, Sweep, build_grid,
    grid_size,
};
use crate::controllers::ControllerOptions;
use crate::drivers::DriverSeries;
use crate::kernel::{Footprint, KernelError, KernelTree, MemoryBudget, MemoryError};
use crate::memory::{LayoutReport, Location, MAX_LANES, RegistryError};
use crate::outputs::OutputSettings;
use crate::pipeline::{ChunkPlan, ChunkedOutcome, PipelineError, SolveControl};
use crate::results::{ResultSink, ResultsError, SolveResult};
use crate::settings::{SettingsError, SettingsMap};
use crate::solvers::{LinearSolverKind, PreconditionerKind};
use crate::step::{Algorithm, AlgorithmEntry, StepComponent, StepError};
use crate::system::Model;
use crate::time_loop::LoopSettings;

pub use crate::backend::Backend;

/// Everything that can go wrong between settings and results.
#[derive(Debug, Error)]
pub enum SolveError {
    /// The algorithm is unknown.
    #[error(transparent)]
    Step(#[from] StepError),
    /// The kernel could not be built from the settings.
    #[error(transparent)]
    Kernel(#[from] KernelError),
    /// The CUDA kernel could not be generated, compiled or run.
    #[error(transparent)]
    Cuda(#[from] crate::backend::cuda::CudaError),
    /// A named setting is malformed.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The batch's inputs are invalid.
    #[error(transparent)]
    Batch(#[from] BatchError),
    /// The registry could not answer.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Inputs built for another model.
    #[error("inputs have {got} {what} per run, the model has {expected}")]
    InputShape {
        /// States or parameters.
        what: &'static str,
        /// In the inputs.
        got: usize,
        /// In the model.
        expected: usize,
    },
    /// The batch does not fit in memory.
    #[error(transparent)]
    Memory(#[from] MemoryError),
    /// A thread count of zero or beyond [`MAX_THREADS`].
    #[error(
        "threads = {0} is invalid: use 1 to {MAX_THREADS} worker threads, or leave it unset to use every core"
    )]
    ThreadCount(usize),
    /// The worker pool could not be created.
    /// A typed setting and a named one set the same key.
    #[error("`{key}` is set twice: by a typed field of the settings and by `named`; keep one")]
    ConflictingSetting {
        /// The setting's key.
        key: String,
    },
    #[error("cannot start {threads} worker threads: {reason}")]
    Threads {
        /// Requested threads.
        threads: usize,
        /// Why not.
        reason: String,
    },
    /// A batch that cannot be cut into chunks as asked.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// Results that cannot be written.
    #[error(transparent)]
    Results(#[from] ResultsError),
}

/// How to integrate: algorithm, precision, times, step control and any
/// named setting.
#[derive(Debug, Clone)]
pub struct SolverSettings {
    /// The algorithm (parse a name or alias with [`str::parse`]; see
    /// [`crate::step::algorithms`]).
    pub algorithm: Algorithm,
    /// Precision; the model's own when `None`.
    pub precision: Option<Precision>,
    /// Start, duration, settling time, save cadence, step budget.
    pub time: LoopSettings,
    /// Step size and error control.
    pub control: ControllerOptions,
    /// The implicit steps' Newton and linear solvers.
    pub implicit: ImplicitOptions,
    /// Buffer locations: a buffer's name (qualified by its component's
    /// path where the name repeats, as in `newton.linear_solver.x`) and
    /// where to put it.
    pub locations: Vec<(String, Location)>,
    /// Where the runs are integrated.
    pub backend: Backend,
    /// Named settings (`KEY=VALUE`) for everything else: controller gains,
    /// `max_steps`, ... (the command line's `--set`). A key may not be set
    /// both here and by a typed field.
    pub named: Vec<String>,
    /// Worker threads; all cores when `None`. Never more than the batch
    /// has runs; at most [`MAX_THREADS`].
    pub threads: Option<usize>,
    /// Runs the CPU backend integrates together in one lane block (1, 2,
    /// 4, 8, 16 or 32); when `None`, a width chosen from the host's vector
    /// registers ([`crate::backend::cpu::default_lanes`]) and the method:
    /// four vectors for the C compiler's lane code and adaptive explicit
    /// methods, one for Cranelift's fixed-step loop, 16 lanes (or one
    /// vector, if wider) for implicit methods; at most 32. Results do not
    /// depend on it.
    pub lanes: Option<usize>,
    /// The code generator of the CPU backend's fused explicit step on lane
    /// blocks (see [`CodeGenerator`]): by default the host's C compiler
    /// where one runs (the machine's full vector width), else Cranelift.
    /// Results do not depend on it.
    pub codegen: CodeGenerator,
    /// Host memory a batch may use, in bytes; the memory available when
    /// the solve starts when `None`.
    pub memory_limit: Option<u64>,
    /// Sampled driver series; the model's default values when `None`.
    pub drivers: Option<DriverSeries>,
    /// What to write: time series, summaries, counters.
    pub outputs: OutputSettings,
}

impl Default for SolverSettings {
    fn default() -> Self {
        SolverSettings {
            algorithm: Algorithm::DormandPrince54,
            precision: None,
            time: LoopSettings::default(),
            control: ControllerOptions::default(),
            implicit: ImplicitOptions::default(),
            locations: Vec::new(),
            backend: Backend::default(),
            named: Vec::new(),
            threads: None,
            lanes: None,
            codegen: CodeGenerator::default(),
            memory_limit: None,
            drivers: None,
            outputs: OutputSettings::default(),
        }
    }
}

/// The Newton and linear solvers of the implicit steps, typed; each
/// `None` keeps the default (see the README's table of solver settings).
/// For an explicit algorithm, any field set is an unknown setting.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImplicitOptions {
    /// `linear_solver`.
    pub linear_solver: Option<LinearSolverKind>,
    /// `preconditioner`.
    pub preconditioner: Option<PreconditionerKind>,
    /// `preconditioner_order` (Neumann terms, 1..=32).
    pub preconditioner_order: Option<u32>,
    /// `krylov_tolerance`.
    pub krylov_tolerance: Option<f64>,
    /// `krylov_max_iters`.
    pub krylov_max_iters: Option<u32>,
    /// `newton_tolerance`.
    pub newton_tolerance: Option<f64>,
    /// `newton_max_iters`.
    pub newton_max_iters: Option<u32>,
    /// `newton_damping`.
    pub newton_damping: Option<f64>,
    /// `newton_max_backtracks`.
    pub newton_max_backtracks: Option<u32>,
}

impl ImplicitOptions {
    /// The fields that are set, as `(key, value)` named settings.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        fn set(
            key: &'static str,
            value: Option<impl std::fmt::Display>,
        ) -> Option<(&'static str, String)> {
            value.map(|v| (key, v.to_string()))
        }
        [
            set("linear_solver", self.linear_solver),
            set("preconditioner", self.preconditioner),
            set("preconditioner_order", self.preconditioner_order),
            set("krylov_tolerance", self.krylov_tolerance),
            set("krylov_max_iters", self.krylov_max_iters),
            set("newton_tolerance", self.newton_tolerance),
            set("newton_max_iters", self.newton_max_iters),
            set("newton_damping", self.newton_damping),
            set("newton_max_backtracks", self.newton_max_backtracks),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Every named setting of `settings`: its `named` pairs and its typed
/// fields written as pairs, a key set by both refused.
fn all_named(settings: &SolverSettings) -> Result<Vec<String>, SolveError> {
    let named = SettingsMap::from_pairs(&settings.named)?;
    let mut typed: Vec<(String, String)> = settings
        .implicit
        .pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    typed.extend(
        settings
            .locations
            .iter()
            .map(|(buffer, at)| (format!("{buffer}_location"), at.as_str().to_string())),
    );
    let mut all = settings.named.clone();
    let mut seen = std::collections::HashSet::new();
    for (key, value) in typed {
        if named.contains(&key) || !seen.insert(key.clone()) {
            return Err(SolveError::ConflictingSetting { key });
        }
        all.push(format!("{key}={value}"));
    }
    Ok(all)
}

/// Bytes of results per chunk of a store (before compression).
pub const STORE_CHUNK_BYTES: u128 = 32 << 20;

/// Bytes of results per chunk of a solve streamed to a `.npz`, a CSV or
/// nothing, at the least (see [`Solver::chunk_plan`]).
pub const STREAM_CHUNK_BYTES: u128 = 4 << 20;

/// Bytes of results per worker thread in a chunk of a streamed solve of
/// many threads.
pub const STREAM_BYTES_PER_THREAD: u128 = 1 << 20;

/// The most worker threads a solve starts.
pub const MAX_THREADS: usize = 1024;

/// The backend's form of the tree, in the solve's precision.
#[derive(Debug)]
enum Kernel {
    CpuF32(CpuKernel<f32>),
    CpuF64(CpuKernel<f64>),
    /// The CUDA kernel, compiled for the host.
    Host(HostEmulation),
    /// The CUDA kernel, loaded on a GPU.
    Device(DeviceKernel),
}

/// A model compiled for one algorithm and set of settings.
#[derive(Debug)]
pub struct Solver {
    algorithm: &'static AlgorithmEntry,
    precision: Precision,
    threads: Option<usize>,
    memory_limit: Option<u64>,
    state_names: Vec<String>,
    state_defaults: Vec<f64>,
    parameter_names: Vec<String>,
    parameter_defaults: Vec<f64>,
    observable_names: Vec<String>,
    tree: KernelTree,
    kernel: Kernel,
}

/// The default lane block width for `tree` when one vector register holds
/// `vector` lanes (measured on Lorenz and Van der Pol with AVX-512, one
/// thread):
/// - four vectors for the C compiler's lane code and for adaptive explicit
///   steps: one vector's step is a chain of dependent operations, and four
///   independent chains keep the core busy (rk4 in C: 0.134 s at 16 f64
///   lanes, 0.116 s at 32); the controller's per-block passes are shared
///   by more runs (tsit5, Cranelift: 0.119 s at 8, 0.103 s at 32);
/// - one vector for Cranelift's fixed-step loop, which has registers for
///   no more (rk4: 0.255 s at 8, 0.314 s at 32);
/// - 16 lanes (or one vector, if wider) for the implicit families, whose
///   Newton and linear-solver passes are short loops over lanes: a pass
///   over 16 lanes costs little more than one over 8 (kvaerno5 1.31 s at
///   8, 0.88 s at 16, 1.08 s at 32; radau_iia_5 1.52, 1.08, 2.11 s).
///
/// At most [`MAX_LANES`].
fn block_width(tree: &KernelTree, codegen: CodeGenerator, vector: usize) -> usize {
    let explicit = matches!(tree.step, StepComponent::Erk(_));
    let width = if !explicit {
        vector.max(16)
    } else if (tree.fused_steps && codegen.uses_c()) || tree.controller.settings.kind.is_adaptive()
    {
        4 * vector
    } else {
        vector
    };
    width.min(MAX_LANES)
}

impl Solver {
    /// Builds the kernel: registry, buffer layout, compiled model.
    pub fn new(model: &Model, settings: &SolverSettings) -> Result<Self, SolveError> {
        let algorithm = settings.algorithm.entry();
        let precision = settings.precision.unwrap_or(model.precision());
        if let Some(threads) = settings.threads
            && !(1..=MAX_THREADS).contains(&threads)
        {
            return Err(SolveError::ThreadCount(threads));
        }
        let mut tree = build_tree(model, settings, algorithm, precision)?;
        let default = |vector: usize| block_width(&tree, settings.codegen, vector);
        let kernel = match (settings.backend, precision) {
            (Backend::Cpu, Precision::F32) => {
                let lanes = settings
                    .lanes
                    .unwrap_or_else(|| default(default_lanes::<f32>()));
                Kernel::CpuF32(CpuKernel::build(&mut tree, model, lanes, settings.codegen)?)
            }
            (Backend::Cpu, Precision::F64) => {
                let lanes = settings
                    .lanes
                    .unwrap_or_else(|| default(default_lanes::<f64>()));
                Kernel::CpuF64(CpuKernel::build(&mut tree, model, lanes, settings.codegen)?)
            }
            (Backend::CudaHostEmulation, _) => {
                tree.settle_working_memory()?;
                let kernel = CudaKernel::generate(&tree, model)?;
                Kernel::Host(HostEmulation::compile(&kernel)?)
            }
            (Backend::Cuda, _) => {
                let device = CudaDevice::open()?;
                let budget = SharedBudget::device(device.info.max_shared_per_block);
                let kernel = cuda_kernel(&mut tree, model, budget)?;
                Kernel::Device(DeviceKernel::load(
                    &device,
                    &kernel,
                    &KernelCache::from_env(),
                )?)
            }
        };
        let names = |v: &[crate::system::NamedValue]| v.iter().map(|x| x.name.clone()).collect();
        Ok(Solver {
            algorithm,
            precision,
            threads: settings.threads,
            memory_limit: settings.memory_limit,
            state_names: names(model.states()),
            state_defaults: model.state_defaults(),
            parameter_names: names(model.parameters()),
            parameter_defaults: model.parameter_defaults(),
            observable_names: model.observables().to_vec(),
            tree,
            kernel,
        })
    }

    /// The algorithm it integrates with.
    pub fn algorithm(&self) -> &'static AlgorithmEntry {
        self.algorithm
    }

    /// The precision it runs in.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Where the CUDA backend's time went so far (compile, transfers,
    /// kernel); `None` on other backends.
    pub fn cuda_timings(&self) -> Option<CudaTimings> {
        match &self.kernel {
            Kernel::Device(k) => Some(k.timings()),
            _ => None,
        }
    }

    /// The GPU of a CUDA solve.
    pub fn cuda_device(&self) -> Option<&crate::backend::cuda::device::DeviceInfo> {
        match &self.kernel {
            Kernel::Device(k) => Some(&k.device().info),
            _ => None,
        }
    }

    /// The variables a batch can set per run, with their defaults.
    pub fn input_space(&self) -> InputSpace<'_> {
        InputSpace {
            state_names: &self.state_names,
            state_defaults: &self.state_defaults,
            parameter_names: &self.parameter_names,
            parameter_defaults: &self.parameter_defaults,
        }
    }

    /// Runs from sweeps over the model's defaults, rounded to the solve's
    /// precision.
    /// A grid whose runs would not fit in memory is refused before any is
    /// made.
    pub fn grid(&self, sweeps: &[Sweep], kind: GridKind) -> Result<BatchInputs, SolveError> {
        let runs = grid_size(sweeps, kind)?;
        self.footprint()
            .check(runs as u128, &budget(self.memory_limit))?;
        Ok(build_grid(
            &self.input_space(),
            sweeps,
            kind,
            self.precision,
        )?)
    }

    /// What a batch of this solve costs in memory.
    pub fn footprint(&self) -> &Footprint {
        self.tree.footprint()
    }

    /// The registry's layout of the whole kernel.
    pub fn plan(&self) -> Result<LayoutReport, SolveError> {
        Ok(self.tree.report()?)
    }

    /// Every buffer-location setting this solve accepts, one per buffer
    /// (`<buffer>_location`, qualified by component where needed).
    pub fn location_settings(&self) -> Vec<String> {
        self.tree.location_keys().to_vec()
    }

    /// Integrates every run.
    pub fn solve(&self, inputs: &BatchInputs) -> Result<SolveResult, SolveError> {
        self.solve_with_progress(inputs, None)
    }

    /// Integrates every run, reporting the number of finished runs.
    pub fn solve_with_progress(
        &self,
        inputs: &BatchInputs,
        progress: Option<&(dyn Fn(usize) + Sync)>,
    ) -> Result<SolveResult, SolveError> {
        if inputs.n_runs == 0 {
            return Err(BatchError::Empty.into());
        }
        let pool = self.pool(inputs.n_runs)?;
        self.solve_in(&pool, inputs, progress, None)
    }

    /// [`solve_with_progress`](Self::solve_with_progress), stopped when
    /// `control.cancel` is set: `Ok(None)` then, and nothing is returned.
    pub fn solve_with_control(
        &self,
        inputs: &BatchInputs,
        control: SolveControl<'_>,
    ) -> Result<Option<SolveResult>, SolveError> {
        if inputs.n_runs == 0 {
            return Err(BatchError::Empty.into());
        }
        let pool = self.pool(inputs.n_runs)?;
        let result = self.solve_in(&pool, inputs, control.progress, control.cancel)?;
        let cancelled = control
            .cancel
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed));
        Ok((!cancelled).then_some(result))
    }

    /// The runs of a grid of sweeps, made on demand a chunk at a time (no
    /// run is made here, so the grid may be larger than memory).
    pub fn grid_runs(&self, sweeps: &[Sweep], kind: GridKind) -> Result<GridRuns, SolveError> {
        Ok(GridRuns::new(
            &self.input_space(),
            sweeps,
            kind,
            self.precision,
        )?)
    }

    /// The chunks a batch of `n_runs` runs is solved in: about
    /// [`STREAM_CHUNK_BYTES`] of results each, or [`STREAM_BYTES_PER_THREAD`]
    /// per worker thread where that is more (but at least 16 runs per
    /// thread, and at most [`STORE_CHUNK_BYTES`]), fewer runs where the
    /// memory limit (half the memory available now when no limit is set)
    /// asks for it. Small chunks stay in the caches while they are solved
    /// and written, their memory is reused chunk after chunk, and the last
    /// one, written after every run is solved, is short; larger ones only
    /// add barriers' worth of balance.
    pub fn chunk_plan(&self, n_runs: usize) -> Result<ChunkPlan, SolveError> {
        let fit =
            ChunkPlan::for_budget(n_runs, self.footprint(), &chunk_budget(self.memory_limit))?;
        let threads = self.worker_threads(n_runs) as u128;
        let per_run = self.footprint().per_run.max(1);
        let bytes = STREAM_CHUNK_BYTES
            .max(STREAM_BYTES_PER_THREAD.saturating_mul(threads))
            .min(STORE_CHUNK_BYTES);
        let streamed = (bytes / per_run).max(16 * threads);
        let runs = (fit.chunk_runs() as u128)
            .min(self.store_chunk_runs(n_runs) as u128)
            .min(streamed);
        Ok(ChunkPlan::new(n_runs, runs as usize)?)
    }

    /// Runs per chunk of a results store for a batch of `n_runs`: about
    /// [`STORE_CHUNK_BYTES`] of results each. It depends on the solve only
    /// (never on the machine), so that shards solved anywhere agree on the
    /// store's chunks.
    pub fn store_chunk_runs(&self, n_runs: usize) -> usize {
        let per_run = self.footprint().per_run.max(1);
        let runs = (STORE_CHUNK_BYTES / per_run).max(1);
        runs.min(n_runs.max(1) as u128) as usize
    }

    /// Checks that chunks of `plan` (fixed by an output's layout, say) fit
    /// the memory limit.
    pub fn check_chunks(&self, plan: &ChunkPlan) -> Result<(), SolveError> {
        Ok(plan.check(self.footprint(), &chunk_budget(self.memory_limit))?)
    }

    /// Solves `chunks` (indices into `plan`) of `runs` in order, handing
    /// each to `sink` as soon as it is done, then finishes the sink unless
    /// the solve was cancelled. Chunks the sink already holds are skipped.
    /// Results are bit-identical to a one-piece [`solve`](Self::solve):
    /// every run is integrated on its own, whatever chunk it falls in.
    pub fn solve_chunks(
        &self,
        runs: &dyn RunSource,
        plan: &ChunkPlan,
        chunks: std::ops::Range<usize>,
        sink: &mut dyn ResultSink,
        control: SolveControl<'_>,
    ) -> Result<ChunkedOutcome, SolveError> {
        use std::sync::atomic::Ordering;
        if plan.n_runs() != runs.n_runs() {
            return Err(BatchError::RunRange {
                start: 0,
                end: plan.n_runs(),
                n_runs: runs.n_runs(),
            }
            .into());
        }
        let pool = self.pool(plan.chunk_runs())?;
        let mut flags: Vec<(i32, usize)> = crate::time_loop::Status::FLAGS
            .iter()
            .map(|(flag, _)| (flag.0, 0))
            .collect();
        // Runs before the first chunk of this solve count as done (an
        // earlier shard's), as do chunks the sink holds already.
        let mut done = 0;
        let cancelled = || control.cancel.is_some_and(|c| c.load(Ordering::Relaxed));
        // Asked before the writer takes the sink.
        let held = chunks
            .clone()
            .map(|k| sink.has_chunk(k))
            .collect::<Result<Vec<bool>, _>>()?;
        // One thread writes chunk k while the pool solves chunk k + 1; the
        // rendezvous channel keeps at most one chunk waiting.
        let (outcome, written) = std::thread::scope(|scope| {
            let (send, receive) =
                std::sync::mpsc::sync_channel::<(usize, std::ops::Range<usize>, SolveResult)>(0);
            let sink = &mut *sink;
            let writer = scope.spawn(move || -> Result<(), ResultsError> {
                for (index, range, result) in receive {
                    sink.write_chunk(index, range, &result)?;
                }
                Ok(())
            });
            let solved = (|| -> Result<ChunkedOutcome, SolveError> {
                let mut outcome = ChunkedOutcome::default();
                for (index, held) in chunks.clone().zip(held) {
                    let range = plan.runs(index);
                    if held {
                        outcome.chunks_kept += 1;
                        done += range.len();
                        if let Some(report) = control.progress {
                            report(done);
                        }
                        continue;
                    }
                    if cancelled() {
                        outcome.interrupted = true;
                        return Ok(outcome);
                    }
                    let inputs = runs.runs(range.clone())?;
                    let offset = done;
                    let report = control.progress.map(|p| move |n: usize| p(offset + n));
                    let report = report.as_ref().map(|r| r as &(dyn Fn(usize) + Sync));
                    let result = self.solve_in(&pool, &inputs, report, control.cancel)?;
                    if cancelled() {
                        // The chunk may be unfinished: it is not written.
                        outcome.interrupted = true;
                        return Ok(outcome);
                    }
                    for status in result.status() {
                        if *status != 0 {
                            outcome.runs_failed += 1;
                        }
                        for (flag, count) in &mut flags {
                            if status & *flag != 0 {
                                *count += 1;
                            }
                        }
                    }
                    outcome.chunks_solved += 1;
                    outcome.runs_solved += range.len();
                    done += range.len();
                    if send.send((index, range, result)).is_err() {
                        // The writer stopped on an error, reported below.
                        break;
                    }
                }
                Ok(outcome)
            })();
            drop(send);
            let written = writer.join().unwrap_or(Err(ResultsError::WriterPanicked));
            (solved, written)
        });
        // A write error explains a stopped solve first.
        written?;
        let mut outcome = outcome?;
        if outcome.interrupted {
            return Ok(outcome);
        }
        outcome.flag_counts = flags.into_iter().filter(|(_, n)| *n > 0).collect();
        sink.finish()?;
        Ok(outcome)
    }

    /// Worker threads for batches of up to `runs` runs: a worker without a
    /// run to integrate would only cost a thread.
    fn worker_threads(&self, runs: usize) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .min(runs.max(1))
    }

    /// The worker pool for batches of up to `runs` runs.
    fn pool(&self, runs: usize) -> Result<rayon::ThreadPool, SolveError> {
        let threads = self.worker_threads(runs);
        // Streamed model functions park their outputs on the worker's stack.
        let stack = match &self.kernel {
            Kernel::CpuF32(k) => k.stack_bytes(),
            Kernel::CpuF64(k) => k.stack_bytes(),
            Kernel::Host(_) | Kernel::Device(_) => 0,
        };
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .stack_size(WORKER_STACK.saturating_add(stack))
            .build()
            .map_err(|e| SolveError::Threads {
                threads,
                reason: e.to_string(),
            })
    }

    /// Integrates every run of `inputs` on `pool`.
    fn solve_in(
        &self,
        pool: &rayon::ThreadPool,
        inputs: &BatchInputs,
        progress: Option<&(dyn Fn(usize) + Sync)>,
        cancel: Option<&std::sync::atomic::AtomicBool>,
    ) -> Result<SolveResult, SolveError> {
        for (what, got, expected) in [
            ("states", inputs.n_states, self.state_names.len()),
            (
                "parameters",
                inputs.n_parameters,
                self.parameter_names.len(),
            ),
        ] {
            if got != expected {
                return Err(SolveError::InputShape {
                    what,
                    got,
                    expected,
                });
            }
        }
        if inputs.n_runs == 0 {
            return Err(BatchError::Empty.into());
        }
        // The inputs are counted again: a batch near the limit is refused
        // rather than risked.
        self.footprint()
            .check(inputs.n_runs as u128, &budget(self.memory_limit))?;
        let labels = Labels {
            states: &self.state_names,
            parameters: &self.parameter_names,
            observables: &self.observable_names,
        };
        let tree = &self.tree;
        let result = pool.install(|| match &self.kernel {
            Kernel::CpuF32(k) => Ok(pack(
                tree,
                inputs,
                k.run_batch(tree, inputs, progress, cancel),
                &labels,
            )),
            Kernel::CpuF64(k) => Ok(pack(
                tree,
                inputs,
                k.run_batch(tree, inputs, progress, cancel),
                &labels,
            )),
            // The emulated kernel runs its threads one after another, so it
            // reports no progress and is not cancelled part-way.
            Kernel::Host(emulation) => match self.precision {
                Precision::F32 => {
                    let single = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
                    emulation
                        .run::<f32>(
                            inputs.n_runs,
                            &single(&inputs.initial_values),
                            &single(&inputs.parameters),
                        )
                        .map(|out| pack(tree, inputs, out, &labels))
                }
                Precision::F64 => emulation
                    .run::<f64>(inputs.n_runs, &inputs.initial_values, &inputs.parameters)
                    .map(|out| pack(tree, inputs, out, &labels)),
            },
            // Progress after each launch; a launch is not cancelled
            // part-way (the chunked pipeline stops between its chunks).
            Kernel::Device(device) => match self.precision {
                Precision::F32 => {
                    let single = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
                    device
                        .run::<f32>(
                            inputs.n_runs,
                            &single(&inputs.initial_values),
                            &single(&inputs.parameters),
                            progress,
                        )
                        .map(|out| pack(tree, inputs, out, &labels))
                }
                Precision::F64 => device
                    .run::<f64>(
                        inputs.n_runs,
                        &inputs.initial_values,
                        &inputs.parameters,
                        progress,
                    )
                    .map(|out| pack(tree, inputs, out, &labels)),
            },
        });
        Ok(result?.map_err(KernelError::from)?)
    }
}

/// The component tree of `model` solved with `settings`.
fn build_tree(
    model: &Model,
    settings: &SolverSettings,
    algorithm: &'static AlgorithmEntry,
    precision: Precision,
) -> Result<KernelTree, SolveError> {
    let budget = budget(settings.memory_limit);
    let named = SettingsMap::from_pairs(&all_named(settings)?)?;
    let mut time = settings.time.clone();
    if let Some(max_steps) = named.get::<u64>("max_steps", "a whole number")? {
        time.max_steps = max_steps;
    }
    let control = settings.control.clone();
    let drivers = match &settings.drivers {
        Some(series) => series.clone(),
        None => DriverSeries::constant(model.drivers()),
    };
    Ok(KernelTree::build(
        model,
        algorithm,
        precision,
        time,
        control,
        &named,
        &drivers,
        &settings.outputs,
        &budget,
    )?)
}

/// The CUDA C of the kernel that solves `model` with `settings` (the
/// backend setting is ignored): what `cubie emit` prints, placed for a
/// block of 48 KiB of shared memory ([`SharedBudget::WITHOUT_DEVICE`]).
/// Needs no GPU and no compiler.
pub fn emit_cuda(model: &Model, settings: &SolverSettings) -> Result<CudaKernel, SolveError> {
    emit_cuda_for(model, settings, SharedBudget::WITHOUT_DEVICE)
}

/// [`emit_cuda`] placed for a device's shared-memory `budget` (as a solve
/// on that device places it).
pub fn emit_cuda_for(
    model: &Model,
    settings: &SolverSettings,
    budget: SharedBudget,
) -> Result<CudaKernel, SolveError> {
    let algorithm = settings.algorithm.entry();
    let precision = settings.precision.unwrap_or(model.precision());
    let mut tree = build_tree(model, settings, algorithm, precision)?;
    cuda_kernel(&mut tree, model, budget)
}

/// The CUDA kernel of `tree`, its default placements moved from shared to
/// local memory until a block fits `shared_budget` (the user's placements
/// stay; one that cannot fit is an error naming the buffers).
fn cuda_kernel(
    tree: &mut KernelTree,
    model: &Model,
    shared_budget: SharedBudget,
) -> Result<CudaKernel, SolveError> {
    fit_shared(
        tree,
        crate::backend::cuda::kernel::DEFAULT_RUNS_PER_BLOCK,
        shared_budget,
    )?;
    tree.settle_working_memory()?;
    Ok(CudaKernel::generate(tree, model)?)
}

/// A worker thread's stack before the model's own needs (Rust's default).
const WORKER_STACK: usize = 2 << 20;

/// The user's limit, else what the machine has available now.
fn budget(limit: Option<u64>) -> MemoryBudget {
    limit.map_or_else(MemoryBudget::available, MemoryBudget::limit)
}

/// What a chunked solve may use: the user's limit, else half of what the
/// machine has available now (the rest is left to the page cache the
/// writers stream through, and to everything else running).
fn chunk_budget(limit: Option<u64>) -> MemoryBudget {
    match limit {
        Some(bytes) => MemoryBudget::limit(bytes),
        None => {
            let mut available = MemoryBudget::available();
            available.bytes /= 2;
            available
        }
    }
}
