//! Running a batch: one arena per worker, runs spread over threads, each
//! run writing only its own slices of the outputs.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::batch::BatchInputs;
use crate::memory::RunArena;
use crate::results::{ArrayData, NamedArray, SolveResult};
use crate::system::jit::JitReal;
use crate::time_loop::{COUNTER_LABELS, RunSlot};

use super::BatchKernel;

/// Runs per progress report: frequent enough for a smooth bar, rare
/// enough to cost nothing.
const PROGRESS_EVERY: usize = 64;

/// Raw outputs of a batch, in the solve's precision.
#[derive(Debug)]
pub(crate) struct BatchOutputs<T> {
    pub final_state: Vec<T>,
    pub saved_states: Vec<T>,
    pub status: Vec<i32>,
    pub counters: Vec<i64>,
}

/// Wraps a vector of the solve's precision as output data.
pub(crate) fn real_data<T: JitReal>(values: Vec<T>) -> ArrayData {
    match T::PRECISION {
        crate::Precision::F32 => {
            ArrayData::F32(values.into_iter().map(|v| v.to_f64() as f32).collect())
        }
        crate::Precision::F64 => ArrayData::F64(values.into_iter().map(|v| v.to_f64()).collect()),
    }
}

impl<T: JitReal> BatchKernel<T> {
    /// Integrates every run of `inputs` on the current rayon pool.
    /// `progress` is called with the number of finished runs.
    pub(crate) fn run_batch(
        &self,
        inputs: &BatchInputs,
        progress: Option<&(dyn Fn(usize) + Sync)>,
    ) -> BatchOutputs<T> {
        let n = self.n_states;
        let runs = inputs.n_runs;
        let n_saves = self.cpu.save_times.len();
        let per_run_saved = n_saves * n;
        let to_t = |v: &[f64]| -> Vec<T> { v.iter().map(|&x| T::from_f64(x)).collect() };
        let initial = to_t(&inputs.initial_values);
        let parameters = to_t(&inputs.parameters);
        let np = inputs.n_parameters;

        let mut out = BatchOutputs {
            final_state: vec![T::zero(); runs * n],
            saved_states: vec![T::zero(); runs * per_run_saved],
            status: vec![0; runs],
            counters: vec![0; runs * COUNTER_LABELS.len()],
        };
        let mut saved_chunks: Vec<&mut [T]> = if per_run_saved == 0 {
            (0..runs).map(|_| &mut [][..]).collect()
        } else {
            out.saved_states.chunks_mut(per_run_saved).collect()
        };
        let slots: Vec<RunSlot<'_, T>> = out
            .final_state
            .chunks_mut(n.max(1))
            .zip(saved_chunks.drain(..))
            .zip(out.status.iter_mut())
            .zip(out.counters.chunks_mut(COUNTER_LABELS.len()))
            .enumerate()
            .map(
                |(run, (((final_state, saved_states), status), counters))| RunSlot {
                    initial_values: &initial[run * n..(run + 1) * n],
                    parameters: &parameters[run * np..(run + 1) * np],
                    final_state,
                    saved_states,
                    status,
                    counters,
                },
            )
            .collect();

        let done = AtomicUsize::new(0);
        slots.into_par_iter().with_min_len(16).for_each_init(
            || RunArena::<T>::new(self.arena),
            |arena, slot| {
                self.cpu.run(&self.system, arena, slot);
                if let Some(report) = progress {
                    let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if finished.is_multiple_of(PROGRESS_EVERY) || finished == runs {
                        report(finished);
                    }
                }
            },
        );
        out
    }

    /// Packs raw outputs into labelled arrays.
    pub(crate) fn pack(
        &self,
        inputs: &BatchInputs,
        out: BatchOutputs<T>,
        labels: &Labels,
    ) -> SolveResult {
        let runs = inputs.n_runs;
        let n = self.n_states;
        let mut result = SolveResult::new(T::PRECISION, runs);
        let rounded = |v: &[f64]| real_data(v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>());
        result.insert(NamedArray::new(
            "final_state",
            vec![runs, n],
            real_data(out.final_state),
        ));
        result.insert(NamedArray::new(
            "status",
            vec![runs],
            ArrayData::I32(out.status),
        ));
        result.insert(NamedArray::new(
            "initial_values",
            vec![runs, n],
            rounded(&inputs.initial_values),
        ));
        result.insert(NamedArray::new(
            "parameters",
            vec![runs, inputs.n_parameters],
            rounded(&inputs.parameters),
        ));
        result.insert(NamedArray::labels("state_labels", &labels.states));
        result.insert(NamedArray::labels("parameter_labels", &labels.parameters));
        let times = &self.cpu.save_times;
        if !times.is_empty() {
            result.insert(NamedArray::new("time", vec![times.len()], rounded(times)));
            result.insert(NamedArray::new(
                "state",
                vec![runs, times.len(), n],
                real_data(out.saved_states),
            ));
        }
        result.insert(NamedArray::new(
            "counters",
            vec![runs, COUNTER_LABELS.len()],
            ArrayData::I64(out.counters),
        ));
        let counter_labels: Vec<String> = COUNTER_LABELS.iter().map(|s| s.to_string()).collect();
        result.insert(NamedArray::labels("counter_labels", &counter_labels));
        result
    }
}

/// Names written beside the arrays.
#[derive(Debug, Clone, Default)]
pub(crate) struct Labels {
    pub states: Vec<String>,
    pub parameters: Vec<String>,
}
