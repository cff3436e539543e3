//! Driver samples: loading from CSV or code, and validation.

use std::io::Read;
use std::path::Path;

use crate::system::NamedValue;

use super::error::{At, DriverError};

/// One model driver's data: its default value held constant, or samples.
#[derive(Debug, Clone, PartialEq)]
pub enum DriverColumn {
    /// Not given: the model's default value, constant in time.
    Constant(f64),
    /// Sampled at the series' times.
    Sampled {
        /// One value per sample time.
        values: Vec<f64>,
        /// First derivative at the first and last sample, used by a
        /// clamped spline (zero when not given).
        end_slopes: Option<(f64, f64)>,
    },
}

/// Sampled values of a model's drivers on one shared time grid. Drivers
/// not given keep the model's default value as a constant.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverSeries {
    names: Vec<String>,
    times: Vec<f64>,
    evenly_spaced: bool,
    columns: Vec<DriverColumn>,
}

const ORIGIN_CODE: &str = "driver samples";

fn name_list(drivers: &[NamedValue]) -> String {
    if drivers.is_empty() {
        "none".to_string()
    } else {
        drivers
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Maps each given name to its driver index; unknown or repeated names
/// are errors.
fn resolve_names<'a>(
    drivers: &[NamedValue],
    names: impl IntoIterator<Item = &'a str>,
    origin: &str,
) -> Result<Vec<usize>, DriverError> {
    let mut seen = vec![false; drivers.len()];
    let mut out = Vec::new();
    for name in names {
        let index = drivers.iter().position(|d| d.name == name).ok_or_else(|| {
            DriverError::UnknownDriver {
                origin: origin.to_string(),
                name: name.to_string(),
                expected: name_list(drivers),
            }
        })?;
        if std::mem::replace(&mut seen[index], true) {
            return Err(DriverError::DuplicateDriver {
                origin: origin.to_string(),
                name: name.to_string(),
            });
        }
        out.push(index);
    }
    Ok(out)
}

fn check_times(times: &[f64], origin: &str, at: impl Fn(usize) -> At) -> Result<(), DriverError> {
    for (i, &t) in times.iter().enumerate() {
        if !t.is_finite() {
            return Err(DriverError::NonFinite {
                origin: origin.to_string(),
                at: at(i),
                column: "t".into(),
                value: t,
            });
        }
        if i > 0 && t <= times[i - 1] {
            return Err(DriverError::NonIncreasingTime {
                origin: origin.to_string(),
                at: at(i),
                previous: times[i - 1],
                time: t,
            });
        }
    }
    Ok(())
}

fn check_values(
    values: &[f64],
    driver: &str,
    origin: &str,
    at: impl Fn(usize) -> At,
) -> Result<(), DriverError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(DriverError::NonFinite {
            origin: origin.to_string(),
            at: at(i),
            column: driver.to_string(),
            value: values[i],
        }),
    }
}

/// True when `times` lie on an even grid (to rounding), so a segment
/// index can be computed rather than searched for.
fn is_even(times: &[f64]) -> bool {
    let n = times.len();
    if n < 2 {
        return false;
    }
    let h = (times[n - 1] - times[0]) / (n - 1) as f64;
    times
        .iter()
        .enumerate()
        .all(|(i, &t)| (t - (times[0] + i as f64 * h)).abs() <= 1e-9 * h)
}

impl DriverSeries {
    /// No samples: every driver constant at its default value.
    pub fn constant(drivers: &[NamedValue]) -> Self {
        DriverSeries {
            names: drivers.iter().map(|d| d.name.clone()).collect(),
            times: Vec::new(),
            evenly_spaced: false,
            columns: drivers
                .iter()
                .map(|d| DriverColumn::Constant(d.value))
                .collect(),
        }
    }

