//! [`NativeSystem`]: a model's functions compiled to machine code, behind
//! a safe, allocation-free calling interface.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

use cranelift_codegen::ir::UserFuncName;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module};

use super::lower::{
    LaneGeometry, ShimImports, entry_signature, lane_signature, lane_stack_bytes, lower_function,
    lower_lane_function, stack_bytes,
};
use super::math::{JitReal, all_shims};
use super::{JitError, JitOptions};
use crate::memory::{LaneBuf, LaneMask, MAX_LANES, PerLane};
use crate::system::args::{ArgumentSpec, Inputs, LengthError, OutSlice, ValueSlice};
use crate::system::functions::{SystemFunction, SystemFunctions};
use crate::system::schedule::{Schedule, slot};

/// The machine-code signature of every generated function:
/// `(t, state, parameters, drivers, driver_rates, direction, out)`.
type RawFn<T> = unsafe extern "C" fn(T, *const T, *const T, *const T, *const T, *const T, *mut T);

/// The machine-code signature of lane code:
/// `(t, state, parameters, drivers, driver_rates, direction, out, mask)`,
/// arrays interleaved by lane, `t` and `mask` one value per lane (`mask`:
/// all bits set for a lane to write, zero otherwise).
type RawLaneFn<T> = unsafe extern "C" fn(
    *const T,
    *const T,
    *const T,
    *const T,
    *const T,
    *const T,
    *mut T,
    *const T,
);

/// Chunks of a block each iteration of lane code handles: two vectors per
/// iteration give the processor independent work to overlap (measured a
/// few percent faster than one on ERK steps; four gain nothing more and
/// compile slower).
pub(crate) const LANE_UNROLL: usize = 2;

/// The input arrays of a model call, every one a lane block's buffer
/// (an array the function does not read may be empty).
#[derive(Debug, Clone, Copy)]
pub struct LaneInputs<'a, T> {
    /// The state.
    pub state: LaneBuf<'a, T>,
    /// The parameters.
    pub parameters: LaneBuf<'a, T>,
    /// The drivers' values.
    pub drivers: LaneBuf<'a, T>,
    /// The drivers' time derivatives (read by `dfdt`).
    pub driver_rates: LaneBuf<'a, T>,
    /// The direction of a Jacobian-vector product.
    pub direction: LaneBuf<'a, T>,
}

/// Number of generated functions.
const N_FUNCTIONS: usize = SystemFunction::ALL.as_slice().len();

/// One compiled function and the argument lengths it accepts.
#[derive(Clone, Copy)]
struct Entry<T> {
    code: RawFn<T>,
    spec: ArgumentSpec,
    /// The code writes only some outputs (the Jacobian's non-zeros): the
    /// rest are zeroed before the call.
    scattered: bool,
}

/// Owns the executable memory of the generated code; frees it on drop.
pub(crate) struct OwnedModule(pub(crate) ManuallyDrop<JITModule>);

// SAFETY: after `finalize_definitions` the module is never used again except
// to be freed in `drop`, which has exclusive access. No `&self` method is
// ever called on it, so sharing `&OwnedModule` between threads permits
// nothing, and moving it to another thread only moves where the
// (process-wide) executable memory is eventually freed.
unsafe impl Send for OwnedModule {}
// SAFETY: see `Send` above: a shared reference gives no access at all.
unsafe impl Sync for OwnedModule {}

impl Drop for OwnedModule {
    fn drop(&mut self) {
        // SAFETY: `self.0` is taken exactly once, here. The code pointers
        // into this memory live in the same owner (`NativeSystem` or
        // `FusedErkStep`, declared before the module so dropped first, or
        // were never handed out when compilation failed), are only called
        // through `&owner`, and so cannot be running or called after this.
        unsafe { ManuallyDrop::take(&mut self.0).free_memory() };
    }
}

/// A model's functions compiled to native code for precision `T`.
///
/// Cheap to share: `NativeSystem` is `Send + Sync`, and a call takes
/// `&self`, checks argument lengths and allocates nothing. Inputs may be
/// any [`ValueSlice`] (`&[T]`, `&[Cell<T>]`, ...), outputs any
/// [`OutSlice`] (`&mut [T]`, `&[Cell<T>]`); an input array the function
/// does not read may be empty.
pub struct NativeSystem<T: JitReal> {
    entries: [Entry<T>; N_FUNCTIONS],
    /// Lane code for blocks of `lanes` lanes; none for one lane, whose
    /// block layout is the scalar code's.
    lane_code: Option<[RawLaneFn<T>; N_FUNCTIONS]>,
    lanes: usize,
    /// Stack the streamed functions' lane code parks roots in.
    lane_stack: usize,
    schedule: Schedule,
    // Declared last: dropped after the code pointers above.
    _module: OwnedModule,
}

