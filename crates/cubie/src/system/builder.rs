//! Building a model in code, without a file.

use crate::precision::Precision;

use super::error::ModelError;
use super::model::Model;
use super::resolve::build_model;
use super::spec::{At, Declaration, ModelSpec};

/// Collects a model's equations and declarations; [`ModelBuilder::build`]
/// checks them. Declaration order is kept. Error locations refer to lines
/// of the equations text.
///
/// ```
/// use cubie::system::Model;
/// let model = Model::builder("dx = -k * x")
///     .name("decay")
///     .state("x", 1.0)
///     .parameter("k", 0.5)
///     .build()
///     .expect("valid model");
/// assert_eq!(model.state_index("x"), Some(0));
/// ```
#[derive(Debug, Clone)]
pub struct ModelBuilder {
    spec: ModelSpec,
}

fn declare(list: &mut Vec<Declaration>, name: impl Into<String>, value: f64) {
    list.push(Declaration {
        name: name.into(),
        value,
        at: At::Nowhere,
    });
}

impl ModelBuilder {
    /// A builder for these equations (named "model", in `f64`).
    pub fn new(equations: impl Into<String>) -> Self {
        ModelBuilder {
            spec: ModelSpec::standalone(equations.into()),
        }
    }

    /// Sets the model's name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.spec.name = name.into();
        self
    }

    /// Sets the precision.
    pub fn precision(mut self, precision: Precision) -> Self {
        self.spec.precision = precision;
        self
    }

    /// Declares a state with its default initial value.
    pub fn state(mut self, name: impl Into<String>, initial: f64) -> Self {
        declare(&mut self.spec.states, name, initial);
        self
    }

    /// Declares a parameter with its default value.
    pub fn parameter(mut self, name: impl Into<String>, value: f64) -> Self {
        declare(&mut self.spec.parameters, name, value);
        self
    }

    /// Declares a constant (substituted into the equations).
    pub fn constant(mut self, name: impl Into<String>, value: f64) -> Self {
        declare(&mut self.spec.constants, name, value);
        self
    }

    /// Declares a driver with the value used when no time series is given.
    pub fn driver(mut self, name: impl Into<String>, value: f64) -> Self {
        declare(&mut self.spec.drivers, name, value);
        self
    }

    /// Declares several states, in order.
    pub fn states<S: Into<String>>(self, items: impl IntoIterator<Item = (S, f64)>) -> Self {
        items.into_iter().fold(self, |b, (n, v)| b.state(n, v))
    }

    /// Declares several parameters, in order.
    pub fn parameters<S: Into<String>>(self, items: impl IntoIterator<Item = (S, f64)>) -> Self {
        items.into_iter().fold(self, |b, (n, v)| b.parameter(n, v))
    }

    /// Declares several constants.
    pub fn constants<S: Into<String>>(self, items: impl IntoIterator<Item = (S, f64)>) -> Self {
        items.into_iter().fold(self, |b, (n, v)| b.constant(n, v))
    }

    /// Declares several drivers, in order.
    pub fn drivers<S: Into<String>>(self, items: impl IntoIterator<Item = (S, f64)>) -> Self {
        items.into_iter().fold(self, |b, (n, v)| b.driver(n, v))
    }

    /// Saves an auxiliary like a state.
    pub fn observable(mut self, name: impl Into<String>) -> Self {
        self.spec.observables.push((name.into(), At::Nowhere));
        self
    }

    /// Saves several auxiliaries, in order.
    pub fn observables<S: Into<String>>(self, names: impl IntoIterator<Item = S>) -> Self {
        names.into_iter().fold(self, |b, n| b.observable(n))
    }

    /// Checks the model and builds its functions.
    pub fn build(self) -> Result<Model, ModelError> {
        build_model(self.spec)
    }
}
