//! A linear solver component as one templated device function:
//! `NAME(op, rhs, x, shared, persistent)` solves `A x = rhs` for the
//! operator `op` (`apply`, `diagonal`, `dense`), `x` holding the initial
//! guess and receiving the solution, `rhs` clobbered, as the CPU form
//! (`backend::cpu::solvers::linear`).

use crate::memory::{BufferRegistry, Component};
use crate::solvers::{LinearSolverComponent, LinearSolverKind, PreconditionerKind};

use super::super::CudaError;
use super::super::source::{CReal, CudaSource};

/// Emits the solver's function, named `name`.
pub fn emit(
    solver: &LinearSolverComponent,
    registry: &BufferRegistry,
    real: CReal,
    name: &str,
) -> Result<CudaSource, CudaError> {
    let settings = solver.settings();
    let n = solver.n();
    let tol = real.literal(settings.krylov_tolerance);
    let max_iters = settings.krylov_max_iters;
    let zero = real.literal(0.0);
    let mut c = CudaSource::new();
    c.line(format!(
        "// The {} linear solver ({n} unknowns).",
        settings.kind.as_str()
    ));
    c.line("template <class Op>");
    c.open(format!(
        "__device__ __forceinline__ cubie_linear_outcome {name}(Op& op, real* rhs, real* x, real* shared, real* persistent)"
    ));
    c.line("(void)shared; (void)persistent;");
    super::super::declare_buffers(&mut c, registry, solver.id())?;
    let jacobi = settings.preconditioner == PreconditionerKind::Jacobi;
    let precondition = Preconditioner {
        kind: settings.preconditioner,
        order: settings.preconditioner_order,
        n,
    };
    match settings.kind {
        LinearSolverKind::Lu => emit_lu(&mut c, real, n, &zero),
        kind => {
            if jacobi {
                c.line("op.diagonal(jacobi_diagonal);");
            }
            if kind == LinearSolverKind::Bicgstab {
                emit_bicgstab(&mut c, real, n, &tol, max_iters, &zero, &precondition);
            } else {
                let steepest = kind == LinearSolverKind::SteepestDescent;
                emit_projection(&mut c, n, &tol, max_iters, &zero, steepest, &precondition);
            }
        }
    }
    c.close();
    Ok(c)
}

/// `out = P⁻¹ v` as the CPU's `Preconditioner::apply`.
struct Preconditioner {
    kind: PreconditionerKind,
    order: u32,
    n: usize,
}

impl Preconditioner {
    fn apply(&self, c: &mut CudaSource, v: &str, out: &str, scratch: &str) {
        let n = self.n;
        match self.kind {
            PreconditionerKind::None => c.line(format!("cubie_copy({v}, {out}, {n});")),
            PreconditionerKind::Jacobi => c.line(format!(
                "for (int i = 0; i < {n}; ++i) {out}[i] = {v}[i] / jacobi_diagonal[i];"
            )),
            PreconditionerKind::Neumann => {
                // Horner form of the series: z = v + z - A z.
                c.line(format!("cubie_copy({v}, {out}, {n});"));
                c.open(format!("for (int k = 0; k < {}; ++k)", self.order));
                c.line(format!("op.apply({out}, {scratch});"));
                c.line(format!(
                    "for (int i = 0; i < {n}; ++i) {out}[i] = {v}[i] + {out}[i] - {scratch}[i];"
                ));
                c.close();
            }
        }
    }
}

