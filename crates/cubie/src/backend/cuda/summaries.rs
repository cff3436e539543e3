//! The summary metrics as CUDA C: the CPU form's update and save
//! (`backend::cpu::summaries`, metrics from `outputs::metrics`) in the
//! same operations and order, on the component's registry buffers. One
//! update and one save function per chosen metric (its parameter, such as
//! the number of peaks, baked in), and the component's own
//! `cubie_summaries_update`, `cubie_summaries_save` and
//! `cubie_summaries_sample`, which the loop calls at every sample time.
//!
//! Window rows go to the kernel's `summaries` array run-fastest: column
//! `window * row_len + j` holds element `j` of a window's row
//! (`[metric][variable][width]`, as on the CPU).

use crate::kernel::KernelTree;
use crate::outputs::MetricSpec;
use crate::outputs::summaries::{
    KINDS, W_D1, W_D2, W_SAMPLES, W_SEEN, W_T_PREV, WINDOW, history_depth, history_name,
    metric_buffer_name,
};
use crate::outputs::{SummaryError, SummaryTiming};
use crate::precision::Precision;

use super::CudaError;
use super::source::{CReal, CudaSource};

/// Where the loop's summaries stand: what `cubie_loop` needs to sample
/// and to fill a failed run's windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryShape {
    /// Sample times of one run.
    pub n_samples: usize,
    /// Samples per window.
    pub samples_per_window: usize,
    /// Windows of one run.
    pub n_windows: usize,
    /// Values in one window row.
    pub row_len: usize,
}

impl SummaryShape {
    /// The summary values of one run (`n_windows * row_len`).
    pub fn values_per_run(&self) -> usize {
        self.n_windows * self.row_len
    }
}

/// The shape of `tree`'s summaries, `None` without them; refuses what the
/// CPU form refuses.
pub fn shape(tree: &KernelTree) -> Result<Option<SummaryShape>, CudaError> {
    let Some(timing) = &tree.plan.timing else {
        return Ok(None);
    };
    // Counts are kept in `real`; f32 counts whole numbers exactly to 2^24.
    let max = 1usize << 24;
    if tree.precision() == Precision::F32 && timing.samples_per_window() > max {
        return Err(SummaryError::TooManySamples {
            samples: timing.samples_per_window(),
            max,
        }
        .into());
    }
    Ok(Some(SummaryShape {
        n_samples: tree.event_times().samples.len(),
        samples_per_window: timing.samples_per_window(),
        n_windows: tree.n_windows(),
        row_len: tree.summaries.row_len(),
    }))
}

