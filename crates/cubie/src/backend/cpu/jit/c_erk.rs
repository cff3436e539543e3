//! The fused ERK step's lane kernels written as C, for the host's C
//! compiler ([`CodeGenerator::HostC`](super::CodeGenerator::HostC)).
//!
//! Each lane's step is the scalar fused step's code, operation for
//! operation (the model's nodes as the CUDA backend writes them, the
//! weights `dt * a`, the sums `y + w k_0 + w k_1 ...` left to right as
//! fused multiply-adds (`fma(w, k, sum)`, as every backend sums them), stage
//! times `t + c dt` in `double` rounded to the precision), inside a loop
//! over the block's lanes that the compiler vectorizes (`#pragma omp
//! simd`): every lane reads and writes only its own elements, so the
//! iterations are independent. With contraction off, each lane gets the
//! Cranelift step's bits. Two functions are exported, with the
//! signatures of the Cranelift lane step and fixed-step loop
//! ([`FusedErkStep`](super::FusedErkStep)).

use super::JitError;
use crate::Precision;
use crate::backend::cuda::source::{CReal, CudaSource};
use crate::backend::cuda::system::NodeEmitter;
use crate::step::ErkScheme;
use crate::system::expr::{ExprGraph, Node, Symbol};
use crate::system::schedule::FunctionSchedule;

/// The exported lane step: `RawLaneStep<T>`.
pub const LANE_STEP: &str = "cubie_erk_lanes";
/// The exported fixed-step loop: `RawFixedSteps<T>`.
pub const FIXED_STEPS: &str = "cubie_erk_fixed";

/// What the C is generated from.
pub struct CStepPlan<'a> {
    /// The `dxdt` schedule.
    pub plan: &'a FunctionSchedule,
    /// The method.
    pub scheme: &'a ErkScheme,
    /// The model's expressions.
    pub graph: &'a ExprGraph,
    /// States.
    pub n: usize,
    /// Lanes per block.
    pub lanes: usize,
    /// The precision.
    pub precision: Precision,
    /// Whether to export the fixed-step loop too.
    pub fixed: bool,
}

fn internal(e: impl std::fmt::Display) -> JitError {
    JitError::HostCompiler(format!("cannot write the C lane step: {e}"))
}