    /// Samples at the given (strictly increasing) times; `samples` pairs
    /// a driver name with one value per time.
    pub fn with_times<S: AsRef<str>>(
        drivers: &[NamedValue],
        times: Vec<f64>,
        samples: impl IntoIterator<Item = (S, Vec<f64>)>,
    ) -> Result<Self, DriverError> {
        if times.len() < 2 {
            return Err(DriverError::TooFewSamples {
                origin: ORIGIN_CODE.into(),
                count: times.len(),
            });
        }
        check_times(&times, ORIGIN_CODE, At::Sample)?;
        let evenly_spaced = is_even(&times);
        Self::assemble(drivers, times, evenly_spaced, samples)
    }

    /// Evenly spaced samples: sample `i` is at `t0 + i * dt`; `samples`
    /// pairs a driver name with its values (all the same length).
    pub fn evenly_spaced<S: AsRef<str>>(
        drivers: &[NamedValue],
        t0: f64,
        dt: f64,
        samples: impl IntoIterator<Item = (S, Vec<f64>)>,
    ) -> Result<Self, DriverError> {
        if !(t0.is_finite() && dt.is_finite() && dt > 0.0) {
            return Err(DriverError::BadSpacing { t0, dt });
        }
        let samples: Vec<(S, Vec<f64>)> = samples.into_iter().collect();
        let n = samples.first().map_or(0, |(_, v)| v.len());
        if n < 2 {
            let origin = samples.first().map_or(ORIGIN_CODE.to_string(), |(s, _)| {
                format!("driver `{}`", s.as_ref())
            });
            return Err(DriverError::TooFewSamples { origin, count: n });
        }
        let times: Vec<f64> = (0..n).map(|i| t0 + i as f64 * dt).collect();
        if !times[n - 1].is_finite() || times.windows(2).any(|w| w[1] <= w[0]) {
            return Err(DriverError::BadSpacing { t0, dt });
        }
        Self::assemble(drivers, times, true, samples)
    }

    fn assemble<S: AsRef<str>>(
        drivers: &[NamedValue],
        times: Vec<f64>,
        evenly_spaced: bool,
        samples: impl IntoIterator<Item = (S, Vec<f64>)>,
    ) -> Result<Self, DriverError> {
        let mut series = DriverSeries::constant(drivers);
        let samples: Vec<(S, Vec<f64>)> = samples.into_iter().collect();
        let indices = resolve_names(
            drivers,
            samples.iter().map(|(s, _)| s.as_ref()),
            ORIGIN_CODE,
        )?;
        for ((name, values), index) in samples.into_iter().zip(indices) {
            let name = name.as_ref();
            if values.len() != times.len() {
                return Err(DriverError::LengthMismatch {
                    driver: name.to_string(),
                    count: values.len(),
                    expected: times.len(),
                });
            }
            check_values(&values, name, ORIGIN_CODE, At::Sample)?;
            series.columns[index] = DriverColumn::Sampled {
                values,
                end_slopes: None,
            };
        }
        series.times = times;
        series.evenly_spaced = evenly_spaced;
        Ok(series)
    }

    /// Reads a CSV file: a header with a `t` (or `time`) column and one
    /// column per sampled driver, then one row per sample time.
    pub fn from_csv_file(
        drivers: &[NamedValue],
        path: impl AsRef<Path>,
    ) -> Result<Self, DriverError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| DriverError::Io {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        Self::from_csv_reader(drivers, file, &origin)
    }

