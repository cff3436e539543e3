//! The summaries component: its registry buffers, its timing, and how its
//! output rows map onto `.npz` arrays and labels (its CPU form is
//! `backend::cpu::summaries`).

use rayon::prelude::*;

use super::SummaryError;
use super::metrics::{MetricSpec, check_unique};
use crate::memory::{BufferRegistry, BufferSpec, Component, ComponentId};

/// The window-counter buffer of the component.
pub(crate) const WINDOW: &str = "summary_window";
// Elements of `summary_window`.
pub(crate) const W_SAMPLES: usize = 0;
pub(crate) const W_D1: usize = 1;
pub(crate) const W_D2: usize = 2;
pub(crate) const W_SEEN: usize = 3;
pub(crate) const W_T_PREV: usize = 4;
const WINDOW_LEN: usize = 5;

/// The two kinds of summarised variable, in output order.
pub(crate) const KINDS: [&str; 2] = ["state", "observable"];

pub(crate) fn history_name(kind: &str) -> String {
    format!("{kind}_summary_history")
}

pub(crate) fn metric_buffer_name(kind: &str, metric: &MetricSpec) -> String {
    format!("{kind}_summary_{}", metric.name())
}

/// Relative tolerance for "a whole multiple" and for counting intervals
/// that end on the end of the output interval.
pub(crate) const TOLERANCE: f64 = 1e-9;

/// When summaries sample and when they save.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SummaryTiming {
    sample_every: f64,
    summarise_every: f64,
    samples_per_window: usize,
}

impl SummaryTiming {
    /// Samples every `sample_every`, summarises every `summarise_every`,
    /// which must be a whole multiple of it (to a relative 1e-9, so
    /// `0.3 / 0.1` passes).
    pub fn new(sample_every: f64, summarise_every: f64) -> Result<Self, SummaryError> {
        for (name, value) in [
            ("sample_summaries_every", sample_every),
            ("summarise_every", summarise_every),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(SummaryError::BadInterval { name, value });
            }
        }
        let ratio = summarise_every / sample_every;
        let whole = ratio.round();
        if whole.is_nan() || whole >= crate::time_loop::MAX_EVENTS {
            return Err(SummaryError::WindowTooLong {
                summarise_every,
                sample_every,
                ratio,
            });
        }
        if whole < 1.0 || (ratio - whole).abs() > TOLERANCE * whole {
            return Err(SummaryError::NotAMultiple {
                summarise_every,
                sample_every,
            });
        }
        Ok(SummaryTiming {
            sample_every,
            summarise_every,
            samples_per_window: whole as usize,
        })
    }

    /// The sampling interval.
    pub fn sample_every(&self) -> f64 {
        self.sample_every
    }

    /// The summary interval.
    pub fn summarise_every(&self) -> f64 {
        self.summarise_every
    }

    /// Samples per window.
    pub fn samples_per_window(&self) -> usize {
        self.samples_per_window
    }

    /// Samples in an output interval of `duration`: its start and every
    /// `sample_every` after it, up to and including its end.
    pub fn n_samples(&self, duration: f64) -> usize {
        (duration / self.sample_every * (1.0 + TOLERANCE)).floor() as usize + 1
    }

    /// Complete windows in an output interval of `duration`.
    pub fn n_windows(&self, duration: f64) -> usize {
        (duration / self.summarise_every * (1.0 + TOLERANCE)).floor() as usize
    }

    /// The sample times of an output interval starting at `start`; the
    /// last lands exactly on `start + duration` when it is within rounding
    /// of it.
    pub fn sample_times(&self, start: f64, duration: f64) -> Vec<f64> {
        crate::time_loop::events::evenly_spaced(
            start,
            start + duration,
            self.sample_every,
            self.n_samples(duration),
            TOLERANCE,
        )
    }
}

/// One metric's part of a window row, and its `.npz` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryOutput {
    /// The metric.
    pub metric: MetricSpec,
    /// Array name in the `.npz` archive: `summary_<metric name>`.
    pub array_name: String,
    /// Where its values start in a window row.
    pub row_offset: usize,
    /// Values per variable.
    pub width: usize,
    /// Names of those values (the trailing axis of the array).
    pub columns: Vec<String>,
}

/// One metric's results over a batch, shaped for `.npz`.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryArray<T> {
    /// `summary_<metric name>`.
    pub name: String,
    /// `(runs, windows, variables)`, plus `width` for metrics that are not
    /// scalar (see [`MetricSpec::is_scalar`]).
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<T>,
    /// Names along the width axis (the metric's columns).
    pub columns: Vec<String>,
}

