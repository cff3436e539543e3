//! The whole solve as one CUDA C source: the model's functions, each
//! component's device functions, and the kernel (one run per thread),
//! with the launch facts the registry answers.

use crate::drivers::DriverInterpolant;
use crate::kernel::{KernelTree, ModelFunctionSet};
use crate::step::StepComponent;
use crate::system::{Model, SystemFunction};

use super::CudaError;
use super::source::{CReal, CudaSource};
use super::system::{InputNames, emit_functions};
use super::{controller, drivers, step, time_loop};

/// The kernel's entry point.
pub const ENTRY: &str = "cubie_solve";

/// Runs per block unless the caller chooses.
pub const DEFAULT_RUNS_PER_BLOCK: usize = 128;

/// One solve's generated CUDA C and what launching it needs.
///
/// The entry point, one run per thread, `real` the solve's precision:
///
/// ```text
/// extern "C" __global__ void cubie_solve(
///     const real* initial_values,   // [n_states][n_runs]
///     const real* parameters,       // [n_parameters][n_runs]
///     const double* save_times,     // save_times.len()
///     real* final_state,            // [n_states][n_runs]
///     real* saved_states,           // [n_saves * n_saved_states][n_runs]
///     real* saved_observables,      // [n_saves * n_saved_observables][n_runs]
///     int* status,                  // [n_runs]
///     long long* counters,          // [3][n_runs]
///     real* summaries,              // [sizes.summaries_per_run()][n_runs], or null when 0
///     int n_runs)
/// ```
///
/// with `shared_bytes_per_block()` of dynamic shared memory. Every array
/// is column-major, run fastest (`column * n_runs + run`); a summary
/// column is `window * sizes.summary_row_len + j`. Summary sample times
/// and driver tables are baked into the source.
#[derive(Debug, Clone, PartialEq)]
pub struct CudaKernel {
    /// The source: deterministic (the same tree gives the same bytes).
    pub source: String,
    /// Shared-memory elements of one run.
    pub shared_per_run: usize,
    /// Elements from one run's shared slice to the next thread's:
    /// `shared_per_run` made odd, so that the threads of a warp reading the
    /// same buffer element hit distinct banks.
    pub shared_stride: usize,
    /// Persistent elements of one run.
    pub persistent_per_run: usize,
    /// Bytes per element of the solve's precision.
    pub element_bytes: usize,
    /// Runs per block the kernel is built for.
    pub runs_per_block: usize,
    /// Saves per run (the `save_times` argument's length).
    pub save_times: Vec<f64>,
    /// States, parameters, saved states and saved observables per run.
    pub sizes: KernelSizes,
    /// The registry's layout of this kernel (which differs from the CPU's
    /// where a CPU form releases buffers, as the fused ERK step does).
    pub layout: crate::memory::LayoutReport,
}

/// Per-run sizes of the kernel's arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelSizes {
    /// States.
    pub n_states: usize,
    /// Parameters.
    pub n_parameters: usize,
    /// Saved states per save.
    pub n_saved_states: usize,
    /// Saved observables per save.
    pub n_saved_observables: usize,
    /// Summary windows per run (0 without summary metrics).
    pub n_summary_windows: usize,
    /// Values in one window's row: the summarised variables times the
    /// metrics' widths, laid out `[metric][variable][width]`.
    pub summary_row_len: usize,
}

impl KernelSizes {
    /// Elements of the `summaries` argument per run
    /// (`n_summary_windows * summary_row_len`); the array holds
    /// `n_runs` times as many, column `window * summary_row_len + j` of
    /// run `i` at `column * n_runs + i`. Zero without summaries, when
    /// the argument may be null.
    pub fn summaries_per_run(&self) -> usize {
        self.n_summary_windows * self.summary_row_len
    }
}

impl CudaKernel {
    /// Dynamic shared memory of one block, in bytes.
    pub fn shared_bytes_per_block(&self) -> usize {
        self.shared_stride * self.element_bytes * self.runs_per_block
    }

    /// Blocks for `n_runs` runs.
    pub fn blocks(&self, n_runs: usize) -> usize {
        n_runs.div_ceil(self.runs_per_block)
    }