/// Emits `cubie_sample_time` and the summaries' device functions.
pub fn emit(tree: &KernelTree, real: CReal) -> Result<CudaSource, CudaError> {
    let timing = tree
        .plan
        .timing
        .as_ref()
        .ok_or(CudaError::Internal("summaries emitted without a timing"))?;
    let shape = shape(tree)?.ok_or(CudaError::Internal("summaries without a shape"))?;
    let mut c = CudaSource::new();
    emit_sample_time(&mut c, tree, timing)?;
    let r = real.name();
    let lit = |x: f64| real.literal(x);
    let component = &tree.summaries;
    let metrics = component.metrics();
    let registry = &tree.registry;
    let id = component.id;
    let n_vars = component.n_variables();
    let depth = history_depth(metrics);
    let selections = [
        &tree.plan.summarised_states,
        &tree.plan.summarised_observables,
    ];
    let sources = ["state", "observables"];

    c.line("// What the window counters say about the sample being folded in.");
    c.line(format!(
        "struct cubie_tick {{ {r} n; bool first; bool has_d1; bool first_d1; bool has_d2; bool first_d2; {r} t_prev; }};"
    ));
    c.line("// The window counts a save reads.");
    c.line(format!(
        "struct cubie_window_counts {{ {r} n; {r} d1; {r} d2; }};"
    ));
    c.line("");
    emit_helpers(&mut c, real);
    for metric in metrics {
        emit_metric(&mut c, metric, timing, real);
    }

    c.line("// Folds in one sample taken at t (CPU: SummariesCpu::update).");
    c.open(format!(
        "__device__ __forceinline__ void cubie_summaries_update(double t, const {r}* state, const {r}* observables, \
         {r}* shared, {r}* persistent)"
    ));
    c.line("(void)t; (void)state; (void)observables; (void)shared; (void)persistent;");
    if !metrics.is_empty() {
        super::declare_buffers(&mut c, registry, id)?;
        c.line(format!("{r}* w = {WINDOW};"));
        c.line(format!("const int seen = (int)w[{W_SEEN}];"));
        c.line("const bool has_d1 = seen >= 1;");
        c.line("const bool has_d2 = seen >= 2;");
        c.line(format!("const {r} n = w[{W_SAMPLES}] + {};", lit(1.0)));
        c.line(format!("w[{W_SAMPLES}] = n;"));
        c.line(format!("if (has_d1) w[{W_D1}] = w[{W_D1}] + {};", lit(1.0)));
        c.line(format!("if (has_d2) w[{W_D2}] = w[{W_D2}] + {};", lit(1.0)));
        c.line("cubie_tick tick;");
        c.line("tick.n = n;");
        c.line(format!("tick.first = n == {};", lit(1.0)));
        c.line("tick.has_d1 = has_d1;");
        c.line(format!(
            "tick.first_d1 = has_d1 && w[{W_D1}] == {};",
            lit(1.0)
        ));
        c.line("tick.has_d2 = has_d2;");
        c.line(format!(
            "tick.first_d2 = has_d2 && w[{W_D2}] == {};",
            lit(1.0)
        ));
        c.line(format!("tick.t_prev = w[{W_T_PREV}];"));
        let zero = lit(0.0);
        for ((kind, indices), source) in KINDS.into_iter().zip(selections).zip(sources) {
            if indices.is_empty() {
                continue;
            }
            let history = history_name(kind);
            c.line(format!("// the {kind}s"));
            for metric in metrics {
                let buffer = metric_buffer_name(kind, metric);
                let stride = metric.state_size();
                for (v, &i) in indices.iter().enumerate() {
                    let (prev, prev_prev) = match depth {
                        2 => (
                            format!("{history}[{}]", 2 * v),
                            format!("{history}[{}]", 2 * v + 1),
                        ),
                        1 => (format!("{history}[{v}]"), zero.clone()),
                        _ => (zero.clone(), zero.clone()),
                    };
                    c.line(format!(
                        "cubie_update_{}({buffer} + {}, {source}[{i}], {prev}, {prev_prev}, &tick);",
                        metric.name(),
                        v * stride
                    ));
                }
            }
            if depth > 0 {
                for (v, &i) in indices.iter().enumerate() {
                    if depth == 2 {
                        c.line(format!("{history}[{}] = {history}[{}];", 2 * v + 1, 2 * v));
                    }
                    c.line(format!("{history}[{}] = {source}[{i}];", depth * v));
                }
            }
        }
        c.line(format!("w[{W_SEEN}] = ({r})(seen + 1 < 2 ? seen + 1 : 2);"));
        c.line(format!("w[{W_T_PREV}] = ({r})t;"));
    }
    c.close();
    c.line("");

    c.line("// Starts a new window; earlier samples are kept (derivatives and peaks");
    c.line("// see across windows).");
    c.open(format!(
        "__device__ __forceinline__ void cubie_summaries_reset({r}* shared, {r}* persistent)"
    ));
    c.line("(void)shared; (void)persistent;");
    if !metrics.is_empty() {
        super::declare_buffers(&mut c, registry, id)?;
        for i in [W_SAMPLES, W_D1, W_D2] {
            c.line(format!("{WINDOW}[{i}] = {};", lit(0.0)));
        }
    }
    c.close();
    c.line("");

    c.line("// Writes the window's row from column `column` on (CPU: SummariesCpu::save).");
    c.open(format!(
        "__device__ __forceinline__ void cubie_summaries_save({r}* summaries, unsigned long long column, int run, \
         int n_runs, {r}* shared, {r}* persistent)"
    ));
    c.line("(void)summaries; (void)column; (void)run; (void)n_runs;");
    if !metrics.is_empty() {
        super::declare_buffers(&mut c, registry, id)?;
        c.line("cubie_window_counts counts;");
        c.line(format!("counts.n = {WINDOW}[{W_SAMPLES}];"));
        c.line(format!("counts.d1 = {WINDOW}[{W_D1}];"));
        c.line(format!("counts.d2 = {WINDOW}[{W_D2}];"));
        c.line("const unsigned long long stride = (unsigned long long)n_runs;");
        for (metric, output) in metrics.iter().zip(component.outputs()) {
            let width = metric.output_width();
            let stride = metric.state_size();
            let mut var = 0;
            for (kind, indices) in KINDS.into_iter().zip(selections) {
                let buffer = metric_buffer_name(kind, metric);
                for v in 0..indices.len() {
                    c.line(format!(
                        "cubie_save_{}({buffer} + {}, &CUBIE_OUT(summaries, column + {}, run, n_runs), stride, &counts);",
                        metric.name(),
                        v * stride,
                        output.row_offset + var * width
                    ));
                    var += 1;
                }
            }
            if var != n_vars {
                return Err(CudaError::Internal("summarised variables miscounted"));
            }
        }
        c.line("cubie_summaries_reset(shared, persistent);");
    }
    c.close();
    c.line("");

    c.line("// Folds in sample `index` (from the start of the output interval) and saves");
    c.line("// the window it completes (CPU: SummariesCpu::sample).");
    c.open(format!(
        "__device__ __forceinline__ void cubie_summaries_sample(long long index, double t, const {r}* state, \
         const {r}* observables, {r}* summaries, int run, int n_runs, {r}* shared, {r}* persistent)"
    ));
    c.line("(void)index; (void)t; (void)state; (void)observables; (void)summaries; (void)run; (void)n_runs; (void)shared; (void)persistent;");
    if !metrics.is_empty() {
        c.line("cubie_summaries_update(t, state, observables, shared, persistent);");
        c.line("const long long done = index + 1;");
        c.line(format!(
            "if (done % {}LL != 0) return;",
            shape.samples_per_window
        ));
        c.line(format!(
            "const long long window = done / {}LL - 1;",
            shape.samples_per_window
        ));
        c.open(format!("if (window < {}LL)", shape.n_windows));
        c.line(format!(
            "cubie_summaries_save(summaries, (unsigned long long)window * {}ULL, run, n_runs, shared, persistent);",
            shape.row_len
        ));
        c.close_with("else {");
        // A window past the last whole one is not written.
        c.line("cubie_summaries_reset(shared, persistent);");
        c.close();
    }
    c.close();
    c.line("");
    Ok(c)
}

