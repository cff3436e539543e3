//! Summary metrics against the same quantities computed directly from the
//! sample sequence, in f32 and f64; peaks of a sampled sine; timing errors;
//! registry sizes and location independence.

use std::cell::Cell;

use cubie::memory::{BufferRegistry, Component, ComponentId, Location};
use cubie::outputs::{
    MetricSpec, SummaryComponent, SummaryError, SummarySpec, SummaryTiming, parse_metrics,
    summary_labels,
};
use cubie::{Precision, Real};

/// A registry `kernel/loop/outputs` with the summaries registered.
fn tree<T: Real>(
    metrics: &[MetricSpec],
    n_states: usize,
    n_obs: usize,
) -> (BufferRegistry, ComponentId, SummaryComponent) {
    let mut reg = BufferRegistry::new(T::PRECISION);
    let root = reg.add_component("kernel", None).expect("root");
    let lp = reg.add_component("loop", Some(root)).expect("loop");
    let spec = SummarySpec {
        metrics,
        n_state_vars: n_states,
        n_observable_vars: n_obs,
    };
    let comp = SummaryComponent::register(&mut reg, Some(lp), spec).expect("register");
    (reg, root, comp)
}

/// Feeds `samples[i]` = (state buffer, observable buffer) at `times[i]`
/// through the CPU form and returns the run's rows `(windows, row_len)`.
#[allow(clippy::too_many_arguments)]
fn run<T: Real>(
    reg: &BufferRegistry,
    root: ComponentId,
    comp: &SummaryComponent,
    timing: &SummaryTiming,
    state_sel: &[usize],
    obs_sel: &[usize],
    samples: &[(Vec<T>, Vec<T>)],
    times: &[f64],
    n_windows: usize,
) -> Vec<T> {
    let cpu = comp
        .cpu::<T>(reg, timing, state_sel, obs_sel)
        .expect("cpu form");
    cpu.check_sources(samples[0].0.len(), samples[0].1.len())
        .expect("selection in range");
    let arena = reg.new_arena::<T>(root).expect("arena");
    let mut rows = vec![T::from_f64(-7.0); n_windows * cpu.row_len()];
    let mut saved = Vec::new();
    for (i, ((s, o), &t)) in samples.iter().zip(times).enumerate() {
        let s: Vec<Cell<T>> = s.iter().map(|&x| Cell::new(x)).collect();
        let o: Vec<Cell<T>> = o.iter().map(|&x| Cell::new(x)).collect();
        if let Some(w) = cpu.sample(&arena, 0, i, t, (&s[..]).into(), (&o[..]).into(), &mut rows) {
            saved.push(w);
        }
    }
    assert_eq!(saved, (0..n_windows).collect::<Vec<_>>(), "windows saved");
    rows
}

/// A deterministic sequence with exact zeros, repeated exact negatives,
/// plateaus (a sample repeating its predecessor) and a smooth part;
/// variable `v`, sample `i`.
fn value(i: usize, v: usize) -> f64 {
    if i > 0 && (i + v) % 7 == 2 {
        value(i - 1, v)
    } else if (i + v) % 9 == 4 {
        0.0
    } else if (i + 2 * v).is_multiple_of(13) {
        -2.5
    } else {
        3.0 * (0.9 * i as f64 + 1.3 * v as f64).sin() - 0.5 * v as f64
    }
}

