//! The metric catalogue: names, parsing, sizes and column names. Each
//! backend performs the metrics' maths from it (on the CPU
//! `backend::cpu::metrics`, in CUDA `backend::cuda::summaries`).
//!
//! Each metric keeps its running state in a few elements per variable. No
//! state needs a sentinel: a metric initialises itself on its first
//! contribution in a window (the shared window counters say when that is),
//! so values such as `0.0` or `-1e30` are ordinary data.

use std::fmt;
use std::str::FromStr;

use super::SummaryError;

/// One summary metric, with its parameter where it takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricSpec {
    /// Arithmetic mean of the window's samples.
    Mean,
    /// Largest sample.
    Max,
    /// Smallest sample.
    Min,
    /// Root mean square.
    Rms,
    /// Population standard deviation (divides by N).
    Std,
    /// Mean and std, from one running state.
    MeanStd,
    /// Mean, std and rms, from one running state.
    MeanStdRms,
    /// Std and rms, from one running state.
    StdRms,
    /// Max and min.
    Extrema,
    /// Largest absolute value.
    MaxMagnitude,
    /// Times of the first `n` local maxima of the window (NaN if fewer).
    Peaks(usize),
    /// Times of the first `n` local minima of the window (NaN if fewer).
    NegativePeaks(usize),
    /// Largest first difference divided by the sampling interval.
    DxdtMax,
    /// Smallest first difference divided by the sampling interval.
    DxdtMin,
    /// Largest and smallest first difference over the interval.
    DxdtExtrema,
    /// Largest second difference divided by the interval squared.
    D2xdt2Max,
    /// Smallest second difference divided by the interval squared.
    D2xdt2Min,
    /// Largest and smallest second difference over the interval squared.
    D2xdt2Extrema,
}

/// Every metric name, in catalogue order (`[n]` marks a parameter).
pub const METRIC_NAMES: [&str; 18] = [
    "mean",
    "max",
    "min",
    "rms",
    "std",
    "mean_std",
    "mean_std_rms",
    "std_rms",
    "extrema",
    "max_magnitude",
    "peaks[n]",
    "negative_peaks[n]",
    "dxdt_max",
    "dxdt_min",
    "dxdt_extrema",
    "d2xdt2_max",
    "d2xdt2_min",
    "d2xdt2_extrema",
];

fn valid_names() -> Vec<String> {
    METRIC_NAMES.iter().map(|s| s.to_string()).collect()
}