impl<T: JitReal> std::fmt::Debug for NativeSystem<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeSystem")
            .field("precision", &T::PRECISION)
            .field("sizes", &self.schedule.sizes())
            .field("lanes", &self.lanes)
            .finish_non_exhaustive()
    }
}

fn parts<T: Copy, S: ValueSlice<T> + ?Sized>(s: &S) -> (*const T, usize) {
    (s.as_ptr(), s.len())
}

/// The inputs of a function of `(t, state, parameters, drivers)` alone.
fn at_state<T: Copy, S, P, D>(state: &S, parameters: &P, drivers: &D) -> [(*const T, usize); 5]
where
    S: ValueSlice<T> + ?Sized,
    P: ValueSlice<T> + ?Sized,
    D: ValueSlice<T> + ?Sized,
{
    [
        parts(state),
        parts(parameters),
        parts(drivers),
        empty(),
        empty(),
    ]
}

/// An array the wrapper does not pass: empty, so the length check rejects
/// it for any function that reads it.
fn empty<T>() -> (*const T, usize) {
    (NonNull::dangling().as_ptr(), 0)
}

impl<T: JitReal> NativeSystem<T> {
    /// Compiles every function of `functions` with default options.
    pub fn compile(functions: &SystemFunctions) -> Result<Self, JitError> {
        Self::compile_with(functions, &JitOptions::default())
    }

    /// Compiles every function of `functions`.
    pub fn compile_with(
        functions: &SystemFunctions,
        options: &JitOptions,
    ) -> Result<Self, JitError> {
        Self::compile_with_symbols(functions, options, &[], 1)
    }

    /// Compiles every function of `functions` twice: the scalar code of
    /// [`compile_with`](Self::compile_with), and lane code for blocks of
    /// `lanes` lanes (1, 2, 4, 8, 16 or 32), which [`call_lanes`](Self::call_lanes)
    /// runs on blocks of that width. One lane needs no code of its own:
    /// a one-lane block is laid out as the scalar code reads it.
    ///
    /// Lane code gives every lane exactly the bits the scalar code gives.
    /// Functions of more than [`STREAMING_NODES`](super::STREAMING_NODES)
    /// nodes are streamed in lanes too, their outputs parked in vector
    /// stack slots (see [`stack_bytes`](Self::stack_bytes)).
    pub fn compile_lanes(
        functions: &SystemFunctions,
        options: &JitOptions,
        lanes: usize,
    ) -> Result<Self, JitError> {
        Self::compile_with_symbols(functions, options, &[], lanes)
    }