    /// Reads CSV text; `origin` names it in error messages. Fields are
    /// trimmed. There is no comment syntax, so every line is numbered as
    /// in the file.
    pub fn from_csv_reader(
        drivers: &[NamedValue],
        reader: impl Read,
        origin: &str,
    ) -> Result<Self, DriverError> {
        let io = |e: csv::Error| DriverError::Io {
            origin: origin.to_string(),
            message: e.to_string(),
        };
        let mut csv = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(reader);
        let header: Vec<String> = csv
            .headers()
            .map_err(io)?
            .iter()
            .map(String::from)
            .collect();
        if let Some(i) = header.iter().position(String::is_empty) {
            return Err(DriverError::EmptyColumnName {
                origin: origin.to_string(),
                index: i + 1,
            });
        }
        let time_col = header
            .iter()
            .position(|h| h == "t" || h == "time")
            .ok_or_else(|| DriverError::MissingTimeColumn {
                origin: origin.to_string(),
            })?;
        let driver_cols: Vec<usize> = (0..header.len()).filter(|&c| c != time_col).collect();
        let indices = resolve_names(
            drivers,
            driver_cols.iter().map(|&c| header[c].as_str()),
            origin,
        )?;

        let mut times = Vec::new();
        let mut lines = Vec::new();
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); driver_cols.len()];
        let mut record = csv::StringRecord::new();
        while csv.read_record(&mut record).map_err(io)? {
            let line = record.position().map_or(0, |p| p.line());
            if record.len() != header.len() {
                return Err(DriverError::RaggedRow {
                    origin: origin.to_string(),
                    line,
                    found: record.len(),
                    expected: header.len(),
                });
            }
            let field = |c: usize| -> Result<f64, DriverError> {
                record[c]
                    .parse::<f64>()
                    .map_err(|_| DriverError::NotANumber {
                        origin: origin.to_string(),
                        line,
                        column: header[c].clone(),
                        text: record[c].to_string(),
                    })
            };
            times.push(field(time_col)?);
            for (v, &c) in values.iter_mut().zip(&driver_cols) {
                v.push(field(c)?);
            }
            lines.push(line);
        }
        let at = |i: usize| At::Line(lines[i]);
        if times.len() < 2 {
            return Err(DriverError::TooFewSamples {
                origin: origin.to_string(),
                count: times.len(),
            });
        }
        check_times(&times, origin, at)?;
        let mut series = DriverSeries::constant(drivers);
        for ((v, &c), index) in values.into_iter().zip(&driver_cols).zip(indices) {
            check_values(&v, &header[c], origin, at)?;
            series.columns[index] = DriverColumn::Sampled {
                values: v,
                end_slopes: None,
            };
        }
        series.evenly_spaced = is_even(&times);
        series.times = times;
        Ok(series)
    }

    /// Sets the end slopes a clamped spline uses for one sampled driver
    /// (first derivative at the first and at the last sample time).
    pub fn with_end_slopes(
        mut self,
        driver: &str,
        start: f64,
        end: f64,
    ) -> Result<Self, DriverError> {
        let bad = |reason: &str| DriverError::BadEndSlopes {
            driver: driver.to_string(),
            reason: reason.to_string(),
        };
        let index = self.names.iter().position(|n| n == driver).ok_or_else(|| {
            DriverError::UnknownDriver {
                origin: "end slopes".into(),
                name: driver.to_string(),
                expected: if self.names.is_empty() {
                    "none".into()
                } else {
                    self.names.join(", ")
                },
            }
        })?;
        if !(start.is_finite() && end.is_finite()) {
            return Err(bad("end slopes must be finite"));
        }
        match &mut self.columns[index] {
            DriverColumn::Sampled { end_slopes, .. } => *end_slopes = Some((start, end)),
            DriverColumn::Constant(_) => {
                return Err(bad("end slopes given for a driver with no samples"));
            }
        }
        Ok(self)
    }

    /// The model's driver names, in model order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Sample times (empty when no driver is sampled).
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// True when the sample times are evenly spaced.
    pub fn is_evenly_spaced(&self) -> bool {
        self.evenly_spaced
    }

    /// One column per model driver, in model order.
    pub fn columns(&self) -> &[DriverColumn] {
        &self.columns
    }

    /// True when no driver is sampled.
    pub fn is_constant(&self) -> bool {
        self.columns
            .iter()
            .all(|c| matches!(c, DriverColumn::Constant(_)))
    }
}
