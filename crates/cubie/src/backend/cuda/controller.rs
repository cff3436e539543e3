//! The step controller as CUDA C: the scaled error norm, the accept or
//! reject decision of each kind and the automatic first step, with the
//! tolerances and gains baked in as literals. Each function performs the
//! operations of [`StepController`](crate::backend::cpu::step_controller::StepController)
//! in the same order.

use crate::controllers::{ControllerComponent, ControllerKind};
use crate::memory::BufferRegistry;

use super::CudaError;
use super::source::{CReal, CudaSource};

/// `cubie_propose`'s answers, as the loop reads them.
pub const ACCEPT: i32 = 0;
/// The step is retried with `*next_dt`.
pub const REJECT: i32 = 1;
/// The step was rejected at the smallest step.
pub const TOO_SMALL: i32 = 2;

/// Emits `cubie_error_norm`, `cubie_propose` and `cubie_initial_dt`.
pub fn emit(
    controller: &ControllerComponent,
    registry: &BufferRegistry,
    real: CReal,
) -> Result<CudaSource, CudaError> {
    let s = &controller.settings;
    let n = controller.n_states;
    let r = real.name();
    let lit = |x: f64| real.literal(x);
    let fmax = real.math("fmax");
    let fmin = real.math("fmin");
    let pow = "cubie_pow";
    let atol = s.atol.expand(n);
    let rtol = s.rtol.expand(n);
    let mut c = CudaSource::new();
    for line in super::power::c_source(real.0).lines() {
        c.line(line);
    }
    c.line("");

    c.line("// Scaled RMS error norm (OrdinaryDiffEq's).");
    c.open(format!(
        "__device__ __forceinline__ {r} cubie_error_norm(const {r}* err, const {r}* y_prev, const {r}* y_new)"
    ));
    if n == 0 {
        c.line(format!("return {};", lit(0.0)));
    } else {
        c.line(format!("{r} sum = {};", lit(0.0)));
        for i in 0..n {
            c.line(format!(
                "{{ const {r} scale = {} + {fmax}({abs}(y_prev[{i}]), {abs}(y_new[{i}])) * {}; const {r} q = err[{i}] / scale; sum = sum + q * q; }}",
                lit(atol[i]),
                lit(rtol[i]),
                abs = real.math("fabs"),
            ));
        }
        c.line(format!(
            "return {}(sum / {});",
            real.math("sqrt"),
            lit(n as f64)
        ));
    }
    c.close();
    c.line("");

    // The decision.
    let clamp_q = |q: &str| {
        format!(
            "{fmin}({fmax}({q}, {}), {})",
            lit(1.0 / s.max_gain),
            lit(1.0 / s.min_gain)
        )
    };
    let inv_qmin = lit(1.0 / s.min_gain);
    let inv_qmax = lit(1.0 / s.max_gain);
    let gamma = lit(s.safety);
    let (dt_min, dt_max) = (lit(s.dt_min), lit(s.dt_max));
    c.line("// Accepts (0) or rejects (1) a step; 2: rejected at the smallest step.");
    c.open(format!(
        "__device__ __forceinline__ int cubie_propose({r} norm, {r} dt, int newton_iterations, {r}* shared, {r}* persistent, {r}* next_dt)"
    ));
    c.line("(void)newton_iterations; (void)shared; (void)persistent;");
    super::declare_buffers(&mut c, registry, controller.id)?;
    if s.kind == ControllerKind::Fixed {
        c.line("*next_dt = dt;");
        c.line(format!("return {ACCEPT};"));
        c.close();
    } else {
        let reject = |c: &mut CudaSource, retry: &str| {
            c.line(format!("const {r} retry = {retry};"));
            c.open(format!("if (retry < {dt_min} && dt <= {dt_min})"));
            c.line(format!("return {TOO_SMALL};"));
            c.close();
            c.line(format!(
                "*next_dt = {fmin}({fmax}(retry, {dt_min}), {dt_max});"
            ));
            c.line(format!("return {REJECT};"));
        };
        let accept = |c: &mut CudaSource, next: &str| {
            c.line(format!(
                "*next_dt = {fmax}({fmin}({next}, {dt_max}), {dt_min});"
            ));
            c.line(format!("return {ACCEPT};"));
        };
        let deadband = |q: &str| {
            format!(
                "(({} <= {q} && {q} <= {}) ? {} : {q})",
                lit(s.qsteady_min),
                lit(s.qsteady_max),
                lit(1.0)
            )
        };
        c.open("if (!cubie_isfinite(norm))");
        reject(&mut c, &format!("dt / {inv_qmin}"));
        c.close();
        c.line(format!("const bool accept = norm <= {};", lit(1.0)));
        let kp = lit(s.kp);
        match s.kind {
            ControllerKind::Fixed => {}
            ControllerKind::I => {
                c.line(format!(
                    "const {r} q = norm == {} ? {inv_qmax} : {};",
                    lit(0.0),
                    clamp_q(&format!("{pow}(norm, {kp}) / {gamma}"))
                ));
                c.open("if (accept)");
                accept(&mut c, &format!("dt / {}", deadband("q")));
                c.close();
                reject(&mut c, "dt / q");
            }
            ControllerKind::Pi => {
                let qoldinit = lit(1e-4);
                c.line(format!(
                    "const {r} errold = timestep_memory[0] > {} ? timestep_memory[0] : {qoldinit};",
                    lit(0.0)
                ));
                // q11 / errold^beta2 and q11 as one exponential each,
                // as the CPU computes them.
                c.line(format!("const {r} kz = {kp} * cubie_ln(norm);"));
                c.line(format!(
                    "const {r} z = accept ? kz + {} * cubie_ln(errold) : kz;",
                    lit(s.ki)
                ));
                c.line(format!("const {r} scaled = cubie_exp(z) / {gamma};"));
                c.line(format!(
                    "const {r} q = norm == {} ? {inv_qmax} : {};",
                    lit(0.0),
                    clamp_q("scaled")
                ));
                c.open("if (accept)");
                c.line(format!("timestep_memory[0] = {fmax}(norm, {qoldinit});"));
                accept(&mut c, &format!("dt / {}", deadband("q")));
                c.close();
                reject(&mut c, &format!("dt / {fmin}({inv_qmin}, scaled)"));
            }
            ControllerKind::Pid => {
                c.line(format!("const {r} e = {fmax}(norm, {});", real.epsilon()));
                c.line(format!(
                    "const {r} e1 = timestep_memory[0] > {z} ? timestep_memory[0] : {one};",
                    z = lit(0.0),
                    one = lit(1.0)
                ));
                c.line(format!(
                    "const {r} e2 = timestep_memory[1] > {z} ? timestep_memory[1] : {one};",
                    z = lit(0.0),
                    one = lit(1.0)
                ));
                c.line(format!("const {r} q11 = {pow}(e, {kp});"));
                c.line(format!(
                    "const {r} q = {};",
                    clamp_q(&format!(
                        "q11 * {pow}(e1, {}) * {pow}(e2, {}) / {gamma}",
                        lit(s.ki),
                        lit(s.kd)
                    ))
                ));
                c.open("if (accept)");
                c.line("timestep_memory[1] = timestep_memory[0];");
                c.line("timestep_memory[0] = e;");
                accept(&mut c, &format!("dt / {}", deadband("q")));
                c.close();
                reject(&mut c, &format!("dt / {fmin}({inv_qmin}, q11 / {gamma})"));
            }
            ControllerKind::Gustafsson => {
                match s.newton_max_iters {
                    Some(m) => {
                        let m = lit(m as f64);
                        c.line(format!("const {r} it = ({r})newton_iterations;"));
                        c.line(format!(
                            "const {r} fac = {fmin}({gamma}, ({} + {two} * {m}) * {gamma} / (it + {two} * {m}));",
                            lit(1.0),
                            two = lit(2.0)
                        ));
                    }
                    None => c.line(format!("const {r} fac = {gamma};")),
                }
                c.line(format!(
                    "const {r} q = norm == {} ? {inv_qmax} : {};",
                    lit(0.0),
                    clamp_q(&format!("{pow}(norm, {kp}) / fac"))
                ));
                c.line(format!("const {r} dtacc = timestep_memory[0];"));
                c.line(format!("const bool any_accepted = dtacc > {};", lit(0.0)));
                c.open("if (accept)");
                c.line(format!("{r} qacc = q;"));
                c.open("if (any_accepted)");
                c.line(format!("const {r} erracc = timestep_memory[1];"));
                c.line(format!(
                    "const {r} qgus = (dtacc / dt) * {pow}(norm * norm / erracc, {kp});"
                ));
                c.line(format!(
                    "qacc = {fmax}(q, {});",
                    clamp_q(&format!("qgus / {gamma}"))
                ));
                c.close();
                c.line("timestep_memory[0] = dt;");
                c.line(format!("timestep_memory[1] = {fmax}(norm, {});", lit(1e-2)));
                accept(&mut c, &format!("dt / {}", deadband("qacc")));
                c.close();
                c.open("if (any_accepted)");
                reject(&mut c, "dt / q");
                c.close();
                reject(&mut c, &format!("dt * {}", lit(0.1)));
            }
        }
        c.close();
    }
    c.line("");
    emit_initial_dt(&mut c, controller, registry, real, &atol, &rtol)?;
    Ok(c)
}

