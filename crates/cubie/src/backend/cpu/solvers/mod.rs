//! The implicit steps' solvers on the CPU: Newton–Krylov ([`newton`]),
//! the linear solvers ([`linear`]) and the vector kernels they share
//! ([`vector`]), each resolved from its backend-neutral component.

pub mod linear;
pub mod newton;
pub mod vector;

pub use linear::{Factorisation, LinearOperator, LinearSolver};
pub use newton::{NewtonKrylov, NonlinearProblem};
