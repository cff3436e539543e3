//! Drivers: time-varying model inputs given as sampled time series,
//! interpolated (cubic spline or linear) at any time, with their time
//! derivatives.
//!
//! - [`DriverSeries`] holds validated samples for a model's drivers, from
//!   a CSV file (a `t` column and one column per driver) or from code
//!   (evenly spaced or at given times). Drivers not given keep the
//!   model's default value as a constant.
//! - [`DriverSettings`] picks the interpolation, spline end condition and
//!   behaviour outside the samples; it reads the keys in [`SETTING_KEYS`].
//! - [`DriverInterpolant`] is the batch-wide CPU evaluator: values (and
//!   rates, for `df/dt`) at any time, without allocating.

mod error;
mod interpolant;
mod series;
mod settings;
mod spline;

pub use error::{At, DriverError};
pub use interpolant::{DriverInterpolant, PERIODIC_TOLERANCE};
pub use series::{DriverColumn, DriverSeries};
pub use settings::{
    Boundary, DriverSettings, Extrapolation, Interpolation, KEY_BOUNDARY, KEY_EXTRAPOLATION,
    KEY_INTERPOLATION, SETTING_KEYS,
};
