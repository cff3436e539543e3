//! The summaries' CPU form: each metric's running state updated at every
//! sample and written out at the end of every window, on one run's arena.

use super::metrics::{Tick, WindowCounts};
use crate::memory::{BufferRegistry, CpuAllocator, LaneView, RunArena};
use crate::outputs::metrics::MetricSpec;
use crate::outputs::summaries::{
    KINDS, W_D1, W_D2, W_SAMPLES, W_SEEN, W_T_PREV, WINDOW, history_depth, history_name,
    metric_buffer_name,
};
use crate::outputs::{SummaryComponent, SummaryError, SummaryTiming};
use crate::precision::{Precision, Real};

impl SummaryComponent {
    /// The CPU form, for selected states `state_indices` (indices into the
    /// loop's state buffer) and observables `observable_indices`, whose
    /// lengths must be the registered counts.
    pub fn cpu<T: Real>(
        &self,
        registry: &BufferRegistry,
        timing: &SummaryTiming,
        state_indices: &[usize],
        observable_indices: &[usize],
    ) -> Result<SummariesCpu<T>, SummaryError> {
        // Counts are kept in T; f32 counts whole numbers exactly to 2^24.
        let max = 1usize << 24;
        if T::PRECISION == Precision::F32 && timing.samples_per_window() > max {
            return Err(SummaryError::TooManySamples {
                samples: timing.samples_per_window(),
                max,
            });
        }
        let selections = [state_indices, observable_indices];
        let mut kinds = Vec::with_capacity(2);
        for ((kind, expected), indices) in KINDS.into_iter().zip(self.n_vars).zip(selections) {
            if indices.len() != expected {
                return Err(SummaryError::SelectionLength {
                    kind,
                    expected,
                    got: indices.len(),
                });
            }
            kinds.push(KindCpu {
                indices: indices.to_vec(),
                history: registry.cpu_allocator(self.id, &history_name(kind))?,
                states: self
                    .metrics
                    .iter()
                    .map(|m| registry.cpu_allocator(self.id, &metric_buffer_name(kind, m)))
                    .collect::<Result<_, _>>()?,
            });
        }
        let h = timing.sample_every();
        Ok(SummariesCpu {
            window: registry.cpu_allocator(self.id, WINDOW)?,
            kinds,
            depth: history_depth(&self.metrics),
            widths: self.metrics.iter().map(MetricSpec::output_width).collect(),
            row_offsets: self.outputs().iter().map(|o| o.row_offset).collect(),
            metrics: self.metrics.clone(),
            row_len: self.row_len(),
            n_vars: self.n_variables(),
            samples_per_window: timing.samples_per_window(),
            inv_h: T::from_f64(1.0 / h),
            inv_h2: T::from_f64(1.0 / (h * h)),
        })
    }
}

#[derive(Debug)]
struct KindCpu<T> {
    indices: Vec<usize>,
    history: CpuAllocator<T>,
    /// One per metric, in metric order.
    states: Vec<CpuAllocator<T>>,
}

/// The summaries' CPU form: the loop calls [`update`](Self::update) with
/// every sample and [`save`](Self::save) at the end of every window (or
/// [`sample`](Self::sample), which does both on the window cadence).
/// Nothing allocates after it is built.
#[derive(Debug)]
pub struct SummariesCpu<T> {
    metrics: Vec<MetricSpec>,
    window: CpuAllocator<T>,
    kinds: Vec<KindCpu<T>>,
    depth: usize,
    widths: Vec<usize>,
    row_offsets: Vec<usize>,
    row_len: usize,
    n_vars: usize,
    samples_per_window: usize,
    inv_h: T,
    inv_h2: T,
}

impl<T: Real> SummariesCpu<T> {
    /// True when at least one metric is chosen (otherwise every call does
    /// nothing).
    pub fn is_active(&self) -> bool {
        !self.metrics.is_empty()
    }

    /// Values in one window row.
    pub fn row_len(&self) -> usize {
        self.row_len
    }

    /// Samples per window.
    pub fn samples_per_window(&self) -> usize {
        self.samples_per_window
    }

    /// Checks the selections against the loop's source lengths; call once
    /// at build time so that [`update`](Self::update) cannot index out of
    /// range.
    pub fn check_sources(&self, n_states: usize, n_observables: usize) -> Result<(), SummaryError> {
        for ((kind, k), len) in KINDS
            .into_iter()
            .zip(&self.kinds)
            .zip([n_states, n_observables])
        {
            if let Some(&index) = k.indices.iter().find(|&&i| i >= len) {
                return Err(SummaryError::IndexOutOfRange { kind, index, len });
            }
        }
        Ok(())
    }

