//! Algorithm steps: each takes one attempt from `t` to `t + dt` and, when
//! it can, estimates its local error. Explicit Runge–Kutta steps are driven
//! by a [`ButcherTableau`]; the implicit families (backward Euler,
//! Crank–Nicolson, DIRK, FIRK, Rosenbrock) by the tableaus of
//! [`implicit_tableaus`], with their Newton and linear solvers hosted as
//! child components; [`algorithms`] lists every algorithm and
//! [`StepComponent`] builds any of them.

mod catalogue;
mod component;
pub(crate) mod dirk;
mod erk;
pub mod erk_tableaus;
pub(crate) mod firk;
mod implicit;
pub mod implicit_tableaus;
mod rosenbrock;
pub mod tableau;

pub use catalogue::{
    Algorithm, AlgorithmEntry, ImplicitMethod, Method, StepFamily, algorithms, find_algorithm,
};
pub use component::{StepComponent, StepSpec};
pub use dirk::DirkStep;
pub use erk::{ErkContribution, ErkPlan, ErkScheme, ErkStep, ErkTarget};
pub use erk_tableaus::{UnknownTableau, erk_tableau, erk_tableau_names, erk_tableaus};
pub use firk::FirkStep;
pub use implicit::ImplicitSolverSettings;
pub use rosenbrock::RosenbrockStep;
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
    /// A backend could not compile the step's form. (Not a `source`: the
    /// message holds the cause, which a chain printer would repeat.)
    #[error("compiling the fused step: {0}")]
    Compile(String),
}
