//! The CPU evaluator: driver values and rates at any time, shared by all
//! runs of a batch.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ops::Index;

use crate::precision::Real;

use super::error::DriverError;
use super::series::{DriverColumn, DriverSeries};
use super::settings::{Boundary, DriverSettings, Extrapolation, Interpolation};
use super::spline::{self, EndCondition};

/// Relative tolerance on `|first - last| / max|sample|` for a periodic
/// driver (loose enough for values printed with ~7 digits).
pub const PERIODIC_TOLERANCE: f64 = 1e-6;

/// Every driver's value and time derivative at any time.
///
/// Coefficients are computed once in f64 and kept in f64; evaluation runs
/// in f64 (`t` arrives as f64) and only the result is rounded to `T`. An
/// f32 solve therefore sees each driver correctly rounded, with no
/// cancellation in `t - t_k` at late times; the tables are batch-wide and
/// small, so f64 storage costs nothing per run.
///
/// Lookup is O(1) on evenly spaced samples (the segment is computed, then
/// corrected by at most a step for rounding) and a binary search
/// otherwise; nothing allocates.
#[derive(Debug, Clone)]
pub struct DriverInterpolant<T: Real> {
    n_drivers: usize,
    /// `(driver index, value)` of drivers with no samples.
    constants: Vec<(usize, T)>,
    /// Driver index of each sampled column.
    sampled: Vec<usize>,
    knots: Vec<f64>,
    /// `1 / spacing` when the knots are evenly spaced.
    inv_spacing: Option<f64>,
    /// Segment-major: `coefficients[(segment * sampled.len() + j) * 4 + k]`.
    coefficients: Vec<f64>,
    extrapolation: Extrapolation,
    settings: DriverSettings,
    _precision: PhantomData<T>,
}

/// Where `t` falls: a segment, the offset into it, and whether it lies
/// outside the samples (held: rate zero).
#[derive(Debug, Clone, Copy)]
struct Located {
    segment: usize,
    s: f64,
    held: bool,
}

impl<T: Real> DriverInterpolant<T> {
    /// Builds the interpolant of `series` with `settings`.
    pub fn new(series: &DriverSeries, settings: &DriverSettings) -> Result<Self, DriverError> {
        let boundary = settings.boundary();
        let knots = series.times().to_vec();
        let mut constants = Vec::new();
        let mut sampled = Vec::new();
        let mut tables = Vec::new();
        for (index, (name, column)) in series.names().iter().zip(series.columns()).enumerate() {
            match column {
                DriverColumn::Constant(v) => constants.push((index, T::from_f64(*v))),
                DriverColumn::Sampled { values, end_slopes } => {
                    let mut y = values.clone();
                    if boundary == Boundary::Periodic {
                        let (first, last) = (y[0], y[y.len() - 1]);
                        let scale = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                        if (first - last).abs() > PERIODIC_TOLERANCE * scale {
                            return Err(DriverError::PeriodicEndsDiffer {
                                driver: name.clone(),
                                first,
                                last,
                            });
                        }
                        // Exactly periodic, so wrapping is continuous.
                        let n = y.len();
                        y[n - 1] = first;
                    }
                    let table = match settings.interpolation {
                        Interpolation::Linear => spline::linear(&knots, &y),
                        Interpolation::Cubic => {
                            let end = match boundary {
                                Boundary::Natural => EndCondition::Natural,
                                Boundary::Periodic => EndCondition::Periodic,
                                Boundary::Clamped => {
                                    let (start, end) = end_slopes.unwrap_or((0.0, 0.0));
                                    EndCondition::Clamped { start, end }
                                }
                            };
                            spline::cubic(&knots, &y, end)
                        }
                    };
                    // A last row for `t` at or past the final knot, so it
                    // returns the final sample exactly (s = 0) with the
                    // spline's end slope.
                    let h = knots[knots.len() - 1] - knots[knots.len() - 2];
                    let c = table[table.len() - 1];
                    let end_rate = c[1] + h * (2.0 * c[2] + 3.0 * h * c[3]);
                    let mut table = table;
                    table.push([y[y.len() - 1], end_rate, 0.0, 0.0]);
                    sampled.push(index);
                    tables.push(table);
                }
            }
        }
        let segments = knots.len().saturating_sub(1);
        if sampled.is_empty() {
            return Ok(Self::all_constant(series, settings, constants));
        }
        let mut coefficients = Vec::with_capacity((segments + 1) * sampled.len() * 4);
        for seg in 0..=segments {
            for table in &tables {
                coefficients.extend_from_slice(&table[seg]);
            }
        }
        let inv_spacing = (series.is_evenly_spaced() && segments > 0)
            .then(|| segments as f64 / (knots[segments] - knots[0]));
        Ok(DriverInterpolant {
            n_drivers: series.names().len(),
            constants,
            sampled,
            knots,
            inv_spacing,
            coefficients,
            extrapolation: settings.extrapolation,
            settings: *settings,
            _precision: PhantomData,
        })
    }

    fn all_constant(
        series: &DriverSeries,
        settings: &DriverSettings,
        constants: Vec<(usize, T)>,
    ) -> Self {
        DriverInterpolant {
            n_drivers: series.names().len(),
            constants,
            sampled: Vec::new(),
            knots: Vec::new(),
            inv_spacing: None,
            coefficients: Vec::new(),
            extrapolation: settings.extrapolation,
            settings: *settings,
            _precision: PhantomData,
        }
    }

    /// Number of drivers (the length `values` and `rates` must have).
    pub fn n_drivers(&self) -> usize {
        self.n_drivers
    }

