//! What a solve writes: which outputs (`state`, `observables`, `time`,
//! `counters`, summary metrics), of which variables, at what cadence.

use thiserror::Error;

use super::{MetricSpec, SummaryError, SummaryTiming, parse_metrics};

/// The user's choice of outputs. Unset fields take defaults (see
/// [`OutputPlan::resolve`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputSettings {
    /// Output names: `state`, `observables`, `time`, `counters` and summary
    /// metrics (`mean`, `peaks[3]`, ...). `None`: the time series that
    /// `save_every` asks for, plus counters.
    pub outputs: Option<Vec<String>>,
    /// States and observables saved in the time series (default: all).
    pub save_variables: Option<Vec<String>>,
    /// States and observables summarised (default: all).
    pub summarise_variables: Option<Vec<String>>,
    /// Interval between summary samples (default: `save_every`, else the
    /// fixed step).
    pub sample_summaries_every: Option<f64>,
    /// Length of a summary window: a whole multiple of the sampling interval.
    pub summarise_every: Option<f64>,
}

/// Output choices that cannot be honoured.
#[derive(Debug, Error, PartialEq)]
pub enum OutputError {
    /// An output name that is neither a series nor a metric.
    #[error(
        "unknown output `{name}`; valid outputs: state, observables, time, counters, or a summary metric ({metrics})"
    )]
    UnknownOutput {
        /// The name as given.
        name: String,
        /// The metric names.
        metrics: String,
    },
    /// A variable that is neither a state nor an observable.
    #[error("unknown variable `{name}` in {option}; valid: {valid}")]
    UnknownVariable {
        /// The name as given.
        name: String,
        /// Which option named it.
        option: &'static str,
        /// The states and observables.
        valid: String,
    },
    /// A time series asked for without a save interval.
    #[error("output `{0}` needs a save interval (save_every)")]
    NeedsSaveEvery(String),
    /// Summaries asked for without a window length.
    #[error("summary metrics need a window length (summarise_every)")]
    NeedsSummariseEvery,
    /// No sampling interval could be chosen.
    #[error(
        "summaries need a sampling interval: give sample_summaries_every (or save_every, or a fixed dt)"
    )]
    NeedsSampleEvery,
    /// A bad metric list or timing.
    #[error(transparent)]
    Summary(#[from] SummaryError),
    /// `peaks[n]` asks for more peaks than a window has samples.
    #[error(
        "{metric}[{n}] asks for {n} peaks per window, but a window holds only {samples} samples; \
         use at most {metric}[{samples}] or a longer summarise_every"
    )]
    TooManyPeaks {
        /// `peaks` or `negative_peaks`.
        metric: &'static str,
        /// Peaks asked for.
        n: usize,
        /// Samples per window.
        samples: usize,
    },
}

/// The resolved outputs of a solve.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutputPlan {
    /// Save the selected states at every save time.
    pub save_state: bool,
    /// Save the selected observables at every save time.
    pub save_observables: bool,
    /// Write the save times.
    pub save_time: bool,
    /// Write per-run counters.
    pub counters: bool,
    /// Summary metrics, in the order given.
    pub metrics: Vec<MetricSpec>,
    /// Saved states (indices into the model's states).
    pub saved_states: Vec<usize>,
    /// Saved observables (indices into the model's observables).
    pub saved_observables: Vec<usize>,
    /// Summarised states.
    pub summarised_states: Vec<usize>,
    /// Summarised observables.
    pub summarised_observables: Vec<usize>,
    /// Summary cadence, when there are metrics.
    pub timing: Option<SummaryTiming>,
}