    /// Generates the kernel of `tree` for `model`.
    pub fn generate(tree: &KernelTree, model: &Model) -> Result<Self, CudaError> {
        let real = CReal(tree.precision());
        let r = real.name();
        let interpolant = DriverInterpolant::<f64>::new(&tree.drivers, &tree.driver_settings)
            .map_err(|e| CudaError::Model(e.to_string()))?;
        let constant_drivers = interpolant
            .is_constant()
            .then(|| interpolant.values_at(tree.loop_settings.t0));
        let summaries = super::summaries::shape(tree)?;
        let names = |v: &[crate::system::NamedValue]| v.iter().map(|x| x.name.clone()).collect();
        let inputs = InputNames {
            states: names(model.states()),
            parameters: names(model.parameters()),
            drivers: names(model.drivers()),
        };
        let functions = tree.functions.of(model);
        let registry = &tree.registry;
        let n_error = registry.placement(tree.loop_component.id, "error")?.size;
        let (step_source, traits) = step::emit(&tree.step, registry, real, n_error)?;
        let implicit = !matches!(tree.step, StepComponent::Erk(_));

        let mut c = CudaSource::new();
        c.line(format!(
            "// cubie {}: {} with {} in {r}. Generated; do not edit.",
            env!("CARGO_PKG_VERSION"),
            model.name(),
            tree.algorithm.name
        ));
        c.line(PRELUDE);
        c.line(format!("typedef {r} real;"));
        match tree.precision() {
            crate::Precision::F32 => {
                c.line("#define CUBIE_INF_REAL CUBIE_INFF");
                c.line("#define CUBIE_NAN_REAL CUBIE_NANF");
            }
            crate::Precision::F64 => {
                c.line("#define CUBIE_INF_REAL CUBIE_INF");
                c.line("#define CUBIE_NAN_REAL CUBIE_NAN");
            }
        }
        c.line("// One run's element of output column `column` (outputs are run-fastest).");
        c.line("#define CUBIE_OUT(array, column, run, n_runs) (array)[(unsigned long long)(column) * (unsigned long long)(n_runs) + (unsigned long long)(run)]");
        c.line("");
        c.line(super::step::STEP_REPORT);
        c.line("");
        c.line("// ---- the model ----");
        c.append(&emit_functions(
            functions,
            &inputs,
            real,
            &model_functions(tree),
        )?);
        c.line("// ---- the drivers ----");
        c.append(&drivers::emit(&interpolant, real, &model_functions(tree))?);
        c.line("");
        if implicit {
            c.line("// ---- the solvers ----");
            c.line(super::solvers::OUTCOMES);
            c.line("");
            c.append(&super::solvers::emit_vector_helpers(real));
            c.line("");
        }
        c.line("// ---- the controller ----");
        c.append(&controller::emit(&tree.controller, registry, real)?);
        c.line("");
        c.line("// ---- the step ----");
        c.append(&step_source);
        c.line("");
        if summaries.is_some() {
            c.line("// ---- the summaries ----");
            c.append(&super::summaries::emit(tree, real)?);
        }
        c.line("// ---- the loop ----");
        c.append(&time_loop::emit(
            tree,
            traits,
            constant_drivers.as_deref(),
            real,
        )?);
        c.line("");
        let shared = registry.shared_elements(tree.root)?;
        let persistent = registry.persistent_elements(tree.root)?;
        c.line("// ---- the kernel: one run per thread ----");
        c.open(format!(
            "extern \"C\" __global__ void {ENTRY}(const {r}* __restrict__ initial_values, const {r}* __restrict__ parameters, \
             const double* __restrict__ save_times, {r}* final_state, {r}* saved_states, {r}* saved_observables, \
             int* status, long long* counters, {r}* summaries, int n_runs)"
        ));
        c.line("extern __shared__ real cubie_shared_memory[];");
        c.line("const int run = (int)(blockIdx.x * blockDim.x + threadIdx.x);");
        c.line("if (run >= n_runs) return;");
        let stride = shared_stride(shared);
        c.line(format!(
            "real* shared = cubie_shared_memory + (unsigned long long)threadIdx.x * {stride};"
        ));
        c.line(format!("for (int i = 0; i < {shared}; ++i) shared[i] = 0;"));
        c.line(format!("real persistent[{}] = {{}};", persistent.max(1)));
        super::declare_buffers(&mut c, registry, tree.root)?;
        c.line("cubie_loop(run, n_runs, initial_values, parameters, save_times, final_state, saved_states, saved_observables, status, counters, summaries, loop_shared, loop_persistent);");
        c.close();

        let plan = &tree.plan;
        let layout = registry.report()?;
        Ok(CudaKernel {
            layout,
            source: c.finish(),
            shared_per_run: shared,
            shared_stride: stride,
            persistent_per_run: persistent,
            element_bytes: tree.precision().bytes(),
            runs_per_block: DEFAULT_RUNS_PER_BLOCK,
            save_times: tree.event_times().saves,
            sizes: KernelSizes {
                n_states: tree.n_states,
                n_parameters: model.n_parameters(),
                n_saved_states: if plan.save_state {
                    plan.saved_states.len()
                } else {
                    0
                },
                n_saved_observables: if plan.save_observables {
                    plan.saved_observables.len()
                } else {
                    0
                },
                n_summary_windows: summaries.map_or(0, |s| s.n_windows),
                summary_row_len: summaries.map_or(0, |s| s.row_len),
            },
        })
    }
}

/// Elements from one run's shared slice to the next thread's for
/// `elements` per run: made odd, so that the threads of a warp reading the
/// same buffer element hit distinct banks.
pub fn shared_stride(elements: usize) -> usize {
    if elements == 0 { 0 } else { elements | 1 }
}

/// The model functions the tree's step calls: `dxdt` and the observables
/// for every step; the implicit ones add the JVP, Rosenbrock `df/dt`, and
/// the Jacobian's diagonal or dense matrix where the linear solver reads
/// them.
fn model_functions(tree: &KernelTree) -> Vec<SystemFunction> {
    let mut functions = vec![SystemFunction::Dxdt, SystemFunction::Observables];
    if matches!(tree.step, StepComponent::Erk(_)) {
        return functions;
    }
    functions.push(SystemFunction::Jvp);
    if matches!(tree.step, StepComponent::Rosenbrock(_)) {
        functions.push(SystemFunction::Dfdt);
    }
    match tree.functions {
        ModelFunctionSet::Plain => {}
        ModelFunctionSet::WithJacobianDiagonal => functions.push(SystemFunction::JacobianDiagonal),
        ModelFunctionSet::WithJacobian => functions.push(SystemFunction::Jacobian),
    }
    functions
}

/// What every generated source starts with: the few names it uses that
/// CUDA and the host emulation header spell differently.
const PRELUDE: &str = r#"#ifndef CUBIE_HOST
#define cubie_isfinite(x) isfinite(x)
#define CUBIE_INF __longlong_as_double(0x7ff0000000000000LL)
#define CUBIE_NAN __longlong_as_double(0x7ff8000000000000LL)
#define CUBIE_INFF __int_as_float(0x7f800000)
#define CUBIE_NANF __int_as_float(0x7fc00000)
#endif"#;