/// `cubie_sample_time(k)`: the k-th sample time, computed as
/// `SummaryTiming::sample_times` computes it (checked against the tree's
/// own list, so the kernel lands on the CPU's times bit for bit).
fn emit_sample_time(
    c: &mut CudaSource,
    tree: &KernelTree,
    timing: &SummaryTiming,
) -> Result<(), CudaError> {
    let d = |x: f64| CReal(Precision::F64).literal(x);
    let s = &tree.loop_settings;
    let start = s.t0 + s.settling_time;
    let end = start + s.duration;
    let every = timing.sample_every();
    let snap = crate::outputs::summaries::TOLERANCE * every;
    let at = |k: usize| {
        let at = start + k as f64 * every;
        if (at - end).abs() <= snap { end } else { at }
    };
    let times = tree.event_times().samples;
    if times
        .iter()
        .enumerate()
        .any(|(k, &t)| at(k).to_bits() != t.to_bits())
    {
        return Err(CudaError::Internal(
            "sample times differ from the tree's; update cubie_sample_time",
        ));
    }
    c.line("// Summary sample k's time (one within rounding of the end is the end).");
    c.open("__device__ __forceinline__ double cubie_sample_time(long long k)");
    c.line(format!(
        "const double at = {} + (double)k * {};",
        d(start),
        d(every)
    ));
    c.line(format!(
        "return fabs(at - {}) <= {} ? {} : at;",
        d(end),
        d(snap),
        d(end)
    ));
    c.close();
    c.line("");
    Ok(())
}

