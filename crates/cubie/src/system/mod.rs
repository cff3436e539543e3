//! The user's model: equations in text, parsed into a symbolic expression
//! DAG, differentiated, and lowered to native code.

pub mod expr;
pub mod functions;

pub use functions::{SystemFunction, SystemFunctions};
