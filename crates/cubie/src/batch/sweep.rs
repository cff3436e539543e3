//! One swept variable: `NAME=START:STOP:COUNT` (evenly spaced, ends
//! included) or `NAME=V1,V2,...`.

use std::str::FromStr;

use super::BatchError;

/// The values one variable takes across a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// A state or parameter name.
    pub name: String,
    values: SweepValues,
}

/// A sweep's values: a range is kept as its ends and count, so that a
/// count too large for memory is refused by the batch's size check rather
/// than allocated while parsing.
#[derive(Debug, Clone, PartialEq)]
enum SweepValues {
    List(Vec<f64>),
    Linspace { start: f64, stop: f64, count: usize },
}

impl Sweep {
    /// A sweep over explicit values.
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Self {
        Sweep {
            name: name.into(),
            values: SweepValues::List(values),
        }
    }

    /// `count` evenly spaced values from `start` to `stop` inclusive, as
    /// numpy's `linspace` computes them in f64.
    pub fn linspace(name: impl Into<String>, start: f64, stop: f64, count: usize) -> Self {
        Sweep {
            name: name.into(),
            values: SweepValues::Linspace { start, stop, count },
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match &self.values {
            SweepValues::List(v) => v.len(),
            SweepValues::Linspace { count, .. } => *count,
        }
    }

    /// True when the sweep has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` (`i < len()`).
    pub fn value(&self, i: usize) -> f64 {
        match self.values {
            SweepValues::List(ref v) => v[i],
            SweepValues::Linspace { start, stop, count } => {
                if count == 1 {
                    start
                } else if i + 1 == count {
                    stop
                } else {
                    let step = (stop - start) / (count - 1) as f64;
                    start + i as f64 * step
                }
            }
        }
    }

    /// Every value, in order.
    pub fn values(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.value(i)).collect()
    }
}

fn parse_number(text: &str, whole: &str) -> Result<f64, BatchError> {
    let value: f64 = text.trim().parse().map_err(|_| BatchError::BadSweep {
        text: whole.to_string(),
        reason: format!("`{}` is not a number", text.trim()),
    })?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(BatchError::BadSweep {
            text: whole.to_string(),
            reason: format!("`{}` is not finite", text.trim()),
        })
    }
}

impl FromStr for Sweep {
    type Err = BatchError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| BatchError::BadSweep {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let (name, spec) = text.split_once('=').ok_or_else(|| bad("missing `=`"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad("empty name"));
        }
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(bad("no values"));
        }
        if spec.contains(':') {
            let parts: Vec<&str> = spec.split(':').collect();
            let [start, stop, count] = parts[..] else {
                return Err(bad("a range has exactly three parts START:STOP:COUNT"));
            };
            let start = parse_number(start, text)?;
            let stop = parse_number(stop, text)?;
            let count: usize = count
                .trim()
                .parse()
                .map_err(|_| bad("COUNT must be a positive whole number"))?;
            if count == 0 {
                return Err(bad("COUNT must be at least 1"));
            }
            return Ok(Sweep::linspace(name, start, stop, count));
        }
        let values = spec
            .split(',')
            .map(|v| parse_number(v, text))
            .collect::<Result<Vec<f64>, _>>()?;
        Ok(Sweep::new(name, values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges_like_numpy_linspace() {
        let s: Sweep = "rho=0:21:4".parse().unwrap();
        assert_eq!(s.name, "rho");
        assert_eq!(s.values(), vec![0.0, 7.0, 14.0, 21.0]);
        let one: Sweep = "a = 2.5:9:1".parse().unwrap();
        assert_eq!(one.values(), vec![2.5]);
    }

    #[test]
    fn parses_lists() {
        let s: Sweep = "x=1, 2.5,-3e-1".parse().unwrap();
        assert_eq!(s.values(), vec![1.0, 2.5, -0.3]);
    }

    #[test]
    fn rejects_malformed_sweeps() {
        for bad in [
            "rho",
            "=1,2",
            "rho=",
            "rho=1:2",
            "rho=1:2:x",
            "rho=1:2:0",
            "rho=a,b",
            "rho=1,inf",
        ] {
            let err = bad.parse::<Sweep>().unwrap_err();
            assert!(matches!(err, BatchError::BadSweep { .. }), "{bad}: {err:?}");
        }
    }
}