/// The CPU's `keep_max`, `keep_min`, `running_mean`, `welford` and
/// `record_peak`.
fn emit_helpers(c: &mut CudaSource, real: CReal) {
    let r = real.name();
    let lit = |x: f64| real.literal(x);
    c.line(format!(
        "__device__ __forceinline__ void cubie_keep_max({r}* c, {r} x, bool first) {{ if (first || x > *c) *c = x; }}"
    ));
    c.line(format!(
        "__device__ __forceinline__ void cubie_keep_min({r}* c, {r} x, bool first) {{ if (first || x < *c) *c = x; }}"
    ));
    c.line("// m += (x - m) / n, exact on the window's first sample.");
    c.open(format!(
        "__device__ __forceinline__ void cubie_running_mean({r}* m, {r} x, const cubie_tick* tick)"
    ));
    c.line("if (tick->first) *m = x; else *m = *m + (x - *m) / tick->n;");
    c.close();
    c.line("// Welford's running mean and sum of squared deviations.");
    c.open(format!(
        "__device__ __forceinline__ void cubie_welford({r}* mean, {r}* m2, {r} x, const cubie_tick* tick)"
    ));
    c.open("if (tick->first)");
    c.line("*mean = x;");
    c.line(format!("*m2 = {};", lit(0.0)));
    c.close_with("else {");
    c.line(format!("const {r} delta = x - *mean;"));
    c.line(format!("const {r} m = *mean + delta / tick->n;"));
    c.line("*mean = m;");
    c.line("*m2 = *m2 + delta * (x - m);");
    c.close();
    c.close();
    c.line("// Records the previous sample's time in the next free slot, if any.");
    c.open(format!(
        "__device__ __forceinline__ void cubie_record_peak({r}* s, int slots, bool found, const cubie_tick* tick)"
    ));
    c.line(format!("if (tick->first) s[0] = {};", lit(0.0)));
    c.open("if (found)");
    c.line("const int count = (int)s[0];");
    c.open("if (count < slots)");
    c.line("s[1 + count] = tick->t_prev;");
    c.line(format!("s[0] = s[0] + {};", lit(1.0)));
    c.close();
    c.close();
    c.close();
    c.line("");
}

