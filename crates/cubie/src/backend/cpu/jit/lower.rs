//! Lowering of one scheduled function to Cranelift IR.
//!
//! The body is one basic block: every input symbol is loaded once at the
//! top, then each scheduled node becomes one SSA value (in schedule order,
//! so shared subexpressions are computed once), and the roots are stored to
//! `out` at the end. Because all loads precede all stores, an `out` that
//! aliases an input sees the inputs' values from before the call.
//!
//! A function of more than [`STREAMING_NODES`] nodes is streamed instead:
//! each input is loaded where it is first needed and each root is parked in
//! a stack slot as soon as it is computed, then copied to `out` at the end
//! (loads still precede stores). Keeping every input and root live across
//! the whole body makes register allocation superlinear in the model's size;
//! streaming keeps live ranges as local as the equations are.
//!
//! Lane code ([`lower_lane_function`]) emits the same DAG on lane blocks:
//! every value is a chunk of lanes (`F64X2`/`F32X4`, or one lane when the
//! block is narrower than a vector), loads and stores are strided by the
//! block's width, comparisons give vector masks that `bitselect` reads,
//! and shims are called lane by lane, so each lane computes exactly what
//! the scalar code computes. Streamed functions are streamed in lanes too,
//! their roots parked in vector stack slots.

use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    AbiParam, Block, FuncRef, Function, InstBuilder, MemFlagsData, Signature, StackSlotData,
    StackSlotKind, Type, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Linkage, Module};

use super::JitError;
use super::JitOptions;
use super::math::{JitReal, binary_symbol, unary_symbol};
use crate::system::expr::{BinaryOp, ExprGraph, ExprId, Node, Symbol, UnaryOp};
use crate::system::schedule::{FunctionSchedule, InputArray};

/// Functions with more nodes than this are streamed (see the module docs).
pub const STREAMING_NODES: usize = 1024;

/// Bytes of stack a function's lowering parks its roots in (zero unless it
/// is streamed).
pub(crate) fn stack_bytes<T: JitReal>(schedule: &FunctionSchedule) -> usize {
    if schedule.nodes().len() > STREAMING_NODES {
        schedule.roots().len().saturating_mul(size_of::<T>())
    } else {
        0
    }
}

/// Bytes of stack the lane code of a function parks its roots in (zero
/// unless it is streamed): one chunk per root.
pub(crate) fn lane_stack_bytes(schedule: &FunctionSchedule, geometry: &LaneGeometry) -> usize {
    if schedule.nodes().len() > STREAMING_NODES {
        schedule
            .roots()
            .len()
            .saturating_mul(geometry.ty.bytes() as usize)
    } else {
        0
    }
}

/// The largest `|n|` for which `x^n` is expanded into multiplications.
pub const MAX_EXPANDED_POWER: f64 = 16.0;

/// The signature every generated function has:
/// `(t, state, parameters, drivers, driver_rates, direction, out)`.
pub(crate) fn entry_signature<T: JitReal>(module: &JITModule) -> Signature {
    let pointer = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(T::IR_TYPE));
    for _ in 0..6 {
        sig.params.push(AbiParam::new(pointer));
    }
    sig
}

/// The signature of lane code:
/// `(t, state, parameters, drivers, driver_rates, direction, out, mask)`,
/// all pointers; `t` and `mask` hold one value per lane.
pub(crate) fn lane_signature(module: &JITModule) -> Signature {
    let pointer = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    for _ in 0..8 {
        sig.params.push(AbiParam::new(pointer));
    }
    sig
}

/// How lane code walks a block of `lanes` interleaved runs: `chunk` lanes
/// at a time (one value of type `ty`), `unroll` chunks per iteration of
/// the loop over the block.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LaneGeometry {
    pub(crate) lanes: usize,
    pub(crate) chunk: usize,
    pub(crate) unroll: usize,
    pub(crate) ty: Type,
}

