//! One module per subcommand.

pub mod algorithms;
pub mod check;
pub mod emit;
pub mod merge;
pub mod plan;
pub mod solve;

use std::path::Path;

use anyhow::Result;
use cubie::system::Model;

/// Loads a model file; a mistake in it is reported with its source line.
pub fn load_model(path: &Path) -> Result<Model> {
    Model::from_file(path).map_err(|e| anyhow::Error::msg(e.render()))
}
