//! The diagonally implicit step as CUDA C (`backend::cpu::step::dirk`):
//! the tableau unrolled stage by stage, each implicit stage one Newton
//! solve of `cubie_stage_problem`, coefficients as literals, the caches
//! read before the first solve and written after the last (they may
//! overlay Newton's scratch).

use crate::memory::BufferRegistry;
use crate::step::DirkStep;
use crate::step::dirk::Variant;

use super::super::CudaError;
use super::super::solvers::JacobianForms;
use super::super::source::{CReal, CudaSource};
use super::StepTraits;
use super::implicit::{
    INPUTS, emit_newton_solver, emit_plain_error_norm, emit_return, emit_shifted_jacobian,
    open_step,
};

pub(super) fn emit(
    step: &DirkStep,
    registry: &BufferRegistry,
    real: CReal,
    n_error: usize,
) -> Result<(CudaSource, StepTraits), CudaError> {
    let n = step.n;
    let s = step.b.len();
    let lit = |x: f64| real.literal(x);
    let d = |x: f64| CReal(crate::Precision::F64).literal(x);
    let linear = step.newton.linear().settings();
    let forms = JacobianForms::of(linear);
    let zero = lit(0.0);

    let mut c = CudaSource::new();
    emit_shifted_jacobian(&mut c, real, n, linear);
    c.line("");
    c.line("// One diagonally implicit stage in its increment z: G(z) = z - gh f(t, base + z).");
    c.open("struct cubie_stage_problem");
    c.line("real t;");
    c.line("real gh;");
    c.line("const real* base;");
    c.line("real* state;");
    c.line("const real* parameters;");
    c.line("real* drivers;");
    c.line("real* driver_rates;");
    c.line("int evaluations;");
    c.open("__device__ __forceinline__ cubie_shifted_jacobian at(const real* z)");
    c.line(format!(
        "for (int i = 0; i < {n}; ++i) state[i] = base[i] + z[i];"
    ));
    c.line("cubie_shifted_jacobian a = {t, state, gh, parameters, drivers, driver_rates};");
    c.line("return a;");
    c.close();
    c.open("__device__ __forceinline__ void residual(const real* z, real* out)");
    c.line("at(z);");
    c.line("evaluations += 1;");
    c.line(format!(
        "cubie_system_dxdt((double)t, state, {INPUTS}, out);"
    ));
    c.line(format!(
        "for (int i = 0; i < {n}; ++i) out[i] = z[i] - gh * out[i];"
    ));
    c.close();
    c.line("__device__ __forceinline__ void jacobian_apply(const real* z, const real* v, real* out) { at(z).apply(v, out); }");
    if forms.diagonal {
        c.line("__device__ __forceinline__ void jacobian_diagonal(const real* z, real* out) { at(z).diagonal(out); }");
    }
    if forms.dense {
        c.line("__device__ __forceinline__ void jacobian_dense(const real* z, real* out) { at(z).dense(out); }");
    }
    c.close_struct();
    emit_newton_solver(&mut c, &step.newton, registry, real)?;
    let what = format!("One diagonally implicit step ({s} stages).");
    open_step(&mut c, registry, step.id, &what)?;
    c.line("int evaluations = 0;");
    c.line("int status = 0;");
    c.line("int newton_iterations = 0;");
    c.line("const double dt64 = (double)dt;");
    c.line("real* z = stage_increment;");
    c.line("real* base = stage_base;");
    let explicit_first = step.a[0][0] == 0.0;
    let first_implicit = usize::from(explicit_first);
    let plain = step.variant == Variant::Plain;
    let k = |j: usize| format!("(accumulator + {})", j * n);
    let scaled = |c: &mut CudaSource, factor: &str, src: &str| {
        c.line(format!(
            "for (int i = 0; i < {n}; ++i) z[i] = {factor} * {src}[i];"
        ));
    };
    // Only a plain tableau starts Newton from the cached slope.
    c.line(format!("const bool warm = {plain} && first_stage_cached;"));
    c.line("// Caches first: they may share memory with Newton's scratch.");
    c.open("if (warm)");
    if first_implicit < s {
        let factor = format!("(dt * {})", lit(step.a[first_implicit][first_implicit]));
        scaled(&mut c, &factor, "increment_cache");
    }
    c.close();
    let newton_solve = |c: &mut CudaSource, t: &str, gh: &str, state: &str| {
        c.line(format!(
            "cubie_stage_problem problem = {{{t}, {gh}, base, {state}, {INPUTS}, 0}};"
        ));
        c.line("const cubie_newton_outcome outcome = cubie_newton_solve(problem, z, 1, solver_scratch, newton_persistent);");
        c.line("evaluations += problem.evaluations;");
        c.line(
            "if (outcome.iterations > newton_iterations) newton_iterations = outcome.iterations;",
        );
        c.line("status |= cubie_newton_status(outcome);");
    };
    for i in 0..s {
        c.line(format!("// stage {i}"));
        c.open("");
        c.open(format!("for (int e = 0; e < {n}; ++e)"));
        c.line("real v = state[e];");
        for (j, &aij) in step.a[i][..i].iter().enumerate() {
            if aij != 0.0 {
                c.line(format!(
                    "v = v + dt * {} * accumulator[{} + e];",
                    lit(aij),
                    j * n
                ));
            }
        }
        c.line("base[e] = v;");
        c.close();
        c.line(format!("const double t_i = t + {} * dt64;", d(step.c[i])));
        let aii = step.a[i][i];
        if aii == 0.0 {
            let evaluate = |c: &mut CudaSource| {
                c.line(format!("cubie_system_dxdt(t_i, base, {INPUTS}, {});", k(i)));
                c.line("evaluations += 1;");
            };
            if i == 0 && step.fsal {
                c.open("if (first_stage_cached)");
                c.line(format!("cubie_copy(rhs_cache, {}, {n});", k(0)));
                c.close_with("else {");
                evaluate(&mut c);
                c.close();
            } else {
                evaluate(&mut c);
            }
            c.close();
            continue;
        }
        c.line(format!("const real gh = dt * {};", lit(aii)));
        if i > first_implicit {
            c.line("// Predict from the previous stage's slope.");
            scaled(&mut c, "gh", &k(i - 1));
        } else {
            c.open("if (!warm)");
            if i > 0 {
                scaled(&mut c, "gh", &k(0));
            } else if step.variant == Variant::PredictCorrect {
                c.line("// Explicit Euler predictor.");
                c.line(format!("cubie_system_dxdt(t, state, {INPUTS}, {});", k(0)));
                c.line("evaluations += 1;");
                scaled(&mut c, "gh", &k(0));
            } else {
                c.line(format!("cubie_fill(z, {zero}, {n});"));
            }
            c.close();
        }
        newton_solve(&mut c, "(real)t_i", "gh", &k(i));
        c.open("if (status != 0)");
        c.line(format!("cubie_copy(state, proposed, {n});"));
        emit_return(&mut c, "newton_iterations");
        c.close();
        c.line(format!(
            "for (int e = 0; e < {n}; ++e) accumulator[{} + e] = z[e] / gh;",
            i * n
        ));
        c.close();
    }

    c.line("// The solution: the last stage's value when stiffly accurate.");
    if step.stiffly_accurate {
        c.line(format!(
            "for (int e = 0; e < {n}; ++e) proposed[e] = base[e] + z[e];"
        ));
    } else {
        c.open(format!("for (int e = 0; e < {n}; ++e)"));
        c.line("real v = state[e];");
        for (j, &bj) in step.b.iter().enumerate() {
            if bj != 0.0 {
                c.line(format!(
                    "v = v + dt * {} * accumulator[{} + e];",
                    lit(bj),
                    j * n
                ));
            }
        }
        c.line("proposed[e] = v;");
        c.close();
    }
    if let Some(w) = &step.error_weights
        && n_error > 0
    {
        c.open(format!("for (int e = 0; e < {n_error}; ++e)"));
        c.line(format!("real v = {zero};"));
        for (j, &wj) in w.iter().enumerate() {
            if wj != 0.0 {
                c.line(format!(
                    "v = v + dt * {} * accumulator[{} + e];",
                    lit(wj),
                    j * n
                ));
            }
        }
        c.line("error[e] = v;");
        c.close();
    }
    if step.slope_change_error && n_error > 0 {
        c.line("// Backward Euler: the stage slope is f(t + h, y1); base (y) is free now and takes f(t, y).");
        c.line(format!("cubie_system_dxdt(t, state, {INPUTS}, base);"));
        c.line("evaluations += 1;");
        c.line(format!("const real half = dt * {};", lit(0.5)));
        c.line(format!(
            "for (int e = 0; e < {n_error}; ++e) error[e] = half * (accumulator[e] - base[e]);"
        ));
    }
    if step.variant == Variant::CrankNicolson && n_error > 0 {
        c.line(
            "// Backward Euler from the same start, Newton started at the trapezoid's increment.",
        );
        c.open("");
        c.line(format!("cubie_copy(state, base, {n});"));
        c.line(format!(
            "for (int e = 0; e < {n}; ++e) z[e] = proposed[e] - state[e];"
        ));
        newton_solve(&mut c, "(real)(t + dt64)", "dt", &k(0));
        c.line(format!(
            "for (int e = 0; e < {n_error}; ++e) error[e] = proposed[e] - (state[e] + z[e]);"
        ));
        c.close();
    }
    c.line("// Caches last: after every Newton solve of the step.");
    c.line(format!("cubie_copy({}, increment_cache, {n});", k(s - 1)));
    if step.fsal {
        c.line(format!("cubie_copy({}, rhs_cache, {n});", k(s - 1)));
    }
    emit_return(&mut c, "newton_iterations");
    c.close();
    c.line("");
    emit_plain_error_norm(&mut c);
    Ok((
        c,
        StepTraits {
            caches_first_stage: true,
        },
    ))
}
