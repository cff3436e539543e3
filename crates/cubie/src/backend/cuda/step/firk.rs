//! The fully implicit step as CUDA C (`backend::cpu::step::firk`): one
//! Newton solve of the coupled stage system `cubie_coupled_stages` for
//! all `s·n` increments, the solution and error as literal combinations
//! of them, Radau IIA's estimate filtered by its second linear solver.

use crate::memory::BufferRegistry;
use crate::step::FirkStep;
use crate::time_loop::Status;

use super::super::CudaError;
use super::super::solvers::{JacobianForms, emit_linear};
use super::super::source::{CReal, CudaSource};
use super::StepTraits;
use super::implicit::{
    INPUTS, emit_newton_solver, emit_plain_error_norm, emit_return, emit_shifted_jacobian,
    open_step, weighted_sum,
};

/// The error filter's linear solver.
const FILTER: &str = "cubie_error_filter_solve";

pub(super) fn emit(
    step: &FirkStep,
    registry: &BufferRegistry,
    real: CReal,
    n_error: usize,
) -> Result<(CudaSource, StepTraits), CudaError> {
    let n = step.n;
    let t = &step.tableau;
    let s = t.stages();
    let big = s * n;
    let lit = |x: f64| real.literal(x);
    let d = |x: f64| CReal(crate::Precision::F64).literal(x);
    let zero = lit(0.0);
    let one = lit(1.0);
    let linear = step.newton.linear().settings();
    let forms = JacobianForms::of(linear);

    let mut c = CudaSource::new();
    if let Some(filter) = &step.filter {
        emit_shifted_jacobian(&mut c, real, n, filter.settings());
        c.line("");
        c.append(&emit_linear(filter, registry, real, FILTER)?);
        c.line("");
    }
    c.line(format!(
        "// The coupled stages: G(Z)_i = Z_i - h sum_j a_ij f(t_j, y + Z_j) ({s} stages)."
    ));
    c.open("struct cubie_coupled_stages");
    c.line("real h;");
    c.line(format!("real t[{s}];"));
    c.line("const real* y;");
    c.line("real* state;");
    c.line("real* per_stage;");
    c.line("real* jac;");
    c.line("const real* parameters;");
    c.line("real* drivers;");
    c.line("real* driver_rates;");
    c.line("int evaluations;");
    c.open("__device__ __forceinline__ void set_state(const real* z, int j)");
    c.line(format!(
        "for (int e = 0; e < {n}; ++e) state[e] = y[e] + z[j * {n} + e];"
    ));
    c.close();
    c.line("// out_i = x_i - h sum_j a_ij w_j, w in per_stage.");
    c.open("__device__ __forceinline__ void combine(const real* x, real* out)");
    for (i, row) in t.a.iter().enumerate() {
        c.open(format!("for (int e = 0; e < {n}; ++e)"));
        c.line(format!("real v = {zero};"));
        for (j, &aij) in row.iter().enumerate() {
            c.line(format!("v = v + {} * per_stage[{} + e];", lit(aij), j * n));
        }
        c.line(format!("out[{} + e] = x[{} + e] - h * v;", i * n, i * n));
        c.close();
    }
    c.close();
    c.open("__device__ __forceinline__ void residual(const real* z, real* out)");
    c.open(format!("for (int j = 0; j < {s}; ++j)"));
    c.line("set_state(z, j);");
    c.line(format!(
        "cubie_system_dxdt((double)t[j], state, {INPUTS}, per_stage + j * {n});"
    ));
    c.close();
    c.line(format!("evaluations += {s};"));
    c.line("combine(z, out);");
    c.close();
    c.open(
        "__device__ __forceinline__ void jacobian_apply(const real* z, const real* v, real* out)",
    );
    c.open(format!("for (int j = 0; j < {s}; ++j)"));
    c.line("set_state(z, j);");
    c.line(format!(
        "cubie_system_jvp((double)t[j], state, {INPUTS}, v + j * {n}, per_stage + j * {n});"
    ));
    c.close();
    c.line("combine(v, out);");
    c.close();
    if forms.diagonal {
        c.open("__device__ __forceinline__ void jacobian_diagonal(const real* z, real* out)");
        for (i, row) in t.a.iter().enumerate() {
            c.line(format!("set_state(z, {i});"));
            c.line(format!(
                "cubie_system_jacobian_diagonal((double)t[{i}], state, {INPUTS}, jac);"
            ));
            c.line(format!(
                "for (int e = 0; e < {n}; ++e) out[{} + e] = {one} - h * {} * jac[e];",
                i * n,
                lit(row[i])
            ));
        }
        c.close();
    }
    if forms.dense {
        c.open("__device__ __forceinline__ void jacobian_dense(const real* z, real* out)");
        for j in 0..s {
            c.line(format!("set_state(z, {j});"));
            c.line(format!(
                "cubie_system_jacobian((double)t[{j}], state, {INPUTS}, jac);"
            ));
            for (i, row) in t.a.iter().enumerate() {
                let identity = if i == j { "(r == q ? 1 : 0)" } else { "0" };
                c.line(format!(
                    "for (int r = 0; r < {n}; ++r) for (int q = 0; q < {n}; ++q) out[({} + r) * {big} + {} + q] = (real){identity} - h * {} * jac[r * {n} + q];",
                    i * n,
                    j * n,
                    lit(row[j])
                ));
            }
        }
        c.close();
    }
    c.close_struct();
    emit_newton_solver(&mut c, &step.newton, registry, real)?;
    let what = format!("One fully implicit step ({s} stages).");
    open_step(&mut c, registry, step.id, &what)?;
    c.line("int status = 0;");
    c.line("const double dt64 = (double)dt;");
    c.line("real* z = stage_increment;");
    c.line("real* f0 = start_rhs;");
    c.line("// Explicit Euler predictor for every stage: Z_i = c_i h f(t, y).");
    c.line(format!("cubie_system_dxdt(t, state, {INPUTS}, f0);"));
    for (i, &ci) in t.c.iter().enumerate() {
        c.open("");
        c.line(format!("const real g = dt * {};", lit(ci)));
        c.line(format!(
            "for (int e = 0; e < {n}; ++e) z[{} + e] = g * f0[e];",
            i * n
        ));
        c.close();
    }
    let times: Vec<String> =
        t.c.iter()
            .map(|&ci| format!("(real)(t + {} * dt64)", d(ci)))
            .collect();
    c.line(format!(
        "cubie_coupled_stages problem = {{dt, {{{}}}, state, stage_state, stage_rhs, jacobian_scratch, {INPUTS}, 1}};",
        times.join(", ")
    ));
    c.line("const cubie_newton_outcome outcome = cubie_newton_solve(problem, z, 1, solver_scratch, newton_persistent);");
    c.line("const int evaluations = problem.evaluations;");
    c.line("status |= cubie_newton_status(outcome);");
    c.open("if (status != 0)");
    c.line(format!("cubie_copy(state, proposed, {n});"));
    emit_return(&mut c, "outcome.iterations");
    c.close();
    let combine = |w: &[f64]| weighted_sum(real, w, "z", n);
    c.line(format!(
        "for (int e = 0; e < {n}; ++e) proposed[e] = state[e] + ({});",
        combine(&step.solution_weights())
    ));
    if let (Some(w), true) = (step.error_weights(), n_error > 0) {
        c.line("// The unfiltered estimate goes to stage_state, the filter's right-hand side.");
        c.line(format!("const real g = dt * {};", lit(t.b_hat_start)));
        c.line(format!(
            "for (int e = 0; e < {n}; ++e) stage_state[e] = ({}) - g * f0[e];",
            combine(&w)
        ));
        c.line(format!("cubie_copy(stage_state, error, {n_error});"));
        if step.filter.is_some() {
            c.line(format!(
                "cubie_shifted_jacobian filter = {{(real)t, state, g, {INPUTS}}};"
            ));
            c.line(format!(
                "const cubie_linear_outcome lin = {FILTER}(filter, stage_state, error, error_filter_shared, error_filter_persistent);"
            ));
            c.line(format!(
                "if (!lin.converged) status |= {};",
                Status::MAX_LINEAR_ITERATIONS.0
            ));
        }
    }
    emit_return(&mut c, "outcome.iterations");
    c.close();
    c.line("");
    emit_plain_error_norm(&mut c);
    Ok((
        c,
        StepTraits {
            caches_first_stage: false,
        },
    ))
}