fn emit_projection(
    c: &mut CudaSource,
    n: usize,
    tol: &str,
    max_iters: u32,
    zero: &str,
    steepest_descent: bool,
    precondition: &Preconditioner,
) {
    c.line("real* r = rhs;");
    c.line("real* z = preconditioned_vec;");
    c.line("op.apply(x, temp);");
    c.line(format!(
        "for (int i = 0; i < {n}; ++i) r[i] = r[i] - temp[i];"
    ));
    c.line(format!("bool converged = cubie_norm(r, {n}) <= {tol};"));
    c.line("int iterations = 0;");
    c.open(format!("while (!converged && iterations < {max_iters})"));
    c.line("iterations += 1;");
    precondition.apply(c, "r", "z", "temp");
    c.line("op.apply(z, temp);");
    if steepest_descent {
        c.line(format!("const real num = cubie_dot(r, z, {n});"));
        c.line(format!("const real den = cubie_dot(temp, z, {n});"));
    } else {
        c.line(format!("const real num = cubie_dot(temp, r, {n});"));
        c.line(format!("const real den = cubie_dot(temp, temp, {n});"));
    }
    c.line("const real alpha = num / den;");
    c.line("// A zero or non-finite step can make no progress: stop unconverged.");
    c.line(format!(
        "if (den == {zero} || !cubie_isfinite(alpha)) break;"
    ));
    c.line(format!("cubie_axpy(alpha, z, x, {n});"));
    c.line(format!("cubie_axpy(-alpha, temp, r, {n});"));
    c.line(format!("const real rn = cubie_norm(r, {n});"));
    c.line("if (!cubie_isfinite(rn)) break;");
    c.line(format!("converged = rn <= {tol};"));
    c.close();
    c.line("cubie_linear_outcome outcome = {converged, iterations};");
    c.line("return outcome;");
}

fn emit_bicgstab(
    c: &mut CudaSource,
    real: CReal,
    n: usize,
    tol: &str,
    max_iters: u32,
    zero: &str,
    precondition: &Preconditioner,
) {
    c.line("real* r = rhs;");
    c.line("op.apply(x, bicg_tmp);");
    c.line(format!(
        "for (int i = 0; i < {n}; ++i) r[i] = r[i] - bicg_tmp[i];"
    ));
    c.line(format!("cubie_copy(r, bicg_r0_hat, {n});"));
    c.line(format!("cubie_fill(bicg_p, {zero}, {n});"));
    c.line(format!("cubie_fill(bicg_v, {zero}, {n});"));
    let unit = real.literal(1.0);
    c.line(format!(
        "real rho_prev = {unit}, alpha = {unit}, omega = {unit};"
    ));
    c.line(format!("bool converged = cubie_norm(r, {n}) <= {tol};"));
    c.line("int iterations = 0;");
    c.open(format!("while (!converged && iterations < {max_iters})"));
    c.line("iterations += 1;");
    c.line(format!("const real rho = cubie_dot(bicg_r0_hat, r, {n});"));
    c.line("// Breakdown (r orthogonal to r0_hat, or a zero omega): stop unconverged.");
    c.line(format!(
        "if (rho == {zero} || !cubie_isfinite(rho) || omega == {zero}) break;"
    ));
    c.line("const real beta = (rho / rho_prev) * (alpha / omega);");
    c.line(format!(
        "for (int i = 0; i < {n}; ++i) bicg_p[i] = r[i] + beta * (bicg_p[i] - omega * bicg_v[i]);"
    ));
    // v is free until A tmp overwrites it: the preconditioner's scratch.
    precondition.apply(c, "bicg_p", "bicg_tmp", "bicg_v");
    c.line("op.apply(bicg_tmp, bicg_v);");
    c.line(format!(
        "const real den = cubie_dot(bicg_r0_hat, bicg_v, {n});"
    ));
    c.line(format!("if (den == {zero} || !cubie_isfinite(den)) break;"));
    c.line("alpha = rho / den;");
    c.line(format!("cubie_axpy(alpha, bicg_tmp, x, {n});"));
    c.line(format!("cubie_axpy(-alpha, bicg_v, r, {n});"));
    c.line(format!("const real sn = cubie_norm(r, {n});"));
    c.line("if (!cubie_isfinite(sn)) break;");
    c.open(format!("if (sn <= {tol})"));
    c.line("converged = true;");
    c.line("break;");
    c.close();
    // tmp (P⁻¹ p) is spent: the scratch, then t = A s_hat.
    precondition.apply(c, "r", "bicg_s_hat", "bicg_tmp");
    c.line("op.apply(bicg_s_hat, bicg_tmp);");
    c.line(format!(
        "const real tt = cubie_dot(bicg_tmp, bicg_tmp, {n});"
    ));
    c.line(format!("if (tt == {zero} || !cubie_isfinite(tt)) break;"));
    c.line(format!("omega = cubie_dot(bicg_tmp, r, {n}) / tt;"));
    c.line(format!("cubie_axpy(omega, bicg_s_hat, x, {n});"));
    c.line(format!("cubie_axpy(-omega, bicg_tmp, r, {n});"));
    c.line("rho_prev = rho;");
    c.line(format!("const real rn = cubie_norm(r, {n});"));
    c.line("if (!cubie_isfinite(rn)) break;");
    c.line(format!("converged = rn <= {tol};"));
    c.close();
    c.line("cubie_linear_outcome outcome = {converged, iterations};");
    c.line("return outcome;");
}