    /// Compiles, replacing the named shims by other functions (tests use
    /// this to count calls).
    pub(crate) fn compile_with_symbols(
        functions: &SystemFunctions,
        options: &JitOptions,
        overrides: &[(&str, *const u8)],
        lanes: usize,
    ) -> Result<Self, JitError> {
        let geometry = LaneGeometry::new::<T>(lanes, LANE_UNROLL)?;
        let schedule = Schedule::new(functions)?;
        let streamed = schedule.iter().any(|plan| stack_bytes::<T>(plan) > 0);
        let mut owned = new_module_for::<T>(overrides, streamed)?;
        let module: &mut JITModule = &mut owned.0;

        let signature = entry_signature::<T>(module);
        let lane_sig = lane_signature(module);
        let mut ctx = module.make_context();
        let mut func_ctx = FunctionBuilderContext::new();
        let mut shims = ShimImports::default();
        let mut ids = Vec::with_capacity(SystemFunction::ALL.len());
        let mut lane_ids = Vec::with_capacity(SystemFunction::ALL.len());
        for plan in schedule.iter() {
            let name = format!("cubie_{}_{}", plan.function().name(), T::SUFFIX);
            let id = module.declare_function(&name, Linkage::Local, &signature)?;
            ctx.func.signature = signature.clone();
            ctx.func.name = UserFuncName::user(0, id.as_u32());
            lower_function::<T>(
                module,
                &mut shims,
                &functions.graph,
                plan,
                options,
                &mut ctx.func,
                &mut func_ctx,
            )?;
            module.define_function(id, &mut ctx)?;
            module.clear_context(&mut ctx);
            ids.push(id);
            if lanes == 1 {
                continue;
            }
            let name = format!("{name}_x{lanes}");
            let id = module.declare_function(&name, Linkage::Local, &lane_sig)?;
            ctx.func.signature = lane_sig.clone();
            ctx.func.name = UserFuncName::user(0, id.as_u32());
            lower_lane_function::<T>(
                module,
                &mut shims,
                &functions.graph,
                plan,
                options,
                &geometry,
                &mut ctx.func,
                &mut func_ctx,
            )?;
            module.define_function(id, &mut ctx)?;
            module.clear_context(&mut ctx);
            lane_ids.push(id);
        }
        module.finalize_definitions()?;

        let entry = |i: usize| {
            let address = module.get_finalized_function(ids[i]);
            // SAFETY: the function was defined with `entry_signature::<T>`
            // (one `T`, six pointers, no result) in the host's default
            // calling convention, which is the platform C ABI that
            // `extern "C"` names; its memory is finalized and executable.
            let code = unsafe { std::mem::transmute::<*const u8, RawFn<T>>(address) };
            let plan = schedule.function(SystemFunction::ALL[i]);
            let spec = ArgumentSpec::new(plan, schedule.sizes());
            let scattered = plan.positions().is_some();
            Entry {
                code,
                spec,
                scattered,
            }
        };
        let entries = std::array::from_fn(entry);
        let lane_code = (lane_ids.len() == N_FUNCTIONS).then(|| {
            std::array::from_fn(|i| {
                let address = module.get_finalized_function(lane_ids[i]);
                // SAFETY: defined with `lane_signature` (eight pointers, no
                // result) in the host's default calling convention, the C
                // ABI; finalized and executable, owned alongside.
                unsafe { std::mem::transmute::<*const u8, RawLaneFn<T>>(address) }
            })
        });
        let lane_stack = if lanes == 1 {
            0
        } else {
            schedule
                .iter()
                .map(|plan| lane_stack_bytes(plan, &geometry))
                .max()
                .unwrap_or(0)
        };
        Ok(Self {
            entries,
            lane_code,
            lanes,
            lane_stack,
            schedule,
            _module: owned,
        })
    }

    /// The block width the lane code was compiled for (1 for
    /// [`compile`](Self::compile)).
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// Stack bytes a call may use beyond the usual: the largest function
    /// of more than [`STREAMING_NODES`](super::STREAMING_NODES)
    /// nodes parks its outputs on the stack (its lane code, one vector
    /// of lanes per output). Call such a system from a thread with at
    /// least this much more stack than usual.
    pub fn stack_bytes(&self) -> usize {
        self.schedule
            .iter()
            .map(stack_bytes::<T>)
            .max()
            .unwrap_or(0)
            .max(self.lane_stack)
    }

    /// The plan each function was compiled from.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Number of output values of `function`.
    pub fn n_outputs(&self, function: SystemFunction) -> usize {
        self.entries[slot(function)].spec.n_outputs()
    }

    #[inline]
    fn invoke(
        &self,
        function: SystemFunction,
        t: T,
        inputs: [(*const T, usize); 5],
        mut out: impl OutSlice<T>,
    ) -> Result<(), LengthError> {
        let entry = &self.entries[slot(function)];
        entry.spec.check(inputs.map(|(_, len)| len), out.len())?;
        if entry.scattered {
            for k in 0..out.len() {
                out.set(k, T::zero());
            }
        }
        let out = out.as_mut_ptr();
        let [s, p, d, r, v] = inputs.map(|(ptr, _)| ptr);
        // SAFETY: `Schedule::new` checked that the code reads only indices
        // below each array's declared length, and `check` just verified
        // that every array the code reads has exactly that length (arrays
        // it does not read may be empty; their pointer is never used). It
        // writes only below `n_outputs` in `out` (positions were checked by
        // `Schedule::new`), whose length was checked. All
        // pointers come from live, aligned slices borrowed for this call.
        // An `out` aliasing an input is only possible through `Cell`s and is
        // fine: the code loads every input before its first store.
        unsafe { (entry.code)(t, s, p, d, r, v, out) };
        Ok(())
    }

