//! A checked model: its declarations, in declaration order, and its
//! functions as one expression graph.

use std::path::Path;
use std::sync::OnceLock;

use serde::Serialize;

use crate::precision::Precision;

use super::builder::ModelBuilder;
use super::error::{ModelError, ModelErrorKind};
use super::functions::SystemFunctions;
use super::model_file::parse_model_file;
use super::resolve::build_model;
use super::summary::ModelSummary;

/// A declared name and its default value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedValue {
    /// The name.
    pub name: String,
    /// The default (initial value, parameter value, constant or driver
    /// value).
    pub value: f64,
}

/// A checked ODE model. Build one from a TOML file ([`Model::from_file`],
/// [`Model::from_toml_str`]) or in code ([`Model::builder`]).
#[derive(Debug, Clone)]
pub struct Model {
    pub(crate) name: String,
    pub(crate) precision: Precision,
    pub(crate) equations: String,
    pub(crate) states: Vec<NamedValue>,
    pub(crate) parameters: Vec<NamedValue>,
    pub(crate) constants: Vec<NamedValue>,
    pub(crate) drivers: Vec<NamedValue>,
    pub(crate) observables: Vec<String>,
    pub(crate) auxiliaries: Vec<String>,
    pub(crate) functions: SystemFunctions,
    /// `functions` with the Jacobian, built on first request.
    pub(crate) with_jacobian: OnceLock<SystemFunctions>,
    /// `functions` with the Jacobian's diagonal, built on first request.
    pub(crate) with_jacobian_diagonal: OnceLock<SystemFunctions>,
}

fn position(list: &[NamedValue], name: &str) -> Option<usize> {
    list.iter().position(|v| v.name == name)
}

fn values(list: &[NamedValue]) -> Vec<f64> {
    list.iter().map(|v| v.value).collect()
}

impl Model {
    /// Parses and checks a model file's text; `file_name` is used in
    /// error messages (and as the default model name).
    pub fn from_toml_str(source: &str, file_name: &str) -> Result<Model, ModelError> {
        build_model(parse_model_file(source, file_name)?)
    }

    /// Reads, parses and checks a model file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Model, ModelError> {
        let path = path.as_ref();
        let file_name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| {
            let kind = ModelErrorKind::Io {
                message: e.to_string(),
            };
            ModelError::new(kind, Some(file_name.clone()), None)
        })?;
        let source = String::from_utf8(bytes).map_err(|e| {
            // Offsets agree with the lossy text up to the first bad byte.
            let offset = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes());
            let location = super::error::Location::in_text(&text, offset..offset + 1);
            let kind = ModelErrorKind::InvalidUtf8 { offset };
            ModelError::new(kind, Some(file_name.clone()), Some(location))
        })?;
        Model::from_toml_str(&source, &file_name)
    }

    /// Starts a model in code from its equations text.
    pub fn builder(equations: impl Into<String>) -> ModelBuilder {
        ModelBuilder::new(equations)
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The precision the model asks to be solved in.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The equations text as written.
    pub fn equations(&self) -> &str {
        &self.equations
    }

    /// States and their default initial values, in declaration order.
    pub fn states(&self) -> &[NamedValue] {
        &self.states
    }

    /// Parameters and their default values, in declaration order.
    pub fn parameters(&self) -> &[NamedValue] {
        &self.parameters
    }

    /// Constants and their values (already substituted into the
    /// functions), in declaration order.
    pub fn constants(&self) -> &[NamedValue] {
        &self.constants
    }

    /// Drivers and the values used when no time series is given, in
    /// declaration order.
    pub fn drivers(&self) -> &[NamedValue] {
        &self.drivers
    }

    /// The observables, in the order they are saved.
    pub fn observables(&self) -> &[String] {
        &self.observables
    }

    /// Every auxiliary, in dependency order.
    pub fn auxiliaries(&self) -> &[String] {
        &self.auxiliaries
    }

    /// Number of states.
    pub fn n_states(&self) -> usize {
        self.states.len()
    }

    /// Number of parameters.
    pub fn n_parameters(&self) -> usize {
        self.parameters.len()
    }

    /// Number of drivers.
    pub fn n_drivers(&self) -> usize {
        self.drivers.len()
    }

    /// Number of observables.
    pub fn n_observables(&self) -> usize {
        self.observables.len()
    }

    /// Index of a state by name.
    pub fn state_index(&self, name: &str) -> Option<usize> {
        position(&self.states, name)
    }

    /// Index of a parameter by name.
    pub fn parameter_index(&self, name: &str) -> Option<usize> {
        position(&self.parameters, name)
    }

    /// Index of a constant by name.
    pub fn constant_index(&self, name: &str) -> Option<usize> {
        position(&self.constants, name)
    }

    /// Index of a driver by name.
    pub fn driver_index(&self, name: &str) -> Option<usize> {
        position(&self.drivers, name)
    }

    /// Index of an observable by name.
    pub fn observable_index(&self, name: &str) -> Option<usize> {
        self.observables.iter().position(|o| o == name)
    }

    /// Default initial values of the states.
    pub fn state_defaults(&self) -> Vec<f64> {
        values(&self.states)
    }

    /// Default values of the parameters.
    pub fn parameter_defaults(&self) -> Vec<f64> {
        values(&self.parameters)
    }

    /// Default values of the drivers.
    pub fn driver_defaults(&self) -> Vec<f64> {
        values(&self.drivers)
    }

    /// The model's functions: dxdt, observables, JVP and dfdt (the
    /// Jacobian is not built; see [`Model::functions_with_jacobian`]).
    pub fn functions(&self) -> &SystemFunctions {
        &self.functions
    }

    /// The model's functions with the Jacobian's non-zero entries, built
    /// on the first call (in time and nodes that grow with the rows'
    /// dependencies and the non-zeros, not with `n_states^2`).
    pub fn functions_with_jacobian(&self) -> &SystemFunctions {
        self.with_jacobian
            .get_or_init(|| self.functions.with_jacobian())
    }

    /// The model's functions with the Jacobian's diagonal (not the dense
    /// matrix), built on the first call; for the Jacobi preconditioner.
    pub fn functions_with_jacobian_diagonal(&self) -> &SystemFunctions {
        self.with_jacobian_diagonal
            .get_or_init(|| self.functions.with_jacobian_diagonal())
    }

    /// Number of structurally non-zero entries of the Jacobian (counted
    /// without building it).
    pub fn jacobian_nonzeros(&self) -> usize {
        self.functions.jacobian_nonzeros()
    }

    /// A summary for display or JSON.
    pub fn summary(&self) -> ModelSummary {
        ModelSummary::of(self)
    }
}