impl LaneGeometry {
    /// 128-bit vectors when the block is at least that wide, one lane at
    /// a time otherwise; `unroll` is clamped to the chunks there are.
    pub(crate) fn new<T: JitReal>(lanes: usize, unroll: usize) -> Result<Self, JitError> {
        if !crate::memory::LANE_WIDTHS.contains(&lanes) {
            return Err(JitError::Lanes { lanes });
        }
        let vector = 16 / size_of::<T>();
        let chunk = if lanes >= vector { vector } else { 1 };
        let ty = if chunk > 1 {
            T::IR_TYPE
                .by(chunk as u32)
                .ok_or(JitError::Internal("no vector type for the precision"))?
        } else {
            T::IR_TYPE
        };
        let chunks = lanes / chunk;
        let unroll = unroll.clamp(1, chunks);
        if !chunks.is_multiple_of(unroll) {
            return Err(JitError::Internal("unroll must divide the chunks"));
        }
        Ok(Self {
            lanes,
            chunk,
            unroll,
            ty,
        })
    }

    /// Iterations of the loop over the block.
    pub(crate) fn iterations(&self) -> usize {
        self.lanes / (self.chunk * self.unroll)
    }

    /// Byte offset of copy `u` of an iteration from the iteration's start,
    /// in an array of `bytes`-wide values.
    pub(crate) fn copy_offset(&self, u: usize, bytes: usize) -> i32 {
        // At most 32 lanes of 8 bytes.
        (u * self.chunk * bytes) as i32
    }
}

/// Opens the loop over a lane block: returns the lane index of the
/// iteration's first lane (an `i64` block parameter, or the constant 0
/// when one iteration covers the block) and the exit block, if any.
pub(crate) fn open_lane_loop(
    b: &mut FunctionBuilder<'_>,
    pointer: Type,
    geometry: &LaneGeometry,
) -> (Value, Option<(Block, Block)>) {
    if geometry.iterations() == 1 {
        return (b.ins().iconst(pointer, 0), None);
    }
    let body = b.create_block();
    let exit = b.create_block();
    b.append_block_param(body, pointer);
    let zero = b.ins().iconst(pointer, 0);
    b.ins().jump(body, &[zero.into()]);
    b.switch_to_block(body);
    let lane = b.block_params(body)[0];
    (lane, Some((body, exit)))
}

/// Closes the loop opened by [`open_lane_loop`]: next iteration or exit.
pub(crate) fn close_lane_loop(
    b: &mut FunctionBuilder<'_>,
    lane: Value,
    blocks: Option<(Block, Block)>,
    geometry: &LaneGeometry,
) {
    if let Some((body, exit)) = blocks {
        let step = (geometry.chunk * geometry.unroll) as i64;
        let next = b.ins().iadd_imm_u(lane, step);
        let more = b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, next, geometry.lanes as i64);
        b.ins().brif(more, body, &[next.into()], exit, &[]);
        b.switch_to_block(exit);
    }
}

/// `base + lane * bytes`: where an iteration's first lane of an array of
/// `bytes`-wide values is.
pub(crate) fn lane_base(
    b: &mut FunctionBuilder<'_>,
    base: Value,
    lane: Value,
    bytes: usize,
) -> Value {
    let offset = b.ins().imul_imm_u(lane, bytes as i64);
    b.ins().iadd(base, offset)
}

/// Shim functions imported into the module, declared on first use.
#[derive(Default)]
pub(crate) struct ShimImports {
    ids: HashMap<String, FuncId>,
}

impl ShimImports {
    fn declare<T: JitReal>(
        &mut self,
        module: &mut JITModule,
        name: String,
        arity: usize,
    ) -> Result<FuncId, JitError> {
        if let Some(&id) = self.ids.get(&name) {
            return Ok(id);
        }
        let mut sig = module.make_signature();
        for _ in 0..arity {
            sig.params.push(AbiParam::new(T::IR_TYPE));
        }
        sig.returns.push(AbiParam::new(T::IR_TYPE));
        let id = module.declare_function(&name, Linkage::Import, &sig)?;
        self.ids.insert(name, id);
        Ok(id)
    }
}