    /// Evaluates `function` for the lanes of `mask` of a lane block:
    /// lane `l` at time `t[l]` on lane `l` of every input, into lane `l`
    /// of `out`; the other lanes of `out` keep their values.
    ///
    /// Lengths are checked as the scalar calls check them, in elements
    /// per lane; every input that is not empty must be as wide as `out`,
    /// at most [`MAX_LANES`]. Blocks of [`lanes`](Self::lanes) lanes run
    /// the lane code, others each lane through the scalar code. Either way
    /// each lane gets the scalar code's bits, and `out` may alias an input:
    /// the function sees the inputs as they were before the call.
    pub fn call_lanes(
        &self,
        function: SystemFunction,
        t: &PerLane<T>,
        inputs: &LaneInputs<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    ) -> Result<(), LengthError> {
        let entry = &self.entries[slot(function)];
        let arrays = [
            inputs.state,
            inputs.parameters,
            inputs.drivers,
            inputs.driver_rates,
            inputs.direction,
        ];
        let w = out.width();
        entry.spec.check_lanes(
            arrays.map(|a| (a.len(), a.width())),
            (out.len(), w),
            MAX_LANES,
        )?;
        let mask = mask & LaneMask::all(w);
        if mask.is_empty() {
            return Ok(());
        }
        // Lane code works chunk by chunk: an `out` overlapping an input
        // across lanes would see another chunk's outputs.
        let lane_for_lane = arrays
            .iter()
            .all(|a| !overlaps_across_lanes(a.cells(), out.cells(), w));
        match &self.lane_code {
            Some(code) if w == self.lanes && lane_for_lane => {
                if entry.scattered {
                    for i in 0..out.len() {
                        for l in mask.lanes() {
                            out.set(i, l, T::zero());
                        }
                    }
                }
                let on: PerLane<T> = std::array::from_fn(|l| {
                    if mask.contains(l) {
                        T::LANE_ON
                    } else {
                        T::zero()
                    }
                });
                let [s, p, d, r, v] = arrays.map(|a| ValueSlice::as_ptr(a.cells()));
                let out = ValueSlice::as_ptr(out.cells()).cast_mut();
                // SAFETY: `check_lanes` verified that every array the code
                // reads holds exactly its declared length of elements of
                // `w` lanes (`len * w` cells, as a `LaneBuf` is), and the
                // code (compiled for `w == self.lanes` lanes) reads element
                // `i` of lane `l` at cell `i * w + l` for indices below the
                // declared lengths (checked by `Schedule::new`) and `l < w`;
                // arrays it does not read are never dereferenced. It writes
                // `out` likewise, below `n_outputs`, which was checked. `t`
                // and `on` hold `MAX_LANES >= w` values. `Cell`s permit the
                // writes through shared references; every chunk's loads
                // precede its stores and chunks touch disjoint lanes, and
                // overlaps across lanes were excluded just above.
                unsafe { code[slot(function)](t.as_ptr(), s, p, d, r, v, out, on.as_ptr()) };
                Ok(())
            }
            _ if w == 1 => {
                // One lane: the block is laid out as the scalar code reads.
                let parts = arrays.map(|a| parts(a.cells()));
                self.invoke(function, t[0], parts, out.cells())
            }
            _ => self.call_lanes_reference(function, t, &arrays, out, mask),
        }
    }

