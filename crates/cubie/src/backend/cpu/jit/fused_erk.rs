//! A whole explicit Runge–Kutta step compiled as one native function.
//!
//! The model's `dxdt` DAG is emitted once per stage into the same
//! function, so stage states and stage derivatives stay in SSA values
//! (registers) instead of round-tripping through the step's buffers and a
//! separately compiled `dxdt`. The arithmetic is the generic step's, in
//! the same order and precision (`w = dt * a`, `acc = fma(w, k_0, y)`,
//! `acc = fma(w, k_j, acc)`, stage time `t + c dt` in `f64` rounded to
//! `T`), so both paths give the same results.
//!
//! Buffers: the fused function reads the state, parameters, drivers and
//! (FSAL, first stage cached) the `stage_cache`; it writes the proposed
//! state, the error estimates and (FSAL) the `stage_cache`. It never
//! touches `stage_rhs` or `stage_accumulator`: those stay registered for
//! the generic path and the CUDA layout.
//!
//! Lane code ([`FusedErkStep::step_lanes`]) steps every lane of a block
//! with the same arithmetic on vectors of lanes; a first stage cached in
//! some lanes only is computed for all and taken from the cache where
//! cached (a lane mask), and stage times are computed per lane in `f64`.

use std::cell::Cell;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32, F32X4, F64, F64X2, I8X16, I32};
use cranelift_codegen::ir::{
    AbiParam, BlockArg, ConstantData, Endianness, Function, InstBuilder, MemFlagsData,
    StackSlotData, StackSlotKind, UserFuncName, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::JITModule;
use cranelift_module::{Linkage, Module};
use thiserror::Error;

use super::c_erk::{self, CStepPlan};
use super::host_cc::HostLibrary;
use super::lower::{
    LaneGeometry, Lowerer, ShimImports, close_lane_loop, lane_base, open_lane_loop,
};
use super::math::JitReal;
use super::native::{LANE_UNROLL, OwnedModule, new_module, overlaps_across_lanes};
use super::{CodeGenerator, JitError, JitOptions};
use crate::memory::{LaneBuf, LaneMask, MAX_LANES, PerLane};
use crate::step::ErkScheme;
use crate::system::args::ValueSlice;
use crate::system::expr::{ExprGraph, Symbol};
use crate::system::functions::{SystemFunction, SystemFunctions};
use crate::system::schedule::{FunctionSchedule, InputSizes, Schedule};

/// Largest `stages * (nodes of the dxdt DAG)` that is inlined; larger
/// models keep the generic step (compile time and code size grow with it,
/// and a large `dxdt` gains little from fusing).
pub const MAX_FUSED_NODES: usize = 8192;

/// Models whose `stages * (nodes of the dxdt DAG)` is at most this have
/// their Cranelift lane code unrolled over [`SMALL_FUSED_UNROLL`] vector
/// chunks, not [`LANE_UNROLL`]: more independent chains in flight for
/// the few registers a small step needs (classical-rk4 on Lorenz, 8 f64
/// lanes: 0.232 s unrolled twice, 0.220 s four times; tsit5 unchanged),
/// while a large step would spill and quadruple its code.
const SMALL_FUSED_NODES: usize = 256;
/// See [`SMALL_FUSED_NODES`].
const SMALL_FUSED_UNROLL: usize = 4;

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

/// Lane code: `(t, dt, dt64, state, parameters, drivers, proposed, error,
/// secondary, stage_cache, cached, flags)`; `t`, `dt`, `dt64` (`dt`
/// widened) and `cached` (all bits set where the first stage is cached)
/// hold one value per lane, the arrays are interleaved by lane.
type RawLaneStep<T> = unsafe extern "C" fn(
    *const f64,
    *const T,
    *const f64,
    *const T,
    *const T,
    *const T,
    *mut T,
    *mut T,
    *mut T,
    *mut T,
    *const T,
    u32,
);

/// Fixed steps of a whole block, every lane at the same times: `(times,
/// count, dt, dt64, state, parameters, drivers, proposed)`, returning the
/// steps taken. See [`FusedErkStep::fixed_steps`].
type RawFixedSteps<T> =
    unsafe extern "C" fn(*const f64, u64, T, f64, *mut T, *const T, *const T, *mut T) -> u64;

/// Flag bit: read the first stage's derivative from `stage_cache` (in lane
/// code: in every lane).
const FIRST_STAGE_CACHED: u32 = 1;
/// Flag bit: store the error estimate(s).
const WRITE_ERROR: u32 = 2;
/// Flag bit (lane code): some lanes read their first stage from the cache.
const SOME_CACHED: u32 = 4;

/// One ERK step of one model, compiled for precision `T`; owns its code.
///
/// `Send + Sync` for the same reasons as
/// [`NativeSystem`](super::NativeSystem): the module is only freed on
/// drop, and a call takes `&self`, checks lengths and allocates nothing.
pub struct FusedErkStep<T: JitReal> {
    code: RawStep<T>,
    /// The step on blocks of `lanes` lanes (none for one lane).
    lane_code: Option<RawLaneStep<T>>,
    /// Runs of fixed steps on blocks of `lanes` lanes (methods without an
    /// error estimate or a cached first stage only).
    fixed_code: Option<RawFixedSteps<T>>,
    lanes: usize,
    n_states: usize,
    n_parameters: usize,
    n_drivers: usize,
    stages: usize,
    has_error: bool,
    has_secondary: bool,
    fsal: bool,
    /// The lane code's generator.
    generator: CodeGenerator,
    // Declared last: dropped after the code pointers above.
    _module: OwnedModule,
    _library: Option<HostLibrary>,
}

impl<T: JitReal> std::fmt::Debug for FusedErkStep<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FusedErkStep")
            .field("precision", &T::PRECISION)
            .field("n_states", &self.n_states)
            .field("stages", &self.stages)
            .field("lanes", &self.lanes)
            .field("generator", &self.generator)
            .finish_non_exhaustive()
    }
}

