//! `cubie._cubie`: the Rust engine as a Python extension module.
//!
//! The Python package `cubie` (in `python/cubie`) is the user's API; this
//! module gives it systems ([`PySystem`]), solvers ([`PySolver`]) and the
//! exceptions. Solves release the GIL and run on a worker thread while
//! the calling thread reports progress and watches for Ctrl-C, which
//! cancels the solve. Output arrays are handed to numpy without a copy.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use cubie::batch::{BatchInputs, GridKind, RunSource, Sweep};
use cubie::controllers::{ControllerKind, ControllerOptions};
use cubie::drivers::DriverSeries;
use cubie::outputs::OutputSettings;
use cubie::pipeline::{ChunkPlan, SolveControl};
use cubie::results::zarr::{OpenMode, StoreSpec, ZarrStore, read_store};
use cubie::results::{ArrayData, NamedArray, SolveResult};
use cubie::system::{Model, ModelError as RustModelError};
use cubie::time_loop::{LoopSettings, Status};
use cubie::{Backend, CodeGenerator, Precision, Solver, SolverSettings};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

create_exception!(
    _cubie,
    CubieError,
    PyValueError,
    "Base class of cubie's errors (a `ValueError`)."
);
create_exception!(
    _cubie,
    ModelError,
    CubieError,
    "An error in a model: `line` and `column` (1-based, None when unknown) and `file` say where."
);
create_exception!(
    _cubie,
    SolveError,
    CubieError,
    "Settings, inputs or a solve that cannot be carried out."
);

/// A model error as the CLI prints it, with its place as attributes.
fn model_error(py: Python<'_>, e: &RustModelError) -> PyErr {
    let err = ModelError::new_err(e.render());
    let value = err.value(py);
    let location = e.location();
    // Setting attributes on a fresh exception cannot fail in practice; a
    // failure would only lose the attributes, never the error.
    let _ = value.setattr("line", location.map(|l| l.line));
    let _ = value.setattr("column", location.map(|l| l.column));
    let _ = value.setattr("file", e.file());
    err
}

/// Any other error: its message and its causes, as the CLI chains them.
fn solve_error(e: &(dyn std::error::Error + 'static)) -> PyErr {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    SolveError::new_err(message)
}

/// How a system was made, kept so that it can be pickled (Dask sends
/// systems to its workers).
#[derive(Clone)]
enum SystemSource {
    Built {
        equations: String,
        states: Vec<(String, f64)>,
        parameters: Vec<(String, f64)>,
        constants: Vec<(String, f64)>,
        observables: Vec<String>,
        drivers: Vec<(String, f64)>,
        precision: Option<String>,
        name: Option<String>,
    },
    File {
        text: String,
        name: String,
    },
}

/// A compiled-ready model: equations, states, parameters, constants,
/// observables and drivers with their defaults.
#[pyclass(name = "System", module = "cubie._cubie", frozen)]
struct PySystem {
    model: Model,
    source: SystemSource,
}

fn named(values: &[cubie::system::NamedValue]) -> Vec<(String, f64)> {
    values.iter().map(|v| (v.name.clone(), v.value)).collect()
}

#[pymethods]
impl PySystem {
    /// The model's name.
    #[getter]
    fn name(&self) -> String {
        self.model.name().to_string()
    }

    /// `"float32"` or `"float64"`.
    #[getter]
    fn precision(&self) -> &'static str {
        match self.model.precision() {
            Precision::F32 => "float32",
            Precision::F64 => "float64",
        }
    }

    /// The equations text.
    #[getter]
    fn equations(&self) -> String {
        self.model.equations().to_string()
    }

    /// States and their default initial values, in order.
    #[getter]
    fn states(&self) -> Vec<(String, f64)> {
        named(self.model.states())
    }

    /// Parameters and their defaults, in order.
    #[getter]
    fn parameters(&self) -> Vec<(String, f64)> {
        named(self.model.parameters())
    }

    /// Constants and their values.
    #[getter]
    fn constants(&self) -> Vec<(String, f64)> {
        named(self.model.constants())
    }

    /// Drivers and their default values.
    #[getter]
    fn drivers(&self) -> Vec<(String, f64)> {
        named(self.model.drivers())
    }

    /// Observable names.
    #[getter]
    fn observables(&self) -> Vec<String> {
        self.model.observables().to_vec()
    }

    /// The model file's text, for a system loaded from a file.
    #[getter]
    fn source_text(&self) -> Option<String> {
        match &self.source {
            SystemSource::File { text, .. } => Some(text.clone()),
            SystemSource::Built { .. } => None,
        }
    }

    fn __repr__(&self) -> String {
        let m = &self.model;
        format!(
            "System({:?}: {} states, {} parameters, {} observables, {} drivers, {})",
            m.name(),
            m.n_states(),
            m.n_parameters(),
            m.n_observables(),
            m.n_drivers(),
            self.precision()
        )
    }

    /// Pickling: the system is rebuilt from how it was made.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let module = py.import("cubie._cubie")?;
        let this = slf.get();
        let reduced = match &this.source {
            SystemSource::Built {
                equations,
                states,
                parameters,
                constants,
                observables,
                drivers,
                precision,
                name,
            } => (
                module.getattr("create_system")?,
                (
                    equations.clone(),
                    states.clone(),
                    parameters.clone(),
                    constants.clone(),
                    observables.clone(),
                    drivers.clone(),
                    precision.clone(),
                    name.clone(),
                )
                    .into_pyobject(py)?
                    .into_any(),
            ),
            SystemSource::File { text, name } => (
                module.getattr("system_from_toml")?,
                (text.clone(), name.clone()).into_pyobject(py)?.into_any(),
            ),
        };
        Ok(reduced.into_pyobject(py)?.into_any())
    }
}