    /// `call_lanes` lane by lane through the scalar code: every lane's
    /// inputs are gathered before any lane's outputs are written.
    #[cold]
    #[inline(never)]
    fn call_lanes_reference(
        &self,
        function: SystemFunction,
        t: &PerLane<T>,
        arrays: &[LaneBuf<'_, T>; 5],
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    ) -> Result<(), LengthError> {
        let mut results = Vec::with_capacity(mask.count());
        for l in mask.lanes() {
            let lane: [Vec<T>; 5] = arrays.each_ref().map(|a| {
                let mut values = vec![T::zero(); a.len()];
                if !a.is_empty() {
                    a.lane(l).read_into(&mut values);
                }
                values
            });
            let mut result: Vec<T> = (0..out.len()).map(|i| out.get(i, l)).collect();
            let parts = lane.each_ref().map(|v| parts(&v[..]));
            self.invoke(function, t[l], parts, &mut result[..])?;
            results.push((l, result));
        }
        for (l, result) in results {
            out.lane(l).write_from(&result);
        }
        Ok(())
    }

    /// Any function, with all inputs given as plain slices.
    pub fn call(
        &self,
        function: SystemFunction,
        inputs: &Inputs<'_, T>,
        out: impl OutSlice<T>,
    ) -> Result<(), LengthError> {
        let arrays = inputs.arrays().map(|a| parts(a));
        self.invoke(function, inputs.t, arrays, out)
    }

    /// `dx/dt = f(t, x)`: one value per state.
    #[inline]
    pub fn dxdt<S, P, D>(
        &self,
        t: T,
        state: &S,
        parameters: &P,
        drivers: &D,
        out: impl OutSlice<T>,
    ) -> Result<(), LengthError>
    where
        S: ValueSlice<T> + ?Sized,
        P: ValueSlice<T> + ?Sized,
        D: ValueSlice<T> + ?Sized,
    {
        let inputs = at_state(state, parameters, drivers);
        self.invoke(SystemFunction::Dxdt, t, inputs, out)
    }

    /// The observables: one value per observable.
    #[inline]
    pub fn observables<S, P, D>(
        &self,
        t: T,
        state: &S,
        parameters: &P,
        drivers: &D,
        out: impl OutSlice<T>,
    ) -> Result<(), LengthError>
    where
        S: ValueSlice<T> + ?Sized,
        P: ValueSlice<T> + ?Sized,
        D: ValueSlice<T> + ?Sized,
    {
        let inputs = at_state(state, parameters, drivers);
        self.invoke(SystemFunction::Observables, t, inputs, out)
    }

    /// The dense Jacobian `df_i/dx_j`, row-major (`n_states * n_states`).
    #[inline]
    pub fn jacobian<S, P, D>(
        &self,
        t: T,
        state: &S,
        parameters: &P,
        drivers: &D,
        out: impl OutSlice<T>,
    ) -> Result<(), LengthError>
    where
        S: ValueSlice<T> + ?Sized,
        P: ValueSlice<T> + ?Sized,
        D: ValueSlice<T> + ?Sized,
    {
        let inputs = at_state(state, parameters, drivers);
        self.invoke(SystemFunction::Jacobian, t, inputs, out)
    }

    /// The Jacobian's diagonal `df_i/dx_i`: one value per state.
    #[inline]
    pub fn jacobian_diagonal<S, P, D>(
        &self,
        t: T,
        state: &S,
        parameters: &P,
        drivers: &D,
        out: impl OutSlice<T>,
    ) -> Result<(), LengthError>
    where
        S: ValueSlice<T> + ?Sized,
        P: ValueSlice<T> + ?Sized,
        D: ValueSlice<T> + ?Sized,
    {
        let inputs = at_state(state, parameters, drivers);
        self.invoke(SystemFunction::JacobianDiagonal, t, inputs, out)
    }

    /// The Jacobian-vector product `J(t, x) * direction`: one value per
    /// state.
    #[inline]
    pub fn jvp<S, P, D, V>(
        &self,
        t: T,
        state: &S,
        parameters: &P,
        drivers: &D,
        direction: &V,
        out: impl OutSlice<T>,
    ) -> Result<(), LengthError>
    where
        S: ValueSlice<T> + ?Sized,
        P: ValueSlice<T> + ?Sized,
        D: ValueSlice<T> + ?Sized,
        V: ValueSlice<T> + ?Sized,
    {
        let inputs = [
            parts(state),
            parts(parameters),
            parts(drivers),
            empty(),
            parts(direction),
        ];
        self.invoke(SystemFunction::Jvp, t, inputs, out)
    }

    /// `df/dt` at fixed state (drivers through `driver_rates`): one value
    /// per state.
    #[inline]
    pub fn dfdt<S, P, D, R>(
        &self,
        t: T,
        state: &S,
        parameters: &P,
        drivers: &D,
        driver_rates: &R,
        out: impl OutSlice<T>,
    ) -> Result<(), LengthError>
    where
        S: ValueSlice<T> + ?Sized,
        P: ValueSlice<T> + ?Sized,
        D: ValueSlice<T> + ?Sized,
        R: ValueSlice<T> + ?Sized,
    {
        let inputs = [
            parts(state),
            parts(parameters),
            parts(drivers),
            parts(driver_rates),
            empty(),
        ];
        self.invoke(SystemFunction::Dfdt, t, inputs, out)
    }
}

/// True when `a` and `b`, buffers of `w`-lane blocks, share cells of
/// different lanes (they overlap at a distance that is not a whole number
/// of elements). Buffers of one block arena overlap lane for lane or not
/// at all.
pub(crate) fn overlaps_across_lanes<T>(a: &[Cell<T>], b: &[Cell<T>], w: usize) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let size = size_of::<T>();
    let (a0, b0) = (a.as_ptr() as usize, b.as_ptr() as usize);
    let (a1, b1) = (a0 + a.len() * size, b0 + b.len() * size);
    a0 < b1 && b0 < a1 && !(a0.abs_diff(b0) / size).is_multiple_of(w)
}

