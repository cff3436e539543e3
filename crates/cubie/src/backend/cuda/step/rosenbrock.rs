//! The Rosenbrock step as CUDA C (`backend::cpu::step::rosenbrock`): one
//! linear solve of `(I − hγJ) U_i = hγ·rhs_i` per stage with the step's
//! linear solver, `J` and `∂f/∂t` at the start of the step, the
//! transformed tableau's coefficients as literals.

use crate::memory::BufferRegistry;
use crate::step::RosenbrockStep;
use crate::time_loop::Status;

use super::super::CudaError;
use super::super::solvers::emit_linear;
use super::super::source::{CReal, CudaSource};
use super::StepTraits;
use super::implicit::{
    INPUTS, emit_plain_error_norm, emit_return, emit_shifted_jacobian, open_step, weighted_sum,
};

/// The step's linear solver.
const LINEAR: &str = "cubie_linear_solve";

pub(super) fn emit(
    step: &RosenbrockStep,
    registry: &BufferRegistry,
    real: CReal,
    n_error: usize,
) -> Result<(CudaSource, StepTraits), CudaError> {
    let n = step.n;
    let t = &step.tableau;
    let s = t.stages();
    let lit = |x: f64| real.literal(x);
    let d = |x: f64| CReal(crate::Precision::F64).literal(x);

    let mut c = CudaSource::new();
    emit_shifted_jacobian(&mut c, real, n, step.linear.settings());
    c.line("");
    c.append(&emit_linear(&step.linear, registry, real, LINEAR)?);
    c.line("");
    open_step(
        &mut c,
        registry,
        step.id,
        &format!("One Rosenbrock step ({s} stages)."),
    )?;
    c.line("int status = 0;");
    c.line("int evaluations = 0;");
    c.line("const double dt64 = (double)dt;");
    c.line("(void)dt64;");
    c.line("real* u = stage_increments;");
    c.line(format!(
        "cubie_system_dfdt(t, state, {INPUTS}, time_derivative);"
    ));
    c.line(format!("const real gh = dt * {};", lit(t.gamma)));
    c.line(format!(
        "cubie_shifted_jacobian op = {{(real)t, state, gh, {INPUTS}}};"
    ));
    for i in 0..s {
        c.line(format!("// stage {i}"));
        c.open("");
        c.open(format!("for (int e = 0; e < {n}; ++e)"));
        c.line("real v = state[e];");
        for (j, &aij) in t.a[i][..i].iter().enumerate() {
            if aij != 0.0 {
                c.line(format!("v = v + {} * u[{} + e];", lit(aij), j * n));
            }
        }
        c.line("stage_state[e] = v;");
        c.close();
        c.line(format!(
            "cubie_system_dxdt(t + {} * dt64, stage_state, {INPUTS}, stage_rhs);",
            d(t.c[i])
        ));
        c.line("evaluations += 1;");
        c.line(format!("real* ui = u + {};", i * n));
        c.line(format!("const real g_t = dt * {};", lit(t.gamma_stages[i])));
        c.open(format!("for (int e = 0; e < {n}; ++e)"));
        c.line("real v = stage_rhs[e] + g_t * time_derivative[e];");
        for (j, &cij) in t.c_matrix[i][..i].iter().enumerate() {
            if cij != 0.0 {
                c.line(format!("v = v + ({} / dt) * u[{} + e];", lit(cij), j * n));
            }
        }
        c.line("v = gh * v;");
        c.line("stage_rhs[e] = v;");
        c.line("ui[e] = v;");
        c.close();
        c.line("// A non-finite derivative is no linear solver's failure: report it as such.");
        c.line(format!(
            "const bool finite = cubie_all_finite(stage_rhs, {n});"
        ));
        c.line("bool converged = false;");
        c.open("if (finite)");
        c.line(format!(
            "const cubie_linear_outcome outcome = {LINEAR}(op, stage_rhs, ui, linear_solver_shared, linear_solver_persistent);"
        ));
        c.line("converged = outcome.converged;");
        c.close();
        c.open("if (!converged)");
        c.line(format!(
            "status |= finite ? {} : {};",
            Status::MAX_LINEAR_ITERATIONS.0,
            Status::NON_FINITE_STATE.0
        ));
        c.line(format!(
            "if (!cubie_all_finite(ui, {n})) status |= {};",
            Status::NON_FINITE_STATE.0
        ));
        c.line(format!("cubie_copy(state, proposed, {n});"));
        emit_return(&mut c, "0");
        c.close();
        c.close();
    }
    let combine = |w: &[f64]| weighted_sum(real, w, "u", n);
    c.line(format!(
        "for (int e = 0; e < {n}; ++e) proposed[e] = state[e] + ({});",
        combine(&t.b)
    ));
    if let Some(w) = t.error_weights() {
        c.line(format!(
            "for (int e = 0; e < {n_error}; ++e) error[e] = {};",
            combine(&w)
        ));
    }
    emit_return(&mut c, "0");
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
