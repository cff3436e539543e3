//! Algorithm steps: each takes one attempt from `t` to `t + dt` and, when
//! it can, estimates its local error. Explicit Runge–Kutta steps are driven
//! by a [`ButcherTableau`]; the implicit families (backward Euler,
//! Crank–Nicolson, DIRK, FIRK, Rosenbrock) by the tableaus of
//! [`implicit_tableaus`], with their Newton and linear solvers hosted as
//! child components; [`algorithms`] lists every algorithm and
//! [`StepComponent`] builds any of them.

mod catalogue;
mod component;
mod cpu;
mod dirk;
mod erk;
pub mod erk_tableaus;
mod firk;
mod implicit;
pub mod implicit_tableaus;
mod rosenbrock;
pub mod tableau;

pub use catalogue::{Algorithm, ImplicitMethod, Method, StepFamily, algorithms, find_algorithm};
pub use component::StepComponent;
pub use cpu::{CpuStep, StepIo, StepReport, SystemCall};
pub use dirk::{DirkCpu, DirkStep};
pub use erk::{ErkCpu, ErkStep};
pub use erk_tableaus::{UnknownTableau, erk_tableau, erk_tableau_names, erk_tableaus};
pub use firk::{FirkCpu, FirkStep};
pub use implicit::ImplicitSolverSettings;
pub use rosenbrock::{RosenbrockCpu, RosenbrockStep};
pub use tableau::{ButcherTableau, EmbeddedWeights, TableauShapeError, dop853_combined_error};

use thiserror::Error;

use crate::memory::RegistryError;

/// What can go wrong choosing or building a step.
#[derive(Debug, Error)]
pub enum StepError {
    /// No algorithm has this name.
    #[error("unknown algorithm `{name}`; valid algorithms: {valid}")]
    UnknownAlgorithm {
        /// The name as given.
        name: String,
        /// Comma-separated canonical names.
        valid: String,
    },
    /// The registry refused a buffer.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// An implicit step was built without solver settings.
    #[error("`{algorithm}` is implicit and needs Newton and linear-solver settings")]
    MissingSolverSettings {
        /// The algorithm.
        algorithm: String,
    },
    /// A Newton or linear solver could not be configured.
    #[error(transparent)]
    Solver(#[from] crate::solvers::SolverError),
    /// The fused step could not be compiled. (Not a `source`: the message
    /// holds the cause, which a chain printer would repeat.)
    #[error("compiling the fused step: {0}")]
    Jit(crate::system::jit::JitError),
}

impl From<crate::system::jit::JitError> for StepError {
    fn from(e: crate::system::jit::JitError) -> Self {
        StepError::Jit(e)
    }
}