/// Builds a system from equations and named values.
#[pyfunction]
#[pyo3(signature = (equations, states, parameters, constants, observables, drivers, precision=None, name=None))]
#[allow(clippy::too_many_arguments)]
fn create_system(
    py: Python<'_>,
    equations: String,
    states: Vec<(String, f64)>,
    parameters: Vec<(String, f64)>,
    constants: Vec<(String, f64)>,
    observables: Vec<String>,
    drivers: Vec<(String, f64)>,
    precision: Option<String>,
    name: Option<String>,
) -> PyResult<PySystem> {
    let mut builder = Model::builder(equations.clone())
        .states(states.clone())
        .parameters(parameters.clone())
        .constants(constants.clone())
        .observables(observables.clone())
        .drivers(drivers.clone());
    if let Some(p) = &precision {
        builder = builder.precision(p.parse::<Precision>().map_err(SolveError::new_err)?);
    }
    if let Some(n) = &name {
        builder = builder.name(n.clone());
    }
    let model = builder.build().map_err(|e| model_error(py, &e))?;
    Ok(PySystem {
        model,
        source: SystemSource::Built {
            equations,
            states,
            parameters,
            constants,
            observables,
            drivers,
            precision,
            name,
        },
    })
}

/// Builds a system from the text of a model file (`name` is shown in
/// errors).
#[pyfunction]
fn system_from_toml(py: Python<'_>, text: String, name: String) -> PyResult<PySystem> {
    let model = Model::from_toml_str(&text, &name).map_err(|e| model_error(py, &e))?;
    Ok(PySystem {
        model,
        source: SystemSource::File { text, name },
    })
}

/// Loads a model file.
#[pyfunction]
fn load_model(py: Python<'_>, path: PathBuf) -> PyResult<PySystem> {
    let text = std::fs::read_to_string(&path).map_err(|e| {
        SolveError::new_err(format!("cannot read model file `{}`: {e}", path.display()))
    })?;
    system_from_toml(py, text, path.display().to_string())
}

/// A value of the settings dict.
fn get<'py, T: FromPyObjectOwned<'py>>(
    settings: &Bound<'py, PyDict>,
    key: &str,
) -> PyResult<Option<T>> {
    match settings.get_item(key)? {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => v.extract::<T>().map(Some).map_err(|e| {
            let e: PyErr = e.into();
            SolveError::new_err(format!("setting `{key}`: {e}"))
        }),
    }
}

