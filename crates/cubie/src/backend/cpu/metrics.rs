//! The metrics' CPU form: each metric's update and save on one
//! variable's running state (arena cells), as the summaries component's
//! CPU form calls them. The catalogue itself (names, sizes, columns) is
//! backend-neutral, in `outputs::metrics`.

use std::cell::Cell;

use crate::memory::LaneView;
use crate::outputs::metrics::MetricSpec;
use crate::precision::Real;

/// What the window counters say about the sample being folded in; the
/// same for every variable.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tick<T> {
    /// Samples in the window, this one included.
    pub n: T,
    /// This is the window's first sample.
    pub first: bool,
    /// A previous sample exists (this run).
    pub has_d1: bool,
    /// This is the window's first first-difference.
    pub first_d1: bool,
    /// Two previous samples exist (this run).
    pub has_d2: bool,
    /// This is the window's first second-difference.
    pub first_d2: bool,
    /// Time of the previous sample: the time of a peak found now.
    pub t_prev: T,
}

/// Window counts a save needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WindowCounts<T> {
    /// Samples in the window.
    pub n: T,
    /// First differences in the window.
    pub d1: T,
    /// Second differences in the window.
    pub d2: T,
}

#[inline]
fn keep_max<T: Real>(c: &Cell<T>, x: T, first: bool) {
    if first || x > c.get() {
        c.set(x);
    }
}

#[inline]
fn keep_min<T: Real>(c: &Cell<T>, x: T, first: bool) {
    if first || x < c.get() {
        c.set(x);
    }
}

/// Running mean: `m += (x - m) / n`, exact on the first sample.
#[inline]
fn running_mean<T: Real>(m: &Cell<T>, x: T, tick: &Tick<T>) {
    if tick.first {
        m.set(x);
    } else {
        m.set(m.get() + (x - m.get()) / tick.n);
    }
}

/// Welford's update of the mean and the sum of squared deviations `m2`:
/// no cancellation between large sums, so f32 keeps its digits when the
/// mean is large against the spread.
#[inline]
fn welford<T: Real>(mean: &Cell<T>, m2: &Cell<T>, x: T, tick: &Tick<T>) {
    if tick.first {
        mean.set(x);
        m2.set(T::zero());
    } else {
        let delta = x - mean.get();
        let m = mean.get() + delta / tick.n;
        mean.set(m);
        m2.set(m2.get() + delta * (x - m));
    }
}

/// Records `t` in the next free slot if the window has one.
#[inline]
fn record_peak<T: Real>(s: LaneView<'_, T>, slots: usize, found: bool, tick: &Tick<T>) {
    if tick.first {
        s[0].set(T::zero());
    }
    if found {
        let count = s[0].get().to_f64() as usize;
        if count < slots {
            s[1 + count].set(tick.t_prev);
            s[0].set(s[0].get() + T::one());
        }
    }
}

