//! The explicit Runge–Kutta step as CUDA C: the tableau unrolled as the
//! CPU's generic form performs it ([`ErkScheme::contributions`]), every
//! coefficient a literal, the stages in the registry's buffers.
//!
//! [`ErkScheme::contributions`]: crate::step::ErkScheme::contributions

use crate::memory::{Aliasing, BufferRegistry};
use crate::step::{ErkStep, ErkTarget};
use crate::time_loop::Status;

use super::super::CudaError;
use super::super::source::{CReal, CudaSource};
use super::StepTraits;

pub(super) fn emit(
    step: &ErkStep,
    registry: &BufferRegistry,
    real: CReal,
) -> Result<(CudaSource, StepTraits), CudaError> {
    let scheme = step.scheme();
    let plan = scheme.contributions();
    let n = step.n;
    let r = real.name();
    let cache = registry.placement(step.id, "stage_cache")?;
    // Overlaid on the first element of the stage derivative: nothing to copy.
    let cache_is_rhs = matches!(
        &cache.aliasing,
        Aliasing::Overlaid { parent, offset } if parent == "stage_rhs" && *offset == 0
    );
    let has_secondary = !scheme.secondary_weights.is_empty();
    let mut c = CudaSource::new();
    c.line(format!(
        "// One explicit Runge-Kutta step ({} stages).",
        scheme.stages()
    ));
    c.open(format!(
        "__device__ __forceinline__ cubie_step_report cubie_step(double t, {r} dt, const {r}* state, \
         {r}* proposed, {r}* error, const {r}* parameters, {r}* drivers, const {r}* driver_rates, \
         bool first_stage_cached, {r}* shared, {r}* persistent)"
    ));
    c.line("(void)error; (void)first_stage_cached; (void)shared; (void)persistent;");
    super::super::declare_buffers(&mut c, registry, step.id)?;
    c.line("int evaluations = 0;");
    c.line("const double dt64 = (double)dt;");
    c.line("(void)dt64;");
    let copy = |c: &mut CudaSource, from: &str, to: &str| {
        for i in 0..n {
            c.line(format!("{to}[{i}] = {from}[{i}];"));
        }
    };
    let dxdt = "cubie_system_dxdt(t, state, parameters, drivers, driver_rates, stage_rhs);";
    if scheme.fsal {
        // Read before the accumulator, which the cache may alias.
        c.open("if (first_stage_cached)");
        if !cache_is_rhs {
            copy(&mut c, "stage_cache", "stage_rhs");
        }
        c.close_with("else {");
        c.line(dxdt);
        c.line("evaluations += 1;");
        c.close();
    } else {
        c.line(dxdt);
        c.line("evaluations += 1;");
    }
    for (j, contributions) in plan.stages.iter().enumerate() {
        c.line(format!("// stage {j}"));
        if j > 0 {
            let stage_state = if plan.stage_reads_state[j] {
                "state".to_string()
            } else {
                format!("stage_accumulator + {}", (j - 1) * n)
            };
            c.line(format!(
                "cubie_system_dxdt(t + {} * dt64, {stage_state}, parameters, drivers, driver_rates, stage_rhs);",
                CReal(crate::Precision::F64).literal(scheme.c[j])
            ));
            c.line("evaluations += 1;");
        }
        for contribution in contributions {
            let (target, base) = match contribution.target {
                ErkTarget::Stage(i) => (format!("stage_accumulator[{}", i * n), Some("state")),
                ErkTarget::Solution => ("proposed[".to_string(), Some("state")),
                ErkTarget::Error => ("error[".to_string(), None),
                ErkTarget::Secondary => ("secondary_error[".to_string(), None),
            };
            let offset = |i: usize| {
                if target.ends_with('[') {
                    format!("{target}{i}]")
                } else {
                    format!("{target} + {i}]")
                }
            };
            c.open("");
            c.line(format!(
                "const {r} w = dt * {};",
                real.literal(contribution.weight)
            ));
            let fma = real.math("fma");
            for i in 0..n {
                let t = offset(i);
                let line = match (contribution.first, base) {
                    (false, _) => format!("{t} = {fma}(w, stage_rhs[{i}], {t});"),
                    (true, Some(base)) => {
                        format!("{t} = {fma}(w, stage_rhs[{i}], {base}[{i}]);")
                    }
                    (true, None) => format!("{t} = w * stage_rhs[{i}];"),
                };
                c.line(line);
            }
            c.close();
        }
    }
    if scheme.fsal && !cache_is_rhs {
        // The last stage was evaluated at (t + dt, y_new): the next step's first.
        copy(&mut c, "stage_rhs", "stage_cache");
    }
    c.line("cubie_step_report report;");
    c.line("report.status = 0;");
    c.line("report.evaluations = evaluations;");
    c.line("report.newton_iterations = 0;");
    if has_secondary {
        c.line("report.secondary_norm = cubie_error_norm(secondary_error, state, proposed);");
    } else {
        c.line(format!("report.secondary_norm = {};", real.literal(0.0)));
    }
    if has_secondary {
        let finite: Vec<String> = (0..n)
            .map(|i| format!("cubie_isfinite(secondary_error[{i}])"))
            .collect();
        c.open(format!("if (!({}))", finite.join(" && ")));
        c.line(format!("report.status = {};", Status::NON_FINITE_STATE.0));
        c.close();
    }
    c.line("return report;");
    c.close();
    c.line("");

    c.line("// The step's error as one number.");
    c.open(format!(
        "__device__ __forceinline__ {r} cubie_step_error_norm(const {r}* error, const {r}* state, \
         const {r}* proposed, const cubie_step_report* report)"
    ));
    c.line("(void)report;");
    if has_secondary {
        c.line(format!(
            "const {r} err5 = cubie_error_norm(error, state, proposed);"
        ));
        c.line(format!("const {r} err3 = report->secondary_norm;"));
        c.line(format!("const {r} e5sq = err5 * err5;"));
        c.line(format!(
            "const {r} deno = e5sq + {} * err3 * err3;",
            real.literal(0.01)
        ));
        c.line(format!(
            "return deno > {} ? e5sq / {}(deno) : {};",
            real.literal(0.0),
            real.math("sqrt"),
            real.literal(0.0)
        ));
    } else {
        c.line("return cubie_error_norm(error, state, proposed);");
    }
    c.close();
    Ok((
        c,
        StepTraits {
            caches_first_stage: scheme.fsal,
        },
    ))
}
