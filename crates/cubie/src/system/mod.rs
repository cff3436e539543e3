//! The user's model: equations in text, parsed into a symbolic expression
//! DAG, differentiated, and lowered to native code.

pub mod args;
pub mod eval;
pub mod expr;
pub mod functions;
pub mod jit;
pub mod schedule;

pub use functions::{SystemFunction, SystemFunctions};