/// The summary-metrics component (`kernel/loop/outputs`): registers each
/// metric's running state, per variable kind, with the registry.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryComponent {
    /// Its node in the registry.
    pub id: ComponentId,
    pub(crate) metrics: Vec<MetricSpec>,
    pub(crate) n_vars: [usize; 2],
}

/// What the summaries component is built from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SummarySpec<'a> {
    /// The chosen metrics, in output order.
    pub metrics: &'a [MetricSpec],
    /// Selected states.
    pub n_state_vars: usize,
    /// Selected observables.
    pub n_observable_vars: usize,
}

impl Component for SummaryComponent {
    const NAME: &'static str = "outputs";
    type Spec<'a> = SummarySpec<'a>;
    type Error = SummaryError;

    /// Adds the `outputs` node and registers the buffers of the metrics
    /// for the selected states and observables, all persistent-local:
    /// `summary_window`, `<kind>_summary_history`, and
    /// `<kind>_summary_<metric>` per metric. With no metrics the first
    /// three are registered with size 0.
    ///
    /// The component owns its node's buffers: when the metrics change,
    /// register a new one (a metric dropped from the list would otherwise
    /// keep its buffers).
    fn register(
        registry: &mut BufferRegistry,
        parent: Option<ComponentId>,
        spec: SummarySpec<'_>,
    ) -> Result<Self, SummaryError> {
        let SummarySpec {
            metrics,
            n_state_vars,
            n_observable_vars,
        } = spec;
        check_unique(metrics)?;
        let id = registry.add_component(Self::NAME, parent)?;
        let n_vars = [n_state_vars, n_observable_vars];
        let window = if metrics.is_empty() { 0 } else { WINDOW_LEN };
        registry.register(id, BufferSpec::local(WINDOW, window).persistent())?;
        let depth = history_depth(metrics);
        for (kind, n) in KINDS.into_iter().zip(n_vars) {
            registry.register(
                id,
                BufferSpec::local(history_name(kind), n * depth).persistent(),
            )?;
            for m in metrics {
                registry.register(
                    id,
                    BufferSpec::local(metric_buffer_name(kind, m), n * m.state_size()).persistent(),
                )?;
            }
        }
        Ok(SummaryComponent {
            id,
            metrics: metrics.to_vec(),
            n_vars,
        })
    }

    fn id(&self) -> ComponentId {
        self.id
    }
}

impl SummaryComponent {
    /// The chosen metrics, in output order.
    pub fn metrics(&self) -> &[MetricSpec] {
        &self.metrics
    }

    /// True when at least one metric is chosen.
    pub fn is_active(&self) -> bool {
        !self.metrics.is_empty()
    }

    /// Summarised variables: selected states, then selected observables.
    pub fn n_variables(&self) -> usize {
        self.n_vars[0] + self.n_vars[1]
    }

    /// Values in one window row of one run: variables x the sum of the
    /// metrics' widths.
    pub fn row_len(&self) -> usize {
        self.n_variables()
            * self
                .metrics
                .iter()
                .map(MetricSpec::output_width)
                .sum::<usize>()
    }

    /// Each metric's part of a window row. A row is `[metric][variable]
    /// [width]`, metrics in the order chosen, variables the selected states
    /// then the selected observables.
    pub fn outputs(&self) -> Vec<SummaryOutput> {
        let mut offset = 0;
        self.metrics
            .iter()
            .map(|&metric| {
                let width = metric.output_width();
                let out = SummaryOutput {
                    metric,
                    array_name: format!("summary_{}", metric.name()),
                    row_offset: offset,
                    width,
                    columns: metric.columns(),
                };
                offset += self.n_variables() * width;
                out
            })
            .collect()
    }

    /// Splits a batch's rows, `(runs, windows, row_len)` row-major as
    /// the CPU form's `sample` fills them run by run, into one array per
    /// metric of shape `(runs, windows, variables[, width])`. The rows are
    /// read once, blocks of them in parallel on the current rayon pool.
    pub fn gather<T: Copy + Default + Send + Sync>(
        &self,
        rows: &[T],
        n_runs: usize,
        n_windows: usize,
    ) -> Result<Vec<SummaryArray<T>>, SummaryError> {
        let row_len = self.row_len();
        let expected = n_runs * n_windows * row_len;
        if rows.len() != expected {
            return Err(SummaryError::RowsLength {
                expected,
                got: rows.len(),
            });
        }
        let outputs = self.outputs();
        let n_vars = self.n_variables();
        let parts: Vec<(usize, usize)> = outputs
            .iter()
            .map(|o| (o.row_offset, n_vars * o.width))
            .collect();
        let datas = split_rows(rows, row_len, n_runs * n_windows, &parts);
        Ok(outputs
            .into_iter()
            .zip(datas)
            .map(|(o, data)| self.array(o, data, n_runs, n_windows))
            .collect())
    }

