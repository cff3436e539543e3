//! A whole explicit Runge–Kutta step compiled as one native function.
//!
//! The model's `dxdt` DAG is emitted once per stage into the same
//! function, so stage states and stage derivatives stay in SSA values
//! (registers) instead of round-tripping through the step's buffers and a
//! separately compiled `dxdt`. The arithmetic is the generic step's, in
//! the same order and precision (`w = dt * a`, `acc = y + w k_0`,
//! `acc += w k_j`, stage time `t + c dt` in `f64` rounded to `T`), so both
//! paths give the same results.
//!
//! Buffers: the fused function reads the state, parameters, drivers and
//! (FSAL, first stage cached) the `stage_cache`; it writes the proposed
//! state, the error estimates and (FSAL) the `stage_cache`. It never
//! touches `stage_rhs` or `stage_accumulator`: those stay registered for
//! the generic path and the CUDA layout.

use std::cell::Cell;

use cranelift_codegen::ir::types::{F32, F64, I32};
use cranelift_codegen::ir::{AbiParam, InstBuilder, MemFlagsData, UserFuncName, Value};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{Linkage, Module};
use thiserror::Error;

use super::lower::{Lowerer, ShimImports, byte_offset};
use super::math::JitReal;
use super::native::{OwnedModule, new_module};
use super::{JitError, JitOptions};
use crate::memory::{LaneBuf, LaneMask, MAX_LANES, PerLane};
use crate::step::ErkScheme;
use crate::system::args::ValueSlice;
use crate::system::expr::Symbol;
use crate::system::functions::{SystemFunction, SystemFunctions};
use crate::system::schedule::Schedule;

/// Largest `stages * (nodes of the dxdt DAG)` that is inlined; larger
/// models keep the generic step (compile time and code size grow with it,
/// and a large `dxdt` gains little from fusing).
pub const MAX_FUSED_NODES: usize = 8192;

/// An array passed to [`FusedErkStep::step`] has the wrong length.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("fused ERK step: `{argument}` has length {found}, expected {expected}")]
pub struct FusedLengthError {
    /// The argument's name.
    pub argument: &'static str,
    /// The required length.
    pub expected: usize,
    /// The length given.
    pub found: usize,
}

/// `(t, dt, state, parameters, drivers, proposed, error, secondary,
/// stage_cache, flags)`.
type RawStep<T> =
    unsafe extern "C" fn(f64, T, *const T, *const T, *const T, *mut T, *mut T, *mut T, *mut T, u32);

/// Flag bit: read the first stage's derivative from `stage_cache`.
const FIRST_STAGE_CACHED: u32 = 1;
/// Flag bit: store the error estimate(s).
const WRITE_ERROR: u32 = 2;

/// One ERK step of one model, compiled for precision `T`; owns its code.
///
/// `Send + Sync` for the same reasons as
/// [`NativeSystem`](super::NativeSystem): the module is only freed on
/// drop, and a call takes `&self`, checks lengths and allocates nothing.
pub struct FusedErkStep<T: JitReal> {
    code: RawStep<T>,
    n_states: usize,
    n_parameters: usize,
    n_drivers: usize,
    stages: usize,
    has_error: bool,
    has_secondary: bool,
    fsal: bool,
    // Declared last: dropped after the code pointer above.
    _module: OwnedModule,
}

impl<T: JitReal> std::fmt::Debug for FusedErkStep<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FusedErkStep")
            .field("precision", &T::PRECISION)
            .field("n_states", &self.n_states)
            .field("stages", &self.stages)
            .finish_non_exhaustive()
    }
}