/// Splits variable names into state and observable indices.
fn select(
    names: Option<&[String]>,
    states: &[String],
    observables: &[String],
    option: &'static str,
) -> Result<(Vec<usize>, Vec<usize>), OutputError> {
    let Some(names) = names else {
        return Ok((
            (0..states.len()).collect(),
            (0..observables.len()).collect(),
        ));
    };
    let (mut s, mut o) = (Vec::new(), Vec::new());
    for name in names {
        let name = name.trim();
        if let Some(i) = states.iter().position(|n| n == name) {
            s.push(i);
        } else if let Some(i) = observables.iter().position(|n| n == name) {
            o.push(i);
        } else {
            return Err(OutputError::UnknownVariable {
                name: name.to_string(),
                option,
                valid: states
                    .iter()
                    .chain(observables)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok((s, o))
}

impl OutputPlan {
    /// Resolves the settings for a model with these state and observable
    /// names. `save_every` is the loop's save interval and `fixed_dt` the
    /// step of a fixed-step solve.
    pub fn resolve(
        settings: &OutputSettings,
        states: &[String],
        observables: &[String],
        save_every: Option<f64>,
        fixed_dt: Option<f64>,
    ) -> Result<OutputPlan, OutputError> {
        let mut plan = OutputPlan::default();
        match &settings.outputs {
            None => {
                let saving = save_every.is_some();
                plan.save_state = saving;
                plan.save_time = saving;
                plan.save_observables = saving && !observables.is_empty();
                plan.counters = true;
            }
            Some(names) => {
                let mut metric_names = Vec::new();
                for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                    match name {
                        "state" => plan.save_state = true,
                        "observables" => plan.save_observables = true,
                        "time" => plan.save_time = true,
                        "counters" => plan.counters = true,
                        metric => metric_names.push(metric.to_string()),
                    }
                }
                plan.metrics = parse_metrics(&metric_names.join(",")).map_err(|e| match e {
                    SummaryError::UnknownMetric { name, .. } => OutputError::UnknownOutput {
                        name,
                        metrics: super::METRIC_NAMES.join(", "),
                    },
                    other => other.into(),
                })?;
                for (wanted, name) in [
                    (plan.save_state, "state"),
                    (plan.save_observables, "observables"),
                    (plan.save_time, "time"),
                ] {
                    if wanted && save_every.is_none() {
                        return Err(OutputError::NeedsSaveEvery(name.into()));
                    }
                }
            }
        }
        (plan.saved_states, plan.saved_observables) = select(
            settings.save_variables.as_deref(),
            states,
            observables,
            "save_variables",
        )?;
        (plan.summarised_states, plan.summarised_observables) = select(
            settings.summarise_variables.as_deref(),
            states,
            observables,
            "summarise_variables",
        )?;
        if !plan.metrics.is_empty() {
            let window = settings
                .summarise_every
                .ok_or(OutputError::NeedsSummariseEvery)?;
            let sample = settings
                .sample_summaries_every
                .or(save_every)
                .or(fixed_dt)
                .ok_or(OutputError::NeedsSampleEvery)?;
            let timing = SummaryTiming::new(sample, window)?;
            // A peak is a sample, so a window cannot hold more of them.
            let samples = timing.samples_per_window();
            for metric in &plan.metrics {
                if let MetricSpec::Peaks(n) | MetricSpec::NegativePeaks(n) = *metric
                    && n > samples
                {
                    return Err(OutputError::TooManyPeaks {
                        metric: metric.name(),
                        n,
                        samples,
                    });
                }
            }
            plan.timing = Some(timing);
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_follow_save_every() {
        let (s, o) = (names(&["x", "y"]), names(&["e"]));
        let plan =
            OutputPlan::resolve(&OutputSettings::default(), &s, &o, Some(0.1), None).unwrap();
        assert!(plan.save_state && plan.save_time && plan.save_observables && plan.counters);
        assert_eq!(plan.saved_states, vec![0, 1]);
        let plan = OutputPlan::resolve(&OutputSettings::default(), &s, &o, None, None).unwrap();
        assert!(!plan.save_state && !plan.save_time && plan.counters);
    }

    #[test]
    fn outputs_variables_and_metrics_are_checked() {
        let (s, o) = (names(&["x", "y"]), names(&["e"]));
        let settings = OutputSettings {
            outputs: Some(names(&["state", "mean", "peaks[2]"])),
            save_variables: Some(names(&["y", "e"])),
            summarise_every: Some(1.0),
            ..OutputSettings::default()
        };
        let plan = OutputPlan::resolve(&settings, &s, &o, Some(0.25), None).unwrap();
        assert!(plan.save_state && !plan.save_observables && !plan.counters);
        assert_eq!(
            (plan.saved_states.clone(), plan.saved_observables.clone()),
            (vec![1], vec![0])
        );
        assert_eq!(plan.metrics.len(), 2);
        assert_eq!(plan.timing.unwrap().samples_per_window(), 4);

        let bad = OutputSettings {
            outputs: Some(names(&["meen"])),
            ..OutputSettings::default()
        };
        let err = OutputPlan::resolve(&bad, &s, &o, Some(0.25), None).unwrap_err();
        assert!(matches!(err, OutputError::UnknownOutput { .. }), "{err}");
        let bad = OutputSettings {
            save_variables: Some(names(&["q"])),
            ..OutputSettings::default()
        };
        let err = OutputPlan::resolve(&bad, &s, &o, Some(0.25), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown variable `q` in save_variables; valid: x, y, e"
        );
        let no_window = OutputSettings {
            outputs: Some(names(&["mean"])),
            ..OutputSettings::default()
        };
        assert_eq!(
            OutputPlan::resolve(&no_window, &s, &o, Some(0.25), None).unwrap_err(),
            OutputError::NeedsSummariseEvery
        );
        let not_multiple = OutputSettings {
            outputs: Some(names(&["mean"])),
            summarise_every: Some(0.3),
            ..OutputSettings::default()
        };
        assert!(OutputPlan::resolve(&not_multiple, &s, &o, Some(0.25), None).is_err());
        let series_without_saves = OutputSettings {
            outputs: Some(names(&["time"])),
            ..OutputSettings::default()
        };
        assert_eq!(
            OutputPlan::resolve(&series_without_saves, &s, &o, None, None).unwrap_err(),
            OutputError::NeedsSaveEvery("time".into())
        );
    }
}