    /// [`gather`](Self::gather) taking the rows by value: with one metric
    /// its array is the rows themselves, moved rather than copied.
    pub fn gather_owned<T: Copy + Default + Send + Sync>(
        &self,
        rows: Vec<T>,
        n_runs: usize,
        n_windows: usize,
    ) -> Result<Vec<SummaryArray<T>>, SummaryError> {
        let mut outputs = self.outputs();
        let expected = n_runs * n_windows * self.row_len();
        match outputs.pop() {
            Some(only) if outputs.is_empty() && rows.len() == expected => {
                Ok(vec![self.array(only, rows, n_runs, n_windows)])
            }
            _ => self.gather(&rows, n_runs, n_windows),
        }
    }

    /// One metric's array from its values.
    fn array<T>(
        &self,
        o: SummaryOutput,
        data: Vec<T>,
        n_runs: usize,
        n_windows: usize,
    ) -> SummaryArray<T> {
        let mut shape = vec![n_runs, n_windows, self.n_variables()];
        if !o.metric.is_scalar() {
            shape.push(o.width);
        }
        SummaryArray {
            name: o.array_name,
            shape,
            data,
            columns: o.columns,
        }
    }
}

/// Window rows per parallel task of [`split_rows`].
const ROWS_PER_TASK: usize = 256;

/// For each `(offset, len)` of `parts`, the `len` values at `offset` of
/// every one of the `n_rows` rows of `row_len` values, rows in order.
fn split_rows<T: Copy + Default + Send + Sync>(
    rows: &[T],
    row_len: usize,
    n_rows: usize,
    parts: &[(usize, usize)],
) -> Vec<Vec<T>> {
    // Zeroed pages (a real zero is the default) are only touched by the
    // tasks that fill them.
    let mut datas: Vec<Vec<T>> = parts
        .iter()
        .map(|&(_, len)| vec![T::default(); n_rows * len])
        .collect();
    if row_len == 0 || n_rows == 0 {
        return datas;
    }
    let n_tasks = n_rows.div_ceil(ROWS_PER_TASK);
    // Each task's slice of every output.
    let mut tasks: Vec<Vec<&mut [T]>> = (0..n_tasks)
        .map(|_| Vec::with_capacity(parts.len()))
        .collect();
    for (data, &(_, len)) in datas.iter_mut().zip(parts) {
        let mut rest: &mut [T] = data;
        for task in &mut tasks {
            let (head, tail) = rest.split_at_mut((ROWS_PER_TASK * len).min(rest.len()));
            task.push(head);
            rest = tail;
        }
    }
    tasks
        .into_par_iter()
        .zip(rows.par_chunks(ROWS_PER_TASK * row_len))
        .for_each(|(mut outs, rows)| {
            for (r, row) in rows.chunks_exact(row_len).enumerate() {
                for (out, &(offset, len)) in outs.iter_mut().zip(parts) {
                    out[r * len..(r + 1) * len].copy_from_slice(&row[offset..offset + len]);
                }
            }
        });
    datas
}

/// Previous samples kept per variable: the most any chosen metric reads.
pub(crate) fn history_depth(metrics: &[MetricSpec]) -> usize {
    metrics.iter().map(MetricSpec::history).max().unwrap_or(0)
}

/// Labels of one window row, `<variable>_<column>` in row order
/// (`[metric][variable][width]`): for `mean_std` on `x`, `y`:
/// `x_mean, x_std, y_mean, y_std`. `variables` are the selected states'
/// names, then the selected observables'.
pub fn summary_labels<S: AsRef<str>>(metrics: &[MetricSpec], variables: &[S]) -> Vec<String> {
    let mut labels = Vec::new();
    for m in metrics {
        let columns = m.columns();
        for v in variables {
            for c in &columns {
                labels.push(format!("{}_{c}", v.as_ref()));
            }
        }
    }
    labels
}
