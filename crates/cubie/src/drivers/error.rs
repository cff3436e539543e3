//! Errors in driver samples and driver settings. Every message names the
//! driver, the sample or CSV line, and what was expected.

use std::fmt;

use thiserror::Error;

/// Where a bad value sits: a sample index (Rust API) or a CSV line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// Zero-based sample index, for samples given in code.
    Sample(usize),
    /// One-based line of a CSV file (the header is line 1).
    Line(u64),
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Sample(i) => write!(f, "sample {i}"),
            At::Line(l) => write!(f, "line {l}"),
        }
    }
}

/// What is wrong with a driver series or its settings.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum DriverError {
    /// A column or sample set names no driver of the model.
    #[error("{origin}: unknown driver `{name}`; the model's drivers are: {expected}")]
    UnknownDriver {
        /// Where the name came from (a file name or "driver samples").
        origin: String,
        /// The name as given.
        name: String,
        /// The model's drivers, comma-separated (or "none").
        expected: String,
    },
    /// The same driver given twice.
    #[error("{origin}: driver `{name}` is given more than once")]
    DuplicateDriver {
        /// Where the name came from.
        origin: String,
        /// The repeated name.
        name: String,
    },
    /// Too few samples to interpolate.
    #[error(
        "{origin}: {count} sample(s) given; interpolating a driver needs at least two \
         (to hold a driver constant, leave it out and set its default value in the model)"
    )]
    TooFewSamples {
        /// Where the samples came from.
        origin: String,
        /// How many there were.
        count: usize,
    },
    /// Drivers with different numbers of samples.
    #[error("driver `{driver}` has {count} samples but the sample times number {expected}")]
    LengthMismatch {
        /// The driver.
        driver: String,
        /// Its number of samples.
        count: usize,
        /// The number of sample times.
        expected: usize,
    },
    /// Sample times that do not strictly increase.
    #[error(
        "{origin}, {at}: time {time} does not come after the previous time {previous}; sample times must strictly increase"
    )]
    NonIncreasingTime {
        /// Where the samples came from.
        origin: String,
        /// The offending sample.
        at: At,
        /// The previous time.
        previous: f64,
        /// The offending time.
        time: f64,
    },
    /// A NaN or infinite sample time or value.
    #[error("{origin}, {at}: `{column}` is {value}; samples must be finite")]
    NonFinite {
        /// Where the samples came from.
        origin: String,
        /// The offending sample.
        at: At,
        /// The driver name, or `t` for a time.
        column: String,
        /// The value found.
        value: f64,
    },
    /// A bad sample spacing or start time for evenly spaced samples.
    #[error(
        "evenly spaced samples need a finite start time and a finite positive dt; got t0 = {t0}, dt = {dt}"
    )]
    BadSpacing {
        /// The start time.
        t0: f64,
        /// The spacing.
        dt: f64,
    },
    /// Periodic boundary with first and last samples that differ.
    #[error(
        "driver `{driver}`: a periodic spline needs the first and last samples equal, \
         but they are {first} and {last}; make them match or use driver_boundary=natural|clamped"
    )]
    PeriodicEndsDiffer {
        /// The driver.
        driver: String,
        /// Its first sample.
        first: f64,
        /// Its last sample.
        last: f64,
    },
    /// End slopes given for a driver that is not sampled, or not finite.
    #[error("driver `{driver}`: {reason}")]
    BadEndSlopes {
        /// The driver.
        driver: String,
        /// What is wrong.
        reason: String,
    },
    /// The CSV file could not be read.
    #[error("{origin}: cannot read: {message}")]
    Io {
        /// The file.
        origin: String,
        /// The operating system's or CSV reader's message.
        message: String,
    },
    /// The CSV has no time column.
    #[error(
        "{origin}: no time column; the header must have a column named `t` (or `time`) beside the driver columns"
    )]
    MissingTimeColumn {
        /// The file.
        origin: String,
    },
    /// A CSV row with the wrong number of fields.
    #[error("{origin}, line {line}: {found} field(s) but the header has {expected}")]
    RaggedRow {
        /// The file.
        origin: String,
        /// One-based line.
        line: u64,
        /// Fields on that line.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// A CSV field that is not a number.
    #[error("{origin}, line {line}, column `{column}`: `{text}` is not a number")]
    NotANumber {
        /// The file.
        origin: String,
        /// One-based line.
        line: u64,
        /// The column's header name.
        column: String,
        /// The field as written.
        text: String,
    },
    /// A CSV header with an empty column name.
    #[error("{origin}: header column {index} has no name")]
    EmptyColumnName {
        /// The file.
        origin: String,
        /// One-based column number.
        index: usize,
    },
    /// An unknown driver setting key.
    #[error("unknown driver setting `{key}`; valid: {valid}")]
    UnknownSetting {
        /// The key as given.
        key: String,
        /// Valid keys, comma-separated.
        valid: String,
    },
    /// A driver setting value that is not one of the allowed words.
    #[error("setting `{key}`: `{value}` is not one of {expected}")]
    BadSetting {
        /// The key.
        key: String,
        /// The value as given.
        value: String,
        /// Allowed values.
        expected: String,
    },
}