impl CStepPlan<'_> {
    /// The whole translation unit.
    pub fn source(&self) -> Result<String, JitError> {
        let real = CReal(self.precision);
        let r = real.name();
        let mask = match self.precision {
            Precision::F32 => "uint32_t",
            Precision::F64 => "uint64_t",
        };
        let mut src = CudaSource::new();
        src.line("// cubie: a fused explicit Runge-Kutta step on lane blocks.");
        src.line("#include <math.h>");
        src.line("#include <stdint.h>");
        src.line("#define CUBIE_INF __builtin_inf()");
        src.line("#define CUBIE_NAN __builtin_nan(\"\")");
        src.line("#define CUBIE_INFF __builtin_inff()");
        src.line("#define CUBIE_NANF __builtin_nanf(\"\")");
        src.line(format!("#define W {}", self.lanes));
        src.line(format!("typedef {r} real;"));
        src.line(format!("typedef {mask} lane_mask;"));
        src.line("");
        // One lane's step; `mode` (0: evaluate the first stage, 1: take it
        // from the cache, 2: take it from the cache where `cached` is set)
        // and `write_error` are constants at every call, so each loop is
        // compiled without their branches.
        src.open(
            "static inline __attribute__((always_inline)) void lane_step(const int l, \
             const int mode, const int write_error, const double t, const double dt64, \
             const real dt, const real* state, const real* parameters, const real* drivers, \
             real* proposed, real* error, real* secondary, real* cache, const lane_mask* cached)",
        );
        src.line("(void)t; (void)dt64; (void)parameters; (void)drivers; (void)error;");
        src.line("(void)secondary; (void)cache; (void)cached; (void)mode; (void)write_error;");
        self.body(&mut src, real)?;
        src.close();
        src.line("");

        src.open(format!(
            "__attribute__((visibility(\"default\"))) void {LANE_STEP}(const double* t, \
             const real* dt, const double* dt64, const real* state, const real* parameters, \
             const real* drivers, real* proposed, real* error, real* secondary, real* cache, \
             const lane_mask* cached, const uint32_t flags)"
        ));
        src.line("const int write_error = (flags & 2u) != 0;");
        src.line("const int mode = (flags & 1u) ? 1 : ((flags & 4u) ? 2 : 0);");
        for mode in 0..3 {
            for write_error in 0..2 {
                src.open(format!(
                    "if (mode == {mode} && write_error == {write_error})"
                ));
                src.line("#pragma omp simd");
                src.line(format!(
                    "for (int l = 0; l < W; ++l) lane_step(l, {mode}, {write_error}, t[l], \
                     dt64[l], dt[l], state, parameters, drivers, proposed, error, secondary, \
                     cache, cached);"
                ));
                src.close();
            }
        }
        src.close();

        if self.fixed {
            src.line("");
            let total = self.n * self.lanes;
            src.open(format!(
                "__attribute__((visibility(\"default\"))) uint64_t {FIXED_STEPS}(const double* \
                 times, const uint64_t count, const real dt, const double dt64, real* state, \
                 const real* parameters, const real* drivers, real* proposed)"
            ));
            // Steps alternate between the two buffers instead of copying
            // each step into the state; the buffers are put right on exit.
            src.line("real* cur = state;");
            src.line("real* next = proposed;");
            src.line("uint64_t k = 0;");
            src.line("int bad = 0;");
            src.open("for (; k < count; ++k)");
            src.line("const double t = times[k];");
            // The lanes' new values are summed while in registers: the sum
            // of finite values is finite unless it overflows, and a sum
            // with an infinite or NaN term never is. An overflow only
            // sends the step to the single-step path, which checks each
            // value; the sum's order is free, so it stays in vectors.
            src.line("real check = 0;");
            src.line("#pragma omp simd reduction(+:check)");
            src.open("for (int l = 0; l < W; ++l)");
            src.line(
                "lane_step(l, 0, 0, t, dt64, dt, cur, parameters, drivers, next, next, next, \
                 next, 0);",
            );
            for i in 0..self.n {
                src.line(format!("check += next[{i} * W + l];"));
            }
            src.close();
            src.line("check -= check;");
            src.line("bad = check != check;");
            src.line("if (bad) break;");
            src.line("real* const swap = cur; cur = next; next = swap;");
            src.close();
            // Out: `state` the last finite step, `proposed` the step after
            // it (the failed one), or the last step again.
            src.open("if (cur != state)");
            src.line(format!(
                "for (int i = 0; i < {total}; ++i) {{ const real v = state[i]; \
                 state[i] = proposed[i]; proposed[i] = v; }}"
            ));
            src.close();
            src.open("if (!bad && k > 0)");
            src.line(format!(
                "for (int i = 0; i < {total}; ++i) proposed[i] = state[i];"
            ));
            src.close();
            src.line("return k;");
            src.close();
        }
        Ok(src.finish())
    }

    /// The body of `lane_step`: loads, stages, stores.
    fn body(&self, src: &mut CudaSource, real: CReal) -> Result<(), JitError> {
        let (plan, scheme, n, s) = (self.plan, self.scheme, self.n, self.scheme.stages());
        let at = |i: usize| format!("{i} * W + l");
        for i in 0..n {
            src.line(format!("const real y{i} = state[{}];", at(i)));
        }
        // Inputs other than time and the stage state, loaded once.
        let mut fixed = Vec::new();
        for &(id, sym) in plan.inputs() {
            let name = match sym {
                Symbol::Parameter(i) => {
                    src.line(format!("const real p{i} = parameters[{}];", at(i as usize)));
                    format!("p{i}")
                }
                Symbol::Driver(i) => {
                    src.line(format!("const real d{i} = drivers[{}];", at(i as usize)));
                    format!("d{i}")
                }
                Symbol::Time | Symbol::State(_) => continue,
                _ => return Err(internal("dxdt reads an input the fused step lacks")),
            };
            fixed.push((id, name));
        }
        for j in 0..s {
            let decl: Vec<String> = (0..n).map(|m| format!("k{j}_{m}")).collect();
            if !decl.is_empty() {
                src.line(format!("real {};", decl.join(", ")));
            }
        }
        let f64_literal = |x: f64| CReal(Precision::F64).literal(x);
        // `k_j = f(t_j, stage)` into `k{j}_*`.
        let eval = |src: &mut CudaSource, j: usize, stage: &[String]| -> Result<(), JitError> {
            src.open("");
            let time = if j == 0 {
                "(real)t".to_string()
            } else {
                format!("(real)(t + {} * dt64)", f64_literal(scheme.c[j]))
            };
            let mut emitter = NodeEmitter::new(self.graph, real);
            for (id, name) in &fixed {
                emitter.values[id.index()] = Some(name.clone());
            }
            for &(id, sym) in plan.inputs() {
                match sym {
                    Symbol::Time => {
                        src.line(format!("const real time = {time};"));
                        emitter.values[id.index()] = Some("time".into());
                    }
                    Symbol::State(i) => {
                        let value = stage
                            .get(i as usize)
                            .ok_or_else(|| internal("state index out of range"))?;
                        emitter.values[id.index()] = Some(value.clone());
                    }
                    _ => {}
                }
            }
            for &id in plan.nodes() {
                if matches!(self.graph.node(id), Node::Symbol(_) | Node::Const(_)) {
                    continue;
                }
                let expression = emitter.operation(id).map_err(internal)?;
                let var = format!("v{}", id.index());
                src.line(format!("const real {var} = {expression};"));
                emitter.values[id.index()] = Some(var);
            }
            for (k, &root) in plan.roots().iter().enumerate() {
                let value = emitter.operand(root).map_err(internal)?;
                src.line(format!("k{j}_{} = {value};", plan.position(k)));
            }
            src.close();
            Ok(())
        };
        // `base + (dt w_0) k_0 + (dt w_1) k_1 ...` over the non-zero
        // weights; no base means zero.
        let combine = |src: &mut CudaSource,
                       name: &str,
                       weights: &dyn Fn(usize) -> f64,
                       stages: usize,
                       base: bool|
         -> Vec<String> {
            let used: Vec<usize> = (0..stages).filter(|&j| weights(j) != 0.0).collect();
            for &j in &used {
                src.line(format!(
                    "const real w_{name}_{j} = dt * {};",
                    real.literal(weights(j))
                ));
            }
            let fma = real.math("fma");
            (0..n)
                .map(|m| {
                    let mut sum = String::new();
                    for &j in &used {
                        let (w, k) = (format!("w_{name}_{j}"), format!("k{j}_{m}"));
                        sum = if sum.is_empty() {
                            if base {
                                format!("{fma}({w}, {k}, y{m})")
                            } else {
                                format!("{w} * {k}")
                            }
                        } else {
                            format!("{fma}({w}, {k}, {sum})")
                        };
                    }
                    if sum.is_empty() {
                        sum = if base {
                            format!("y{m}")
                        } else {
                            real.literal(0.0)
                        };
                    }
                    let var = format!("{name}_{m}");
                    src.line(format!("const real {var} = {sum};"));
                    var
                })
                .collect()
        };

        let y: Vec<String> = (0..n).map(|i| format!("y{i}")).collect();
        if scheme.fsal {
            src.open("if (mode == 1)");
            for m in 0..n {
                src.line(format!("k0_{m} = cache[{}];", at(m)));
            }
            src.close();
            src.open("else");
            eval(src, 0, &y)?;
            src.open("if (mode == 2 && cached[l] != 0)");
            for m in 0..n {
                src.line(format!("k0_{m} = cache[{}];", at(m)));
            }
            src.close();
            src.close();
        } else {
            eval(src, 0, &y)?;
        }
        for i in 1..s {
            let stage = combine(src, &format!("s{i}"), &|j| scheme.a(i, j), i, true);
            eval(src, i, &stage)?;
        }
        let new = combine(src, "x", &|j| scheme.b[j], s, true);
        for (m, v) in new.iter().enumerate() {
            src.line(format!("proposed[{}] = {v};", at(m)));
        }
        if scheme.fsal {
            for m in 0..n {
                src.line(format!("cache[{}] = k{}_{m};", at(m), s - 1));
            }
        }
        if !scheme.error_weights.is_empty() {
            src.open("if (write_error)");
            let w = |j: usize| scheme.error_weights.get(j).copied().unwrap_or(0.0);
            let err = combine(src, "e", &w, s, false);
            for (m, v) in err.iter().enumerate() {
                src.line(format!("error[{}] = {v};", at(m)));
            }
            if !scheme.secondary_weights.is_empty() {
                let w = |j: usize| scheme.secondary_weights.get(j).copied().unwrap_or(0.0);
                let err = combine(src, "e2", &w, s, false);
                for (m, v) in err.iter().enumerate() {
                    src.line(format!("secondary[{}] = {v};", at(m)));
                }
            }
            src.close();
        }
        Ok(())
    }
}
