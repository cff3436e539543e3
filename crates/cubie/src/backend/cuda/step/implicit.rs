//! What the implicit steps' CUDA C shares (`backend::cpu::step::implicit`):
//! the operator `I − gh·J(t, state)` as a struct for the linear solvers,
//! the mapping of Newton's outcome to status flags, and the calls of the
//! model's functions.

use crate::memory::{BufferRegistry, ComponentId};
use crate::solvers::{LinearSolverSettings, NewtonComponent};
use crate::time_loop::Status;

use super::super::CudaError;
use super::super::solvers::{JacobianForms, emit_newton};
use super::super::source::{CReal, CudaSource};
use super::STEP_SIGNATURE;

/// The arguments after `t` and `state` every model call passes.
pub(super) const INPUTS: &str = "parameters, drivers, driver_rates";

/// Opens `cubie_step` (after a comment saying what it is) and declares
/// the step's buffers.
pub(super) fn open_step(
    c: &mut CudaSource,
    registry: &BufferRegistry,
    step: ComponentId,
    what: &str,
) -> Result<(), CudaError> {
    c.line(format!("// {what}"));
    c.open(STEP_SIGNATURE);
    c.line("(void)first_stage_cached; (void)shared; (void)persistent;");
    super::super::declare_buffers(c, registry, step)
}

/// The step's Newton solver (with its linear solver) and
/// `cubie_newton_status`.
pub(super) fn emit_newton_solver(
    c: &mut CudaSource,
    newton: &NewtonComponent,
    registry: &BufferRegistry,
    real: CReal,
) -> Result<(), CudaError> {
    c.line("");
    c.append(&emit_newton(newton, registry, real)?);
    c.line("");
    emit_newton_status(c);
    c.line("");
    Ok(())
}

/// `0 + w_0 * array[e] + w_1 * array[n + e] + ...`: the CPU forms' fold
/// from zero over every weight, zeros included, for element `e`.
pub(super) fn weighted_sum(real: CReal, weights: &[f64], array: &str, n: usize) -> String {
    let mut terms = real.literal(0.0);
    for (j, &w) in weights.iter().enumerate() {
        terms = format!("{terms} + {} * {array}[{} + e]", real.literal(w), j * n);
    }
    terms
}

/// `cubie_newton_status`: no flag when Newton converged, else its flag,
/// the linear flag when a correction's solve hit its limit, and the
/// non-finite flag when a non-finite value made it fail.
fn emit_newton_status(c: &mut CudaSource) {
    c.open(
        "__device__ __forceinline__ int cubie_newton_status(const cubie_newton_outcome& outcome)",
    );
    c.line("if (outcome.status == 0) return 0;");
    c.line(format!("int status = {};", Status::MAX_NEWTON_ITERATIONS.0));
    c.line(format!(
        "if (outcome.linear_limit_hit) status |= {};",
        Status::MAX_LINEAR_ITERATIONS.0
    ));
    c.line(format!(
        "if (outcome.non_finite) status |= {};",
        Status::NON_FINITE_STATE.0
    ));
    c.line("return status;");
    c.close();
}

/// `cubie_shifted_jacobian`: `A = I − gh·J(t, state)` with `apply` from the
/// model's JVP and, where `linear` reads them, the diagonal and the dense
/// matrix from its Jacobian functions.
pub(super) fn emit_shifted_jacobian(
    c: &mut CudaSource,
    real: CReal,
    n: usize,
    linear: &LinearSolverSettings,
) {
    let forms = JacobianForms::of(linear);
    let one = real.literal(1.0);
    let zero = real.literal(0.0);
    c.line("// A = I - gh J(t, state), matrix-free from the model's JVP.");
    c.open("struct cubie_shifted_jacobian");
    c.line("real t;");
    c.line("const real* state;");
    c.line("real gh;");
    c.line("const real* parameters;");
    c.line("real* drivers;");
    c.line("real* driver_rates;");
    c.open("__device__ __forceinline__ void apply(const real* v, real* out) const");
    c.line(format!(
        "cubie_system_jvp((double)t, state, {INPUTS}, v, out);"
    ));
    c.line(format!(
        "for (int i = 0; i < {n}; ++i) out[i] = v[i] - gh * out[i];"
    ));
    c.close();
    if forms.diagonal {
        c.open("__device__ __forceinline__ void diagonal(real* out) const");
        c.line(format!(
            "cubie_system_jacobian_diagonal((double)t, state, {INPUTS}, out);"
        ));
        c.line(format!(
            "for (int i = 0; i < {n}; ++i) out[i] = {one} - gh * out[i];"
        ));
        c.close();
    }
    if forms.dense {
        c.open("__device__ __forceinline__ void dense(real* out) const");
        c.line(format!(
            "cubie_system_jacobian((double)t, state, {INPUTS}, out);"
        ));
        c.line(format!(
            "for (int k = 0; k < {}; ++k) out[k] = (k / {n} == k % {n} ? {one} : {zero}) - gh * out[k];",
            n * n
        ));
        c.close();
    }
    c.close_struct();
}

/// `cubie_step_error_norm` for a step whose error is one estimate.
pub(super) fn emit_plain_error_norm(c: &mut CudaSource) {
    c.line("// The step's error as one number.");
    c.open(
        "__device__ __forceinline__ real cubie_step_error_norm(const real* error, const real* state, const real* proposed, const cubie_step_report* report)",
    );
    c.line("(void)report;");
    c.line("return cubie_error_norm(error, state, proposed);");
    c.close();
}

/// The report a step returns.
pub(super) fn emit_return(c: &mut CudaSource, newton_iterations: &str) {
    c.line(format!(
        "cubie_step_report report = {{status, evaluations, {newton_iterations}, (real)0}};"
    ));
    c.line("return report;");
}
