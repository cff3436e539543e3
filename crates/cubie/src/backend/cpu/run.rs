//! Running a batch: one arena per worker, runs spread over threads, each
//! run writing only its own slices of the outputs.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::backend::cpu::jit::JitReal;
use crate::batch::BatchInputs;
use crate::memory::RunArena;
use crate::outputs::SummaryError;
use crate::results::{ArrayData, NamedArray, SolveResult};
use crate::time_loop::COUNTER_LABELS;

use super::time_loop::RunSlot;

use crate::kernel::KernelTree;

use super::CpuKernel;

/// Runs per progress report: frequent enough for a smooth bar, rare
/// enough to cost nothing.
const PROGRESS_EVERY: usize = 64;

/// Raw outputs of a batch, in the solve's precision, each run's part
/// contiguous.
#[derive(Debug)]
pub(crate) struct BatchOutputs<T> {
    pub final_state: Vec<T>,
    pub saved_states: Vec<T>,
    pub saved_observables: Vec<T>,
    pub summaries: Vec<T>,
    pub status: Vec<i32>,
    pub counters: Vec<i64>,
}

/// Splits `values` into `runs` consecutive chunks of `len` (empty chunks
/// when `len` is 0).
fn per_run<T>(values: &mut [T], runs: usize, len: usize) -> Vec<&mut [T]> {
    if len == 0 {
        (0..runs).map(|_| &mut [][..]).collect()
    } else {
        values.chunks_mut(len).collect()
    }
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

impl<T: JitReal> CpuKernel<T> {
    /// Integrates every run of `inputs` on the current rayon pool.
    /// `progress` is called with the number of finished runs.
    pub(crate) fn run_batch(
        &self,
        tree: &KernelTree,
        inputs: &BatchInputs,
        progress: Option<&(dyn Fn(usize) + Sync)>,
        cancel: Option<&AtomicBool>,
    ) -> BatchOutputs<T> {
        let n = tree.n_states;
        let runs = inputs.n_runs;
        let n_saves = self.cpu.events.saves.len();
        let to_t = |v: &[f64]| -> Vec<T> { v.iter().map(|&x| T::from_f64(x)).collect() };
        let initial = to_t(&inputs.initial_values);
        let parameters = to_t(&inputs.parameters);
        let np = inputs.n_parameters;

        let outputs = &self.cpu.outputs;
        let per_run_observables = n_saves * outputs.saved_observables.len();
        let per_run_states = n_saves * outputs.saved_states.len();
        let per_run_summaries = outputs
            .summaries
            .as_ref()
            .map_or(0, |s| s.row_len() * tree.n_windows());
        let mut out = BatchOutputs {
            final_state: vec![T::zero(); runs * n],
            saved_states: vec![T::zero(); runs * per_run_states],
            saved_observables: vec![T::zero(); runs * per_run_observables],
            summaries: vec![T::zero(); runs * per_run_summaries],
            status: vec![0; runs],
            counters: vec![0; runs * COUNTER_LABELS.len()],
        };
        let finals = per_run(&mut out.final_state, runs, n);
        let states = per_run(&mut out.saved_states, runs, per_run_states);
        let observables = per_run(&mut out.saved_observables, runs, per_run_observables);
        let summaries = per_run(&mut out.summaries, runs, per_run_summaries);
        let counters = per_run(&mut out.counters, runs, COUNTER_LABELS.len());
        let slots: Vec<RunSlot<'_, T>> = finals
            .into_iter()
            .zip(states)
            .zip(observables)
            .zip(summaries)
            .zip(counters)
            .zip(out.status.iter_mut())
            .enumerate()
            .map(
                |(
                    run,
                    (
                        ((((final_state, saved_states), saved_observables), summaries), counters),
                        status,
                    ),
                )| {
                    RunSlot {
                        initial_values: &initial[run * n..(run + 1) * n],
                        parameters: &parameters[run * np..(run + 1) * np],
                        final_state,
                        saved_states,
                        saved_observables,
                        summaries,
                        status,
                        counters,
                    }
                },
            )
            .collect();

        let done = AtomicUsize::new(0);
        slots.into_par_iter().with_min_len(16).for_each_init(
            || RunArena::<T>::new(self.arena),
            |arena, slot| {
                // A cancelled batch is dropped whole: its remaining runs
                // are not integrated.
                if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                    return;
                }
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

    pub(crate) fn pack(
        &self,
        tree: &KernelTree,
        inputs: &BatchInputs,
        out: BatchOutputs<T>,
        labels: &Labels,
    ) -> Result<SolveResult, SummaryError> {
        let runs = inputs.n_runs;
        let n = tree.n_states;
        let plan = &tree.plan;
        let mut result = SolveResult::new(T::PRECISION, runs);
        let rounded = |v: &[f64]| real_data(v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>());
        let pick = |names: &[String], indices: &[usize]| -> Vec<String> {
            indices.iter().map(|&i| names[i].clone()).collect()
        };
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
        let times = &self.cpu.events.saves;
        if plan.save_time {
            result.insert(NamedArray::new("time", vec![times.len()], rounded(times)));
        }
        if plan.save_state {
            let saved = pick(&labels.states, &plan.saved_states);
            result.insert(NamedArray::new(
                "state",
                vec![runs, times.len(), saved.len()],
                real_data(out.saved_states),
            ));
            result.insert(NamedArray::labels("saved_state_labels", &saved));
        }
        if plan.save_observables {
            let saved = pick(&labels.observables, &plan.saved_observables);
            result.insert(NamedArray::new(
                "observables",
                vec![runs, times.len(), saved.len()],
                real_data(out.saved_observables),
            ));
            result.insert(NamedArray::labels("observable_labels", &saved));
        }
        if let Some(timing) = &plan.timing {
            let windows = tree.n_windows();
            let start = self.cpu.settings.t0 + self.cpu.settings.settling_time;
            // A window is stamped with the time it ends.
            let window_ends: Vec<f64> = (1..=windows)
                .map(|k| start + k as f64 * timing.summarise_every())
                .collect();
            result.insert(NamedArray::new(
                "summary_time",
                vec![windows],
                rounded(&window_ends),
            ));
            let mut variables = pick(&labels.states, &plan.summarised_states);
            variables.extend(pick(&labels.observables, &plan.summarised_observables));
            result.insert(NamedArray::labels("summary_labels", &variables));
            for array in tree.summaries.gather(&out.summaries, runs, windows)? {
                result.insert(NamedArray::new(
                    array.name,
                    array.shape,
                    real_data(array.data),
                ));
            }
        }
        if plan.counters {
            result.insert(NamedArray::new(
                "counters",
                vec![runs, COUNTER_LABELS.len()],
                ArrayData::I64(out.counters),
            ));
            let counter_labels: Vec<String> =
                COUNTER_LABELS.iter().map(|s| s.to_string()).collect();
            result.insert(NamedArray::labels("counter_labels", &counter_labels));
        }
        Ok(result)
    }
}

/// Names written beside the arrays.
#[derive(Debug, Clone, Default)]
pub(crate) struct Labels {
    pub states: Vec<String>,
    pub parameters: Vec<String>,
    pub observables: Vec<String>,
}
