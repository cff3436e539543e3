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
//! use cubie::memory::{BufferRegistry, Component, LaneBuf, LaneMask};
//! use cubie::backend::cpu::CpuForm;
//! use cubie::backend::cpu::solvers::NonlinearProblem;
//! use cubie::solvers::{NewtonComponent, NewtonSettings, NewtonSpec};
//! use cubie::solvers::linear::{LinearSolverKind, LinearSolverSettings};
//!
//! // G(x) = x³ + x − 2, root 1, in each of 3 unknowns, in every lane of
//! // `mask` (a solve covers a block of runs; here a block of one).
//! struct Cubic;
//! impl NonlinearProblem<f64> for Cubic {
//!     fn residual(&self, x: LaneBuf<'_, f64>, out: LaneBuf<'_, f64>, mask: LaneMask) {
//!         for l in mask.lanes() { for i in 0..x.len() {
//!             let v = x.get(i, l);
//!             out.set(i, l, v * v * v + v - 2.0);
//!         } }
//!     }
//!     fn jacobian_apply(
//!         &self, x: LaneBuf<'_, f64>, v: LaneBuf<'_, f64>, out: LaneBuf<'_, f64>, mask: LaneMask,
//!     ) {
//!         for l in mask.lanes() { for i in 0..x.len() {
//!             let xi = x.get(i, l);
//!             out.set(i, l, (3.0 * xi * xi + 1.0) * v.get(i, l));
//!         } }
//!     }
//!     fn jacobian_diagonal(&self, x: LaneBuf<'_, f64>, out: LaneBuf<'_, f64>, mask: LaneMask) {
//!         for l in mask.lanes() { for i in 0..x.len() {
//!             let xi = x.get(i, l);
//!             out.set(i, l, 3.0 * xi * xi + 1.0);
//!         } }
//!     }
//!     fn jacobian_dense(&self, x: LaneBuf<'_, f64>, out: LaneBuf<'_, f64>, mask: LaneMask) {
//!         let n = x.len();
//!         for l in mask.lanes() { for i in 0..n { for j in 0..n {
//!             let xi = x.get(i, l);
//!             out.set(i * n + j, l, if i == j { 3.0 * xi * xi + 1.0 } else { 0.0 });
//!         } } }
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
//! let arena = reg.new_arena::<f64>(step)?; // one lane
//! let x: Vec<Cell<f64>> = (0..3).map(|_| Cell::new(0.5)).collect();
//! let outcome = solver.solve(&Cubic, LaneBuf::scalar(&x), &arena, LaneMask::all(1));
//! assert!(outcome[0].converged());
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