/// One metric's update and save (`MetricSpec::update`, `MetricSpec::save`).
fn emit_metric(c: &mut CudaSource, metric: &MetricSpec, timing: &SummaryTiming, real: CReal) {
    use MetricSpec::*;
    let r = real.name();
    let lit = |x: f64| real.literal(x);
    let name = metric.name();
    let sqrt = real.math("sqrt");
    let h = timing.sample_every();
    let (inv_h, inv_h2) = (lit(1.0 / h), lit(1.0 / (h * h)));
    c.line(format!("// {metric}"));
    c.open(format!(
        "__device__ __forceinline__ void cubie_update_{name}({r}* s, {r} x, {r} prev, {r} prev_prev, const cubie_tick* tick)"
    ));
    c.line("(void)prev; (void)prev_prev;");
    let d1 = "x - prev";
    let d2 = "x - (prev + prev) + prev_prev";
    match *metric {
        Mean => c.line("cubie_running_mean(&s[0], x, tick);"),
        Rms => c.line("cubie_running_mean(&s[0], x * x, tick);"),
        Std | MeanStd | MeanStdRms | StdRms => c.line("cubie_welford(&s[0], &s[1], x, tick);"),
        Max => c.line("cubie_keep_max(&s[0], x, tick->first);"),
        Min => c.line("cubie_keep_min(&s[0], x, tick->first);"),
        Extrema => {
            c.line("cubie_keep_max(&s[0], x, tick->first);");
            c.line("cubie_keep_min(&s[1], x, tick->first);");
        }
        MaxMagnitude => c.line(format!(
            "cubie_keep_max(&s[0], {}(x), tick->first);",
            real.math("fabs")
        )),
        // Strictly above (below) both neighbours.
        Peaks(n) => c.line(format!(
            "cubie_record_peak(s, {n}, tick->has_d2 && prev > x && prev > prev_prev, tick);"
        )),
        NegativePeaks(n) => c.line(format!(
            "cubie_record_peak(s, {n}, tick->has_d2 && prev < x && prev < prev_prev, tick);"
        )),
        DxdtMax => c.line(format!(
            "if (tick->has_d1) cubie_keep_max(&s[0], {d1}, tick->first_d1);"
        )),
        DxdtMin => c.line(format!(
            "if (tick->has_d1) cubie_keep_min(&s[0], {d1}, tick->first_d1);"
        )),
        DxdtExtrema => {
            c.open("if (tick->has_d1)");
            c.line(format!("const {r} d = {d1};"));
            c.line("cubie_keep_max(&s[0], d, tick->first_d1);");
            c.line("cubie_keep_min(&s[1], d, tick->first_d1);");
            c.close();
        }
        D2xdt2Max => c.line(format!(
            "if (tick->has_d2) cubie_keep_max(&s[0], {d2}, tick->first_d2);"
        )),
        D2xdt2Min => c.line(format!(
            "if (tick->has_d2) cubie_keep_min(&s[0], {d2}, tick->first_d2);"
        )),
        D2xdt2Extrema => {
            c.open("if (tick->has_d2)");
            c.line(format!("const {r} d = {d2};"));
            c.line("cubie_keep_max(&s[0], d, tick->first_d2);");
            c.line("cubie_keep_min(&s[1], d, tick->first_d2);");
            c.close();
        }
    }
    c.close();
    // `out[j * stride]` is output value j of the variable.
    c.open(format!(
        "__device__ __forceinline__ void cubie_save_{name}(const {r}* s, {r}* out, unsigned long long stride, \
         const cubie_window_counts* counts)"
    ));
    c.line("(void)s; (void)stride;");
    let zero = lit(0.0);
    let nan = "CUBIE_NAN_REAL";
    c.line(format!("const bool any = counts->n > {zero};"));
    c.line("(void)any;");
    // Population variance; the clamp only guards the square root.
    let var = format!("{}(s[1] / counts->n, {zero})", real.math("fmax"));
    let or_nan = |have: &str, v: &str| format!("{have} ? {v} : {nan}");
    let put = |c: &mut CudaSource, j: usize, v: String| match j {
        0 => c.line(format!("out[0] = {v};")),
        _ => c.line(format!("out[{j} * stride] = {v};")),
    };
    match *metric {
        Mean | Max | Min | MaxMagnitude => put(c, 0, or_nan("any", "s[0]")),
        Rms => put(c, 0, or_nan("any", &format!("{sqrt}(s[0])"))),
        Std => put(c, 0, or_nan("any", &format!("{sqrt}({var})"))),
        MeanStd => {
            put(c, 0, or_nan("any", "s[0]"));
            put(c, 1, or_nan("any", &format!("{sqrt}({var})")));
        }
        MeanStdRms => {
            put(c, 0, or_nan("any", "s[0]"));
            put(c, 1, or_nan("any", &format!("{sqrt}({var})")));
            put(c, 2, or_nan("any", &format!("{sqrt}({var} + s[0] * s[0])")));
        }
        StdRms => {
            put(c, 0, or_nan("any", &format!("{sqrt}({var})")));
            put(c, 1, or_nan("any", &format!("{sqrt}({var} + s[0] * s[0])")));
        }
        Extrema => {
            put(c, 0, or_nan("any", "s[0]"));
            put(c, 1, or_nan("any", "s[1]"));
        }
        Peaks(slots) | NegativePeaks(slots) => {
            c.line("const int count = any ? (int)s[0] : 0;");
            c.line(format!(
                "for (int j = 0; j < {slots}; ++j) out[(unsigned long long)j * stride] = j < count ? s[1 + j] : {nan};"
            ));
        }
        DxdtMax | DxdtMin => put(
            c,
            0,
            or_nan(&format!("counts->d1 > {zero}"), &format!("s[0] * {inv_h}")),
        ),
        DxdtExtrema => {
            let have = format!("counts->d1 > {zero}");
            put(c, 0, or_nan(&have, &format!("s[0] * {inv_h}")));
            put(c, 1, or_nan(&have, &format!("s[1] * {inv_h}")));
        }
        D2xdt2Max | D2xdt2Min => put(
            c,
            0,
            or_nan(&format!("counts->d2 > {zero}"), &format!("s[0] * {inv_h2}")),
        ),
        D2xdt2Extrema => {
            let have = format!("counts->d2 > {zero}");
            put(c, 0, or_nan(&have, &format!("s[0] * {inv_h2}")));
            put(c, 1, or_nan(&have, &format!("s[1] * {inv_h2}")));
        }
    }
    c.close();
    c.line("");
}