    /// True when no driver is sampled: every value is constant and every
    /// rate zero, so one [`evaluate`](Self::evaluate) per run suffices.
    pub fn is_constant(&self) -> bool {
        self.sampled.is_empty()
    }

    /// The settings it was built with.
    pub fn settings(&self) -> &DriverSettings {
        &self.settings
    }

    /// Sample times (knots); empty when no driver is sampled.
    pub fn knots(&self) -> &[f64] {
        &self.knots
    }

    /// Driver index of each sampled column, in coefficient-table order.
    pub fn sampled_drivers(&self) -> &[usize] {
        &self.sampled
    }

    /// The coefficient table (for code generators): for segment `i`
    /// (from `knots[i]`), sampled column `j` and `s = t - knots[i]`, the
    /// value is `sum_k c[k] s^k` with
    /// `c = coefficients[(i * sampled_drivers().len() + j) * 4..][..4]`.
    /// There is one row per knot: the last (`i = knots().len() - 1`) is
    /// `[last sample, end slope, 0, 0]`, used at and past the final knot.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// `(driver index, value)` of the drivers with no samples.
    pub fn constants(&self) -> &[(usize, T)] {
        &self.constants
    }

    /// `1 / spacing` when the knots are evenly spaced (the segment is then
    /// computed rather than searched for).
    pub fn inv_spacing(&self) -> Option<f64> {
        self.inv_spacing
    }

    /// What the drivers do outside the samples.
    pub fn extrapolation(&self) -> Extrapolation {
        self.extrapolation
    }

    fn locate(&self, t: f64) -> Located {
        let k = &self.knots;
        let last = k.len() - 1;
        let (start, end) = (k[0], k[last]);
        let mut t = t;
        if self.extrapolation == Extrapolation::Wrap && !(start..=end).contains(&t) {
            t = start + (t - start).rem_euclid(end - start);
        }
        if t < start {
            return Located {
                segment: 0,
                s: 0.0,
                held: true,
            };
        }
        if t >= end {
            // The end row: the last sample, with the end slope unless held.
            return Located {
                segment: last,
                s: 0.0,
                held: t > end,
            };
        }
        let segment = match self.inv_spacing {
            Some(inv) => {
                // NaN and out-of-range guesses saturate, then clamp.
                let mut i = (((t - start) * inv) as usize).min(last - 1);
                // Rounding can put the guess one off either way.
                while i > 0 && t < k[i] {
                    i -= 1;
                }
                while i + 1 < last && t >= k[i + 1] {
                    i += 1;
                }
                i
            }
            None => k.partition_point(|&x| x <= t).clamp(1, last) - 1,
        };
        Located {
            segment,
            s: t - k[segment],
            held: false,
        }
    }

    fn row(&self, segment: usize) -> &[f64] {
        let width = self.sampled.len() * 4;
        &self.coefficients[segment * width..(segment + 1) * width]
    }

    /// Writes every driver's value at `t` into `values` (a slice of cells
    /// or one lane of a block).
    ///
    /// # Panics
    /// If `values` is shorter than [`n_drivers`](Self::n_drivers).
    #[inline]
    pub fn evaluate<V: Index<usize, Output = Cell<T>> + ?Sized>(&self, t: f64, values: &V) {
        for &(i, v) in &self.constants {
            values[i].set(v);
        }
        if self.sampled.is_empty() {
            return;
        }
        let at = self.locate(t);
        let s = at.s;
        for (c, &i) in self.row(at.segment).chunks_exact(4).zip(&self.sampled) {
            values[i].set(T::from_f64(c[0] + s * (c[1] + s * (c[2] + s * c[3]))));
        }
    }

    /// Writes every driver's value at `t` into `values` and its time
    /// derivative into `rates` (zero for constant drivers and for held
    /// values outside the samples).
    ///
    /// # Panics
    /// If `values` or `rates` is shorter than [`n_drivers`](Self::n_drivers).
    #[inline]
    pub fn evaluate_with_rates<V: Index<usize, Output = Cell<T>> + ?Sized>(
        &self,
        t: f64,
        values: &V,
        rates: &V,
    ) {
        for &(i, v) in &self.constants {
            values[i].set(v);
            rates[i].set(T::zero());
        }
        if self.sampled.is_empty() {
            return;
        }
        let at = self.locate(t);
        let s = at.s;
        for (c, &i) in self.row(at.segment).chunks_exact(4).zip(&self.sampled) {
            values[i].set(T::from_f64(c[0] + s * (c[1] + s * (c[2] + s * c[3]))));
            let rate = if at.held {
                0.0
            } else {
                c[1] + s * (2.0 * c[2] + 3.0 * s * c[3])
            };
            rates[i].set(T::from_f64(rate));
        }
    }

    /// Values at `t` as a new vector (allocates; for diagnostics).
    pub fn values_at(&self, t: f64) -> Vec<T> {
        let cells = vec![Cell::new(T::zero()); self.n_drivers];
        self.evaluate(t, &cells);
        cells.into_iter().map(Cell::into_inner).collect()
    }

    /// Rates at `t` as a new vector (allocates; for diagnostics).
    pub fn rates_at(&self, t: f64) -> Vec<T> {
        let values = vec![Cell::new(T::zero()); self.n_drivers];
        let rates = vec![Cell::new(T::zero()); self.n_drivers];
        self.evaluate_with_rates(t, &values, &rates);
        rates.into_iter().map(Cell::into_inner).collect()
    }
}
