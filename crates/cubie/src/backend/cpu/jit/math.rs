//! `extern "C"` shims that generated code calls for the operations
//! Cranelift has no instruction for (transcendentals, `powf`, `atan2`,
//! `hypot`), and the per-precision facts the lowering needs.
//!
//! Each shim calls [`apply_unary`]/[`apply_binary`] with a fixed operation,
//! which inlines to Rust's own function for the type (`f64::sin`,
//! `f32::sin`, ...): native code and the evaluator use the very same
//! implementation, so their results are bit-identical.

use cranelift_codegen::ir::{Type, types};

use crate::precision::Real;
use crate::system::eval::{apply_binary, apply_unary};
use crate::system::expr::{BinaryOp, UnaryOp};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A [`Real`] that native code can be generated for (`f32` or `f64`).
pub trait JitReal: Real + sealed::Sealed {
    /// The Cranelift type of a value.
    const IR_TYPE: Type;
    /// Suffix of this precision's shim symbols.
    const SUFFIX: &'static str;
    /// The value with every bit set (a NaN): in a lane mask, a lane that
    /// is on.
    const LANE_ON: Self;
    /// Address of the shim computing `op` in this precision.
    fn unary_shim(op: UnaryOp) -> *const u8;
    /// Address of the shim computing `op` in this precision.
    fn binary_shim(op: BinaryOp) -> *const u8;
}

/// The symbol name under which the shim of an operation is registered.
pub(crate) fn unary_symbol<T: JitReal>(op: UnaryOp) -> String {
    format!("cubie_{op:?}_{}", T::SUFFIX)
}

/// The symbol name under which the shim of an operation is registered.
pub(crate) fn binary_symbol<T: JitReal>(op: BinaryOp) -> String {
    format!("cubie_{op:?}_{}", T::SUFFIX)
}

/// Every shim of one precision as `(symbol, address)`, for the JIT's
/// symbol table.
pub(crate) fn all_shims<T: JitReal>() -> impl Iterator<Item = (String, *const u8)> {
    let unary = UnaryOp::ALL
        .into_iter()
        .map(|op| (unary_symbol::<T>(op), T::unary_shim(op)));
    let binary = BinaryOp::ALL
        .into_iter()
        .map(|op| (binary_symbol::<T>(op), T::binary_shim(op)));
    unary.chain(binary)
}

// One shim per operation (also for those lowered inline, so that the
// tables below are exhaustive matches the compiler checks).
macro_rules! define_shims {
    ($t:ty, $module:ident, $ir:expr, $suffix:literal, $on:expr,
     unary: [$($u:ident),* $(,)?], binary: [$($b:ident),* $(,)?]) => {
        #[allow(non_snake_case)]
        mod $module {
            use super::*;

            $(pub(super) extern "C" fn $u(x: $t) -> $t {
                apply_unary(UnaryOp::$u, x)
            })*
            $(pub(super) extern "C" fn $b(a: $t, b: $t) -> $t {
                apply_binary(BinaryOp::$b, a, b)
            })*

            pub(super) fn unary(op: UnaryOp) -> *const u8 {
                match op {
                    $(UnaryOp::$u => $u as *const u8,)*
                }
            }

            pub(super) fn binary(op: BinaryOp) -> *const u8 {
                match op {
                    $(BinaryOp::$b => $b as *const u8,)*
                }
            }
        }

        impl JitReal for $t {
            const IR_TYPE: Type = $ir;
            const SUFFIX: &'static str = $suffix;
            const LANE_ON: Self = $on;
            fn unary_shim(op: UnaryOp) -> *const u8 {
                $module::unary(op)
            }
            fn binary_shim(op: BinaryOp) -> *const u8 {
                $module::binary(op)
            }
        }
    };
}

macro_rules! shims_for {
    ($t:ty, $module:ident, $ir:expr, $suffix:literal, $on:expr) => {
        define_shims!(
            $t, $module, $ir, $suffix, $on,
            unary: [
                Neg, Exp, Expm1, Ln, Log1p, Log10, Log2, Sqrt, Cbrt, Abs, Sin, Cos, Tan,
                Asin, Acos, Atan, Sinh, Cosh, Tanh, Asinh, Acosh, Atanh, Floor, Ceil,
                Sign, Heaviside, Not,
            ],
            binary: [
                Add, Sub, Mul, Div, Pow, Atan2, Hypot, Min, Max, Lt, Le, Gt, Ge, Eq, Ne,
                And, Or,
            ]
        );
    };
}

shims_for!(f32, shims_f32, types::F32, "f32", f32::from_bits(u32::MAX));
shims_for!(f64, shims_f64, types::F64, "f64", f64::from_bits(u64::MAX));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shims_compute_the_reference_operations() {
        type U64 = extern "C" fn(f64) -> f64;
        type B32 = extern "C" fn(f32, f32) -> f32;
        let sin = f64::unary_shim(UnaryOp::Sin);
        // SAFETY: the table maps `Sin` to an `extern "C" fn(f64) -> f64`.
        let sin: U64 = unsafe { std::mem::transmute::<*const u8, U64>(sin) };
        assert_eq!(sin(0.7), 0.7f64.sin());
        let pow = f32::binary_shim(BinaryOp::Pow);
        // SAFETY: the table maps `Pow` to an `extern "C" fn(f32, f32) -> f32`.
        let pow: B32 = unsafe { std::mem::transmute::<*const u8, B32>(pow) };
        assert_eq!(pow(1.5, 2.5), 1.5f32.powf(2.5));
        assert_eq!(unary_symbol::<f32>(UnaryOp::Log1p), "cubie_Log1p_f32");
        assert_eq!(all_shims::<f64>().count(), 27 + 17);
    }
}
