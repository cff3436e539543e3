//! Running a batch: one arena per worker, runs spread over threads, each
//! run writing only its own slices of the outputs.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::backend::cpu::jit::JitReal;
use crate::backend::outputs::BatchOutputs;
use crate::batch::BatchInputs;
use crate::memory::RunArena;
use crate::time_loop::COUNTER_LABELS;

use super::time_loop::RunSlot;

use crate::kernel::KernelTree;

use super::CpuKernel;

/// Runs per progress report: frequent enough for a smooth bar, rare
/// enough to cost nothing.
const PROGRESS_EVERY: usize = 64;

/// Splits `values` into `runs` consecutive chunks of `len` (empty chunks
/// when `len` is 0).
fn per_run<T>(values: &mut [T], runs: usize, len: usize) -> Vec<&mut [T]> {
    if len == 0 {
        (0..runs).map(|_| &mut [][..]).collect()
    } else {
        values.chunks_mut(len).collect()
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
}