/// Emits the body of `schedule` into `func` (whose signature must be
/// [`entry_signature`]).
pub(crate) fn lower_function<T: JitReal>(
    module: &mut JITModule,
    shims: &mut ShimImports,
    graph: &ExprGraph,
    schedule: &FunctionSchedule,
    options: &JitOptions,
    func: &mut Function,
    func_ctx: &mut FunctionBuilderContext,
) -> Result<(), JitError> {
    let mut b = FunctionBuilder::new(func, func_ctx);
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    b.seal_block(block);
    let params = b.block_params(block).to_vec();
    let (t, arrays, out) = (params[0], &params[1..6], params[6]);

    let mut lower = Lowerer::<T>::new(b, module, shims, graph, options);
    if stack_bytes::<T>(schedule) > 0 {
        lower.emit_streaming(schedule, t, arrays, out, None)?;
    } else {
        let mut inputs = Vec::with_capacity(schedule.inputs().len());
        for &(_, symbol) in schedule.inputs() {
            inputs.push(lower.load_input(symbol, t, arrays)?);
        }
        let roots = lower.emit(schedule, &inputs)?;
        // A scattered output (the Jacobian) is zeroed by the caller; only
        // its non-zeros are stored here.
        for (k, value) in roots.into_iter().enumerate() {
            lower.store_root(out, schedule.position(k), value, None)?;
        }
    }
    lower.b.ins().return_(&[]);
    lower.finalize();
    Ok(())
}