/// The metric computed directly from one variable's samples `x` (already
/// rounded to the solve's precision) over window `k` of `n` samples.
fn direct(metric: MetricSpec, x: &[f64], t: &[f64], k: usize, n: usize, h: f64) -> Vec<f64> {
    let idx: Vec<usize> = (k * n..(k + 1) * n).collect();
    let w: Vec<f64> = idx.iter().map(|&i| x[i]).collect();
    let nf = n as f64;
    let mean = w.iter().sum::<f64>() / nf;
    let std = (w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / nf).sqrt();
    let rms = (w.iter().map(|v| v * v).sum::<f64>() / nf).sqrt();
    let max = w.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let min = w.iter().cloned().fold(f64::INFINITY, f64::min);
    let d1: Vec<f64> = idx
        .iter()
        .filter(|&&i| i >= 1)
        .map(|&i| (x[i] - x[i - 1]) / h)
        .collect();
    let d2: Vec<f64> = idx
        .iter()
        .filter(|&&i| i >= 2)
        .map(|&i| (x[i] - 2.0 * x[i - 1] + x[i - 2]) / (h * h))
        .collect();
    let ext = |v: &[f64], hi: bool| {
        if v.is_empty() {
            f64::NAN
        } else if hi {
            v.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        } else {
            v.iter().cloned().fold(f64::INFINITY, f64::min)
        }
    };
    let peaks = |slots: usize, up: bool| {
        let mut found: Vec<f64> = idx
            .iter()
            .filter(|&&i| i >= 2)
            .filter(|&&i| {
                let (a, b, c) = (x[i - 2], x[i - 1], x[i]);
                if up { b > a && b > c } else { b < a && b < c }
            })
            .map(|&i| t[i - 1])
            .take(slots)
            .collect();
        found.resize(slots, f64::NAN);
        found
    };
    use MetricSpec::*;
    match metric {
        Mean => vec![mean],
        Max => vec![max],
        Min => vec![min],
        Rms => vec![rms],
        Std => vec![std],
        MeanStd => vec![mean, std],
        MeanStdRms => vec![mean, std, rms],
        StdRms => vec![std, rms],
        Extrema => vec![max, min],
        MaxMagnitude => vec![w.iter().map(|v| v.abs()).fold(0.0, f64::max)],
        Peaks(s) => peaks(s, true),
        NegativePeaks(s) => peaks(s, false),
        DxdtMax => vec![ext(&d1, true)],
        DxdtMin => vec![ext(&d1, false)],
        DxdtExtrema => vec![ext(&d1, true), ext(&d1, false)],
        D2xdt2Max => vec![ext(&d2, true)],
        D2xdt2Min => vec![ext(&d2, false)],
        D2xdt2Extrema => vec![ext(&d2, true), ext(&d2, false)],
    }
}

const ALL: &str = "mean, max, min, rms, std, mean_std, mean_std_rms, std_rms, extrema, \
                   max_magnitude, peaks[3], negative_peaks[2], dxdt_max, dxdt_min, dxdt_extrema, \
                   d2xdt2_max, d2xdt2_min, d2xdt2_extrema";