impl MetricSpec {
    /// The metric's name without its parameter (`peaks` for `peaks[3]`);
    /// it names the metric's buffers and its `.npz` array.
    pub fn name(&self) -> &'static str {
        use MetricSpec::*;
        match self {
            Mean => "mean",
            Max => "max",
            Min => "min",
            Rms => "rms",
            Std => "std",
            MeanStd => "mean_std",
            MeanStdRms => "mean_std_rms",
            StdRms => "std_rms",
            Extrema => "extrema",
            MaxMagnitude => "max_magnitude",
            Peaks(_) => "peaks",
            NegativePeaks(_) => "negative_peaks",
            DxdtMax => "dxdt_max",
            DxdtMin => "dxdt_min",
            DxdtExtrema => "dxdt_extrema",
            D2xdt2Max => "d2xdt2_max",
            D2xdt2Min => "d2xdt2_min",
            D2xdt2Extrema => "d2xdt2_extrema",
        }
    }

    /// Running-state elements per variable.
    pub fn state_size(&self) -> usize {
        use MetricSpec::*;
        match self {
            Mean | Max | Min | Rms | MaxMagnitude => 1,
            DxdtMax | DxdtMin | D2xdt2Max | D2xdt2Min => 1,
            // Welford: running mean and sum of squared deviations.
            Std | MeanStd | MeanStdRms | StdRms => 2,
            Extrema | DxdtExtrema | D2xdt2Extrema => 2,
            // A count, then the recorded times.
            Peaks(n) | NegativePeaks(n) => 1 + n,
        }
    }

    /// Output values per variable and window.
    pub fn output_width(&self) -> usize {
        use MetricSpec::*;
        match self {
            MeanStdRms => 3,
            MeanStd | StdRms | Extrema | DxdtExtrema | D2xdt2Extrema => 2,
            Peaks(n) | NegativePeaks(n) => *n,
            _ => 1,
        }
    }

    /// True for metrics with one value per variable whose column is the
    /// metric's own name (`mean`, `max`, `dxdt_max`, ...); their `.npz`
    /// arrays have no trailing width axis.
    pub fn is_scalar(&self) -> bool {
        !matches!(self, MetricSpec::Peaks(_) | MetricSpec::NegativePeaks(_))
            && self.output_width() == 1
    }

    /// Names of the output values, in output order (`mean_std` gives
    /// `mean`, `std`; `peaks[2]` gives `peak_1`, `peak_2`).
    pub fn columns(&self) -> Vec<String> {
        use MetricSpec::*;
        let fixed: &[&str] = match self {
            MeanStd => &["mean", "std"],
            MeanStdRms => &["mean", "std", "rms"],
            StdRms => &["std", "rms"],
            Extrema => &["max", "min"],
            DxdtExtrema => &["dxdt_max", "dxdt_min"],
            D2xdt2Extrema => &["d2xdt2_max", "d2xdt2_min"],
            Peaks(n) => return (1..=*n).map(|i| format!("peak_{i}")).collect(),
            NegativePeaks(n) => return (1..=*n).map(|i| format!("negative_peak_{i}")).collect(),
            other => return vec![other.name().to_string()],
        };
        fixed.iter().map(|s| s.to_string()).collect()
    }

    /// How many earlier samples of each variable the metric reads (0, 1
    /// or 2); they persist across windows.
    pub fn history(&self) -> usize {
        use MetricSpec::*;
        match self {
            DxdtMax | DxdtMin | DxdtExtrema => 1,
            Peaks(_) | NegativePeaks(_) | D2xdt2Max | D2xdt2Min | D2xdt2Extrema => 2,
            _ => 0,
        }
    }
}

impl fmt::Display for MetricSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricSpec::Peaks(n) | MetricSpec::NegativePeaks(n) => {
                write!(f, "{}[{n}]", self.name())
            }
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for MetricSpec {
    type Err = SummaryError;

    /// Parses `mean`, `peaks[3]`, ... (surrounding spaces ignored).
    fn from_str(spec: &str) -> Result<Self, SummaryError> {
        use MetricSpec::*;
        let spec = spec.trim();
        let (name, param) = match spec.split_once('[') {
            Some((name, rest)) => {
                let Some(inner) = rest.strip_suffix(']') else {
                    return Err(SummaryError::BadParameter { spec: spec.into() });
                };
                (name.trim(), Some(inner.trim()))
            }
            None => (spec, None),
        };
        let plain = match name {
            "mean" => Some(Mean),
            "max" => Some(Max),
            "min" => Some(Min),
            "rms" => Some(Rms),
            "std" => Some(Std),
            "mean_std" => Some(MeanStd),
            "mean_std_rms" => Some(MeanStdRms),
            "std_rms" => Some(StdRms),
            "extrema" => Some(Extrema),
            "max_magnitude" => Some(MaxMagnitude),
            "dxdt_max" => Some(DxdtMax),
            "dxdt_min" => Some(DxdtMin),
            "dxdt_extrema" => Some(DxdtExtrema),
            "d2xdt2_max" => Some(D2xdt2Max),
            "d2xdt2_min" => Some(D2xdt2Min),
            "d2xdt2_extrema" => Some(D2xdt2Extrema),
            _ => None,
        };
        if let Some(metric) = plain {
            return match param {
                None => Ok(metric),
                Some(_) => Err(SummaryError::UnexpectedParameter {
                    metric: name.into(),
                    spec: spec.into(),
                }),
            };
        }
        let counted: fn(usize) -> MetricSpec = match name {
            "peaks" => Peaks,
            "negative_peaks" => NegativePeaks,
            _ => {
                return Err(SummaryError::UnknownMetric {
                    name: spec.into(),
                    valid: valid_names(),
                });
            }
        };
        match param {
            None => Err(SummaryError::MissingParameter {
                metric: name.into(),
            }),
            Some(p) => match p.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(counted(n)),
                _ => Err(SummaryError::BadParameter { spec: spec.into() }),
            },
        }
    }
}