/// An empty module for the host that resolves the shims of precision `T`
/// (and `overrides`). Owned from the start so that a failure while
/// defining functions frees its memory.
pub(crate) fn new_module<T: JitReal>(
    overrides: &[(&str, *const u8)],
) -> Result<OwnedModule, JitError> {
    new_module_for::<T>(overrides, false)
}

/// A module whose code is tuned for speed, or, for `streamed` (very large)
/// functions, compiled in linear time: Cranelift's optimiser merges the
/// literals and loads streaming re-emits at each use (they would be live
/// across the whole body again), and its backtracking register allocator
/// is superlinear in such bodies. The DAG arrives already folded and free
/// of common subexpressions, and neither choice changes a result.
pub(crate) fn new_module_for<T: JitReal>(
    overrides: &[(&str, *const u8)],
    streamed: bool,
) -> Result<OwnedModule, JitError> {
    let mut builder = JITBuilder::with_isa(
        host_isa(streamed)?,
        cranelift_module::default_libcall_names(),
    );
    for (name, address) in all_shims::<T>() {
        builder.symbol(name, address);
    }
    for &(name, address) in overrides {
        builder.symbol(name, address);
    }
    Ok(OwnedModule(ManuallyDrop::new(JITModule::new(builder))))
}

/// The host's instruction set, tuned for speed (or compile time).
fn host_isa(streamed: bool) -> Result<cranelift_codegen::isa::OwnedTargetIsa, JitError> {
    let host = |e: &dyn std::fmt::Display| JitError::Host(e.to_string());
    let mut flags = settings::builder();
    let tuning: &[(&str, &str)] = if streamed {
        &[
            ("opt_level", "none"),
            ("regalloc_algorithm", "single_pass"),
            ("enable_verifier", "false"),
        ]
    } else {
        &[("opt_level", "speed")]
    };
    // cranelift-jit needs absolute, long-range relocations.
    let relocations = [("use_colocated_libcalls", "false"), ("is_pic", "false")];
    for &(name, value) in tuning.iter().chain(&relocations) {
        flags.set(name, value).map_err(|e| host(&e))?;
    }
    cranelift_native::builder()
        .map_err(|e| host(&e))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| host(&e))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::backend::cpu::jit::math::unary_symbol;
    use crate::system::expr::{ExprGraph, Symbol, UnaryOp};

    static COSH_CALLS: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn counting_cosh(x: f64) -> f64 {
        COSH_CALLS.fetch_add(1, Ordering::Relaxed);
        x.cosh()
    }

    #[test]
    fn a_shared_subexpression_is_computed_once() {
        let mut g = ExprGraph::new();
        let x = g.symbol(Symbol::State(0));
        let y = g.symbol(Symbol::State(1));
        let xy = g.mul(x, y);
        let c = g.unary(UnaryOp::Cosh, xy);
        // `c` is used three times, by three different outputs and within one.
        let a = g.add(c, x);
        let b = g.mul(c, y);
        let s = g.sub(a, c);
        let functions = SystemFunctions {
            graph: g,
            n_states: 2,
            dxdt: vec![a, b],
            observables: vec![s],
            ..Default::default()
        };
        let name = unary_symbol::<f64>(UnaryOp::Cosh);
        let native = NativeSystem::<f64>::compile_with_symbols(
            &functions,
            &JitOptions::default(),
            &[(&name, counting_cosh as *const u8)],
            1,
        )
        .expect("compiles");
        let state = [0.3, 0.7];
        let mut out = [0.0; 2];
        let before = COSH_CALLS.load(Ordering::Relaxed);
        native
            .dxdt(0.0, &state, &[], &[], &mut out[..])
            .expect("lengths");
        assert_eq!(COSH_CALLS.load(Ordering::Relaxed) - before, 1);
        let c = (0.3f64 * 0.7).cosh();
        assert_eq!(out, [c + 0.3, c * 0.7]);
        let mut obs = [0.0];
        native
            .observables(0.0, &state, &[], &[], &mut obs[..])
            .expect("lengths");
        assert_eq!(COSH_CALLS.load(Ordering::Relaxed) - before, 2);
        assert_eq!(obs, [(c + 0.3) - c]);
    }

    #[test]
    fn native_system_is_send_and_sync() {
        fn check<S: Send + Sync>() {}
        check::<NativeSystem<f32>>();
        check::<NativeSystem<f64>>();
    }
}