    /// Folds in one sample taken at time `t`: `states` and `observables`
    /// are the loop's whole buffers; the selected indices are read.
    ///
    /// # Panics
    /// If a selected index is out of range of its slice (see
    /// [`check_sources`](Self::check_sources)), or `arena` is not of this
    /// tree.
    pub fn update(
        &self,
        arena: &RunArena<T>,
        lane: usize,
        states: LaneView<'_, T>,
        observables: LaneView<'_, T>,
        t: f64,
    ) {
        if self.metrics.is_empty() {
            return;
        }
        let w = self.window.view(arena).lane(lane);
        let one = T::one();
        let seen = w[W_SEEN].get().to_f64() as usize;
        let (has_d1, has_d2) = (seen >= 1, seen >= 2);
        let n = w[W_SAMPLES].get() + one;
        w[W_SAMPLES].set(n);
        if has_d1 {
            w[W_D1].set(w[W_D1].get() + one);
        }
        if has_d2 {
            w[W_D2].set(w[W_D2].get() + one);
        }
        let tick = Tick {
            n,
            first: n == one,
            has_d1,
            first_d1: has_d1 && w[W_D1].get() == one,
            has_d2,
            first_d2: has_d2 && w[W_D2].get() == one,
            t_prev: w[W_T_PREV].get(),
        };
        let zero = T::zero();
        for (kind, source) in self.kinds.iter().zip([states, observables]) {
            let history = kind.history.view(arena).lane(lane);
            for (metric, alloc) in self.metrics.iter().zip(&kind.states) {
                let stride = metric.state_size();
                let buffer = alloc.view(arena).lane(lane);
                for (v, (s, &i)) in buffer.chunks(stride).zip(&kind.indices).enumerate() {
                    let (prev, prev_prev) = match self.depth {
                        2 => (history[2 * v].get(), history[2 * v + 1].get()),
                        1 => (history[v].get(), zero),
                        _ => (zero, zero),
                    };
                    metric.update(s, source[i].get(), prev, prev_prev, &tick);
                }
            }
            if self.depth > 0 {
                for (h, &i) in history.chunks(self.depth).zip(&kind.indices) {
                    if self.depth == 2 {
                        h[1].set(h[0].get());
                    }
                    h[0].set(source[i].get());
                }
            }
        }
        w[W_SEEN].set(T::from_f64(seen.saturating_add(1).min(2) as f64));
        w[W_T_PREV].set(T::from_f64(t));
    }

    /// Writes the current window's row (`row_len()` values, laid out
    /// `[metric][variable][width]`) and starts a new window. Previous
    /// samples are kept: derivatives and peaks see across windows.
    ///
    /// # Panics
    /// If `row` is shorter than [`row_len`](Self::row_len).
    pub fn save(&self, arena: &RunArena<T>, lane: usize, row: &mut [T]) {
        if self.metrics.is_empty() {
            return;
        }
        let w = self.window.view(arena).lane(lane);
        let counts = WindowCounts {
            n: w[W_SAMPLES].get(),
            d1: w[W_D1].get(),
            d2: w[W_D2].get(),
        };
        for (m, metric) in self.metrics.iter().enumerate() {
            let width = self.widths[m];
            let stride = metric.state_size();
            let start = self.row_offsets[m];
            let part = &mut row[start..start + self.n_vars * width];
            let mut outs = part.chunks_exact_mut(width);
            for kind in &self.kinds {
                let buffer = kind.states[m].view(arena).lane(lane);
                for (s, out) in buffer.chunks(stride).zip(&mut outs) {
                    metric.save(s, out, &counts, self.inv_h, self.inv_h2);
                }
            }
        }
        self.reset_window(arena, lane);
    }

    /// Starts a new window without writing the current one.
    fn reset_window(&self, arena: &RunArena<T>, lane: usize) {
        let w = self.window.view(arena).lane(lane);
        for i in [W_SAMPLES, W_D1, W_D2] {
            w[i].set(T::zero());
        }
    }

    /// Folds in sample `index` (counted from the start of the output
    /// interval, at time `t`) and, when it completes a window, saves that
    /// window into its row of `rows` (`windows x row_len()`, the run's
    /// summaries). Returns the window saved, if any; a window past the end
    /// of `rows` is not written.
    #[allow(clippy::too_many_arguments)]
    pub fn sample(
        &self,
        arena: &RunArena<T>,
        lane: usize,
        index: usize,
        t: f64,
        states: LaneView<'_, T>,
        observables: LaneView<'_, T>,
        rows: &mut [T],
    ) -> Option<usize> {
        if self.metrics.is_empty() {
            return None;
        }
        self.update(arena, lane, states, observables, t);
        let done = index + 1;
        if !done.is_multiple_of(self.samples_per_window) {
            return None;
        }
        let window = done / self.samples_per_window - 1;
        match rows.get_mut(window * self.row_len..(window + 1) * self.row_len) {
            Some(row) => {
                self.save(arena, lane, row);
                Some(window)
            }
            None => {
                self.reset_window(arena, lane);
                None
            }
        }
    }
}