/// Parses a comma-separated metric list (`"mean, peaks[3], dxdt_max"`).
/// An empty or blank string selects no metrics; an empty entry between
/// commas, an unknown name or a repeated metric is an error.
pub fn parse_metrics(list: &str) -> Result<Vec<MetricSpec>, SummaryError> {
    if list.trim().is_empty() {
        return Ok(Vec::new());
    }
    let metrics = list
        .split(',')
        .map(|item| {
            if item.trim().is_empty() {
                Err(SummaryError::EmptyEntry { list: list.into() })
            } else {
                item.parse()
            }
        })
        .collect::<Result<Vec<MetricSpec>, _>>()?;
    check_unique(&metrics)?;
    Ok(metrics)
}

/// Each metric names its buffers and its output array, so it may appear
/// once (whatever its parameter).
pub(crate) fn check_unique(metrics: &[MetricSpec]) -> Result<(), SummaryError> {
    for (i, m) in metrics.iter().enumerate() {
        if metrics[..i].iter().any(|o| o.name() == m.name()) {
            return Err(SummaryError::Duplicate(m.name().into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sizes() {
        for name in METRIC_NAMES {
            let spec = name.replace("[n]", "[4]");
            let m: MetricSpec = spec.parse().expect("valid");
            assert_eq!(m.to_string(), spec);
            assert_eq!(m.output_width(), m.columns().len());
        }
        assert_eq!("peaks[3]".parse(), Ok(MetricSpec::Peaks(3)));
        assert_eq!(MetricSpec::Peaks(3).state_size(), 4);
        assert_eq!(MetricSpec::Peaks(3).output_width(), 3);
        assert_eq!(MetricSpec::MeanStd.columns(), vec!["mean", "std"]);
        assert_eq!(MetricSpec::Extrema.columns(), vec!["max", "min"]);
        assert_eq!(MetricSpec::MeanStdRms.output_width(), 3);
    }

    #[test]
    fn bad_specs_are_typed_errors() {
        let unknown = "average".parse::<MetricSpec>();
        match unknown {
            Err(SummaryError::UnknownMetric { name, valid }) => {
                assert_eq!(name, "average");
                assert!(valid.contains(&"peaks[n]".to_string()));
                assert!(valid.contains(&"mean".to_string()));
            }
            other => panic!("expected UnknownMetric, got {other:?}"),
        }
        assert!(matches!(
            "peaks".parse::<MetricSpec>(),
            Err(SummaryError::MissingParameter { .. })
        ));
        assert!(matches!(
            "peaks[0]".parse::<MetricSpec>(),
            Err(SummaryError::BadParameter { .. })
        ));
        assert!(matches!(
            "peaks[x]".parse::<MetricSpec>(),
            Err(SummaryError::BadParameter { .. })
        ));
        assert!(matches!(
            "peaks[2".parse::<MetricSpec>(),
            Err(SummaryError::BadParameter { .. })
        ));
        assert!(matches!(
            "mean[2]".parse::<MetricSpec>(),
            Err(SummaryError::UnexpectedParameter { .. })
        ));
    }

    #[test]
    fn lists_parse_and_refuse_repeats() {
        assert_eq!(
            parse_metrics(" mean , peaks[2],dxdt_max "),
            Ok(vec![
                MetricSpec::Mean,
                MetricSpec::Peaks(2),
                MetricSpec::DxdtMax
            ])
        );
        assert_eq!(parse_metrics("  "), Ok(vec![]));
        assert_eq!(
            parse_metrics("peaks[2], peaks[3]"),
            Err(SummaryError::Duplicate("peaks".into()))
        );
        assert!(matches!(
            parse_metrics("mean,,max"),
            Err(SummaryError::EmptyEntry { .. })
        ));
    }
}
