//! The user's model: equations in text, parsed into a symbolic expression
//! DAG, differentiated, and lowered to native code.

pub mod args;
pub mod builder;
mod builtins;
pub mod derived;
pub mod diff;
pub mod error;
pub mod eval;
pub mod expr;
pub mod functions;
mod lexer;
pub mod model;
mod model_file;
mod parser;
mod resolve;
pub mod schedule;
mod spec;
pub mod summary;

pub use builder::ModelBuilder;
pub use error::{Location, ModelError, ModelErrorKind};
pub use functions::{SparseJacobian, SystemFunction, SystemFunctions};
pub use model::{Model, NamedValue};
pub use summary::ModelSummary;
