//! Summary metrics: per-window summaries (mean, max, peaks, ...) of the
//! selected states and observables, whose running state lives in registry
//! buffers.
//!
//! ```
//! use std::cell::Cell;
//! use cubie::Precision;
//! use cubie::memory::{BufferRegistry, Component, LaneView};
//! use cubie::outputs::{SummaryComponent, SummarySpec, SummaryTiming, parse_metrics};
//!
//! # fn main() -> Result<(), cubie::outputs::SummaryError> {
//! let mut reg = BufferRegistry::new(Precision::F64);
//! let root = reg.add_component("kernel", None)?;
//! let metrics = parse_metrics("mean, max")?;
//! let spec = SummarySpec { metrics: &metrics, n_state_vars: 1, n_observable_vars: 0 };
//! let summaries = SummaryComponent::register(&mut reg, Some(root), spec)?;
//! let timing = SummaryTiming::new(0.5, 1.0)?; // two samples per window
//! let cpu = summaries.cpu::<f64>(&reg, &timing, &[0], &[])?;
//!
//! let arena = reg.new_arena::<f64>(root)?;
//! let mut rows = vec![0.0; 2 * summaries.row_len()]; // two windows
//! for (i, x) in [1.0, 3.0, -2.0, 0.0].into_iter().enumerate() {
//!     let state = [Cell::new(x)];
//!     let (states, observables) = (LaneView::contiguous(&state), LaneView::contiguous(&[]));
//!     // Lane 0 of a one-lane arena; sample i at t = 0.5 i.
//!     cpu.sample(&arena, 0, i, i as f64 * 0.5, states, observables, &mut rows);
//! }
//! assert_eq!(rows, vec![2.0, 3.0, -1.0, 0.0]); // [window][metric][variable]
//! # Ok(())
//! # }
//! ```
//!
//! # Sampling and windows
//! Summaries sample the selected variables every `sample_every` from the
//! start of the output interval (after any settling time): sample `i` is
//! at `start + i * sample_every`. `summarise_every` must be a whole
//! multiple `n` of it ([`SummaryTiming`]); window `k` holds samples
//! `k*n .. (k+1)*n` (half open, as in CuBIE), and is saved right after its
//! last sample. The sample at the end of the output interval starts a
//! window that never completes, so a run has `floor(duration /
//! summarise_every)` windows.
//!
//! # Semantics
//! - `std` is the population standard deviation (divide by N), as CuBIE's
//!   `sqrt(sum_sq/N - mean^2)`, but computed with Welford's update (running
//!   mean and sum of squared deviations), which keeps its digits in f32 when
//!   the mean is large against the spread. `rms` of the combined metrics is
//!   `sqrt(m2/N + mean^2)`; `rms` alone keeps a running mean of squares.
//! - `peaks[n]` records the times of the first `n` samples that are
//!   strictly greater than both neighbours (CuBIE's rule: plateaus are not
//!   peaks); `negative_peaks[n]` strictly smaller. A peak is known when the
//!   following sample arrives, and belongs to the window of that sample:
//!   a peak on a window's last sample is reported by the next window, with
//!   its own (earlier) time, as CuBIE does. Unused slots are NaN; an
//!   explicit count is kept, so a peak of value or time `0.0` counts.
//! - `dxdt_*` take `(x[i] - x[i-1]) / sample_every` and `d2xdt2_*`
//!   `(x[i] - 2 x[i-1] + x[i-2]) / sample_every^2`. Previous samples persist
//!   across windows (as in CuBIE), so window `k > 0` has `n` differences and
//!   the first window `n - 1` (first) or `n - 2` (second).
//! - A value a window has no data for (a derivative of a one-sample window)
//!   is NaN. Running counts are kept in the solve's precision, so f32
//!   solves allow at most 2^24 samples per window.
//!
//! # Memory
//! Persistent-local registry buffers of the outputs component, so every
//! offset is a registry answer and the only arithmetic left is `variable *
//! stride` within a buffer:
//! - `summary_window`: the window's sample and difference counts, how many
//!   previous samples exist, and the previous sample's time (5, or 0
//!   without metrics);
//! - `state_summary_history` / `observable_summary_history`: the one or
//!   two previous samples of each variable, when a metric reads them;
//! - `state_summary_<metric>` / `observable_summary_<metric>`: variables x
//!   the metric's state size.

