//! The solvers' typed errors.

use thiserror::Error;

use crate::memory::RegistryError;
use crate::settings::SettingsError;

/// Everything building or configuring a solver can refuse.
#[derive(Debug, PartialEq, Error)]
pub enum SolverError {
    /// A linear-solver or preconditioner name that is not known.
    #[error("unknown {what} `{name}`; valid: {}", valid.join(", "))]
    UnknownKind {
        /// `linear solver` or `preconditioner`.
        what: &'static str,
        /// The name as given.
        name: String,
        /// Every accepted name.
        valid: Vec<&'static str>,
    },

    /// A setting outside its valid range.
    #[error("setting `{key}` = {value}: expected {expected}")]
    InvalidSetting {
        /// The setting key.
        key: &'static str,
        /// The value, printed.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },

    /// A system of no unknowns.
    #[error("a solver needs at least one unknown (n = 0)")]
    EmptySystem,

    /// The buffer registry refused a registration or query.
    #[error(transparent)]
    Registry(#[from] RegistryError),

    /// A named setting did not parse.
    #[error(transparent)]
    Settings(#[from] SettingsError),
}
