//! The time loop as CUDA C: one run from `t0` through the settling time
//! and the output interval, landing on every save and summary sample time
//! exactly, with the CPU loop's decisions in the CPU loop's order
//! (`backend::cpu::time_loop`) so that statuses and counters agree run
//! for run.
//!
//! Outputs are written run-fastest (`[k][j][run]`): consecutive threads
//! write consecutive addresses, and the host reorders them.

use crate::kernel::KernelTree;
use crate::time_loop::Status;
use crate::time_loop::events::SNAP;

use super::CudaError;
use super::controller::{ACCEPT, REJECT};
use super::source::{CReal, CudaSource};
use super::step::StepTraits;

/// Emits `cubie_record` and `cubie_loop`. `drivers` are the constant
/// driver values, `None` when they vary in time (then every model call
/// sets them, as on the CPU).
pub fn emit(
    tree: &KernelTree,
    step: StepTraits,
    drivers: Option<&[f64]>,
    real: CReal,
) -> Result<CudaSource, CudaError> {
    let r = real.name();
    let registry = &tree.registry;
    let id = tree.loop_component.id;
    let n = tree.n_states;
    let plan = &tree.plan;
    let settings = &tree.loop_settings;
    let events = tree.event_times();
    let adaptive = tree.controller.settings.kind.is_adaptive();
    let saved_states = if plan.save_state {
        plan.saved_states.clone()
    } else {
        Vec::new()
    };
    let saved_observables = if plan.save_observables {
        plan.saved_observables.clone()
    } else {
        Vec::new()
    };
    let n_saves = events.saves.len();
    let summaries = super::summaries::shape(tree)?;
    let summarises_observables = summaries.is_some() && !plan.summarised_observables.is_empty();
    let n_parameters = registry.placement(id, "parameters")?.size;
    let n_error = registry.placement(id, "error")?.size;
    let d = |x: f64| CReal(crate::Precision::F64).literal(x);

    let mut c = CudaSource::new();
    c.line("// Records what falls due at t (the loop has landed on it exactly).");
    c.open(format!(
        "__device__ __forceinline__ void cubie_record(double t, int run, int n_runs, const double* save_times, \
         int* saves, long long* samples, const {r}* state, const {r}* parameters, {r}* drivers, const {r}* driver_rates, \
         {r}* observables, {r}* saved_states, {r}* saved_observables, {r}* summaries, {r}* outputs_shared, \
         {r}* outputs_persistent)"
    ));
    c.line("(void)state; (void)parameters; (void)drivers; (void)driver_rates; (void)observables; (void)saved_states; (void)saved_observables; (void)run; (void)n_runs;");
    c.line("(void)samples; (void)summaries; (void)outputs_shared; (void)outputs_persistent;");
    c.line(format!(
        "const bool save_due = *saves < {n_saves} && save_times[*saves] == t;"
    ));
    match &summaries {
        Some(shape) => c.line(format!(
            "const bool sample_due = *samples < {}LL && cubie_sample_time(*samples) == t;",
            shape.n_samples
        )),
        None => c.line("const bool sample_due = false;"),
    }
    c.line("(void)sample_due;");
    let mut need = Vec::new();
    if !saved_observables.is_empty() {
        need.push("save_due");
    }
    if summarises_observables {
        need.push("sample_due");
    }
    if !need.is_empty() {
        c.open(format!("if ({})", need.join(" || ")));
        c.line(
            "cubie_system_observables(t, state, parameters, drivers, driver_rates, observables);",
        );
        c.close();
    }
    c.open("if (save_due)");
    c.line("const int k = *saves;");
    c.line("(void)k;");
    let ns = saved_states.len();
    for (j, &i) in saved_states.iter().enumerate() {
        c.line(format!(
            "CUBIE_OUT(saved_states, k * {ns} + {j}, run, n_runs) = state[{i}];"
        ));
    }
    let no = saved_observables.len();
    for (j, &i) in saved_observables.iter().enumerate() {
        c.line(format!(
            "CUBIE_OUT(saved_observables, k * {no} + {j}, run, n_runs) = observables[{i}];"
        ));
    }
    c.close();
    if summaries.is_some() {
        c.line("if (sample_due) cubie_summaries_sample(*samples, t, state, observables, summaries, run, n_runs, outputs_shared, outputs_persistent);");
    }
    c.line("if (save_due) *saves += 1;");
    c.line("if (sample_due) *samples += 1;");
    c.close();
    c.line("");

    let finite = |c: &mut CudaSource, name: &str, array: &str, len: usize| {
        let terms: Vec<String> = (0..len)
            .map(|i| format!("cubie_isfinite({array}[{i}])"))
            .collect();
        let all = if terms.is_empty() {
            "true".to_string()
        } else {
            terms.join(" && ")
        };
        c.line(format!("const bool {name} = {all};"));
    };

    c.line("// Integrates one run.");
    c.open(format!(
        "__device__ __forceinline__ void cubie_loop(int run, int n_runs, const {r}* initial_values_in, \
         const {r}* parameters_in, const double* save_times, {r}* final_state, {r}* saved_states, \
         {r}* saved_observables, int* status_out, long long* counters_out, {r}* summaries, {r}* shared, {r}* persistent)"
    ));
    c.line("(void)shared; (void)persistent;");
    super::declare_buffers(&mut c, registry, id)?;
    for i in 0..n {
        c.line(format!(
            "state[{i}] = CUBIE_OUT(initial_values_in, {i}, run, n_runs);"
        ));
    }
    for i in 0..n_parameters {
        c.line(format!(
            "parameters[{i}] = CUBIE_OUT(parameters_in, {i}, run, n_runs);"
        ));
    }
    match drivers {
        // Constant drivers are loaded once.
        Some(values) => {
            for (i, &v) in values.iter().enumerate() {
                c.line(format!("drivers[{i}] = {};", real.literal(v)));
            }
        }
        None => c.line(format!(
            "cubie_drivers({}, drivers, nullptr);",
            d(settings.t0)
        )),
    }
    c.line(format!(
        "const double t_start = {} + {};",
        d(settings.t0),
        d(settings.settling_time)
    ));
    c.line(format!(
        "const double t_end = t_start + {};",
        d(settings.duration)
    ));
    c.line("int status = 0;");
    c.line(format!("double t = {};", d(settings.t0)));
    c.line(
        "dt[0] = cubie_initial_dt(t, state, parameters, drivers, driver_rates, controller_shared, controller_persistent, &counters[2]);",
    );
    c.line("unsigned long long steps = 0;");
    c.line("bool non_finite_pending = false;");
    c.line("int saves = 0;");
    c.line("long long samples = 0;");
    let record = "cubie_record(t, run, n_runs, save_times, &saves, &samples, state, parameters, drivers, driver_rates, observables, saved_states, saved_observables, summaries, outputs_shared, outputs_persistent);";
    if settings.settling_time == 0.0 {
        c.line(record);
    }
    c.open("while (t < t_end)");
    c.open(format!("if (steps >= {}ULL)", settings.max_steps));
    c.line(format!("status |= {};", Status::MAX_STEPS.0));
    c.line(format!(
        "if (non_finite_pending) status |= {};",
        Status::NON_FINITE_STATE.0
    ));
    c.line("break;");
    c.close();
    c.line(format!(
        "const double next_save = saves < {n_saves} ? save_times[saves] : CUBIE_INF;"
    ));
    match &summaries {
        Some(shape) => c.line(format!(
            "const double next_sample = samples < {}LL ? cubie_sample_time(samples) : CUBIE_INF;",
            shape.n_samples
        )),
        None => c.line("const double next_sample = CUBIE_INF;"),
    }
    c.line("const double next_event = fmin(next_save, next_sample);");
    c.line("const double segment_end = t < t_start ? t_start : t_end;");
    c.line("const double event = fmin(next_event, segment_end);");
    c.line("const double controller_dt = (double)dt[0];");
    c.line("const double remaining = event - t;");
    c.line(format!(
        "const bool lands = controller_dt >= remaining * (1.0 - {});",
        d(SNAP)
    ));
    c.line("const double step_dt = lands ? remaining : controller_dt;");
    c.open("if (!lands && t + step_dt == t)");
    c.line(format!("status |= {};", Status::STEP_TOO_SMALL.0));
    c.line("break;");
    c.close();
    c.line(format!(
        "const bool first_stage_cached = {} && accept[0] == 1;",
        step.caches_first_stage
    ));
    c.line(format!(
        "const cubie_step_report report = cubie_step(t, ({r})step_dt, state, proposed_state, error, parameters, drivers, driver_rates, first_stage_cached, step_shared, step_persistent);"
    ));
    c.line("steps += 1;");
    c.line("counters[2] += report.evaluations;");
    finite(&mut c, "proposed_finite", "proposed_state", n);
    finite(&mut c, "error_finite", "error", n_error);
    c.line(format!(
        "const bool non_finite = (report.status & {}) != 0 || !proposed_finite || !error_finite;",
        Status::NON_FINITE_STATE.0
    ));
    c.line(format!("{r} next_dt = dt[0];"));
    c.line(format!("int decision = {ACCEPT};"));
    if adaptive {
        c.open("if (non_finite)");
        c.line("cubie_system_dxdt(t, state, parameters, drivers, driver_rates, error);");
        c.line("counters[2] += 1;");
        finite(&mut c, "derivative_finite", "error", n_error);
        c.open("if (!derivative_finite)");
        c.line("counters[1] += 1;");
        c.line(format!("status |= {};", Status::NON_FINITE_STATE.0));
        c.line("status |= report.status;");
        c.line("break;");
        c.close();
        c.line("non_finite_pending = true;");
        c.close();
        c.line(format!(
            "{r} norm = non_finite ? CUBIE_INF_REAL : cubie_step_error_norm(error, state, proposed_state, &report);"
        ));
        c.line("if (report.status != 0) norm = CUBIE_INF_REAL;");
        c.line(format!(
            "decision = cubie_propose(norm, ({r})step_dt, report.newton_iterations, controller_shared, controller_persistent, &next_dt);"
        ));
    }
    c.open(format!("if (decision == {ACCEPT})"));
    c.line("status |= report.status;");
    c.open("if (non_finite || (non_finite_pending && status != 0))");
    c.line(format!("status |= {};", Status::NON_FINITE_STATE.0));
    c.close();
    c.line("if (status != 0) break;");
    c.line("counters[0] += 1;");
    for i in 0..n {
        c.line(format!("state[{i}] = proposed_state[{i}];"));
    }
    c.line("t = lands ? event : t + step_dt;");
    c.line("accept[0] = 1;");
    c.line(format!(
        "dt[0] = (lands && (double)next_dt < controller_dt) ? ({r})controller_dt : next_dt;"
    ));
    c.line(format!("if (lands && t >= t_start) {record}"));
    c.close_with(format!("else if (decision == {REJECT}) {{").as_str());
    c.line("counters[1] += 1;");
    c.line("accept[0] = 0;");
    c.line("dt[0] = next_dt;");
    c.close_with("else {");
    c.line("counters[1] += 1;");
    c.line(format!("status |= {};", Status::STEP_TOO_SMALL.0));
    c.line("status |= report.status;");
    c.line(format!(
        "if (non_finite_pending) status |= {};",
        Status::NON_FINITE_STATE.0
    ));
    c.line("break;");
    c.close();
    c.close();
    // A failed run's unreached saves read NaN, so no zero passes for a value.
    c.open("if (status != 0)");
    c.open(format!("for (int k = saves; k < {n_saves}; ++k)"));
    for j in 0..ns {
        c.line(format!(
            "CUBIE_OUT(saved_states, k * {ns} + {j}, run, n_runs) = CUBIE_NAN_REAL;"
        ));
    }
    for j in 0..no {
        c.line(format!(
            "CUBIE_OUT(saved_observables, k * {no} + {j}, run, n_runs) = CUBIE_NAN_REAL;"
        ));
    }
    c.close();
    if let Some(shape) = &summaries {
        // The windows not completed, the one cut short included.
        c.line(format!(
            "const unsigned long long done = (unsigned long long)(samples / {}LL);",
            shape.samples_per_window.max(1)
        ));
        c.open(format!(
            "for (unsigned long long j = done * {}ULL; j < {}ULL; ++j)",
            shape.row_len,
            shape.values_per_run()
        ));
        c.line("CUBIE_OUT(summaries, j, run, n_runs) = CUBIE_NAN_REAL;");
        c.close();
    }
    c.close();
    for i in 0..n {
        c.line(format!(
            "CUBIE_OUT(final_state, {i}, run, n_runs) = state[{i}];"
        ));
    }
    c.line("status_out[run] = status;");
    for k in 0..3 {
        c.line(format!(
            "CUBIE_OUT(counters_out, {k}, run, n_runs) = counters[{k}];"
        ));
    }
    c.close();
    Ok(c)
}