/// Every metric, several windows, two selected states (out of three, out
/// of order) and one selected observable (out of two).
fn every_metric_matches_direct<T: Real>(tol: f64) {
    let metrics = parse_metrics(ALL).expect("metrics");
    let (h, every, start, duration) = (0.1, 0.8, 0.7, 4.0);
    let timing = SummaryTiming::new(h, every).expect("timing");
    let n = timing.samples_per_window();
    assert_eq!(n, 8);
    let n_windows = timing.n_windows(duration);
    assert_eq!(n_windows, 5);
    let times = timing.sample_times(start, duration);
    assert_eq!(times.len(), 41);

    let (state_sel, obs_sel) = ([2usize, 0], [1usize]);
    let (reg, root, comp) = tree::<T>(&metrics, 2, 1);
    let round = |x: f64| T::from_f64(x);
    let samples: Vec<(Vec<T>, Vec<T>)> = (0..times.len())
        .map(|i| {
            (
                (0..3).map(|v| round(value(i, v))).collect(),
                (0..2).map(|v| round(value(i, v + 3))).collect(),
            )
        })
        .collect();
    let rows = run(
        &reg, root, &comp, &timing, &state_sel, &obs_sel, &samples, &times, n_windows,
    );
    // The summarised variables' sequences, as the component saw them.
    let series: Vec<Vec<f64>> = state_sel
        .iter()
        .map(|&v| samples.iter().map(|s| s.0[v].to_f64()).collect())
        .chain(
            obs_sel
                .iter()
                .map(|&v| samples.iter().map(|s| s.1[v].to_f64()).collect()),
        )
        .collect();
    let t_seen: Vec<f64> = times.iter().map(|&t| round(t).to_f64()).collect();
    assert!(series.iter().flatten().any(|&x| x == 0.0));
    assert!(series.iter().flatten().any(|&x| x == -2.5));

    let row_len = comp.row_len();
    let mut checked = 0;
    for out in comp.outputs() {
        for k in 0..n_windows {
            for (v, x) in series.iter().enumerate() {
                let want = direct(out.metric, x, &t_seen, k, n, h);
                let at = k * row_len + out.row_offset + v * out.width;
                let got: Vec<f64> = rows[at..at + out.width]
                    .iter()
                    .map(|&g| Real::to_f64(g))
                    .collect();
                // Values are within 3.5 in magnitude; differences scale.
                let name = out.metric.name();
                let scale = if name.starts_with("dxdt") {
                    3.5 / h
                } else if name.starts_with("d2xdt2") {
                    3.5 / (h * h)
                } else {
                    3.5
                };
                for (g, w) in got.iter().zip(&want) {
                    let ok = if w.is_nan() {
                        g.is_nan()
                    } else {
                        (g - w).abs() <= tol * scale
                    };
                    assert!(
                        ok,
                        "{} window {k} variable {v}: got {got:?}, want {want:?}",
                        out.metric
                    );
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, n_windows * row_len);
    // Peaks were found (not all NaN), so the comparison had teeth.
    let peaks = comp
        .outputs()
        .into_iter()
        .find(|o| o.array_name == "summary_peaks");
    let p = peaks.expect("peaks output");
    assert!(
        rows[p.row_offset..p.row_offset + p.width]
            .iter()
            .any(|x| !x.is_nan())
    );
}

#[test]
fn every_metric_matches_direct_f64() {
    every_metric_matches_direct::<f64>(1e-12);
}

#[test]
fn every_metric_matches_direct_f32() {
    every_metric_matches_direct::<f32>(4e-6);
}

/// One variable, one metric list, samples `xs` at `i * h`; the rows.
fn series_rows<T: Real>(
    metrics: &str,
    xs: &[f64],
    h: f64,
    every: f64,
) -> (SummaryComponent, Vec<T>) {
    let metrics = parse_metrics(metrics).expect("metrics");
    let timing = SummaryTiming::new(h, every).expect("timing");
    let (reg, root, comp) = tree::<T>(&metrics, 1, 0);
    let times: Vec<f64> = (0..xs.len()).map(|i| i as f64 * h).collect();
    let samples: Vec<(Vec<T>, Vec<T>)> =
        xs.iter().map(|&x| (vec![T::from_f64(x)], vec![])).collect();
    let n_windows = xs.len() / timing.samples_per_window();
    let rows = run(
        &reg,
        root,
        &comp,
        &timing,
        &[0],
        &[],
        &samples,
        &times,
        n_windows,
    );
    (comp, rows)
}

fn sine_peaks<T: Real>(tol: f64) {
    // sin(2 pi t), sampled every 0.01 over two 2 s windows: maxima at
    // 0.25 + k, minima at 0.75 + k.
    let h = 0.01;
    let xs: Vec<f64> = (0..400)
        .map(|i| (2.0 * std::f64::consts::PI * i as f64 * h).sin())
        .collect();
    let (comp, rows) = series_rows::<T>("peaks[3], negative_peaks[2]", &xs, h, 2.0);
    assert_eq!(comp.row_len(), 5);
    let got: Vec<f64> = rows.iter().map(|&x| Real::to_f64(x)).collect();
    let want = [
        [0.25, 1.25, f64::NAN, 0.75, 1.75],
        [2.25, 3.25, f64::NAN, 2.75, 3.75],
    ];
    for (k, w) in want.iter().enumerate() {
        for (j, &e) in w.iter().enumerate() {
            let g = got[k * 5 + j];
            if e.is_nan() {
                assert!(g.is_nan(), "window {k} slot {j}: {g}");
            } else {
                assert!((g - e).abs() <= tol, "window {k} slot {j}: {g} vs {e}");
            }
        }
    }
}

#[test]
fn peaks_of_a_sine_f64() {
    sine_peaks::<f64>(1e-12);
}

#[test]
fn peaks_of_a_sine_f32() {
    sine_peaks::<f32>(1e-6);
}

#[test]
fn peaks_of_value_zero_and_at_time_zero_count() {
    // Maximum of value 0.0 at t = 0.2 (then 1.0 at 0.5), minimum of value
    // 0.0 at t = 0.6.
    let xs = [-2.0, -1.0, 0.0, -1.0, -2.0, 1.0, 0.0, 1.0];
    let (_, rows) = series_rows::<f64>("peaks[2], negative_peaks[3]", &xs, 0.1, 0.8);
    assert!((rows[0] - 0.2).abs() < 1e-15);
    assert!((rows[1] - 0.5).abs() < 1e-15);
    // -2.0 at t = 0.4 and 0.0 at t = 0.6 are minima; the third slot is free.
    assert!((rows[2] - 0.4).abs() < 1e-15);
    assert!((rows[3] - 0.6).abs() < 1e-15);
    assert!(rows[4].is_nan());

    // Times start at 0: a peak on the sample at t = 0 is impossible (no
    // left neighbour), but one at the second sample of a run whose clock
    // starts at -0.1 has time 0.0 and must be kept.
    let metrics = parse_metrics("peaks[1]").expect("metrics");
    let timing = SummaryTiming::new(0.1, 0.3).expect("timing");
    let (reg, root, comp) = tree::<f64>(&metrics, 1, 0);
    let samples: Vec<(Vec<f64>, Vec<f64>)> =
        [1.0, 5.0, 2.0].iter().map(|&x| (vec![x], vec![])).collect();
    let rows = run(
        &reg,
        root,
        &comp,
        &timing,
        &[0],
        &[],
        &samples,
        &[-0.1, 0.0, 0.1],
        1,
    );
    assert_eq!(rows, vec![0.0]);
}

#[test]
fn plateaus_are_not_peaks() {
    // Strictly above (below) both neighbours, as in CuBIE: the flat tops
    // at 3.0 and the flat bottom at -1.0 are not extrema; 2.0 at t = 0.7 is.
    let xs = [0.0, 3.0, 3.0, 1.0, -1.0, -1.0, 0.5, 2.0, 1.0];
    let (_, rows) = series_rows::<f64>("peaks[2], negative_peaks[2]", &xs, 0.1, 0.9);
    assert!((rows[0] - 0.7).abs() < 1e-15, "{rows:?}");
    assert!(rows[1..].iter().all(|x| x.is_nan()), "{rows:?}");
}

#[test]
fn history_spans_windows() {
    // Windows of 3 samples. Window 1's first difference uses window 0's
    // last sample; a peak on window 0's last sample is reported by
    // window 1 (it is only known when the next sample arrives).
    let xs = [0.0, 1.0, 4.0, 2.0, 2.5, 3.0];
    let (_, rows) = series_rows::<f64>("dxdt_extrema, d2xdt2_max, peaks[1]", &xs, 1.0, 3.0);
    // Window 0: differences 1, 3; second difference 2.
    assert_eq!(&rows[0..3], &[3.0, 1.0, 2.0]);
    assert!(rows[3].is_nan());
    // Window 1: differences -2, 0.5, 0.5; second differences -5, 2.5, 0.
    assert_eq!(&rows[4..7], &[0.5, -2.0, 2.5]);
    assert_eq!(rows[7], 2.0);
}

#[test]
fn one_sample_windows_have_no_first_derivative_then_do() {
    let xs = [1.0, 3.0, 2.0];
    let (_, rows) = series_rows::<f64>("mean, dxdt_max, d2xdt2_min", &xs, 0.5, 0.5);
    assert_eq!(rows[0], 1.0);
    assert!(rows[1].is_nan() && rows[2].is_nan());
    assert_eq!(&rows[3..5], &[3.0, 4.0]);
    assert!(rows[5].is_nan());
    assert_eq!(&rows[6..9], &[2.0, -2.0, -12.0]);
}

#[test]
fn std_keeps_its_digits_in_f32_with_a_large_mean() {
    // 1000 + sin: the naive f32 formula sqrt(E[x^2] - E[x]^2) cancels
    // catastrophically; Welford does not.
    let n = 512;
    let xs: Vec<f64> = (0..n).map(|i| 1000.0 + (0.37 * i as f64).sin()).collect();
    let (_, rows) = series_rows::<f32>("std, mean", &xs, 0.25, 0.25 * n as f64);
    let x32: Vec<f64> = xs.iter().map(|&x| x as f32 as f64).collect();
    let mean = x32.iter().sum::<f64>() / n as f64;
    let std = (x32.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
    let rel = (rows[0] as f64 - std).abs() / std;
    assert!(rel < 1e-4, "Welford std relative error {rel}");
    assert!((rows[1] as f64 - mean).abs() < 1e-4 * mean);

    let (s, s2) = xs.iter().fold((0f32, 0f32), |(a, b), &x| {
        let x = x as f32;
        (a + x, b + x * x)
    });
    let m = s / n as f32;
    let naive = ((s2 / n as f32 - m * m).max(0.0)).sqrt() as f64;
    assert!(
        (naive - std).abs() / std > 1e-3,
        "the naive formula should fail this test (got {naive} vs {std})"
    );
}

#[test]
fn timing_is_validated() {
    assert!(SummaryTiming::new(0.1, 0.3).is_ok());
    assert_eq!(
        SummaryTiming::new(0.1, 0.3).map(|t| t.samples_per_window()),
        Ok(3)
    );
    assert_eq!(
        SummaryTiming::new(0.1, 0.25),
        Err(SummaryError::NotAMultiple {
            summarise_every: 0.25,
            sample_every: 0.1
        })
    );
    assert!(matches!(
        SummaryTiming::new(0.2, 0.1),
        Err(SummaryError::NotAMultiple { .. })
    ));
    assert!(matches!(
        SummaryTiming::new(0.0, 1.0),
        Err(SummaryError::BadInterval { .. })
    ));
    assert!(matches!(
        SummaryTiming::new(0.1, f64::INFINITY),
        Err(SummaryError::BadInterval { .. })
    ));
    let t = SummaryTiming::new(0.1, 1.0).expect("timing");
    assert_eq!((t.n_samples(3.0), t.n_windows(3.0)), (31, 3));
    assert_eq!(t.sample_times(1.0, 3.0).last(), Some(&4.0));
}

#[test]
fn buffers_are_sized_by_the_metrics() {
    let metrics = parse_metrics("mean_std, peaks[3], dxdt_extrema").expect("metrics");
    let (reg, _, comp) = tree::<f64>(&metrics, 3, 2);
    let size = |name: &str| reg.buffer(comp.id, name).map(|b| b.size);
    assert_eq!(size("summary_window"), Ok(5));
    assert_eq!(size("state_summary_history"), Ok(3 * 2));
    assert_eq!(size("observable_summary_history"), Ok(2 * 2));
    assert_eq!(size("state_summary_mean_std"), Ok(3 * 2));
    assert_eq!(size("state_summary_peaks"), Ok(3 * 4));
    assert_eq!(size("state_summary_dxdt_extrema"), Ok(3 * 2));
    assert_eq!(size("observable_summary_mean_std"), Ok(2 * 2));
    assert_eq!(size("observable_summary_peaks"), Ok(2 * 4));
    assert_eq!(size("observable_summary_dxdt_extrema"), Ok(2 * 2));
    for b in reg.buffers(comp.id).expect("buffers") {
        assert!(b.persistent && b.location == Location::Local, "{}", b.name);
    }
    // Everything is persistent-local: that is the component's whole need.
    assert_eq!(
        reg.persistent_elements(comp.id),
        Ok(5 + 10 + 5 * (2 + 4 + 2))
    );
    assert_eq!(reg.shared_elements(comp.id), Ok(0));
    assert_eq!(comp.row_len(), 5 * (2 + 3 + 2));

    // Only first differences: one previous sample per variable.
    let (reg, _, comp) = tree::<f64>(&[MetricSpec::DxdtMax], 3, 2);
    assert_eq!(
        reg.buffer(comp.id, "state_summary_history").map(|b| b.size),
        Ok(3)
    );
    // No metric reads history: an empty history buffer.
    let (reg, _, comp) = tree::<f64>(&[MetricSpec::Mean], 3, 2);
    assert_eq!(
        reg.buffer(comp.id, "state_summary_history").map(|b| b.size),
        Ok(0)
    );
}

#[test]
fn no_metrics_cost_nothing() {
    let (reg, root, comp) = tree::<f64>(&[], 3, 2);
    let buffers = reg.buffers(comp.id).expect("buffers");
    assert_eq!(buffers.len(), 3);
    assert!(buffers.iter().all(|b| b.size == 0));
    assert_eq!(reg.persistent_elements(root), Ok(0));
    assert_eq!(reg.arena_layout(root).map(|l| l.total()), Ok(0));
    assert_eq!(comp.row_len(), 0);
    assert!(!comp.is_active());
    let timing = SummaryTiming::new(0.1, 0.2).expect("timing");
    let cpu = comp
        .cpu::<f64>(&reg, &timing, &[0, 1, 2], &[0, 1])
        .expect("cpu");
    let arena = reg.new_arena::<f64>(root).expect("arena");
    let s = [Cell::new(1.0), Cell::new(2.0), Cell::new(3.0)];
    let o = [Cell::new(1.0), Cell::new(2.0)];
    assert_eq!(
        cpu.sample(&arena, 0, 1, 0.1, (&s[..]).into(), (&o[..]).into(), &mut []),
        None
    );
}

#[test]
fn results_do_not_depend_on_buffer_locations() {
    let metrics = parse_metrics(ALL).expect("metrics");
    let timing = SummaryTiming::new(0.1, 0.8).expect("timing");
    let times = timing.sample_times(0.0, 4.0);
    let samples: Vec<(Vec<f64>, Vec<f64>)> = (0..times.len())
        .map(|i| ((0..2).map(|v| value(i, v)).collect(), vec![value(i, 7)]))
        .collect();
    let (reg, root, comp) = tree::<f64>(&metrics, 2, 1);
    let local = run(
        &reg,
        root,
        &comp,
        &timing,
        &[0, 1],
        &[0],
        &samples,
        &times,
        5,
    );

    let (mut reg, root, comp) = tree::<f64>(&metrics, 2, 1);
    let keys = reg.location_settings(comp.id).expect("keys");
    assert!(keys.contains(&"state_summary_peaks_location".to_string()));
    reg.apply_locations(comp.id, keys.iter().map(|k| (k.as_str(), "shared")))
        .expect("all shared");
    assert_eq!(reg.persistent_elements(root), Ok(0));
    assert!(reg.shared_elements(root).expect("shared") > 0);
    let shared = run(
        &reg,
        root,
        &comp,
        &timing,
        &[0, 1],
        &[0],
        &samples,
        &times,
        5,
    );
    assert_eq!(
        local.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        shared.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );

    // Half and half, too.
    let (mut reg, root, comp) = tree::<f64>(&metrics, 2, 1);
    let half: Vec<String> = keys.iter().step_by(2).cloned().collect();
    reg.apply_locations(comp.id, half.iter().map(|k| (k.as_str(), "shared")))
        .expect("half shared");
    let mixed = run(
        &reg,
        root,
        &comp,
        &timing,
        &[0, 1],
        &[0],
        &samples,
        &times,
        5,
    );
    assert_eq!(
        local.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        mixed.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn errors_are_typed() {
    let (reg, _, comp) = tree::<f32>(&[MetricSpec::Mean], 2, 0);
    let timing = SummaryTiming::new(0.1, 0.2).expect("timing");
    assert_eq!(
        comp.cpu::<f32>(&reg, &timing, &[0], &[]).err(),
        Some(SummaryError::SelectionLength {
            kind: "state",
            expected: 2,
            got: 1
        })
    );
    let cpu = comp.cpu::<f32>(&reg, &timing, &[0, 4], &[]).expect("cpu");
    assert_eq!(
        cpu.check_sources(3, 0),
        Err(SummaryError::IndexOutOfRange {
            kind: "state",
            index: 4,
            len: 3
        })
    );
    // The buffers are f32: an f64 view is refused by the registry.
    assert!(matches!(
        comp.cpu::<f64>(&reg, &timing, &[0, 1], &[]),
        Err(SummaryError::Registry(_))
    ));
    let mut reg2 = BufferRegistry::new(Precision::F64);
    let duplicate = SummarySpec {
        metrics: &[MetricSpec::Peaks(2), MetricSpec::Peaks(4)],
        n_state_vars: 1,
        n_observable_vars: 0,
    };
    assert_eq!(
        SummaryComponent::register(&mut reg2, None, duplicate),
        Err(SummaryError::Duplicate("peaks".into()))
    );
    let msg = parse_metrics("mean, avg").expect_err("unknown").to_string();
    assert!(msg.contains("`avg`") && msg.contains("mean_std_rms") && msg.contains("peaks[n]"));
}

#[test]
fn outputs_labels_and_npz_arrays() {
    let metrics = parse_metrics("mean, extrema, peaks[2]").expect("metrics");
    let (_, _, comp) = tree::<f64>(&metrics, 2, 1);
    assert_eq!(comp.row_len(), 3 * (1 + 2 + 2));
    let outs = comp.outputs();
    let offsets: Vec<usize> = outs.iter().map(|o| o.row_offset).collect();
    assert_eq!(offsets, vec![0, 3, 9]);
    assert_eq!(outs[1].array_name, "summary_extrema");
    assert_eq!(outs[1].columns, vec!["max", "min"]);
    assert_eq!(
        summary_labels(&metrics, &["x", "y", "obs"]),
        vec![
            "x_mean",
            "y_mean",
            "obs_mean",
            "x_max",
            "x_min",
            "y_max",
            "y_min",
            "obs_max",
            "obs_min",
            "x_peak_1",
            "x_peak_2",
            "y_peak_1",
            "y_peak_2",
            "obs_peak_1",
            "obs_peak_2",
        ]
    );
    // Two runs, two windows: element value = run*100 + window*10 + column.
    let rows: Vec<f64> = (0..2)
        .flat_map(|r| (0..2).flat_map(move |w| (0..15).map(move |c| (r * 100 + w * 10 + c) as f64)))
        .collect();
    let arrays = comp.gather(&rows, 2, 2).expect("gather");
    assert_eq!(arrays.len(), 3);
    assert_eq!(arrays[0].name, "summary_mean");
    assert_eq!(arrays[0].shape, vec![2, 2, 3]);
    assert_eq!(arrays[0].data[..3], [0.0, 1.0, 2.0]);
    assert_eq!(arrays[0].data[9..], [110.0, 111.0, 112.0]);
    assert_eq!(arrays[1].shape, vec![2, 2, 3, 2]);
    assert_eq!(arrays[1].data[..6], [3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    assert_eq!(arrays[2].shape, vec![2, 2, 3, 2]);
    assert_eq!(arrays[2].data[6..12], [19.0, 20.0, 21.0, 22.0, 23.0, 24.0]);
    assert_eq!(
        comp.gather(&rows[1..], 2, 2).err(),
        Some(SummaryError::RowsLength {
            expected: 60,
            got: 59
        })
    );
}

/// The serial split the parallel `gather` replaced: each metric's part of
/// every window row, rows in order.
fn serial_gather(comp: &SummaryComponent, rows: &[f64]) -> Vec<Vec<f64>> {
    let row_len = comp.row_len();
    comp.outputs()
        .iter()
        .map(|o| {
            let part = comp.n_variables() * o.width;
            rows.chunks_exact(row_len)
                .flat_map(|row| row[o.row_offset..o.row_offset + part].iter().copied())
                .collect()
        })
        .collect()
}

#[test]
fn parallel_gather_equals_the_serial_split() {
    for (text, runs, windows) in [
        ("mean, extrema, peaks[2]", 1000, 3),
        ("mean_std_rms, max", 7, 1),
        ("min", 513, 2),
        ("mean, extrema, peaks[2]", 0, 4),
    ] {
        let metrics = parse_metrics(text).expect("metrics");
        let (_, _, comp) = tree::<f64>(&metrics, 2, 1);
        let rows: Vec<f64> = (0..runs * windows * comp.row_len())
            .map(|i| i as f64 * 0.5 - 7.0)
            .collect();
        let expected = serial_gather(&comp, &rows);
        for threads in [1, 2, 5] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let arrays = pool.install(|| comp.gather(&rows, runs, windows)).unwrap();
            let data: Vec<Vec<f64>> = arrays.iter().map(|a| a.data.clone()).collect();
            assert_eq!(data, expected, "{text}, {runs} runs, {threads} threads");
            // By value: the same arrays (with one metric, the rows moved).
            let owned = pool
                .install(|| comp.gather_owned(rows.clone(), runs, windows))
                .unwrap();
            assert_eq!(owned, arrays, "{text}");
        }
    }
}