/// Typed solver settings from the Python layer's normalised dict.
fn solver_settings(settings: &Bound<'_, PyDict>, model: &Model) -> PyResult<SolverSettings> {
    let mut out = SolverSettings::default();
    if let Some(method) = get::<String>(settings, "method")? {
        out.algorithm = method.trim().parse().map_err(|e| solve_error(&e))?;
    }
    if let Some(p) = get::<String>(settings, "precision")? {
        out.precision = Some(p.parse::<Precision>().map_err(SolveError::new_err)?);
    }
    let defaults = LoopSettings::default();
    out.time = LoopSettings {
        t0: get(settings, "t0")?.unwrap_or(defaults.t0),
        duration: get(settings, "duration")?.unwrap_or(defaults.duration),
        settling_time: get(settings, "settling_time")?.unwrap_or(defaults.settling_time),
        save_every: get(settings, "save_every")?,
        ..defaults
    };
    out.control = ControllerOptions {
        kind: match get::<String>(settings, "step_controller")? {
            Some(k) => Some(k.parse::<ControllerKind>().map_err(|e| solve_error(&e))?),
            None => None,
        },
        dt: get(settings, "dt")?,
        dt_min: get(settings, "dt_min")?,
        dt_max: get(settings, "dt_max")?,
        atol: get(settings, "atol")?,
        rtol: get(settings, "rtol")?,
    };
    out.outputs = OutputSettings {
        outputs: get(settings, "output_types")?,
        save_variables: get(settings, "save_variables")?,
        summarise_variables: get(settings, "summarise_variables")?,
        sample_summaries_every: get(settings, "sample_summaries_every")?,
        summarise_every: get(settings, "summarise_every")?,
    };
    out.threads = get(settings, "threads")?;
    out.lanes = get(settings, "lanes")?;
    out.memory_limit = get(settings, "memory_limit")?;
    if let Some(c) = get::<String>(settings, "codegen")? {
        out.codegen = c.parse::<CodeGenerator>().map_err(|e| solve_error(&e))?;
    }
    if let Some(b) = get::<String>(settings, "backend")? {
        out.backend = match b.as_str() {
            "cpu" => Backend::Cpu,
            "cuda" => Backend::Cuda,
            other => {
                return Err(SolveError::new_err(format!(
                    "unknown backend `{other}`: use cpu or cuda"
                )));
            }
        };
    }
    out.named = get(settings, "named")?.unwrap_or_default();
    if let Some((times, series)) = get::<(Vec<f64>, Vec<(String, Vec<f64>)>)>(settings, "drivers")?
    {
        out.drivers = Some(
            DriverSeries::with_times(model.drivers(), times, series)
                .map_err(|e| solve_error(&e))?,
        );
    }
    Ok(out)
}

/// A solver: one model and one set of settings, compiled once, solved
/// any number of times.
#[pyclass(name = "Solver", module = "cubie._cubie", frozen)]
struct PySolver {
    solver: Solver,
}

/// `(name, values)` pairs from Python as sweeps (one copy of the values).
fn to_sweeps(sweeps: Vec<(String, PyReadonlyArray1<'_, f64>)>) -> Vec<Sweep> {
    sweeps
        .into_iter()
        .map(|(name, values)| {
            let values = match values.as_slice() {
                Ok(slice) => slice.to_vec(),
                Err(_) => values.as_array().iter().copied().collect(),
            };
            Sweep::new(name, values)
        })
        .collect()
}

/// Rows of a 2-D float array as one row-major vector, checked against
/// the expected width.
fn rows(
    array: &PyReadonlyArray2<'_, f64>,
    names: &[String],
    what: &str,
) -> PyResult<(usize, Vec<f64>)> {
    let width = names.len();
    let shape = array.shape();
    if shape[1] != width {
        return Err(SolveError::new_err(format!(
            "`{what}` has {} columns, the system has {width} {what}",
            shape[1]
        )));
    }
    let values: Vec<f64> = match array.as_slice() {
        Ok(slice) => slice.to_vec(),
        Err(_) => array.as_array().iter().copied().collect(),
    };
    if let Some(at) = values.iter().position(|v| !v.is_finite()) {
        return Err(SolveError::new_err(format!(
            "`{}` is {} in run {}: {what} must be finite",
            names[at % width],
            values[at],
            at / width
        )));
    }
    Ok((shape[0], values))
}

/// Named arrays as a dict of numpy arrays (labels as lists of str); the
/// vectors move into numpy without a copy.
fn arrays_to_dict(py: Python<'_>, arrays: Vec<NamedArray>) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    for array in arrays {
        let shape = array.shape.clone();
        let value: Bound<'_, PyAny> = match array.data {
            ArrayData::F32(v) => PyArray1::from_vec(py, v).reshape(shape)?.into_any(),
            ArrayData::F64(v) => PyArray1::from_vec(py, v).reshape(shape)?.into_any(),
            ArrayData::I32(v) => PyArray1::from_vec(py, v).reshape(shape)?.into_any(),
            ArrayData::I64(v) => PyArray1::from_vec(py, v).reshape(shape)?.into_any(),
            ArrayData::Str(v) => PyList::new(py, v)?.into_any(),
        };
        out.set_item(array.name, value)?;
    }
    Ok(out)
}