fn emit_lu(c: &mut CudaSource, real: CReal, n: usize, zero: &str) {
    let fabs = real.math("fabs");
    c.line("real* m = lu_matrix;");
    c.line("op.dense(m);");
    c.line("// Factorise with partial pivoting; a zero or non-finite pivot fails.");
    c.open(format!("for (int k = 0; k < {n}; ++k)"));
    c.line("int p = k;");
    c.line(format!("real best = {fabs}(m[k * {n} + k]);"));
    c.open(format!("for (int i = k + 1; i < {n}; ++i)"));
    c.line(format!("const real v = {fabs}(m[i * {n} + k]);"));
    c.line("if (v > best) { best = v; p = i; }");
    c.close();
    c.line("pivots[k] = (real)p;");
    c.open(format!("if (best == {zero} || !cubie_isfinite(best))"));
    c.line("cubie_linear_outcome failed = {false, 1};");
    c.line("return failed;");
    c.close();
    c.open("if (p != k)");
    c.line(format!(
        "for (int j = 0; j < {n}; ++j) {{ const real s = m[k * {n} + j]; m[k * {n} + j] = m[p * {n} + j]; m[p * {n} + j] = s; }}"
    ));
    c.close();
    c.line(format!("const real pivot = m[k * {n} + k];"));
    c.open(format!("for (int i = k + 1; i < {n}; ++i)"));
    c.line(format!("const real l = m[i * {n} + k] / pivot;"));
    c.line(format!("m[i * {n} + k] = l;"));
    c.line(format!(
        "for (int j = k + 1; j < {n}; ++j) m[i * {n} + j] = m[i * {n} + j] - l * m[k * {n} + j];"
    ));
    c.close();
    c.close();
    c.line("// b = A^-1 b with the factors.");
    c.line("real* b = rhs;");
    c.open(format!("for (int k = 0; k < {n}; ++k)"));
    c.line("const int p = (int)pivots[k];");
    c.line("if (p != k) { const real s = b[k]; b[k] = b[p]; b[p] = s; }");
    c.close();
    c.open(format!("for (int i = 0; i < {n}; ++i)"));
    c.line("real s = b[i];");
    c.line(format!(
        "for (int j = 0; j < i; ++j) s = s - m[i * {n} + j] * b[j];"
    ));
    c.line("b[i] = s;");
    c.close();
    c.open(format!("for (int i = {n} - 1; i >= 0; --i)"));
    c.line("real s = b[i];");
    c.line(format!(
        "for (int j = i + 1; j < {n}; ++j) s = s - m[i * {n} + j] * b[j];"
    ));
    c.line(format!("b[i] = s / m[i * {n} + i];"));
    c.close();
    c.line(format!("const bool converged = cubie_all_finite(b, {n});"));
    c.line(format!("if (converged) cubie_copy(b, x, {n});"));
    c.line("cubie_linear_outcome outcome = {converged, 1};");
    c.line("return outcome;");
}
