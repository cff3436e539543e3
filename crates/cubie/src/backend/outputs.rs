//! What every backend hands back: a batch's raw outputs, run-major in the
//! solve's precision, packed into the arrays of a [`SolveResult`].

use std::any::Any;

use rayon::prelude::*;

use crate::batch::BatchInputs;
use crate::kernel::KernelTree;
use crate::outputs::SummaryError;
use crate::results::{ArrayData, NamedArray, SolveResult};
use crate::time_loop::COUNTER_LABELS;
use crate::{Precision, Real};

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

/// Wraps a vector of the solve's precision as output data. `T` is `f32`
/// or `f64`, so the vector is moved as it is: no element is read or copied.
pub(crate) fn real_data<T: Real>(values: Vec<T>) -> ArrayData {
    let values: Box<dyn Any> = Box::new(values);
    let values = match values.downcast::<Vec<f64>>() {
        Ok(v) => return ArrayData::F64(*v),
        Err(other) => other,
    };
    let values = match values.downcast::<Vec<f32>>() {
        Ok(v) => return ArrayData::F32(*v),
        Err(other) => other,
    };
    // No other `Real` exists; converted element by element if one did.
    let values = values
        .downcast::<Vec<T>>()
        .map_or_else(|_| Vec::new(), |v| *v);
    match T::PRECISION {
        Precision::F32 => ArrayData::F32(values.into_iter().map(|v| v.to_f64() as f32).collect()),
        Precision::F64 => ArrayData::F64(values.into_iter().map(Real::to_f64).collect()),
    }
}

/// `values` rounded to the solve's precision, in parallel on the current
/// rayon pool.
fn rounded<T: Real>(values: &[f64]) -> ArrayData {
    real_data(
        values
            .par_iter()
            .with_min_len(PAR_MIN_LEN)
            .map(|&x| T::from_f64(x))
            .collect::<Vec<T>>(),
    )
}

/// Elements below which splitting work over threads costs more than it
/// saves.
const PAR_MIN_LEN: usize = 1 << 14;

/// Names written beside the arrays, borrowed from the solver.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Labels<'a> {
    pub states: &'a [String],
    pub parameters: &'a [String],
    pub observables: &'a [String],
}

/// Packs one batch's raw outputs into the arrays every backend returns.
/// Every output array is moved into the result, never copied (but for the
/// summaries of several metrics, split apart in parallel); run it on the
/// solve's pool.
pub(crate) fn pack<T: Real>(
    tree: &KernelTree,
    inputs: &BatchInputs,
    out: BatchOutputs<T>,
    labels: &Labels<'_>,
) -> Result<SolveResult, SummaryError> {
    let runs = inputs.n_runs;
    let n = tree.n_states;
    let plan = &tree.plan;
    let mut result = SolveResult::new(T::PRECISION, runs);
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
        rounded::<T>(&inputs.initial_values),
    ));
    result.insert(NamedArray::new(
        "parameters",
        vec![runs, inputs.n_parameters],
        rounded::<T>(&inputs.parameters),
    ));
    result.insert(NamedArray::labels("state_labels", labels.states));
    result.insert(NamedArray::labels("parameter_labels", labels.parameters));
    let times = &tree.event_times().saves;
    if plan.save_time {
        result.insert(NamedArray::new(
            "time",
            vec![times.len()],
            rounded::<T>(times),
        ));
    }
    if plan.save_state {
        let saved = pick(labels.states, &plan.saved_states);
        result.insert(NamedArray::new(
            "state",
            vec![runs, times.len(), saved.len()],
            real_data(out.saved_states),
        ));
        result.insert(NamedArray::labels("saved_state_labels", &saved));
    }
    if plan.save_observables {
        let saved = pick(labels.observables, &plan.saved_observables);
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
            rounded::<T>(&window_ends),
        ));
        let mut variables = pick(labels.states, &plan.summarised_states);
        variables.extend(pick(labels.observables, &plan.summarised_observables));
        result.insert(NamedArray::labels("summary_labels", &variables));
        for array in tree.summaries.gather_owned(out.summaries, runs, windows)? {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_data_moves_the_vector() {
        let values = vec![1.5f64, -2.0, 3.25];
        let at = values.as_ptr();
        match real_data(values) {
            ArrayData::F64(v) => {
                assert_eq!(v.as_ptr(), at);
                assert_eq!(v, [1.5, -2.0, 3.25]);
            }
            other => panic!("{other:?}"),
        }
        let values = vec![0.1f32, f32::NAN];
        let at = values.as_ptr();
        match real_data(values) {
            ArrayData::F32(v) => {
                assert_eq!(v.as_ptr(), at);
                assert!(v[0] == 0.1 && v[1].is_nan());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rounding_is_the_same_on_any_pool() {
        let values: Vec<f64> = (0..100_000).map(|i| (i as f64).sqrt() * 0.1).collect();
        let serial: Vec<f32> = values.iter().map(|&x| x as f32).collect();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            assert_eq!(
                pool.install(|| rounded::<f32>(&values)),
                ArrayData::F32(serial.clone())
            );
        }
    }
}