/// `cubie_initial_dt`: `dt0` if set, else Hairer–Nørsett–Wanner's
/// automatic first step as OrdinaryDiffEq writes it.
fn emit_initial_dt(
    c: &mut CudaSource,
    controller: &ControllerComponent,
    registry: &BufferRegistry,
    real: CReal,
    atol: &[f64],
    rtol: &[f64],
) -> Result<(), CudaError> {
    let s = &controller.settings;
    let n = controller.n_states;
    let r = real.name();
    let lit = |x: f64| real.literal(x);
    let (fmax, fmin) = (real.math("fmax"), real.math("fmin"));
    let abs = real.math("fabs");
    let sqrt = real.math("sqrt");
    c.line("// The first step; adds the derivative evaluations it makes to *evaluations.");
    c.open(format!(
        "__device__ __forceinline__ {r} cubie_initial_dt(double t, const {r}* y0, const {r}* parameters, \
         {r}* drivers, const {r}* driver_rates, {r}* shared, {r}* persistent, long long* evaluations)"
    ));
    c.line("(void)t; (void)y0; (void)parameters; (void)drivers; (void)driver_rates; (void)shared; (void)persistent; (void)evaluations;");
    if let Some(dt0) = s.dt0 {
        c.line(format!("return {};", lit(dt0)));
        c.close();
        return Ok(());
    }
    super::declare_buffers(c, registry, controller.id)?;
    c.line(format!("{r}* f0 = initial_step_scratch;"));
    c.line(format!("{r}* y1 = initial_step_scratch + {n};"));
    c.line(format!("{r}* f1 = initial_step_scratch + {};", 2 * n));
    let (dt_min, dt_max) = (lit(s.dt_min), lit(s.dt_max));
    let cc = lit(93.0 / 83.0);
    c.line(format!("const {r} t0 = ({r})t;"));
    c.line(format!(
        "const {r} small_dt = {fmax}({dt_min}, {cc} * {});",
        lit(1e-6)
    ));
    let sk = |i: usize| format!("({} + {abs}(y0[{i}]) * {})", lit(atol[i]), lit(rtol[i]));
    // The mean square of `g(i)` over the states, summed in order.
    let rms = |c: &mut CudaSource, name: &str, g: &dyn Fn(usize) -> String| {
        if n == 0 {
            c.line(format!("const {r} {name} = {};", lit(0.0)));
            return;
        }
        c.line(format!("{r} {name}_sum = {};", lit(-0.0)));
        for i in 0..n {
            c.line(format!(
                "{{ const {r} g = {}; {name}_sum = {name}_sum + g * g; }}",
                g(i)
            ));
        }
        c.line(format!(
            "const {r} {name} = {sqrt}({name}_sum / {});",
            lit(n as f64)
        ));
    };
    let clamp = |x: &str| format!("{fmax}({fmin}({x}, {dt_max}), {dt_min})");
    rms(c, "d0", &|i| format!("y0[{i}] / {}", sk(i)));
    c.line("cubie_system_dxdt((double)t0, y0, parameters, drivers, driver_rates, f0);");
    c.line("*evaluations += 1;");
    rms(c, "d1", &|i| format!("f0[{i}] / {} * {cc}", sk(i)));
    c.open("if (d1 != d1)");
    c.line(format!("return {dt_min};"));
    c.close();
    let tiny = lit(1e-5);
    c.line(format!(
        "{r} dt0 = (d0 < {tiny} || d1 < {tiny}) ? small_dt : {cc} * (d0 / d1 / {});",
        lit(100.0)
    ));
    c.line(format!("dt0 = {fmin}(dt0, {dt_max});"));
    c.open(format!(
        "if (dt0 < {} * {} * {cc})",
        lit(10.0),
        real.epsilon()
    ));
    c.line(format!("return {};", clamp("small_dt")));
    c.close();
    for i in 0..n {
        c.line(format!("y1[{i}] = y0[{i}] + dt0 * f0[{i}];"));
    }
    c.line("cubie_system_dxdt((double)(t0 + dt0), y1, parameters, drivers, driver_rates, f1);");
    c.line("*evaluations += 1;");
    let same: Vec<String> = (0..n).map(|i| format!("f0[{i}] == f1[{i}]")).collect();
    let same = if same.is_empty() {
        "true".to_string()
    } else {
        same.join(" && ")
    };
    c.open(format!("if ({same})"));
    c.line(format!(
        "return {};",
        clamp(&format!("{} * dt0", lit(100.0)))
    ));
    c.close();
    rms(c, "d2_rms", &|i| {
        format!("(f1[{i}] - f0[{i}]) / {} * {cc}", sk(i))
    });
    c.line(format!("const {r} d2 = d2_rms / dt0 * {cc};"));
    c.line(format!("const {r} m = {fmax}(d1, d2);"));
    c.line(format!(
        "const {r} dt1 = m <= {} ? {fmax}(small_dt, dt0 * {}) : {cc} * {}({}, -({} + {}(m)) / {});",
        lit(1e-15),
        lit(1e-3),
        real.math("pow"),
        lit(10.0),
        lit(2.0),
        real.math("log10"),
        lit(s.order as f64)
    ));
    c.line(format!(
        "return {};",
        clamp(&format!("{fmin}({} * dt0, dt1)", lit(100.0)))
    ));
    c.close();
    Ok(())
}