/// Runs `work` on a worker thread with the GIL released, reporting
/// `done` to `progress` every tenth of a second and cancelling on
/// Ctrl-C (then `KeyboardInterrupt` is raised once the worker stops).
fn run_cancellable<T: Send>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce(&AtomicUsize, &AtomicBool) -> T + Send,
) -> PyResult<T> {
    let done = AtomicUsize::new(0);
    let cancel = AtomicBool::new(false);
    let finished = (Mutex::new(false), Condvar::new());
    // Wakes at once when the work ends, else after 50 ms (to report
    // progress and look for Ctrl-C); true when it has ended.
    let wait = || {
        let (flag, signal) = &finished;
        let guard = flag.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = signal
            .wait_timeout_while(guard, Duration::from_millis(50), |ended| !*ended)
            .unwrap_or_else(|e| e.into_inner());
        *guard
    };
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            // Set even when `work` panics, so that the wait ends.
            struct Ended<'a>(&'a (Mutex<bool>, Condvar));
            impl Drop for Ended<'_> {
                fn drop(&mut self) {
                    *self.0.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
                    self.0.1.notify_all();
                }
            }
            let _ended = Ended(&finished);
            work(&done, &cancel)
        });
        let mut reported = usize::MAX;
        let mut interrupted: Option<PyErr> = None;
        while !py.detach(wait) {
            if interrupted.is_none()
                && let Err(e) = py.check_signals()
            {
                cancel.store(true, Ordering::Relaxed);
                interrupted = Some(e);
            }
            let now = done.load(Ordering::Relaxed);
            if let Some(callback) = progress
                && now != reported
                && interrupted.is_none()
            {
                reported = now;
                if let Err(e) = callback.call1((now,)) {
                    cancel.store(true, Ordering::Relaxed);
                    interrupted = Some(e);
                }
            }
        }
        let result = py.detach(|| worker.join());
        if let Some(e) = interrupted {
            return Err(e);
        }
        let result = result.map_err(|_| SolveError::new_err("the solve stopped unexpectedly"))?;
        if let Some(callback) = progress {
            callback.call1((done.load(Ordering::Relaxed),))?;
        }
        Ok(result)
    })
}

#[pymethods]
impl PySolver {
    /// A solver of `system` with `settings` (the Python layer's
    /// normalised dict).
    #[new]
    fn new(system: &Bound<'_, PySystem>, settings: &Bound<'_, PyDict>) -> PyResult<Self> {
        let model = &system.get().model;
        let settings = solver_settings(settings, model)?;
        let solver = system
            .py()
            .detach(|| Solver::new(model, &settings))
            .map_err(|e| solve_error(&e))?;
        Ok(PySolver { solver })
    }

    /// State names, in the solver's order.
    #[getter]
    fn state_names(&self) -> Vec<String> {
        self.solver.input_space().state_names.to_vec()
    }

    /// Parameter names.
    #[getter]
    fn parameter_names(&self) -> Vec<String> {
        self.solver.input_space().parameter_names.to_vec()
    }

    /// Default initial values.
    #[getter]
    fn state_defaults(&self) -> Vec<f64> {
        self.solver.input_space().state_defaults.to_vec()
    }

    /// Default parameter values.
    #[getter]
    fn parameter_defaults(&self) -> Vec<f64> {
        self.solver.input_space().parameter_defaults.to_vec()
    }

