//! The Newton component as one templated device function:
//! `cubie_newton_solve(problem, x, min_iters, shared, persistent)` solves
//! `G(x) = 0` for the nonlinear problem `problem` (`residual`,
//! `jacobian_apply`, `jacobian_diagonal`, `jacobian_dense`) by damped
//! Newton with backtracking, each correction by the hosted linear solver
//! (`cubie_newton_linear_solve`), as the CPU form
//! (`backend::cpu::solvers::newton`).

use crate::memory::{BufferRegistry, Component};
use crate::solvers::NewtonComponent;

use super::super::CudaError;
use super::super::source::{CReal, CudaSource};
use super::{JacobianForms, NEWTON_DIVERGED, NEWTON_MAX_ITERATIONS};

/// The linear solver Newton hosts.
const LINEAR: &str = "cubie_newton_linear_solve";

/// Emits the hosted linear solver, `G'(x)` as its operator (offering the
/// Jacobian forms that solver reads), and Newton.
pub fn emit(
    newton: &NewtonComponent,
    registry: &BufferRegistry,
    real: CReal,
) -> Result<CudaSource, CudaError> {
    let forms = JacobianForms::of(newton.linear().settings());
    let settings = newton.settings();
    let n = newton.n();
    let tol = real.literal(settings.tolerance);
    let damping = real.literal(settings.damping);
    let one = real.literal(1.0);
    let mut c = super::emit_linear(newton.linear(), registry, real, LINEAR)?;
    c.line("");
    c.line("// G'(x) as the linear solver's operator.");
    c.line("template <class Problem>");
    c.open("struct cubie_jacobian_at");
    c.line("Problem* problem;");
    c.line("const real* x;");
    c.line("__device__ __forceinline__ void apply(const real* v, real* out) { problem->jacobian_apply(x, v, out); }");
    if forms.diagonal {
        c.line("__device__ __forceinline__ void diagonal(real* out) { problem->jacobian_diagonal(x, out); }");
    }
    if forms.dense {
        c.line(
            "__device__ __forceinline__ void dense(real* out) { problem->jacobian_dense(x, out); }",
        );
    }
    c.close_struct();
    c.line("");
    c.line(format!(
        "// Damped Newton ({n} unknowns): the first of alpha = 1, d, d^2, ... that lowers |G|."
    ));
    c.line("template <class Problem>");
    c.open(
        "__device__ __forceinline__ cubie_newton_outcome cubie_newton_solve(Problem& problem, real* x, int min_iters, real* shared, real* persistent)",
    );
    c.line("(void)shared; (void)persistent;");
    super::super::declare_buffers(&mut c, registry, newton.id())?;
    c.line("cubie_newton_outcome out = {0, 0, 0, false, false};");
    c.line("problem.residual(x, residual);");
    c.line(format!("real norm_prev = cubie_norm(residual, {n});"));
    c.open("if (!cubie_isfinite(norm_prev))");
    c.line(format!("out.status = {NEWTON_DIVERGED};"));
    c.line("out.non_finite = true;");
    c.line("return out;");
    c.close();
    c.open(format!(
        "while (norm_prev > {tol} || out.iterations < min_iters)"
    ));
    c.open(format!("if (out.iterations == {})", settings.max_iters));
    c.line(format!("out.status = {NEWTON_MAX_ITERATIONS};"));
    c.line("return out;");
    c.close();
    c.line("out.iterations += 1;");
    c.line("// Solve G'(x) delta = -G(x) from delta = 0.");
    c.line(format!(
        "for (int i = 0; i < {n}; ++i) residual[i] = -residual[i];"
    ));
    c.line(format!("cubie_fill(delta, {}, {n});", real.literal(0.0)));
    c.line("cubie_jacobian_at<Problem> jacobian = {&problem, x};");
    c.line(format!(
        "const cubie_linear_outcome lin = {LINEAR}(jacobian, residual, delta, linear_solver_shared, linear_solver_persistent);"
    ));
    c.line("out.linear_iterations += lin.iterations;");
    c.line("out.linear_limit_hit = out.linear_limit_hit || !lin.converged;");
    c.line(format!("cubie_copy(x, stage_base_bt, {n});"));
    c.line(format!("real alpha = {one};"));
    c.line("bool accepted = false;");
    c.line("bool met_non_finite = false;");
    c.open(format!(
        "for (int b = 0; b <= {}; ++b)",
        settings.max_backtracks
    ));
    c.line(format!(
        "for (int i = 0; i < {n}; ++i) x[i] = stage_base_bt[i] + alpha * delta[i];"
    ));
    c.line("problem.residual(x, residual_temp);");
    c.line(format!(
        "const real trial_norm = cubie_norm(residual_temp, {n});"
    ));
    c.line(format!("const bool x_finite = cubie_all_finite(x, {n});"));
    c.open("if (cubie_isfinite(trial_norm) && x_finite && trial_norm < norm_prev)");
    c.line(format!("cubie_copy(residual_temp, residual, {n});"));
    c.line("norm_prev = trial_norm;");
    c.line("accepted = true;");
    c.line("break;");
    c.close();
    c.line("met_non_finite = met_non_finite || !cubie_isfinite(trial_norm) || !x_finite;");
    c.line(format!("alpha = alpha * {damping};"));
    c.close();
    c.open("if (!accepted)");
    c.line(format!("cubie_copy(stage_base_bt, x, {n});"));
    c.open(format!("if (norm_prev > {tol})"));
    c.line(format!("out.status = {NEWTON_DIVERGED};"));
    c.line("out.non_finite = met_non_finite;");
    c.close();
    c.line("return out;");
    c.close();
    c.close();
    c.line("return out;");
    c.close();
    Ok(c)
}
