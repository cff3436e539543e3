//! An unchecked model description (from a file or a builder) and the map
//! from its positions back to the text the user wrote.

use std::ops::Range;

use crate::precision::Precision;

use super::error::{Location, ModelError, ModelErrorKind};

/// Where something was written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum At {
    /// Unknown (e.g. a value given in code).
    #[default]
    Nowhere,
    /// A byte range of the equations text.
    Equations(Range<usize>),
    /// A byte range of the model file.
    File(Range<usize>),
}

/// How the equations text sits in the model file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EquationsOrigin {
    /// Not from a file: positions are relative to the equations text.
    Standalone,
    /// The text appears verbatim in the file from this byte offset.
    Verbatim { offset: usize },
    /// The text was unescaped: the file offset of each byte of the text,
    /// and of its end.
    Mapped { offsets: Vec<usize> },
    /// The text was unescaped in a way not mapped byte by byte; its first
    /// line is this line of the file.
    FromLine { first_line: usize },
}

/// A declared name with its default value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Declaration {
    pub name: String,
    pub value: f64,
    pub at: At,
}

/// Everything a model is built from, before any check.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModelSpec {
    pub name: String,
    pub precision: Precision,
    pub equations: String,
    pub states: Vec<Declaration>,
    pub parameters: Vec<Declaration>,
    pub constants: Vec<Declaration>,
    pub drivers: Vec<Declaration>,
    pub observables: Vec<(String, At)>,
    pub file_name: Option<String>,
    pub file_text: Option<String>,
    pub origin: EquationsOrigin,
}

impl ModelSpec {
    /// A spec for equations given in code (no file).
    pub(crate) fn standalone(equations: String) -> Self {
        ModelSpec {
            name: "model".into(),
            precision: Precision::default(),
            equations,
            states: Vec::new(),
            parameters: Vec::new(),
            constants: Vec::new(),
            drivers: Vec::new(),
            observables: Vec::new(),
            file_name: None,
            file_text: None,
            origin: EquationsOrigin::Standalone,
        }
    }

    /// Where `at` is, in the terms the user sees (file lines when the
    /// model came from a file).
    pub(crate) fn locate(&self, at: &At) -> Option<Location> {
        match (at, &self.origin, &self.file_text) {
            (At::Nowhere, _, _) => None,
            (At::File(span), _, Some(file)) => Some(Location::in_text(file, span.clone())),
            (At::File(_), _, None) => None,
            (At::Equations(span), EquationsOrigin::Verbatim { offset }, Some(file)) => Some(
                Location::in_text(file, span.start + offset..span.end + offset),
            ),
            (At::Equations(span), EquationsOrigin::Mapped { offsets }, Some(file)) => {
                let at = |i: usize| offsets.get(i).or(offsets.last()).copied().unwrap_or(0);
                Some(Location::in_text(file, at(span.start)..at(span.end)))
            }
            (At::Equations(span), EquationsOrigin::FromLine { first_line }, _) => {
                let mut l = Location::in_text(&self.equations, span.clone());
                l.line += first_line - 1;
                Some(l)
            }
            (At::Equations(span), _, _) => Some(Location::in_text(&self.equations, span.clone())),
        }
    }

    /// An error at `at`.
    pub(crate) fn error(&self, kind: ModelErrorKind, at: &At) -> ModelError {
        ModelError::new(kind, self.file_name.clone(), self.locate(at))
    }
}