    /// The algorithm's canonical name.
    #[getter]
    fn algorithm(&self) -> &'static str {
        self.solver.algorithm().name
    }

    /// `"float32"` or `"float64"`.
    #[getter]
    fn precision(&self) -> &'static str {
        match self.solver.precision() {
            Precision::F32 => "float32",
            Precision::F64 => "float64",
        }
    }

    /// The runs of a grid: `sweeps` is a list of `(name, values)` over
    /// states and parameters, `kind` `"combinatorial"` or `"verbatim"`.
    /// Returns `(initial_values, parameters)`, each `(runs, n)`.
    fn grid<'py>(
        &self,
        py: Python<'py>,
        sweeps: Vec<(String, PyReadonlyArray1<'py, f64>)>,
        kind: &str,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let kind: GridKind = kind.parse().map_err(SolveError::new_err)?;
        let sweeps = to_sweeps(sweeps);
        let inputs = self
            .solver
            .grid(&sweeps, kind)
            .map_err(|e| solve_error(&e))?;
        let (runs, ns, np) = (inputs.n_runs, inputs.n_states, inputs.n_parameters);
        let y0 = PyArray1::from_vec(py, inputs.initial_values).reshape([runs, ns])?;
        let p = PyArray1::from_vec(py, inputs.parameters).reshape([runs, np])?;
        Ok((y0.into_any(), p.into_any()))
    }

    /// Integrates every run: `initial_values` `(runs, states)` and
    /// `parameters` `(runs, parameters)`. Returns a dict of output arrays.
    /// `progress`, when given, is called with the runs finished so far.
    #[pyo3(signature = (initial_values, parameters, progress=None))]
    fn solve<'py>(
        &self,
        py: Python<'py>,
        initial_values: PyReadonlyArray2<'py, f64>,
        parameters: PyReadonlyArray2<'py, f64>,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let inputs = self.inputs(&initial_values, &parameters)?;
        drop((initial_values, parameters));
        let solver = &self.solver;
        let result = run_cancellable(py, progress.as_ref(), |done, cancel| {
            let report = |n: usize| done.store(n, Ordering::Relaxed);
            let control = SolveControl {
                progress: Some(&report),
                cancel: Some(cancel),
            };
            solver.solve_with_control(&inputs, control)
        })?;
        let result: SolveResult = match result.map_err(|e| solve_error(&e))? {
            Some(r) => r,
            None => return Err(PyKeyboardInterrupt::new_err("the solve was cancelled")),
        };
        arrays_to_dict(py, result.into_arrays())
    }

    /// Solves chunks `chunks` (`(first, end)`) of the batch into the Zarr
    /// store at `path`, made or joined with `identity` (a JSON object of
    /// everything that determines the results); chunks already whole are
    /// kept. The runs are the grid of `sweeps` (`(name, values)` pairs,
    /// made a chunk at a time) or the rows of `initial_values` and
    /// `parameters`. Returns `(chunks_solved, chunks_kept)`.
    #[pyo3(signature = (path, identity, chunk_runs, chunks, sweeps=None, kind="combinatorial", initial_values=None, parameters=None))]
    #[allow(clippy::too_many_arguments)]
    fn solve_to_store<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
        identity: &str,
        chunk_runs: usize,
        chunks: (usize, usize),
        sweeps: Option<Vec<(String, PyReadonlyArray1<'py, f64>)>>,
        kind: &str,
        initial_values: Option<PyReadonlyArray2<'py, f64>>,
        parameters: Option<PyReadonlyArray2<'py, f64>>,
    ) -> PyResult<(usize, usize)> {
        let runs: Box<dyn RunSource> = match (sweeps, initial_values, parameters) {
            (Some(sweeps), None, None) => {
                let kind: GridKind = kind.parse().map_err(SolveError::new_err)?;
                let sweeps = to_sweeps(sweeps);
                Box::new(
                    self.solver
                        .grid_runs(&sweeps, kind)
                        .map_err(|e| solve_error(&e))?,
                )
            }
            (None, Some(y0), Some(p)) => Box::new(self.inputs(&y0, &p)?),
            _ => {
                return Err(SolveError::new_err(
                    "give either sweeps or both initial_values and parameters",
                ));
            }
        };
        let identity: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(identity)
                .map_err(|e| SolveError::new_err(format!("store identity: {e}")))?;
        let solver = &self.solver;
        let runs = &*runs;
        let outcome = run_cancellable(py, None, |_, cancel| {
            let plan = ChunkPlan::new(runs.n_runs(), chunk_runs)?;
            solver.check_chunks(&plan)?;
            let spec = StoreSpec {
                n_runs: runs.n_runs(),
                chunk_runs: plan.chunk_runs(),
                identity,
            };
            let mut store = ZarrStore::open(&path, spec, OpenMode::Join)?;
            let control = SolveControl {
                progress: None,
                cancel: Some(cancel),
            };
            let chunks = chunks.0.min(plan.n_chunks())..chunks.1.min(plan.n_chunks());
            solver.solve_chunks(runs, &plan, chunks, &mut store, control)
        })?
        .map_err(|e| solve_error(&e))?;
        if outcome.interrupted {
            return Err(PyKeyboardInterrupt::new_err("the solve was cancelled"));
        }
        Ok((outcome.chunks_solved, outcome.chunks_kept))
    }

    /// Runs of the grid of `sweeps` (checked, not made).
    fn grid_size(
        &self,
        sweeps: Vec<(String, PyReadonlyArray1<'_, f64>)>,
        kind: &str,
    ) -> PyResult<usize> {
        let kind: GridKind = kind.parse().map_err(SolveError::new_err)?;
        let sweeps = to_sweeps(sweeps);
        let runs = self
            .solver
            .grid_runs(&sweeps, kind)
            .map_err(|e| solve_error(&e))?;
        Ok(runs.n_runs())
    }

    /// The store chunk size the CLI picks for a batch of `n_runs`.
    fn store_chunk_runs(&self, n_runs: usize) -> usize {
        self.solver.store_chunk_runs(n_runs)
    }
}

