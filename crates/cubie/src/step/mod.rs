//! Algorithm steps. This module holds, so far, the explicit Runge–Kutta
//! tableau data ([`ButcherTableau`] and the named tableaus) that the ERK
//! step is built from.

pub mod erk_tableaus;
pub mod tableau;

pub use erk_tableaus::{UnknownTableau, erk_tableau, erk_tableau_names, erk_tableaus};
pub use tableau::{ButcherTableau, EmbeddedWeights, TableauShapeError, dop853_combined_error};
