//! What every backend hands back: a batch's raw outputs, run-major in the
//! solve's precision, packed into the arrays of a [`SolveResult`].

use crate::backend::cpu::jit::JitReal;
use crate::batch::BatchInputs;
use crate::kernel::KernelTree;
use crate::outputs::SummaryError;
use crate::results::{ArrayData, NamedArray, SolveResult};
use crate::time_loop::COUNTER_LABELS;

/// Raw outputs of a batch, in the solve's precision, each run's part
/// contiguous.
#[derive(Debug)]
pub struct BatchOutputs<T> {
    /// Final states.
    pub final_state: Vec<T>,
    /// Saved states.
    pub saved_states: Vec<T>,
    /// Saved observables.
    pub saved_observables: Vec<T>,
    /// Summary windows.
    pub summaries: Vec<T>,
    /// Status words.
    pub status: Vec<i32>,
    /// Counters.
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

/// Names written beside the arrays.
#[derive(Debug, Clone, Default)]
pub(crate) struct Labels {
    pub states: Vec<String>,
    pub parameters: Vec<String>,
    pub observables: Vec<String>,
}

/// Packs one batch's raw outputs into the arrays every backend returns.
pub(crate) fn pack<T: JitReal>(
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
    let times = &tree.event_times().saves;
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
        let start = tree.loop_settings.t0 + tree.loop_settings.settling_time;
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
        let counter_labels: Vec<String> = COUNTER_LABELS.iter().map(|s| s.to_string()).collect();
        result.insert(NamedArray::labels("counter_labels", &counter_labels));
    }
    Ok(result)
}