impl<T: JitReal> FusedErkStep<T> {
    /// Compiles one step of `scheme` on `functions`' `dxdt`; `Ok(None)`
    /// when the model is too large to inline
    /// ([`MAX_FUSED_NODES`]) or `dxdt` reads something besides time,
    /// states, parameters and drivers.
    pub fn compile(
        functions: &SystemFunctions,
        scheme: &ErkScheme,
    ) -> Result<Option<Self>, JitError> {
        let schedule = Schedule::new(functions)?;
        let plan = schedule.function(SystemFunction::Dxdt);
        let sizes = schedule.sizes();
        let n = functions.n_states;
        let s = scheme.stages();
        if s == 0
            || scheme.c.len() != s
            || plan.roots().len() != n
            || s.saturating_mul(plan.nodes().len().max(1)) > MAX_FUSED_NODES
            || plan.inputs().iter().any(|&(_, sym)| {
                !matches!(
                    sym,
                    Symbol::Time | Symbol::State(_) | Symbol::Parameter(_) | Symbol::Driver(_)
                )
            })
        {
            return Ok(None);
        }
        let has_error = !scheme.error_weights.is_empty();
        let has_secondary = !scheme.secondary_weights.is_empty();

        let mut owned = new_module::<T>(&[])?;
        let module = &mut *owned.0;
        let pointer = module.target_config().pointer_type();
        let mut sig = module.make_signature();
        sig.params.push(AbiParam::new(F64));
        sig.params.push(AbiParam::new(T::IR_TYPE));
        for _ in 0..7 {
            sig.params.push(AbiParam::new(pointer));
        }
        sig.params.push(AbiParam::new(I32));
        let name = format!("cubie_fused_erk_{}", T::SUFFIX);
        let id = module.declare_function(&name, Linkage::Local, &sig)?;
        let mut ctx = module.make_context();
        ctx.func.signature = sig;
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        let mut func_ctx = FunctionBuilderContext::new();
        let mut shims = ShimImports::default();
        let options = JitOptions::default();
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut func_ctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            let p = b.block_params(entry).to_vec();
            let (t, dt) = (p[0], p[1]);
            let [state, params, drivers, proposed, error, secondary, cache] =
                [p[2], p[3], p[4], p[5], p[6], p[7], p[8]];
            let flags = p[9];
            let mut low = Lowerer::<T>::new(b, module, &mut shims, &functions.graph, &options);
            let flags_mem = MemFlagsData::trusted();
            let load = |low: &mut Lowerer<'_, '_, T>, base: Value, i: usize| {
                Ok::<_, JitError>(low.b.ins().load(
                    T::IR_TYPE,
                    flags_mem,
                    base,
                    byte_offset::<T>(i)?,
                ))
            };
            let y: Vec<Value> = (0..n)
                .map(|i| load(&mut low, state, i))
                .collect::<Result<_, _>>()?;
            // Parameters and drivers: loaded once, shared by every stage.
            let mut fixed: Vec<Option<Value>> = Vec::with_capacity(plan.inputs().len());
            for &(_, sym) in plan.inputs() {
                fixed.push(match sym {
                    Symbol::Parameter(i) if (i as usize) < sizes.n_parameters => {
                        Some(load(&mut low, params, i as usize)?)
                    }
                    Symbol::Driver(i) if (i as usize) < sizes.n_drivers => {
                        Some(load(&mut low, drivers, i as usize)?)
                    }
                    Symbol::Parameter(_) | Symbol::Driver(_) => {
                        return Err(JitError::Internal("input index out of range"));
                    }
                    _ => None,
                });
            }
            let dt64 = if T::IR_TYPE == F32 {
                low.b.ins().fpromote(F64, dt)
            } else {
                dt
            };
            // The derivative at stage `j`'s time and the given stage state.
            let eval = |low: &mut Lowerer<'_, '_, T>,
                        j: usize,
                        stage: &[Value]|
             -> Result<Vec<Value>, JitError> {
                let time = if j == 0 {
                    t
                } else {
                    let c = low.b.ins().f64const(scheme.c[j]);
                    let cdt = low.b.ins().fmul(c, dt64);
                    low.b.ins().fadd(t, cdt)
                };
                let time = if T::IR_TYPE == F32 {
                    low.b.ins().fdemote(F32, time)
                } else {
                    time
                };
                let mut inputs = Vec::with_capacity(plan.inputs().len());
                for (&(_, sym), fixed) in plan.inputs().iter().zip(&fixed) {
                    inputs.push(match (sym, fixed) {
                        (_, Some(v)) => *v,
                        (Symbol::Time, None) => time,
                        (Symbol::State(i), None) => *stage
                            .get(i as usize)
                            .ok_or(JitError::Internal("state index out of range"))?,
                        _ => return Err(JitError::Internal("unexpected dxdt input")),
                    });
                }
                low.emit(plan, &inputs)
            };
            // `base + Σ (dt w_j) k_j` over the non-zero weights, in the
            // generic step's order; `None` base means zero.
            let combine = |low: &mut Lowerer<'_, '_, T>,
                           ks: &[Vec<Value>],
                           weights: &dyn Fn(usize) -> f64,
                           base: Option<&[Value]>|
             -> Vec<Value> {
                let ws: Vec<(usize, Value)> = (0..ks.len())
                    .filter(|&j| weights(j) != 0.0)
                    .map(|j| {
                        let c = low.constant(weights(j));
                        (j, low.b.ins().fmul(dt, c))
                    })
                    .collect();
                (0..n)
                    .map(|m| {
                        let mut acc: Option<Value> = None;
                        for &(j, w) in &ws {
                            let term = low.b.ins().fmul(w, ks[j][m]);
                            acc = Some(match (acc, base) {
                                (Some(a), _) => low.b.ins().fadd(a, term),
                                (None, Some(y)) => low.b.ins().fadd(y[m], term),
                                (None, None) => term,
                            });
                        }
                        match (acc, base) {
                            (Some(a), _) => a,
                            (None, Some(y)) => y[m],
                            (None, None) => low.constant(0.0),
                        }
                    })
                    .collect()
            };

            let mut ks: Vec<Vec<Value>> = Vec::with_capacity(s);
            if scheme.fsal {
                let cached = low.b.create_block();
                let fresh = low.b.create_block();
                let merge = low.b.create_block();
                for _ in 0..n {
                    low.b.append_block_param(merge, T::IR_TYPE);
                }
                let bit = low.b.ins().band_imm_u(flags, i64::from(FIRST_STAGE_CACHED));
                low.b.ins().brif(bit, cached, &[], fresh, &[]);
                low.b.switch_to_block(cached);
                let k0: Vec<Value> = (0..n)
                    .map(|i| load(&mut low, cache, i))
                    .collect::<Result<_, _>>()?;
                let args: Vec<_> = k0.iter().map(|&v| v.into()).collect();
                low.b.ins().jump(merge, &args);
                low.b.switch_to_block(fresh);
                let k0 = eval(&mut low, 0, &y)?;
                let args: Vec<_> = k0.iter().map(|&v| v.into()).collect();
                low.b.ins().jump(merge, &args);
                low.b.switch_to_block(merge);
                ks.push(low.b.block_params(merge).to_vec());
            } else {
                ks.push(eval(&mut low, 0, &y)?);
            }
            for i in 1..s {
                let stage = combine(&mut low, &ks, &|j| scheme.a(i, j), Some(&y));
                let k = eval(&mut low, i, &stage)?;
                ks.push(k);
            }
            let new = combine(&mut low, &ks, &|j| scheme.b[j], Some(&y));
            let store = |low: &mut Lowerer<'_, '_, T>, base: Value, values: &[Value]| {
                for (i, &v) in values.iter().enumerate() {
                    low.b.ins().store(flags_mem, v, base, byte_offset::<T>(i)?);
                }
                Ok::<_, JitError>(())
            };
            store(&mut low, proposed, &new)?;
            if scheme.fsal {
                store(&mut low, cache, &ks[s - 1])?;
            }
            let exit = low.b.create_block();
            if has_error {
                let write = low.b.create_block();
                let bit = low.b.ins().band_imm_u(flags, i64::from(WRITE_ERROR));
                low.b.ins().brif(bit, write, &[], exit, &[]);
                low.b.switch_to_block(write);
                let w = |j: usize| scheme.error_weights.get(j).copied().unwrap_or(0.0);
                let err = combine(&mut low, &ks, &w, None);
                store(&mut low, error, &err)?;
                if has_secondary {
                    let w = |j: usize| scheme.secondary_weights.get(j).copied().unwrap_or(0.0);
                    let err = combine(&mut low, &ks, &w, None);
                    store(&mut low, secondary, &err)?;
                }
                low.b.ins().jump(exit, &[]);
            } else {
                low.b.ins().jump(exit, &[]);
            }
            low.b.switch_to_block(exit);
            low.b.ins().return_(&[]);
            low.b.seal_all_blocks();
            low.finalize();
        }
        module.define_function(id, &mut ctx)?;
        module.clear_context(&mut ctx);
        module.finalize_definitions()?;
        let address = module.get_finalized_function(id);
        // SAFETY: the function was defined with exactly the signature of
        // `RawStep<T>` (an `f64`, a `T`, seven pointers, an `i32`, no
        // result) in the host's default calling convention, the platform C
        // ABI that `extern "C"` names; its memory is finalized and
        // executable, and lives in `_module`, owned alongside.
        let code = unsafe { std::mem::transmute::<*const u8, RawStep<T>>(address) };
        Ok(Some(FusedErkStep {
            code,
            n_states: n,
            n_parameters: sizes.n_parameters,
            n_drivers: sizes.n_drivers,
            stages: s,
            has_error,
            has_secondary,
            fsal: scheme.fsal,
            _module: owned,
        }))
    }

    /// Number of stages (derivative evaluations of a step without a cached
    /// first stage).
    pub fn stages(&self) -> usize {
        self.stages
    }

    /// One step from `(t, state)` to `proposed`; the error estimate is
    /// written when `error` is not empty (and the method has one), the
    /// secondary one with it. `stage_cache` is read as the first stage's
    /// derivative when `first_stage_cached` (FSAL methods) and receives the
    /// last stage's; for other methods it may be empty. Returns the number
    /// of derivative evaluations made.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &self,
        t: f64,
        dt: T,
        state: &[Cell<T>],
        parameters: &[Cell<T>],
        drivers: &[Cell<T>],
        proposed: &[Cell<T>],
        error: &[Cell<T>],
        secondary: &[Cell<T>],
        stage_cache: &[Cell<T>],
        first_stage_cached: bool,
    ) -> Result<u32, FusedLengthError> {
        let n = self.n_states;
        let check = |argument, found: usize, expected: usize| {
            if found == expected {
                Ok(())
            } else {
                Err(FusedLengthError {
                    argument,
                    expected,
                    found,
                })
            }
        };
        check("state", state.len(), n)?;
        check("proposed", proposed.len(), n)?;
        check("parameters", parameters.len(), self.n_parameters)?;
        check("drivers", drivers.len(), self.n_drivers)?;
        let write_error = self.has_error && !error.is_empty();
        if write_error {
            check("error", error.len(), n)?;
            if self.has_secondary {
                check("secondary", secondary.len(), n)?;
            }
        }
        if self.fsal {
            check("stage_cache", stage_cache.len(), n)?;
        }
        let cached = self.fsal && first_stage_cached;
        let flags = u32::from(cached) * FIRST_STAGE_CACHED + u32::from(write_error) * WRITE_ERROR;
        let mut_ptr = |s: &[Cell<T>]| s.as_ptr() as *mut T;
        // SAFETY: the code reads `n_states` values from `state`,
        // `n_parameters`/`n_drivers` (at most) from `parameters`/`drivers`
        // and, with the cached flag, `n_states` from `stage_cache`; it writes
        // `n_states` values to `proposed`, to `stage_cache` (FSAL only) and,
        // with the error flag, to `error` and (DOP853) `secondary`. Every
        // one of those lengths was just checked; arrays not accessed are
        // never dereferenced. `Cell` slices permit writes through shared
        // references, and every load precedes every store in the code's
        // dataflow, so buffers aliasing one another (the cache may alias
        // step scratch) read their values from before the call.
        unsafe {
            (self.code)(
                t,
                dt,
                ValueSlice::as_ptr(state),
                ValueSlice::as_ptr(parameters),
                ValueSlice::as_ptr(drivers),
                mut_ptr(proposed),
                mut_ptr(error),
                mut_ptr(secondary),
                mut_ptr(stage_cache),
                flags,
            )
        };
        Ok(self.stages as u32 - u32::from(cached))
    }

    /// [`step`](Self::step) in every lane of a block: lane `l` steps from
    /// `t[l]` by `dt[l]`, reading its first stage from `stage_cache` when
    /// `first_stage_cached` holds it. Returns each lane's derivative
    /// evaluations.
    #[allow(clippy::too_many_arguments)]
    pub fn step_lanes(
        &self,
        t: &PerLane<f64>,
        dt: &PerLane<T>,
        state: LaneBuf<'_, T>,
        parameters: LaneBuf<'_, T>,
        drivers: LaneBuf<'_, T>,
        proposed: LaneBuf<'_, T>,
        error: LaneBuf<'_, T>,
        secondary: LaneBuf<'_, T>,
        stage_cache: LaneBuf<'_, T>,
        first_stage_cached: LaneMask,
    ) -> Result<PerLane<u32>, FusedLengthError> {
        let gather = |b: LaneBuf<'_, T>, l: usize| -> Vec<Cell<T>> {
            b.lane(l).iter().map(|c| Cell::new(c.get())).collect()
        };
        let scatter = |from: &[Cell<T>], b: LaneBuf<'_, T>, l: usize| {
            for (i, c) in from.iter().enumerate() {
                b.set(i, l, c.get());
            }
        };
        let mut evaluations = [0; MAX_LANES];
        for l in 0..state.width() {
            let (y, p, d) = (gather(state, l), gather(parameters, l), gather(drivers, l));
            let (out, err, sec, cache) = (
                gather(proposed, l),
                gather(error, l),
                gather(secondary, l),
                gather(stage_cache, l),
            );
            evaluations[l] = self.step(
                t[l],
                dt[l],
                &y,
                &p,
                &d,
                &out,
                &err,
                &sec,
                &cache,
                first_stage_cached.contains(l),
            )?;
            scatter(&out, proposed, l);
            scatter(&err, error, l);
            scatter(&sec, secondary, l);
            scatter(&cache, stage_cache, l);
        }
        Ok(evaluations)
    }
}