/// Emits the lane code of `schedule` into `func` (whose signature must
/// be [`lane_signature`]): each iteration of the loop over the block loads
/// its chunks' inputs, emits the DAG once per chunk and stores the roots
/// into the lanes of `mask` only (old value, `bitselect`, store). All loads
/// of an iteration precede its stores, and iterations touch disjoint lanes,
/// so an `out` aliasing an input lane for lane sees the inputs from before
/// the call.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lower_lane_function<T: JitReal>(
    module: &mut JITModule,
    shims: &mut ShimImports,
    graph: &ExprGraph,
    schedule: &FunctionSchedule,
    options: &JitOptions,
    geometry: &LaneGeometry,
    func: &mut Function,
    func_ctx: &mut FunctionBuilderContext,
) -> Result<(), JitError> {
    let streamed = lane_stack_bytes(schedule, geometry) > 0;
    // A streamed body is already long: one chunk per iteration.
    let geometry = &if streamed {
        LaneGeometry {
            unroll: 1,
            ..*geometry
        }
    } else {
        *geometry
    };
    let pointer = module.target_config().pointer_type();
    let mut b = FunctionBuilder::new(func, func_ctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let (lane, blocks) = open_lane_loop(&mut b, pointer, geometry);
    let size = size_of::<T>();
    let bases: Vec<Value> = params
        .iter()
        .map(|&p| lane_base(&mut b, p, lane, size))
        .collect();
    let (t_base, arrays, out, mask_base) = (bases[0], &bases[1..6], bases[6], bases[7]);

    let mut lower = Lowerer::<T>::new(b, module, shims, graph, options);
    lower.ty = geometry.ty;
    lower.stride = geometry.lanes;
    let flags = MemFlagsData::trusted();
    let ty = geometry.ty;
    let mut copies = Vec::with_capacity(geometry.unroll);
    for u in 0..geometry.unroll {
        let extra = geometry.copy_offset(u, size);
        lower.extra = extra;
        let t = lower.b.ins().load(ty, flags, t_base, extra);
        let mask = lower.b.ins().load(ty, flags, mask_base, extra);
        if streamed {
            lower.emit_streaming(schedule, t, arrays, out, Some(mask))?;
        } else {
            let mut inputs = Vec::with_capacity(schedule.inputs().len());
            for &(_, symbol) in schedule.inputs() {
                inputs.push(lower.load_input(symbol, t, arrays)?);
            }
            copies.push((lower.emit(schedule, &inputs)?, mask, extra));
        }
    }
    // Root by root, chunk by chunk: stores in the order the outputs are.
    for k in 0..schedule.roots().len() {
        for (roots, mask, extra) in &copies {
            lower.extra = *extra;
            lower.store_root(out, schedule.position(k), roots[k], Some(*mask))?;
        }
    }
    close_lane_loop(&mut lower.b, lane, blocks, geometry);
    lower.b.ins().return_(&[]);
    lower.b.seal_all_blocks();
    lower.finalize();
    Ok(())
}

/// State of the lowering of one function: the builder plus what the
/// expression DAG needs to be emitted (possibly several times) into it.
pub(crate) struct Lowerer<'a, 'f, T> {
    pub(crate) b: FunctionBuilder<'f>,
    module: &'a mut JITModule,
    shims: &'a mut ShimImports,
    graph: &'a ExprGraph,
    refs: HashMap<FuncId, FuncRef>,
    values: Vec<Option<Value>>,
    /// `t` and the input arrays, while a function is streamed.
    streaming: Option<(Value, [Value; 5])>,
    options: &'a JitOptions,
    /// The type of a value: `T`, or a vector of lanes of `T`.
    pub(crate) ty: Type,
    /// Elements between consecutive indices of an array (the block's
    /// width in lane code, 1 otherwise).
    pub(crate) stride: usize,
    /// Bytes added to every array access (the chunk's first lane).
    pub(crate) extra: i32,
    _real: std::marker::PhantomData<T>,
}

impl<'a, 'f, T: JitReal> Lowerer<'a, 'f, T> {
    pub(crate) fn new(
        b: FunctionBuilder<'f>,
        module: &'a mut JITModule,
        shims: &'a mut ShimImports,
        graph: &'a ExprGraph,
        options: &'a JitOptions,
    ) -> Self {
        Lowerer {
            b,
            module,
            shims,
            graph,
            refs: HashMap::new(),
            values: vec![None; graph.len()],
            streaming: None,
            options,
            ty: T::IR_TYPE,
            stride: 1,
            extra: 0,
            _real: std::marker::PhantomData,
        }
    }

    /// Emits `schedule`'s nodes at the builder's current position, with
    /// `inputs[i]` as the value of `schedule.inputs()[i]`'s symbol, and
    /// returns the roots' values. May be called several times (each call
    /// emits a fresh copy of the DAG, e.g. one per Runge–Kutta stage).
    pub(crate) fn emit(
        &mut self,
        schedule: &FunctionSchedule,
        inputs: &[Value],
    ) -> Result<Vec<Value>, JitError> {
        if inputs.len() != schedule.inputs().len() {
            return Err(JitError::Internal("one value per input symbol expected"));
        }
        self.values.iter_mut().for_each(|v| *v = None);
        for (&(id, _), &value) in schedule.inputs().iter().zip(inputs) {
            self.values[id.index()] = Some(value);
        }
        for &id in schedule.nodes() {
            if matches!(self.graph.node(id), Node::Symbol(_)) {
                continue;
            }
            let value = self.operation(id)?;
            self.values[id.index()] = Some(value);
        }
        schedule.roots().iter().map(|&r| self.value(r)).collect()
    }

    /// Emits `schedule` streamed: inputs loaded at first use, each root
    /// parked in a stack slot when computed, all copied to `out` last
    /// (into the lanes of `mask` only, in lane code).
    fn emit_streaming(
        &mut self,
        schedule: &FunctionSchedule,
        t: Value,
        arrays: &[Value],
        out: Value,
        mask: Option<Value>,
    ) -> Result<(), JitError> {
        let width = self.ty.bytes() as usize;
        let n_roots = schedule.roots().len();
        let size = n_roots
            .checked_mul(width)
            .and_then(|bytes| u32::try_from(bytes).ok())
            .ok_or(JitError::TooLarge { index: n_roots })?;
        let align = width.trailing_zeros() as u8;
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            size,
            align,
        ));
        let slot_offset = |k: usize| {
            k.checked_mul(width)
                .and_then(|o| i32::try_from(o).ok())
                .ok_or(JitError::TooLarge { index: k })
        };
        let pointer = self.module.target_config().pointer_type();
        let mut roots: Vec<(ExprId, usize)> = schedule
            .roots()
            .iter()
            .enumerate()
            .map(|(k, &r)| (r, k))
            .collect();
        roots.sort_unstable();
        let mut next = 0;
        self.values.iter_mut().for_each(|v| *v = None);
        let input_arrays: [Value; 5] = arrays
            .try_into()
            .map_err(|_| JitError::Internal("five input arrays expected"))?;
        self.streaming = Some((t, input_arrays));
        for &id in schedule.nodes() {
            let value = match *self.graph.node(id) {
                Node::Symbol(symbol) => self.load_input(symbol, t, arrays)?,
                _ => self.operation(id)?,
            };
            self.values[id.index()] = Some(value);
            while let Some(&(root, k)) = roots.get(next) {
                if root != id {
                    break;
                }
                self.b
                    .ins()
                    .stack_store(pointer, value, slot, slot_offset(k)?);
                next += 1;
            }
        }
        self.streaming = None;
        for k in 0..schedule.roots().len() {
            let value = self
                .b
                .ins()
                .stack_load(pointer, self.ty, slot, slot_offset(k)?);
            self.store_root(out, schedule.position(k), value, mask)?;
        }
        Ok(())
    }

    /// Byte offset of element `index` of an array (lane-strided, from the
    /// current chunk).
    fn element_offset(&self, index: usize) -> Result<i32, JitError> {
        index
            .checked_mul(self.stride)
            .and_then(|i| i.checked_mul(size_of::<T>()))
            .and_then(|o| i32::try_from(o).ok())
            .and_then(|o| o.checked_add(self.extra))
            .ok_or(JitError::TooLarge { index })
    }

    /// Loads element `index` of the array at `base`.
    pub(crate) fn load_element(&mut self, base: Value, index: usize) -> Result<Value, JitError> {
        let offset = self.element_offset(index)?;
        Ok(self
            .b
            .ins()
            .load(self.ty, MemFlagsData::trusted(), base, offset))
    }

    /// Stores `value` as element `index` of the array at `base`.
    pub(crate) fn store_element(
        &mut self,
        base: Value,
        index: usize,
        value: Value,
    ) -> Result<(), JitError> {
        let offset = self.element_offset(index)?;
        self.b
            .ins()
            .store(MemFlagsData::trusted(), value, base, offset);
        Ok(())
    }

    /// Stores a root at output `position`; with a `mask`, only in its lanes
    /// (the others keep their value).
    fn store_root(
        &mut self,
        out: Value,
        position: usize,
        value: Value,
        mask: Option<Value>,
    ) -> Result<(), JitError> {
        let value = match mask {
            Some(mask) => {
                let old = self.load_element(out, position)?;
                self.b.ins().bitselect(mask, value, old)
            }
            None => value,
        };
        self.store_element(out, position, value)
    }

    /// Loads one input symbol (`t` is already a value).
    pub(crate) fn load_input(
        &mut self,
        symbol: Symbol,
        t: Value,
        arrays: &[Value],
    ) -> Result<Value, JitError> {
        Ok(match InputArray::of(symbol) {
            None => t,
            Some((array, index)) => self.load_element(arrays[array.index()], index as usize)?,
        })
    }

    /// Emits the operation at `id`, whose operands are lowered.
    fn operation(&mut self, id: ExprId) -> Result<Value, JitError> {
        let graph = self.graph;
        Ok(match *graph.node(id) {
            Node::Symbol(_) => return Err(JitError::Internal("a symbol is not an operation")),
            Node::Const(bits) => self.constant(f64::from_bits(bits)),
            Node::Unary(op, a) => {
                let a = self.operand(a)?;
                self.unary(op, a)?
            }
            Node::Binary(op, a, b) => {
                let exponent = graph.const_value(b);
                let (a, b) = (self.operand(a)?, self.operand(b)?);
                self.binary(op, a, b, exponent)?
            }
            Node::Select(c, a, b) => {
                let (c, a, b) = (self.operand(c)?, self.operand(a)?, self.operand(b)?);
                let zero = self.constant(0.0);
                let cond = self.b.ins().fcmp(FloatCC::NotEqual, c, zero);
                self.select(cond, a, b)
            }
        })
    }

    /// Finishes the function.
    pub(crate) fn finalize(self) {
        let config = self.module.target_config();
        self.b.finalize(config);
    }

    /// An operand's value. Streamed, literals and inputs are emitted again
    /// at each use: one value used all over a long body (a parameter, the
    /// literal `2`) would otherwise be live across all of it, which the
    /// register allocator splits at great cost.
    fn operand(&mut self, id: ExprId) -> Result<Value, JitError> {
        if let Some((t, arrays)) = self.streaming {
            match *self.graph.node(id) {
                Node::Const(bits) => return Ok(self.constant(f64::from_bits(bits))),
                Node::Symbol(symbol) => return self.load_input(symbol, t, &arrays),
                _ => {}
            }
        }
        self.value(id)
    }

    fn value(&self, id: ExprId) -> Result<Value, JitError> {
        self.values[id.index()].ok_or(JitError::Internal("operand lowered after its user"))
    }

    /// A literal, rounded to `T` as the evaluator rounds it (in every
    /// lane of a vector).
    pub(crate) fn constant(&mut self, x: f64) -> Value {
        let x = T::from_f64(x).to_f64();
        let scalar = if T::IR_TYPE == cranelift_codegen::ir::types::F32 {
            self.b.ins().f32const(x as f32)
        } else {
            self.b.ins().f64const(x)
        };
        if self.ty.is_vector() {
            self.b.ins().splat(self.ty, scalar)
        } else {
            scalar
        }
    }

    /// `cond ? a : b` for the condition of an `fcmp` (an `i8`), or lane by
    /// lane for a vector mask.
    pub(crate) fn select(&mut self, cond: Value, a: Value, b: Value) -> Value {
        if self.ty.is_vector() {
            let mask = self.b.ins().bitcast(self.ty, MemFlagsData::new(), cond);
            self.b.ins().bitselect(mask, a, b)
        } else {
            self.b.ins().select(cond, a, b)
        }
    }

    /// 1.0 where the condition holds, else 0.0.
    fn bool_value(&mut self, cond: Value) -> Value {
        let (one, zero) = (self.constant(1.0), self.constant(0.0));
        self.select(cond, one, zero)
    }

    /// Calls a shim; on a vector, once per lane (the same scalar function,
    /// so each lane's result is the scalar code's).
    fn call(&mut self, name: String, args: &[Value]) -> Result<Value, JitError> {
        let id = self.shims.declare::<T>(self.module, name, args.len())?;
        let func_ref = match self.refs.get(&id) {
            Some(&r) => r,
            None => {
                let r = self.module.declare_func_in_func(id, self.b.func);
                self.refs.insert(id, r);
                r
            }
        };
        if !self.ty.is_vector() {
            return self.call_scalar(func_ref, args);
        }
        let mut result: Option<Value> = None;
        for lane in 0..self.ty.lane_count() as u8 {
            let lane_args: Vec<Value> = args
                .iter()
                .map(|&a| self.b.ins().extractlane(a, lane))
                .collect();
            let r = self.call_scalar(func_ref, &lane_args)?;
            result = Some(match result {
                None => self.b.ins().splat(self.ty, r),
                Some(v) => self.b.ins().insertlane(v, r, lane),
            });
        }
        result.ok_or(JitError::Internal("a vector without lanes"))
    }

    fn call_scalar(&mut self, func_ref: FuncRef, args: &[Value]) -> Result<Value, JitError> {
        let inst = self.b.ins().call(func_ref, args);
        self.b
            .inst_results(inst)
            .first()
            .copied()
            .ok_or(JitError::Internal("shim call without result"))
    }

    fn unary(&mut self, op: UnaryOp, x: Value) -> Result<Value, JitError> {
        Ok(match op {
            UnaryOp::Neg => self.b.ins().fneg(x),
            UnaryOp::Abs => self.b.ins().fabs(x),
            UnaryOp::Sqrt => self.b.ins().sqrt(x),
            UnaryOp::Floor => self.b.ins().floor(x),
            UnaryOp::Ceil => self.b.ins().ceil(x),
            UnaryOp::Sign => {
                // x > 0 ? 1 : (x < 0 ? -1 : x), so that NaN and ±0 pass through.
                let (zero, one, minus_one) =
                    (self.constant(0.0), self.constant(1.0), self.constant(-1.0));
                let gt = self.b.ins().fcmp(FloatCC::GreaterThan, x, zero);
                let lt = self.b.ins().fcmp(FloatCC::LessThan, x, zero);
                let rest = self.select(lt, minus_one, x);
                self.select(gt, one, rest)
            }
            UnaryOp::Heaviside => {
                // x > 0 ? 1 : (x < 0 ? 0 : (x == 0 ? 0.5 : x)), NaN passes.
                let (zero, one, half) =
                    (self.constant(0.0), self.constant(1.0), self.constant(0.5));
                let gt = self.b.ins().fcmp(FloatCC::GreaterThan, x, zero);
                let lt = self.b.ins().fcmp(FloatCC::LessThan, x, zero);
                let eq = self.b.ins().fcmp(FloatCC::Equal, x, zero);
                let at_zero = self.select(eq, half, x);
                let rest = self.select(lt, zero, at_zero);
                self.select(gt, one, rest)
            }
            UnaryOp::Not => {
                let zero = self.constant(0.0);
                let eq = self.b.ins().fcmp(FloatCC::Equal, x, zero);
                self.bool_value(eq)
            }
            UnaryOp::Exp
            | UnaryOp::Expm1
            | UnaryOp::Ln
            | UnaryOp::Log1p
            | UnaryOp::Log10
            | UnaryOp::Log2
            | UnaryOp::Cbrt
            | UnaryOp::Sin
            | UnaryOp::Cos
            | UnaryOp::Tan
            | UnaryOp::Asin
            | UnaryOp::Acos
            | UnaryOp::Atan
            | UnaryOp::Sinh
            | UnaryOp::Cosh
            | UnaryOp::Tanh
            | UnaryOp::Asinh
            | UnaryOp::Acosh
            | UnaryOp::Atanh => self.call(unary_symbol::<T>(op), &[x])?,
        })
    }

    /// `exponent` is the literal value of `b`, if it is one.
    fn binary(
        &mut self,
        op: BinaryOp,
        a: Value,
        b: Value,
        exponent: Option<f64>,
    ) -> Result<Value, JitError> {
        let compare = |s: &mut Self, cc: FloatCC| {
            let c = s.b.ins().fcmp(cc, a, b);
            s.bool_value(c)
        };
        Ok(match op {
            BinaryOp::Add => self.b.ins().fadd(a, b),
            BinaryOp::Sub => self.b.ins().fsub(a, b),
            BinaryOp::Mul => self.b.ins().fmul(a, b),
            BinaryOp::Div => self.b.ins().fdiv(a, b),
            BinaryOp::Pow => match exponent.and_then(|e| self.expandable_power(e)) {
                Some(n) => self.integer_power(a, n),
                None => self.call(binary_symbol::<T>(op), &[a, b])?,
            },
            BinaryOp::Atan2 | BinaryOp::Hypot => self.call(binary_symbol::<T>(op), &[a, b])?,
            // Rust's `min`/`max`: a NaN operand yields the other operand, and
            // on a tie (±0) the first operand is returned, as Rust does on
            // x86-64. Cranelift's fmin/fmax would propagate NaN instead.
            BinaryOp::Min | BinaryOp::Max => {
                let cc = if op == BinaryOp::Min {
                    FloatCC::LessThan
                } else {
                    FloatCC::GreaterThan
                };
                let b_wins = self.b.ins().fcmp(cc, b, a);
                let a_nan = self.b.ins().fcmp(FloatCC::Unordered, a, a);
                let otherwise = self.select(a_nan, b, a);
                self.select(b_wins, b, otherwise)
            }
            // Ordered comparisons are false on NaN and `NotEqual` is true,
            // as in Rust.
            BinaryOp::Lt => compare(self, FloatCC::LessThan),
            BinaryOp::Le => compare(self, FloatCC::LessThanOrEqual),
            BinaryOp::Gt => compare(self, FloatCC::GreaterThan),
            BinaryOp::Ge => compare(self, FloatCC::GreaterThanOrEqual),
            BinaryOp::Eq => compare(self, FloatCC::Equal),
            BinaryOp::Ne => compare(self, FloatCC::NotEqual),
            BinaryOp::And | BinaryOp::Or => {
                let zero = self.constant(0.0);
                let a_true = self.b.ins().fcmp(FloatCC::NotEqual, a, zero);
                let b_true = self.b.ins().fcmp(FloatCC::NotEqual, b, zero);
                let both = if op == BinaryOp::And {
                    self.b.ins().band(a_true, b_true)
                } else {
                    self.b.ins().bor(a_true, b_true)
                };
                self.bool_value(both)
            }
        })
    }

    /// The exponent as an integer when `x^e` should be expanded.
    fn expandable_power(&self, e: f64) -> Option<i32> {
        let e = T::from_f64(e).to_f64();
        (self.options.expand_integer_powers && e.fract() == 0.0 && e.abs() <= MAX_EXPANDED_POWER)
            .then_some(e as i32)
    }

    /// `x^n` by binary exponentiation; `1 / x^|n|` for negative `n`.
    fn integer_power(&mut self, x: Value, n: i32) -> Value {
        if n == 0 {
            // powf(x, 0) is 1 for every x, NaN included.
            return self.constant(1.0);
        }
        let mut remaining = n.unsigned_abs();
        let mut base = x;
        let mut result: Option<Value> = None;
        loop {
            if remaining & 1 == 1 {
                result = Some(match result {
                    None => base,
                    Some(r) => self.b.ins().fmul(r, base),
                });
            }
            remaining >>= 1;
            if remaining == 0 {
                break;
            }
            base = self.b.ins().fmul(base, base);
        }
        let positive = result.unwrap_or(x);
        if n < 0 {
            let one = self.constant(1.0);
            self.b.ins().fdiv(one, positive)
        } else {
            positive
        }
    }
}
