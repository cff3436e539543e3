//! The solvers of the implicit algorithms: matrix-free linear solvers with
//! preconditioners and a dense LU ([`linear`]), and the damped
//! Newton–Krylov iteration that hosts one ([`newton`]), backend-neutral
//! (their CPU numerics are `backend::cpu::solvers`). Each is a
//! component of the buffer registry: it declares its work vectors there
//! and never computes an offset or a total itself.
//!
//! ```
//! use std::cell::Cell;
//! use cubie::Precision;
//! use cubie::memory::{BufferRegistry, Component};
//! use cubie::backend::cpu::CpuForm;
//! use cubie::backend::cpu::solvers::NonlinearProblem;
//! use cubie::solvers::{NewtonComponent, NewtonSettings, NewtonSpec};
//! use cubie::solvers::linear::{LinearSolverKind, LinearSolverSettings};
//!
//! // G(x) = x³ + x − 2, root 1, in each of 3 unknowns.
//! struct Cubic;
//! impl NonlinearProblem<f64> for Cubic {
//!     fn residual(&self, x: &[Cell<f64>], out: &[Cell<f64>]) {
//!         for (o, x) in out.iter().zip(x) { let v = x.get(); o.set(v * v * v + v - 2.0); }
//!     }
//!     fn jacobian_apply(&self, x: &[Cell<f64>], v: &[Cell<f64>], out: &[Cell<f64>]) {
//!         for ((o, x), v) in out.iter().zip(x).zip(v) { o.set((3.0 * x.get() * x.get() + 1.0) * v.get()); }
//!     }
//!     fn jacobian_diagonal(&self, x: &[Cell<f64>], out: &[Cell<f64>]) {
//!         for (o, x) in out.iter().zip(x) { o.set(3.0 * x.get() * x.get() + 1.0); }
//!     }
//!     fn jacobian_dense(&self, x: &[Cell<f64>], out: &[Cell<f64>]) {
//!         let n = x.len();
//!         for i in 0..n { for j in 0..n {
//!             out[i * n + j].set(if i == j { 3.0 * x[i].get() * x[i].get() + 1.0 } else { 0.0 });
//!         } }
//!     }
//! }
//!
//! # fn main() -> Result<(), cubie::solvers::SolverError> {
//! let mut reg = BufferRegistry::new(Precision::F64);
//! let step = reg.add_component("step", None)?;
//! let linear = LinearSolverSettings { kind: LinearSolverKind::Lu, ..Default::default() };
//! let spec = NewtonSpec { n: 3, settings: NewtonSettings::default(), linear };
//! let newton = NewtonComponent::register(&mut reg, Some(step), spec)?;
//! let solver = newton.cpu::<f64>(&reg)?; // its CPU form
//! let arena = reg.new_arena::<f64>(step)?;
//! let x: Vec<Cell<f64>> = (0..3).map(|_| Cell::new(0.5)).collect();
//! let outcome = solver.solve(&Cubic, &x, &arena);
//! assert!(outcome.converged());
//! assert!((x[0].get() - 1.0).abs() < 1e-3);
//! # Ok(())
//! # }
//! ```

pub mod error;
pub mod linear;
pub mod newton;

pub use error::SolverError;
pub use linear::{
    LinearOutcome, LinearSolverComponent, LinearSolverKind, LinearSolverSettings, LinearSolverSpec,
    PreconditionerKind,
};
pub use newton::{NewtonComponent, NewtonOutcome, NewtonSettings, NewtonSpec, NewtonStatus};
