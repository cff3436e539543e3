//! cubie: a batch ODE integration engine.
//!
//! One system of ordinary differential equations, integrated for many runs
//! at once, each with its own initial values and parameters:
//!
//! ```
//! use cubie::batch::{GridKind, Sweep};
//! use cubie::system::Model;
//! use cubie::{Algorithm, Solver, SolverSettings};
//!
//! let model = Model::builder(
//!     "dx = sigma * (y - x)\n\
//!      dy = x * (rho - z) - y\n\
//!      dz = x * y - beta * z",
//! )
//! .states([("x", 1.0), ("y", 0.0), ("z", 0.0)])
//! .parameters([("rho", 21.0)])
//! .constants([("sigma", 10.0), ("beta", 8.0 / 3.0)])
//! .build()?;
//!
//! let settings = SolverSettings {
//!     algorithm: Algorithm::Tsit5,
//!     ..SolverSettings::default()
//! };
//! let solver = Solver::new(&model, &settings)?;
//! let runs = solver.grid(&[Sweep::linspace("rho", 0.0, 28.0, 100)], GridKind::Combinatorial)?;
//! let result = solver.solve(&runs)?;
//!
//! assert_eq!(result.n_runs, 100);
//! assert!(result.status().iter().all(|s| *s == 0));
//! let finals = result.final_state(); // (runs, states), row-major
//! // rho = 0: x decays as exp(-sigma t)
//! assert!((finals[0] - (-10.0f64).exp()).abs() < 1e-7);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A solve is composed from small components (algorithm step, Newton and
//! Krylov solvers, step controller, time loop, outputs, the user's model),
//! and every component declares its working memory with one central buffer
//! registry ([`memory::BufferRegistry`]), which lays out each run's memory
//! and answers every size question. [`Solver::plan`] shows that layout.

pub mod backend;
pub mod batch;
pub mod controllers;
pub mod drivers;
pub mod kernel;
pub mod memory;
pub mod number;
pub mod outputs;
pub mod pipeline;
pub mod precision;
pub mod results;
pub mod settings;
pub mod solver;
pub mod solvers;
pub mod step;
pub mod system;
pub mod time_loop;

pub use backend::cpu::jit::CodeGenerator;
pub use precision::{Precision, Real};
pub use solver::{
    Backend, ImplicitOptions, SolveError, Solver, SolverSettings, emit_cuda, emit_cuda_for,
};
pub use step::Algorithm;