impl MetricSpec {
    /// Folds sample `x` of one variable (with that variable's two previous
    /// samples) into the variable's running state `s`.
    #[inline]
    pub(crate) fn update<T: Real>(
        &self,
        s: LaneView<'_, T>,
        x: T,
        prev: T,
        prev_prev: T,
        tick: &Tick<T>,
    ) {
        use MetricSpec::*;
        let d1 = || x - prev;
        let d2 = || x - (prev + prev) + prev_prev;
        match *self {
            Mean => running_mean(&s[0], x, tick),
            Rms => running_mean(&s[0], x * x, tick),
            Std | MeanStd | MeanStdRms | StdRms => welford(&s[0], &s[1], x, tick),
            Max => keep_max(&s[0], x, tick.first),
            Min => keep_min(&s[0], x, tick.first),
            Extrema => {
                keep_max(&s[0], x, tick.first);
                keep_min(&s[1], x, tick.first);
            }
            MaxMagnitude => keep_max(&s[0], x.abs(), tick.first),
            // Strictly above (below) both neighbours, as in CuBIE.
            Peaks(n) => record_peak(s, n, tick.has_d2 && prev > x && prev > prev_prev, tick),
            NegativePeaks(n) => {
                record_peak(s, n, tick.has_d2 && prev < x && prev < prev_prev, tick)
            }
            DxdtMax if tick.has_d1 => keep_max(&s[0], d1(), tick.first_d1),
            DxdtMin if tick.has_d1 => keep_min(&s[0], d1(), tick.first_d1),
            DxdtExtrema if tick.has_d1 => {
                let d = d1();
                keep_max(&s[0], d, tick.first_d1);
                keep_min(&s[1], d, tick.first_d1);
            }
            D2xdt2Max if tick.has_d2 => keep_max(&s[0], d2(), tick.first_d2),
            D2xdt2Min if tick.has_d2 => keep_min(&s[0], d2(), tick.first_d2),
            D2xdt2Extrema if tick.has_d2 => {
                let d = d2();
                keep_max(&s[0], d, tick.first_d2);
                keep_min(&s[1], d, tick.first_d2);
            }
            DxdtMax | DxdtMin | DxdtExtrema | D2xdt2Max | D2xdt2Min | D2xdt2Extrema => {}
        }
    }

    /// Writes the window's outputs for one variable (`output_width()`
    /// values) from its running state. A value the window has no data for
    /// (an empty window, a derivative without enough samples, an unused
    /// peak slot) is NaN.
    #[inline]
    pub(crate) fn save<T: Real>(
        &self,
        s: LaneView<'_, T>,
        out: &mut [T],
        counts: &WindowCounts<T>,
        inv_h: T,
        inv_h2: T,
    ) {
        use MetricSpec::*;
        let nan = T::nan();
        let n = counts.n;
        let any = n > T::zero();
        let or_nan = |have: bool, v: T| if have { v } else { nan };
        // Population variance; Welford's m2 cannot go negative, the clamp
        // only guards the square root.
        let var = || (s[1].get() / n).max(T::zero());
        match *self {
            Mean | Max | Min | MaxMagnitude => out[0] = or_nan(any, s[0].get()),
            Rms => out[0] = or_nan(any, s[0].get().sqrt()),
            Std => out[0] = or_nan(any, var().sqrt()),
            MeanStd => {
                out[0] = or_nan(any, s[0].get());
                out[1] = or_nan(any, var().sqrt());
            }
            MeanStdRms => {
                let mean = s[0].get();
                out[0] = or_nan(any, mean);
                out[1] = or_nan(any, var().sqrt());
                out[2] = or_nan(any, (var() + mean * mean).sqrt());
            }
            StdRms => {
                let mean = s[0].get();
                out[0] = or_nan(any, var().sqrt());
                out[1] = or_nan(any, (var() + mean * mean).sqrt());
            }
            Extrema => {
                out[0] = or_nan(any, s[0].get());
                out[1] = or_nan(any, s[1].get());
            }
            Peaks(slots) | NegativePeaks(slots) => {
                let count = if any { s[0].get().to_f64() as usize } else { 0 };
                for (j, o) in out[..slots].iter_mut().enumerate() {
                    *o = if j < count { s[1 + j].get() } else { nan };
                }
            }
            DxdtMax | DxdtMin => out[0] = or_nan(counts.d1 > T::zero(), s[0].get() * inv_h),
            DxdtExtrema => {
                let have = counts.d1 > T::zero();
                out[0] = or_nan(have, s[0].get() * inv_h);
                out[1] = or_nan(have, s[1].get() * inv_h);
            }
            D2xdt2Max | D2xdt2Min => out[0] = or_nan(counts.d2 > T::zero(), s[0].get() * inv_h2),
            D2xdt2Extrema => {
                let have = counts.d2 > T::zero();
                out[0] = or_nan(have, s[0].get() * inv_h2);
                out[1] = or_nan(have, s[1].get() * inv_h2);
            }
        }
    }
}
