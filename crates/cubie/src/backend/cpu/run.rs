//! Running a batch: runs in lane blocks, blocks spread over threads (one
//! arena per worker), each block writing only its own slices of the
//! outputs.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::backend::cpu::jit::JitReal;
use crate::backend::outputs::BatchOutputs;
use crate::batch::BatchInputs;
use crate::memory::RunArena;
use crate::time_loop::COUNTER_LABELS;

use super::time_loop::BlockSlot;

use crate::kernel::KernelTree;

use super::CpuKernel;

/// Runs per progress report: frequent enough for a smooth bar, rare
/// enough to cost nothing.
const PROGRESS_EVERY: usize = 64;

/// `len` zeros, written by the pool's threads: a chunk's outputs are
/// megabytes, and zeroing them on one thread (as `vec![0; len]` does once
/// the allocator reuses memory) leaves the other workers waiting at every
/// chunk.
fn zeros<V: Copy + Default + Send + Sync>(len: usize) -> Vec<V> {
    let mut values = Vec::with_capacity(len);
    values.par_extend(rayon::iter::repeat_n(V::default(), len));
    values
}

/// Splits `values` (`runs` parts of `len`) into blocks of `lanes` runs
/// (empty blocks when `len` is 0).
fn per_block<T>(values: &mut [T], blocks: usize, lanes: usize, len: usize) -> Vec<&mut [T]> {
    if len == 0 {
        (0..blocks).map(|_| &mut [][..]).collect()
    } else {
        values.chunks_mut(lanes * len).collect()
    }
}

impl<T: JitReal> CpuKernel<T> {
    /// Integrates every run of `inputs` on the current rayon pool, in
    /// blocks of [`lanes`](CpuKernel::lanes) runs. `progress` is called
    /// with the number of finished runs.
    pub(crate) fn run_batch(
        &self,
        tree: &KernelTree,
        inputs: &BatchInputs,
        progress: Option<&(dyn Fn(usize) + Sync)>,
        cancel: Option<&AtomicBool>,
    ) -> BatchOutputs<T> {
        let n = tree.n_states;
        let runs = inputs.n_runs;
        let lanes = self.lanes;
        let blocks = runs.div_ceil(lanes);
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
        let n_counters = COUNTER_LABELS.len();
        let mut out = BatchOutputs {
            final_state: zeros(runs * n),
            saved_states: zeros(runs * per_run_states),
            saved_observables: zeros(runs * per_run_observables),
            summaries: zeros(runs * per_run_summaries),
            status: zeros(runs),
            counters: zeros(runs * n_counters),
        };
        let finals = per_block(&mut out.final_state, blocks, lanes, n);
        let states = per_block(&mut out.saved_states, blocks, lanes, per_run_states);
        let observables = per_block(
            &mut out.saved_observables,
            blocks,
            lanes,
            per_run_observables,
        );
        let summaries = per_block(&mut out.summaries, blocks, lanes, per_run_summaries);
        let counters = per_block(&mut out.counters, blocks, lanes, n_counters);
        let status = per_block(&mut out.status, blocks, lanes, 1);
        let slots: Vec<BlockSlot<'_, T>> = finals
            .into_iter()
            .zip(states)
            .zip(observables)
            .zip(summaries)
            .zip(counters)
            .zip(status)
            .enumerate()
            .map(
                |(
                    block,
                    (
                        ((((final_state, saved_states), saved_observables), summaries), counters),
                        status,
                    ),
                )| {
                    let first = block * lanes;
                    let count = lanes.min(runs - first);
                    BlockSlot {
                        runs: count,
                        initial_values: &initial[first * n..(first + count) * n],
                        parameters: &parameters[first * np..(first + count) * np],
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
        slots.into_par_iter().for_each_init(
            || RunArena::<T>::with_lanes(self.arena, lanes),
            |arena, slot| {
                // A cancelled batch is dropped whole: its remaining runs
                // are not integrated.
                if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                    return;
                }
                let count = slot.runs;
                self.cpu.run(&self.system, arena, slot);
                if let Some(report) = progress {
                    let before = done.fetch_add(count, Ordering::Relaxed);
                    let finished = before + count;
                    if finished / PROGRESS_EVERY > before / PROGRESS_EVERY || finished == runs {
                        report(finished);
                    }
                }
            },
        );
        out
    }
}
