//! The Newton and linear solvers as CUDA C: one templated device function
//! per solver component, generic over the operator or nonlinear problem
//! (a struct the step emits), as the CPU forms are generic over their
//! traits. Each performs the CPU form's operations in the CPU form's order
//! (`backend::cpu::solvers`).

mod linear;
mod newton;

pub use linear::emit as emit_linear;
pub use newton::emit as emit_newton;

use crate::solvers::{LinearSolverKind, LinearSolverSettings, PreconditionerKind};

use super::source::{CReal, CudaSource};

/// Which forms of the Jacobian a linear solver reads: its diagonal (an
/// iterative solver with the `jacobi` preconditioner) or the dense matrix
/// (`lu`). An operator struct offers only those, so it calls only model
/// functions that were emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JacobianForms {
    pub diagonal: bool,
    pub dense: bool,
}

impl JacobianForms {
    pub fn of(settings: &LinearSolverSettings) -> Self {
        let dense = settings.kind == LinearSolverKind::Lu;
        JacobianForms {
            diagonal: !dense && settings.preconditioner == PreconditionerKind::Jacobi,
            dense,
        }
    }
}

/// The structs the solvers return, as the CPU's `LinearOutcome` and
/// `NewtonOutcome` (Newton's `status`: 0 converged, 1 iteration limit, 2
/// diverged).
pub const OUTCOMES: &str = "struct cubie_linear_outcome {\n    bool converged;\n    int iterations;\n};\n\
struct cubie_newton_outcome {\n    int status;\n    int iterations;\n    int linear_iterations;\n    bool linear_limit_hit;\n    bool non_finite;\n};";

/// Newton's `status` values (0: converged).
pub(crate) const NEWTON_MAX_ITERATIONS: i32 = 1;
pub(crate) const NEWTON_DIVERGED: i32 = 2;

/// The vector kernels the solvers share (`backend::cpu::solvers::vector`),
/// in index order so results do not depend on where a buffer lives.
pub fn emit_vector_helpers(real: CReal) -> CudaSource {
    let zero = real.literal(0.0);
    let sqrt = real.math("sqrt");
    let mut c = CudaSource::new();
    c.line("// x . y, summed in index order.");
    c.open("__device__ __forceinline__ real cubie_dot(const real* x, const real* y, int n)");
    c.line(format!("real acc = {zero};"));
    c.line("for (int i = 0; i < n; ++i) acc = acc + x[i] * y[i];");
    c.line("return acc;");
    c.close();
    c.open("__device__ __forceinline__ real cubie_norm(const real* x, int n)");
    c.line(format!("return {sqrt}(cubie_dot(x, x, n));"));
    c.close();
    c.open("__device__ __forceinline__ void cubie_copy(const real* src, real* dst, int n)");
    c.line("for (int i = 0; i < n; ++i) dst[i] = src[i];");
    c.close();
    c.open("__device__ __forceinline__ void cubie_fill(real* x, real value, int n)");
    c.line("for (int i = 0; i < n; ++i) x[i] = value;");
    c.close();
    c.line("// y = y + alpha x.");
    c.open("__device__ __forceinline__ void cubie_axpy(real alpha, const real* x, real* y, int n)");
    c.line("for (int i = 0; i < n; ++i) y[i] = y[i] + alpha * x[i];");
    c.close();
    c.open("__device__ __forceinline__ bool cubie_all_finite(const real* x, int n)");
    c.line("for (int i = 0; i < n; ++i) if (!cubie_isfinite(x[i])) return false;");
    c.line("return true;");
    c.close();
    c
}