impl PySolver {
    fn inputs(
        &self,
        initial_values: &PyReadonlyArray2<'_, f64>,
        parameters: &PyReadonlyArray2<'_, f64>,
    ) -> PyResult<BatchInputs> {
        let space = self.solver.input_space();
        let (runs, initial_values) = rows(initial_values, space.state_names, "states")?;
        let (p_runs, parameters) = rows(parameters, space.parameter_names, "parameters")?;
        if runs != p_runs {
            return Err(SolveError::new_err(format!(
                "{runs} rows of initial values but {p_runs} rows of parameters"
            )));
        }
        Ok(BatchInputs {
            n_runs: runs,
            n_states: space.state_names.len(),
            n_parameters: space.parameter_names.len(),
            initial_values,
            parameters,
        })
    }
}

/// The chunks `(first, end)` of shard `index` of `count` of a batch of
/// `n_runs` in chunks of `chunk_runs`: the CLI's `--shard index/count`.
#[pyfunction]
fn shard_chunks(
    n_runs: usize,
    chunk_runs: usize,
    index: usize,
    count: usize,
) -> PyResult<(usize, usize)> {
    let plan = ChunkPlan::new(n_runs, chunk_runs).map_err(|e| solve_error(&e))?;
    let chunks = plan.shard(index, count).map_err(|e| solve_error(&e))?;
    Ok((chunks.start, chunks.end))
}

/// Reads a `.zarr` store written by the CLI or `solve_to_store`: a dict of
/// arrays (the store's attributes under `"__attributes__"` as JSON text).
#[pyfunction]
fn read_zarr(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyDict>> {
    let (info, result) = py
        .detach(|| read_store(&path))
        .map_err(|e| solve_error(&e))?;
    if !info.is_complete() {
        return Err(SolveError::new_err(format!(
            "`{}` holds {} of {} chunks; missing: {}",
            path.display(),
            info.complete_chunks(),
            info.chunks.len(),
            info.missing()
        )));
    }
    let dict = arrays_to_dict(py, result.into_arrays())?;
    let identity = serde_json::Value::Object(info.spec.identity.clone()).to_string();
    dict.set_item("__identity__", identity)?;
    Ok(dict)
}

/// The extension module.
#[pymodule]
fn _cubie(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("CubieError", py.get_type::<CubieError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("SolveError", py.get_type::<SolveError>())?;
    m.add_class::<PySystem>()?;
    m.add_class::<PySolver>()?;
    m.add_function(wrap_pyfunction!(create_system, m)?)?;
    m.add_function(wrap_pyfunction!(system_from_toml, m)?)?;
    m.add_function(wrap_pyfunction!(load_model, m)?)?;
    m.add_function(wrap_pyfunction!(read_zarr, m)?)?;
    m.add_function(wrap_pyfunction!(shard_chunks, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    let flags = PyDict::new(py);
    for (flag, name) in Status::FLAGS {
        flags.set_item(flag.0, name)?;
    }
    m.add("STATUS_FLAGS", flags)?;
    Ok(())
}