pub(crate) mod metrics;
mod selection;
pub(crate) mod summaries;

use thiserror::Error;

use crate::number::Num;

use crate::memory::RegistryError;

pub use metrics::{METRIC_NAMES, MetricSpec, parse_metrics};
pub use selection::{OutputError, OutputPlan, OutputSettings};
pub use summaries::{
    SummaryArray, SummaryComponent, SummaryOutput, SummarySpec, SummaryTiming, summary_labels,
};

/// What summary settings can get wrong.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SummaryError {
    /// A metric name that is not in the catalogue.
    #[error("unknown summary metric `{name}`; valid metrics: {}", valid.join(", "))]
    UnknownMetric {
        /// The name given.
        name: String,
        /// Every valid name.
        valid: Vec<String>,
    },
    /// `peaks` or `negative_peaks` without `[n]`.
    #[error("summary metric `{metric}` needs a count, e.g. `{metric}[3]`")]
    MissingParameter {
        /// The metric.
        metric: String,
    },
    /// A parameter on a metric that takes none.
    #[error("summary metric `{metric}` takes no parameter, got `{spec}`")]
    UnexpectedParameter {
        /// The metric.
        metric: String,
        /// What was given.
        spec: String,
    },
    /// A parameter that is not a whole number of at least 1, or a missing `]`.
    #[error("bad metric `{spec}`: expected `name[n]` with n a whole number of at least 1")]
    BadParameter {
        /// What was given.
        spec: String,
    },
    /// An empty entry in a comma-separated list.
    #[error("empty entry in the metric list `{list}`")]
    EmptyEntry {
        /// The list.
        list: String,
    },
    /// A metric chosen twice (its buffers and output array would clash).
    #[error("summary metric `{0}` is chosen more than once")]
    Duplicate(String),
    /// An interval that is not a positive finite number.
    #[error("{name} must be a positive finite number, got {}", Num(*.value))]
    BadInterval {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// `summarise_every` is not a whole multiple of the sampling interval.
    #[error(
        "summarise_every ({}) must be a whole multiple of sample_summaries_every ({})",
        Num(*.summarise_every),
        Num(*.sample_every)
    )]
    NotAMultiple {
        /// The summary interval.
        summarise_every: f64,
        /// The sampling interval.
        sample_every: f64,
    },
    /// More samples per window than can be counted.
    #[error(
        "summarise_every ({}) spans {} samples of sample_summaries_every ({}); at most {} can be counted",
        Num(*.summarise_every),
        Num(*.ratio),
        Num(*.sample_every),
        Num(crate::time_loop::MAX_EVENTS)
    )]
    WindowTooLong {
        /// The summary interval.
        summarise_every: f64,
        /// The sampling interval.
        sample_every: f64,
        /// Their ratio.
        ratio: f64,
    },
    /// More samples per window than the precision counts exactly.
    #[error("{samples} samples per summary window: f32 solves count at most {max}")]
    TooManySamples {
        /// Samples per window.
        samples: usize,
        /// The limit.
        max: usize,
    },
    /// A selection whose length differs from the registered count.
    #[error("{got} {kind} variables selected, but the summaries were registered for {expected}")]
    SelectionLength {
        /// `state` or `observable`.
        kind: &'static str,
        /// Registered count.
        expected: usize,
        /// Selection length.
        got: usize,
    },
    /// A selected index past the end of its source.
    #[error("selected {kind} index {index} is out of range: there are {len} {kind}s")]
    IndexOutOfRange {
        /// `state` or `observable`.
        kind: &'static str,
        /// The index.
        index: usize,
        /// Variables of that kind.
        len: usize,
    },
    /// Output rows of the wrong length.
    #[error("summary rows hold {got} values; {expected} expected")]
    RowsLength {
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// The registry refused a registration or a query.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}