/// What the step is compiled from.
struct StepPlan<'a> {
    plan: &'a FunctionSchedule,
    scheme: &'a ErkScheme,
    graph: &'a ExprGraph,
    sizes: InputSizes,
    n: usize,
}

/// The values one chunk's step works on.
struct StepIo {
    state: Value,
    params: Value,
    drivers: Value,
    proposed: Value,
    error: Value,
    secondary: Value,
    cache: Value,
    /// The step size (of the chunk's lanes).
    dt: Value,
    flags: Value,
    /// Where the chunk's lanes' "first stage cached" masks are (lane code).
    cached: Option<Value>,
}

/// Computes stage `j`'s time `t + c_j dt` in `f64`, rounded to `T`.
type StageTime<'t, T> = dyn Fn(&mut Lowerer<'_, '_, T>, usize) -> Result<Value, JitError> + 't;

impl StepPlan<'_> {
    /// Emits one step at the builder's position (which it leaves in a
    /// fresh block): the generic step's arithmetic, in its order. Returns
    /// the proposed state's values (also stored).
    fn emit<T: JitReal>(
        &self,
        low: &mut Lowerer<'_, '_, T>,
        io: &StepIo,
        time: &StageTime<'_, T>,
    ) -> Result<Vec<Value>, JitError> {
        let (plan, scheme, n, s) = (self.plan, self.scheme, self.n, self.scheme.stages());
        let sizes = self.sizes;
        let y: Vec<Value> = (0..n)
            .map(|i| low.load_element(io.state, i))
            .collect::<Result<_, _>>()?;
        // Parameters and drivers: loaded once, shared by every stage.
        let mut fixed: Vec<Option<Value>> = Vec::with_capacity(plan.inputs().len());
        for &(_, sym) in plan.inputs() {
            fixed.push(match sym {
                Symbol::Parameter(i) if (i as usize) < sizes.n_parameters => {
                    Some(low.load_element(io.params, i as usize)?)
                }
                Symbol::Driver(i) if (i as usize) < sizes.n_drivers => {
                    Some(low.load_element(io.drivers, i as usize)?)
                }
                Symbol::Parameter(_) | Symbol::Driver(_) => {
                    return Err(JitError::Internal("input index out of range"));
                }
                _ => None,
            });
        }
        // The derivative at stage `j`'s time and the given stage state.
        let eval = |low: &mut Lowerer<'_, '_, T>,
                    j: usize,
                    stage: &[Value]|
         -> Result<Vec<Value>, JitError> {
            let time = if plan.reads_time() {
                Some(time(low, j)?)
            } else {
                None
            };
            let mut inputs = Vec::with_capacity(plan.inputs().len());
            for (&(_, sym), fixed) in plan.inputs().iter().zip(&fixed) {
                inputs.push(match (sym, fixed) {
                    (_, Some(v)) => *v,
                    (Symbol::Time, None) => {
                        time.ok_or(JitError::Internal("time read but not computed"))?
                    }
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
        let dt = io.dt;
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
                        let k = ks[j][m];
                        acc = Some(match (acc, base) {
                            (Some(a), _) => low.b.ins().fma(w, k, a),
                            (None, Some(y)) => low.b.ins().fma(w, k, y[m]),
                            (None, None) => low.b.ins().fmul(w, k),
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
        let load_all = |low: &mut Lowerer<'_, '_, T>, base: Value| {
            (0..n)
                .map(|i| low.load_element(base, i))
                .collect::<Result<Vec<_>, _>>()
        };
        let args =
            |values: &[Value]| -> Vec<BlockArg> { values.iter().map(|&v| v.into()).collect() };

        let mut ks: Vec<Vec<Value>> = Vec::with_capacity(s);
        if scheme.fsal {
            let cached = low.b.create_block();
            let fresh = low.b.create_block();
            let merge = low.b.create_block();
            for _ in 0..n {
                low.b.append_block_param(merge, low.ty);
            }
            let bit = low
                .b
                .ins()
                .band_imm_u(io.flags, i64::from(FIRST_STAGE_CACHED));
            low.b.ins().brif(bit, cached, &[], fresh, &[]);
            low.b.switch_to_block(cached);
            let k0 = load_all(low, io.cache)?;
            low.b.ins().jump(merge, &args(&k0));
            low.b.switch_to_block(fresh);
            let k0 = eval(low, 0, &y)?;
            match io.cached {
                None => {
                    low.b.ins().jump(merge, &args(&k0));
                }
                Some(mask_base) => {
                    // Some lanes cached: each lane takes its own.
                    let select = low.b.create_block();
                    let bit = low.b.ins().band_imm_u(io.flags, i64::from(SOME_CACHED));
                    low.b.ins().brif(bit, select, &[], merge, &args(&k0));
                    low.b.switch_to_block(select);
                    let mask = low.load_element(mask_base, 0)?;
                    let from_cache = load_all(low, io.cache)?;
                    let k0: Vec<Value> = k0
                        .iter()
                        .zip(&from_cache)
                        .map(|(&fresh, &cached)| low.b.ins().bitselect(mask, cached, fresh))
                        .collect();
                    low.b.ins().jump(merge, &args(&k0));
                }
            }
            low.b.switch_to_block(merge);
            ks.push(low.b.block_params(merge).to_vec());
        } else {
            ks.push(eval(low, 0, &y)?);
        }
        for i in 1..s {
            let stage = combine(low, &ks, &|j| scheme.a(i, j), Some(&y));
            let k = eval(low, i, &stage)?;
            ks.push(k);
        }
        let new = combine(low, &ks, &|j| scheme.b[j], Some(&y));
        let store = |low: &mut Lowerer<'_, '_, T>, base: Value, values: &[Value]| {
            for (i, &v) in values.iter().enumerate() {
                low.store_element(base, i, v)?;
            }
            Ok::<_, JitError>(())
        };
        store(low, io.proposed, &new)?;
        if scheme.fsal {
            store(low, io.cache, &ks[s - 1])?;
        }
        let exit = low.b.create_block();
        if !scheme.error_weights.is_empty() {
            let write = low.b.create_block();
            let bit = low.b.ins().band_imm_u(io.flags, i64::from(WRITE_ERROR));
            low.b.ins().brif(bit, write, &[], exit, &[]);
            low.b.switch_to_block(write);
            let w = |j: usize| scheme.error_weights.get(j).copied().unwrap_or(0.0);
            let err = combine(low, &ks, &w, None);
            store(low, io.error, &err)?;
            if !scheme.secondary_weights.is_empty() {
                let w = |j: usize| scheme.secondary_weights.get(j).copied().unwrap_or(0.0);
                let err = combine(low, &ks, &w, None);
                store(low, io.secondary, &err)?;
            }
            low.b.ins().jump(exit, &[]);
        } else {
            low.b.ins().jump(exit, &[]);
        }
        low.b.switch_to_block(exit);
        Ok(new)
    }

    /// The scalar step: signature [`RawStep`].
    fn define_scalar<T: JitReal>(
        &self,
        module: &mut JITModule,
        shims: &mut ShimImports,
        func: &mut Function,
        func_ctx: &mut FunctionBuilderContext,
    ) -> Result<(), JitError> {
        let options = JitOptions::default();
        let mut b = FunctionBuilder::new(func, func_ctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let p = b.block_params(entry).to_vec();
        let (t, dt) = (p[0], p[1]);
        let mut low = Lowerer::<T>::new(b, module, shims, self.graph, &options);
        let dt64 = if T::IR_TYPE == F32 {
            low.b.ins().fpromote(F64, dt)
        } else {
            dt
        };
        let scheme = self.scheme;
        let time = move |low: &mut Lowerer<'_, '_, T>, j: usize| {
            let time = if j == 0 {
                t
            } else {
                let c = low.b.ins().f64const(scheme.c[j]);
                let cdt = low.b.ins().fmul(c, dt64);
                low.b.ins().fadd(t, cdt)
            };
            Ok(if T::IR_TYPE == F32 {
                low.b.ins().fdemote(F32, time)
            } else {
                time
            })
        };
        let io = StepIo {
            state: p[2],
            params: p[3],
            drivers: p[4],
            proposed: p[5],
            error: p[6],
            secondary: p[7],
            cache: p[8],
            dt,
            flags: p[9],
            cached: None,
        };
        self.emit(&mut low, &io, &time)?;
        low.b.ins().return_(&[]);
        low.b.seal_all_blocks();
        low.finalize();
        Ok(())
    }

    /// The step on a lane block: signature [`RawLaneStep`]. Each chunk of
    /// lanes steps as the scalar step does, in vector registers; stage
    /// times are computed per lane in `f64` and rounded to `T`, as the
    /// scalar step computes them.
    fn define_lanes<T: JitReal>(
        &self,
        module: &mut JITModule,
        shims: &mut ShimImports,
        geometry: &LaneGeometry,
        func: &mut Function,
        func_ctx: &mut FunctionBuilderContext,
    ) -> Result<(), JitError> {
        let options = JitOptions::default();
        let pointer = module.target_config().pointer_type();
        let mut b = FunctionBuilder::new(func, func_ctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let p = b.block_params(entry).to_vec();
        let flags = p[11];
        let (lane, blocks) = open_lane_loop(&mut b, pointer, geometry);
        let size = size_of::<T>();
        let wide = [0, 2].map(|k| lane_base(&mut b, p[k], lane, size_of::<f64>()));
        let [t_base, dt64_base] = wide;
        let bases: Vec<Value> = p[..11]
            .iter()
            .map(|&q| lane_base(&mut b, q, lane, size))
            .collect();
        let mut low = Lowerer::<T>::new(b, module, shims, self.graph, &options);
        low.ty = geometry.ty;
        low.stride = geometry.lanes;
        let ty = geometry.ty;
        let scheme = self.scheme;
        let trusted = MemFlagsData::trusted();
        for u in 0..geometry.unroll {
            low.extra = geometry.copy_offset(u, size);
            let extra64 = geometry.copy_offset(u, size_of::<f64>());
            let dt = low.b.ins().load(ty, trusted, bases[1], low.extra);
            // `t` and `dt` widened, one `f64` per lane: two vectors for a
            // chunk of four `f32` lanes.
            let halves = if ty.is_vector() {
                ty.lane_count() / 2
            } else {
                1
            };
            let wide_ty = if ty.is_vector() { F64X2 } else { F64 };
            let mut t64 = Vec::new();
            let mut dt64 = Vec::new();
            if self.plan.reads_time() {
                for h in 0..halves as i32 {
                    t64.push(low.b.ins().load(wide_ty, trusted, t_base, extra64 + 16 * h));
                    dt64.push(
                        low.b
                            .ins()
                            .load(wide_ty, trusted, dt64_base, extra64 + 16 * h),
                    );
                }
            }
            let time = move |low: &mut Lowerer<'_, '_, T>, j: usize| {
                stage_time(low, scheme.c[j], j == 0, &t64, &dt64)
            };
            let io = StepIo {
                state: bases[3],
                params: bases[4],
                drivers: bases[5],
                proposed: bases[6],
                error: bases[7],
                secondary: bases[8],
                cache: bases[9],
                dt,
                flags,
                cached: Some(bases[10]),
            };
            self.emit(&mut low, &io, &time)?;
        }
        close_lane_loop(&mut low.b, lane, blocks, geometry);
        low.b.ins().return_(&[]);
        low.b.seal_all_blocks();
        low.finalize();
        Ok(())
    }
}

impl StepPlan<'_> {
    /// Up to `count` steps of a whole block from the times `times[k]`,
    /// every lane with the same `dt`: signature [`RawFixedSteps`]. Each
    /// step is the lane step's code (stage times `t + c dt` in `f64`,
    /// rounded to `T`). Steps alternate between `state` and `proposed`
    /// instead of copying each into the state, and each is checked by the
    /// sum of its values, taken while they are in registers: a sum of
    /// finite values is finite unless it overflows, one with an infinite
    /// or NaN term never is (an overflow only sends the step to the
    /// single-step path, which checks each value). On return `state` holds
    /// the last finite step and `proposed` the step after it (the failed
    /// one) or, when none failed, the last step again; the steps taken are
    /// returned.
    fn define_fixed_steps<T: JitReal>(
        &self,
        module: &mut JITModule,
        shims: &mut ShimImports,
        geometry: &LaneGeometry,
        func: &mut Function,
        func_ctx: &mut FunctionBuilderContext,
    ) -> Result<(), JitError> {
        let options = JitOptions::default();
        let pointer = module.target_config().pointer_type();
        let trusted = MemFlagsData::trusted();
        let size = size_of::<T>();
        let ty = geometry.ty;
        let wide_ty = if ty.is_vector() { F64X2 } else { F64 };
        let halves = if ty.is_vector() {
            ty.lane_count() / 2
        } else {
            1
        };
        let mut b = FunctionBuilder::new(func, func_ctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let p = b.block_params(entry).to_vec();
        let (times, count, dt, dt64) = (p[0], p[1], p[2], p[3]);
        let (state, params, drivers, proposed) = (p[4], p[5], p[6], p[7]);
        let splat = |b: &mut FunctionBuilder<'_>, ty: cranelift_codegen::ir::Type, v: Value| {
            if ty.is_vector() {
                b.ins().splat(ty, v)
            } else {
                v
            }
        };
        let dt_v = splat(&mut b, ty, dt);
        let dt64_v = splat(&mut b, wide_ty, dt64);
        let flags = b.ins().iconst(I32, 0);
        // The running sum of a step's values, carried across the lane loop.
        let bytes = (geometry.chunk * size) as u32;
        let sum_slot = b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            bytes,
            bytes.trailing_zeros() as u8,
        ));

        // head(k, cur, next): step k from `cur` into `next`.
        let head = b.create_block();
        for _ in 0..3 {
            b.append_block_param(head, pointer);
        }
        let body = b.create_block();
        // exit(k, cur, bad)
        let exit = b.create_block();
        for _ in 0..3 {
            b.append_block_param(exit, pointer);
        }
        let zero = b.ins().iconst(pointer, 0);
        b.ins()
            .jump(head, &[zero.into(), state.into(), proposed.into()]);
        b.switch_to_block(head);
        let (k, cur, next) = {
            let h = b.block_params(head);
            (h[0], h[1], h[2])
        };
        let more = b.ins().icmp(IntCC::UnsignedLessThan, k, count);
        b.ins()
            .brif(more, body, &[], exit, &[k.into(), cur.into(), zero.into()]);

        b.switch_to_block(body);
        let at = b.ins().imul_imm_u(k, size_of::<f64>() as i64);
        let at = b.ins().iadd(times, at);
        let t = b.ins().load(F64, trusted, at, 0);
        let t_v = splat(&mut b, wide_ty, t);
        let (lane, blocks) = open_lane_loop(&mut b, pointer, geometry);
        let bases = [cur, params, drivers, next].map(|q| lane_base(&mut b, q, lane, size));
        let mut low = Lowerer::<T>::new(b, module, shims, self.graph, &options);
        low.ty = ty;
        low.stride = geometry.lanes;
        let scheme = self.scheme;
        let mut sum = None;
        for u in 0..geometry.unroll {
            low.extra = geometry.copy_offset(u, size);
            let (t_parts, dt_parts) = (vec![t_v; halves as usize], vec![dt64_v; halves as usize]);
            let time = move |low: &mut Lowerer<'_, '_, T>, j: usize| {
                stage_time(low, scheme.c[j], j == 0, &t_parts, &dt_parts)
            };
            let io = StepIo {
                state: bases[0],
                params: bases[1],
                drivers: bases[2],
                proposed: bases[3],
                // Never touched: no error estimate, no cached stage.
                error: bases[3],
                secondary: bases[3],
                cache: bases[3],
                dt: dt_v,
                flags,
                cached: None,
            };
            for v in self.emit(&mut low, &io, &time)? {
                sum = Some(match sum {
                    Some(s) => low.b.ins().fadd(s, v),
                    None => v,
                });
            }
        }
        if let Some(sum) = sum {
            // The first iteration starts the block's sum, the others add.
            let first = low.b.ins().icmp_imm_u(IntCC::Equal, lane, 0);
            let carried = low.b.ins().stack_load(pointer, ty, sum_slot, 0);
            let added = low.b.ins().fadd(carried, sum);
            let total = low.b.ins().select(first, sum, added);
            low.b.ins().stack_store(pointer, total, sum_slot, 0);
        }
        close_lane_loop(&mut low.b, lane, blocks, geometry);
        let b = &mut low.b;
        let bad = if self.n == 0 {
            b.ins().iconst(pointer, 0)
        } else {
            let sum = b.ins().stack_load(pointer, ty, sum_slot, 0);
            let d = b.ins().fsub(sum, sum);
            let unordered = b.ins().fcmp(FloatCC::Unordered, d, d);
            let any = if ty.is_vector() {
                b.ins().vany_true(unordered)
            } else {
                unordered
            };
            b.ins().uextend(pointer, any)
        };
        let k1 = b.ins().iadd_imm_u(k, 1);
        let go_on = b.create_block();
        b.ins()
            .brif(bad, exit, &[k.into(), cur.into(), bad.into()], go_on, &[]);
        b.switch_to_block(go_on);
        b.ins().jump(head, &[k1.into(), next.into(), cur.into()]);

        // Out: the last finite step into `state`, the one after it (or the
        // last again) into `proposed`.
        b.switch_to_block(exit);
        let (done, last, bad) = {
            let e = b.block_params(exit);
            (e[0], e[1], e[2])
        };
        let total = (self.n * geometry.lanes * size) as i64;
        // `for off in (0..total).step_by(bytes) { visit(off) }`, then `then`.
        let pass = |b: &mut FunctionBuilder<'_>,
                    then: cranelift_codegen::ir::Block,
                    visit: &dyn Fn(&mut FunctionBuilder<'_>, Value)| {
            if total == 0 {
                b.ins().jump(then, &[]);
                return;
            }
            let each = b.create_block();
            b.append_block_param(each, pointer);
            let zero = b.ins().iconst(pointer, 0);
            b.ins().jump(each, &[zero.into()]);
            b.switch_to_block(each);
            let off = b.block_params(each)[0];
            visit(b, off);
            let on = b.ins().iadd_imm_u(off, i64::from(bytes));
            let more = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, on, total);
            b.ins().brif(more, each, &[on.into()], then, &[]);
        };
        let swap = b.create_block();
        let after_swap = b.create_block();
        let swapped = b.ins().icmp(IntCC::NotEqual, last, state);
        b.ins().brif(swapped, swap, &[], after_swap, &[]);
        b.switch_to_block(swap);
        pass(b, after_swap, &|b, off| {
            let (x, y) = (b.ins().iadd(state, off), b.ins().iadd(proposed, off));
            let (vx, vy) = (
                b.ins().load(ty, trusted, x, 0),
                b.ins().load(ty, trusted, y, 0),
            );
            b.ins().store(trusted, vy, x, 0);
            b.ins().store(trusted, vx, y, 0);
        });
        b.switch_to_block(after_swap);
        let copy = b.create_block();
        let finish = b.create_block();
        let any_done = b.ins().icmp_imm_u(IntCC::NotEqual, done, 0);
        let ok = b.ins().icmp_imm_u(IntCC::Equal, bad, 0);
        let copy_back = b.ins().band(any_done, ok);
        b.ins().brif(copy_back, copy, &[], finish, &[]);
        b.switch_to_block(copy);
        pass(b, finish, &|b, off| {
            let (x, y) = (b.ins().iadd(state, off), b.ins().iadd(proposed, off));
            let v = b.ins().load(ty, trusted, x, 0);
            b.ins().store(trusted, v, y, 0);
        });
        b.switch_to_block(finish);
        b.ins().return_(&[done]);
        low.b.seal_all_blocks();
        low.finalize();
        Ok(())
    }
}

/// Stage time `t + c dt` in `f64` of a chunk of lanes (`t` itself for the
/// first stage), from its `t` and `dt` as one `f64` or `F64X2` per half of
/// the chunk, rounded to `T` and gathered into one chunk.
fn stage_time<T: JitReal>(
    low: &mut Lowerer<'_, '_, T>,
    c: f64,
    first: bool,
    t: &[Value],
    dt: &[Value],
) -> Result<Value, JitError> {
    let mut parts = Vec::with_capacity(t.len());
    for (&t, &dt) in t.iter().zip(dt) {
        parts.push(if first {
            t
        } else {
            let wide_ty = low.b.func.dfg.value_type(t);
            let c = low.b.ins().f64const(c);
            let c = if wide_ty.is_vector() {
                low.b.ins().splat(wide_ty, c)
            } else {
                c
            };
            let cdt = low.b.ins().fmul(c, dt);
            low.b.ins().fadd(t, cdt)
        });
    }
    demote_lanes::<T>(low, &parts)
}

/// Whether two cell ranges share memory.
fn intersect<T>(a: &[Cell<T>], b: &[Cell<T>]) -> bool {
    let (a0, b0) = (a.as_ptr() as usize, b.as_ptr() as usize);
    let (a1, b1) = (a0 + size_of_val(a), b0 + size_of_val(b));
    a0 < b1 && b0 < a1
}

/// Stage times computed in `f64` (one value or `F64X2` per half of the
/// chunk), rounded to `T` and gathered into one chunk.
fn demote_lanes<T: JitReal>(
    low: &mut Lowerer<'_, '_, T>,
    parts: &[Value],
) -> Result<Value, JitError> {
    match (T::IR_TYPE == F32, low.ty.is_vector(), parts) {
        (false, _, &[time]) => Ok(time),
        (true, false, &[time]) => Ok(low.b.ins().fdemote(F32, time)),
        (true, true, &[lo, hi]) => {
            // [lo0, lo1, 0, 0] and [hi0, hi1, 0, 0] into [lo0, lo1, hi0, hi1].
            let little = MemFlagsData::new().with_endianness(Endianness::Little);
            let (lo, hi) = (low.b.ins().fvdemote(lo), low.b.ins().fvdemote(hi));
            let (lo, hi) = (
                low.b.ins().bitcast(I8X16, little, lo),
                low.b.ins().bitcast(I8X16, little, hi),
            );
            let bytes: Vec<u8> = (0..8).chain(16..24).collect();
            let mask = low.b.func.dfg.immediates.push(ConstantData::from(bytes));
            let both = low.b.ins().shuffle(lo, hi, mask);
            Ok(low.b.ins().bitcast(F32X4, little, both))
        }
        _ => Err(JitError::Internal("unexpected stage time chunks")),
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
        Self::compile_lanes(functions, scheme, 1)
    }

    /// [`compile`](Self::compile), plus the step on blocks of `lanes` lanes
    /// (1, 2, 4, 8, 16 or 32) that [`step_lanes`](Self::step_lanes) runs: every
    /// lane steps in vector registers, with exactly the scalar step's
    /// arithmetic, so each lane gets the bits [`step`](Self::step) gives.
    /// One lane needs no code of its own.
    pub fn compile_lanes(
        functions: &SystemFunctions,
        scheme: &ErkScheme,
        lanes: usize,
    ) -> Result<Option<Self>, JitError> {
        Self::compile_with(functions, scheme, lanes, CodeGenerator::Cranelift)
    }

    /// [`compile_lanes`](Self::compile_lanes) with the lane code (the lane
    /// step and the fixed-step loop) from `generator`. With
    /// [`CodeGenerator::HostC`] a C compiler that fails is an error; with
    /// [`CodeGenerator::Auto`] Cranelift takes over. Either way each lane
    /// gets [`step`](Self::step)'s bits.
    pub fn compile_with(
        functions: &SystemFunctions,
        scheme: &ErkScheme,
        lanes: usize,
        generator: CodeGenerator,
    ) -> Result<Option<Self>, JitError> {
        let schedule = Schedule::new(functions)?;
        let plan = schedule.function(SystemFunction::Dxdt);
        let sizes = schedule.sizes();
        let n = functions.n_states;
        let s = scheme.stages();
        let unroll = if s.saturating_mul(plan.nodes().len()) <= SMALL_FUSED_NODES {
            SMALL_FUSED_UNROLL
        } else {
            LANE_UNROLL
        };
        let geometry = LaneGeometry::new::<T>(lanes, unroll)?;
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
        let step = StepPlan {
            plan,
            scheme,
            graph: &functions.graph,
            sizes,
            n,
        };
        let fixed = !scheme.fsal && scheme.error_weights.is_empty();
        let library = if lanes > 1 && generator.uses_c() {
            let source = CStepPlan {
                plan,
                scheme,
                graph: &functions.graph,
                n,
                lanes,
                precision: T::PRECISION,
                fixed,
            }
            .source()
            .and_then(|source| HostLibrary::build(&source));
            match (source, generator) {
                (Ok(library), _) => Some(library),
                (Err(e), CodeGenerator::HostC) => return Err(e),
                (Err(_), _) => None,
            }
        } else {
            None
        };
        let cranelift_lanes = lanes > 1 && library.is_none();

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
        let mut lane_sig = module.make_signature();
        for _ in 0..11 {
            lane_sig.params.push(AbiParam::new(pointer));
        }
        lane_sig.params.push(AbiParam::new(I32));
        let mut fixed_sig = module.make_signature();
        fixed_sig.params.push(AbiParam::new(pointer));
        fixed_sig.params.push(AbiParam::new(pointer));
        fixed_sig.params.push(AbiParam::new(T::IR_TYPE));
        fixed_sig.params.push(AbiParam::new(F64));
        for _ in 0..4 {
            fixed_sig.params.push(AbiParam::new(pointer));
        }
        fixed_sig.returns.push(AbiParam::new(pointer));
        let mut ctx = module.make_context();
        let mut func_ctx = FunctionBuilderContext::new();
        let mut shims = ShimImports::default();

        let name = format!("cubie_fused_erk_{}", T::SUFFIX);
        let id = module.declare_function(&name, Linkage::Local, &sig)?;
        ctx.func.signature = sig;
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        step.define_scalar::<T>(module, &mut shims, &mut ctx.func, &mut func_ctx)?;
        module.define_function(id, &mut ctx)?;
        module.clear_context(&mut ctx);
        let lane_id = if cranelift_lanes {
            let name = format!("{name}_x{lanes}");
            let id = module.declare_function(&name, Linkage::Local, &lane_sig)?;
            ctx.func.signature = lane_sig;
            ctx.func.name = UserFuncName::user(0, id.as_u32());
            step.define_lanes::<T>(module, &mut shims, &geometry, &mut ctx.func, &mut func_ctx)?;
            module.define_function(id, &mut ctx)?;
            module.clear_context(&mut ctx);
            Some(id)
        } else {
            None
        };
        let fixed_id = if fixed && library.is_none() {
            let name = format!("{name}_fixed_x{lanes}");
            let id = module.declare_function(&name, Linkage::Local, &fixed_sig)?;
            ctx.func.signature = fixed_sig;
            ctx.func.name = UserFuncName::user(0, id.as_u32());
            step.define_fixed_steps::<T>(
                module,
                &mut shims,
                &geometry,
                &mut ctx.func,
                &mut func_ctx,
            )?;
            module.define_function(id, &mut ctx)?;
            module.clear_context(&mut ctx);
            Some(id)
        } else {
            None
        };
        module.finalize_definitions()?;
        let address = module.get_finalized_function(id);
        // SAFETY: the function was defined with exactly the signature of
        // `RawStep<T>` (an `f64`, a `T`, seven pointers, an `i32`, no
        // result) in the host's default calling convention, the platform C
        // ABI that `extern "C"` names; its memory is finalized and
        // executable, and lives in `_module`, owned alongside.
        let code = unsafe { std::mem::transmute::<*const u8, RawStep<T>>(address) };
        let mut lane_code = lane_id.map(|id| {
            let address = module.get_finalized_function(id);
            // SAFETY: as above, with the signature of `RawLaneStep<T>`
            // (eleven pointers, an `i32`, no result).
            unsafe { std::mem::transmute::<*const u8, RawLaneStep<T>>(address) }
        });
        let mut fixed_code = fixed_id.map(|id| {
            let address = module.get_finalized_function(id);
            // SAFETY: as above, with the signature of `RawFixedSteps<T>`
            // (two pointers, a `T`, an `f64`, four pointers, a pointer-sized
            // result; `u64` on the 64-bit hosts Cranelift's JIT targets).
            unsafe { std::mem::transmute::<*const u8, RawFixedSteps<T>>(address) }
        });
        if let Some(library) = &library {
            let address = library.function(c_erk::LANE_STEP)?;
            // SAFETY: the C source declares `cubie_erk_lanes` with the
            // parameters of `RawLaneStep<T>` in order (`const double*`,
            // `const real*`, `const double*`, seven `real*`, a mask
            // pointer, a `uint32_t`; `real` is `T`) and no result, in the
            // platform C ABI; the library lives in `_library`.
            lane_code = Some(unsafe { std::mem::transmute::<*const u8, RawLaneStep<T>>(address) });
            if fixed {
                let address = library.function(c_erk::FIXED_STEPS)?;
                // SAFETY: as above; `cubie_erk_fixed` takes `(const double*,
                // uint64_t, real, double, four real pointers)` and returns
                // `uint64_t`, the signature of `RawFixedSteps<T>`.
                fixed_code =
                    Some(unsafe { std::mem::transmute::<*const u8, RawFixedSteps<T>>(address) });
            }
        }
        Ok(Some(FusedErkStep {
            code,
            lane_code,
            fixed_code,
            lanes,
            n_states: n,
            n_parameters: sizes.n_parameters,
            n_drivers: sizes.n_drivers,
            stages: s,
            has_error: !scheme.error_weights.is_empty(),
            has_secondary: !scheme.secondary_weights.is_empty(),
            fsal: scheme.fsal,
            generator: if library.is_some() {
                CodeGenerator::HostC
            } else {
                CodeGenerator::Cranelift
            },
            _module: owned,
            _library: library,
        }))
    }

    /// The block width the lane code was compiled for (1 for
    /// [`compile`](Self::compile)).
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// The generator of the lane code in use: [`CodeGenerator::HostC`] or
    /// [`CodeGenerator::Cranelift`].
    pub fn generator(&self) -> CodeGenerator {
        self.generator
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
    ///
    /// Lengths are checked as `step` checks them, in elements per lane;
    /// every buffer that is not empty must be as wide as `state`, at most
    /// [`MAX_LANES`]. Every lane steps: `proposed`, the error estimates
    /// and (FSAL) `stage_cache` are written in all lanes. Blocks of
    /// [`lanes`](Self::lanes) lanes run the lane code, others each lane
    /// through the scalar step; either way each lane gets `step`'s bits,
    /// with the inputs as they were before the call.
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
        let n = self.n_states;
        let w = state.width();
        if w > MAX_LANES {
            return Err(FusedLengthError {
                argument: "state",
                expected: n * MAX_LANES,
                found: state.cells().len(),
            });
        }
        let check = |argument, buf: LaneBuf<'_, T>, expected: usize| {
            if buf.len() != expected {
                Err(FusedLengthError {
                    argument,
                    expected,
                    found: buf.len(),
                })
            } else if expected != 0 && buf.width() != w {
                Err(FusedLengthError {
                    argument,
                    expected: expected * w,
                    found: buf.cells().len(),
                })
            } else {
                Ok(())
            }
        };
        check("state", state, n)?;
        check("proposed", proposed, n)?;
        check("parameters", parameters, self.n_parameters)?;
        check("drivers", drivers, self.n_drivers)?;
        let write_error = self.has_error && !error.is_empty();
        if write_error {
            check("error", error, n)?;
            if self.has_secondary {
                check("secondary", secondary, n)?;
            }
        }
        if self.fsal {
            check("stage_cache", stage_cache, n)?;
        }
        let all = LaneMask::all(w);
        let cached = if self.fsal {
            first_stage_cached & all
        } else {
            LaneMask::NONE
        };
        let mut evaluations = [0; MAX_LANES];
        for (l, e) in evaluations.iter_mut().enumerate().take(w) {
            *e = self.stages as u32 - u32::from(cached.contains(l));
        }
        // Lane code works chunk by chunk: an output overlapping an input
        // across lanes would see another chunk's outputs.
        let reads = [state, parameters, drivers, stage_cache];
        let writes = [proposed, error, secondary, stage_cache];
        let lane_for_lane = writes.iter().all(|o| {
            reads
                .iter()
                .all(|i| !overlaps_across_lanes(i.cells(), o.cells(), w))
        });
        match self.lane_code {
            Some(code) if w == self.lanes && lane_for_lane => {
                let dt64: PerLane<f64> = dt.map(|d| d.to_f64());
                let on: PerLane<T> = std::array::from_fn(|l| {
                    if cached.contains(l) {
                        T::LANE_ON
                    } else {
                        T::zero()
                    }
                });
                let flags = u32::from(cached == all) * FIRST_STAGE_CACHED
                    + u32::from(cached.any()) * SOME_CACHED
                    + u32::from(write_error) * WRITE_ERROR;
                let ptr = |b: LaneBuf<'_, T>| ValueSlice::as_ptr(b.cells());
                let mut_ptr = |b: LaneBuf<'_, T>| ValueSlice::as_ptr(b.cells()).cast_mut();
                // SAFETY: the code (compiled for `w == self.lanes` lanes)
                // accesses element `i` of lane `l` of a buffer at cell
                // `i * w + l`, `l < w`, for the elements `step` accesses
                // (see there), under the same flags; every one of those
                // buffers was just checked to hold that many elements of
                // `w` lanes. `t`, `dt`, `dt64` and `on` hold `MAX_LANES >=
                // w` values. Buffers it does not access are never
                // dereferenced. `Cell`s permit writes through shared
                // references; each chunk loads before it stores, chunks
                // touch disjoint lanes, and overlaps across lanes were
                // excluded above.
                unsafe {
                    code(
                        t.as_ptr(),
                        dt.as_ptr(),
                        dt64.as_ptr(),
                        ptr(state),
                        ptr(parameters),
                        ptr(drivers),
                        mut_ptr(proposed),
                        mut_ptr(error),
                        mut_ptr(secondary),
                        mut_ptr(stage_cache),
                        on.as_ptr(),
                        flags,
                    )
                };
            }
            _ if w == 1 => {
                // One lane: the block is laid out as the scalar step reads.
                evaluations[0] = self.step(
                    t[0],
                    dt[0],
                    state.cells(),
                    parameters.cells(),
                    drivers.cells(),
                    proposed.cells(),
                    error.cells(),
                    secondary.cells(),
                    stage_cache.cells(),
                    cached.contains(0),
                )?;
            }
            _ => {
                // Lane by lane, every lane's buffers gathered first.
                let gather = |b: LaneBuf<'_, T>, l: usize| -> Vec<Cell<T>> {
                    if b.is_empty() {
                        Vec::new()
                    } else {
                        b.lane(l).iter().map(|c| Cell::new(c.get())).collect()
                    }
                };
                let buffers = [
                    state,
                    parameters,
                    drivers,
                    proposed,
                    error,
                    secondary,
                    stage_cache,
                ];
                let lanes: Vec<[Vec<Cell<T>>; 7]> =
                    (0..w).map(|l| buffers.map(|b| gather(b, l))).collect();
                for (l, [y, p, d, out, err, sec, cache]) in lanes.iter().enumerate() {
                    self.step(
                        t[l],
                        dt[l],
                        y,
                        p,
                        d,
                        out,
                        err,
                        sec,
                        cache,
                        cached.contains(l),
                    )?;
                }
                for (l, lane) in lanes.iter().enumerate() {
                    for (from, b) in lane[3..].iter().zip(&buffers[3..]) {
                        for (i, c) in from.iter().enumerate() {
                            b.set(i, l, c.get());
                        }
                    }
                }
            }
        }
        Ok(evaluations)
    }

    /// Whether [`fixed_steps`](Self::fixed_steps) is compiled: for
    /// methods without an error estimate or a cached first stage.
    pub fn has_fixed_steps(&self) -> bool {
        self.fixed_code.is_some()
    }

    /// Steps every lane of a block of [`lanes`](Self::lanes) lanes from
    /// `times[k]` by `dt` (`dt64` is the `f64` step the times advance by,
    /// `dt` rounded to `T`), for `k = 0, 1, ...`: each step is
    /// [`step_lanes`](Self::step_lanes)' (bit for bit) into `proposed`,
    /// then copied to `state` when every value of every lane is finite.
    /// Returns the steps taken: `times.len()`, or the index of the first
    /// step with a non-finite value (left in `proposed`, `state` holding
    /// the state before it). Every lane is written.
    ///
    /// `Ok(None)`: no such code, another width, or buffers that overlap
    /// across lanes; nothing was done.
    #[allow(clippy::too_many_arguments)]
    pub fn fixed_steps(
        &self,
        times: &[f64],
        dt: T,
        dt64: f64,
        state: LaneBuf<'_, T>,
        parameters: LaneBuf<'_, T>,
        drivers: LaneBuf<'_, T>,
        proposed: LaneBuf<'_, T>,
    ) -> Result<Option<usize>, FusedLengthError> {
        let Some(code) = self.fixed_code else {
            return Ok(None);
        };
        let (n, w) = (self.n_states, state.width());
        if w != self.lanes {
            return Ok(None);
        }
        for (argument, buf, expected) in [
            ("state", state, n),
            ("proposed", proposed, n),
            ("parameters", parameters, self.n_parameters),
            ("drivers", drivers, self.n_drivers),
        ] {
            if buf.len() != expected || (expected != 0 && buf.width() != w) {
                return Err(FusedLengthError {
                    argument,
                    expected: expected * w,
                    found: buf.cells().len(),
                });
            }
        }
        let reads = [state, parameters, drivers];
        let writes = [state, proposed];
        let apart = writes.iter().all(|o| {
            reads
                .iter()
                .all(|i| !overlaps_across_lanes(i.cells(), o.cells(), w))
        }) && !intersect(state.cells(), proposed.cells());
        if !apart {
            return Ok(None);
        }
        // SAFETY: the code (compiled for `w == self.lanes` lanes) reads
        // `times.len()` times, and accesses the `n` elements of every lane
        // of `state` and `proposed` and the parameters and drivers the
        // step reads, at cell `i * w + l`: every length was just checked.
        // `Cell`s permit writes through shared references; `state` and
        // `proposed` are disjoint, and each chunk loads its inputs before
        // it stores, chunks touching disjoint lanes.
        let done = unsafe {
            code(
                times.as_ptr(),
                times.len() as u64,
                dt,
                dt64,
                ValueSlice::as_ptr(state.cells()).cast_mut(),
                ValueSlice::as_ptr(parameters.cells()),
                ValueSlice::as_ptr(drivers.cells()),
                ValueSlice::as_ptr(proposed.cells()).cast_mut(),
            )
        };
        Ok(Some(done as usize))
    }
}
