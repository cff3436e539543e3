//! cubie: a batch ODE integration engine.
//!
//! One system of ordinary differential equations, integrated for many runs
//! at once, each with its own initial values and parameters. Kernels are
//! composed from small components (algorithm step, solvers, step
//! controller, time loop, outputs, the user's model), and every component
//! declares its working memory with one central buffer registry
//! ([`memory::BufferRegistry`]).

pub mod batch;
pub mod controllers;
pub mod kernel;
pub mod memory;
pub mod outputs;
pub mod precision;
pub mod results;
pub mod settings;
pub mod solver;
pub mod step;
pub mod system;
pub mod time_loop;

pub use precision::{Precision, Real};
pub use solver::{SolveError, Solver, SolverSettings};
