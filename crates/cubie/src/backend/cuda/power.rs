//! The controllers' power ([`crate::controllers::power`]) as CUDA C: the
//! same operations in the same order, so that the kernel's step sizes are
//! the CPU's bit for bit (checked by the host-emulation tests).

use crate::Precision;
use crate::controllers::power::{EXP_SERIES, INV_LN_2, LN_SERIES, PowerBits, SQRT_2};

use super::source::CReal;

/// The CPU's Estrin evaluation (`controllers::power`) as C statements declaring `{name}…` temporaries; returns
/// the expression of the sum.
fn c_estrin(out: &mut String, real: &str, name: &str, coefficients: &[String], x: &str) -> String {
    use std::fmt::Write as _;
    let mut terms = coefficients.to_vec();
    let mut p = x.to_string();
    let mut level = 0;
    while terms.len() > 1 {
        let mut next = Vec::with_capacity(terms.len().div_ceil(2));
        for (i, pair) in terms.chunks(2).enumerate() {
            if let [a, b] = pair {
                let v = format!("{name}{level}_{i}");
                let _ = writeln!(out, "    const {real} {v} = {a} + {p} * {b};");
                next.push(v);
            } else {
                next.push(pair[0].clone());
            }
        }
        if next.len() > 1 {
            let power = format!("{name}_x{}", level + 1);
            let _ = writeln!(out, "    const {real} {power} = {p} * {p};");
            p = power;
        }
        terms = next;
        level += 1;
    }
    terms.swap_remove(0)
}

/// [`pow`](crate::controllers::power::pow), [`ln`](crate::controllers::power::ln)
/// and [`exp`](crate::controllers::power::exp) as CUDA C (also compiled by
/// the host's C++ compiler in the emulation tests): `__device__` functions
/// `cubie_pow(x, y)`, `cubie_ln(x)` and `cubie_exp(z)`, the same operations
/// in the same order. The kernel is compiled without contraction
/// (`--fmad=false`), so its bits are the CPU's.
pub fn c_source(precision: Precision) -> String {
    let (real, int, uint, bits_of, of_bits, suffix, mantissa, bias, ln_terms, exp_terms) =
        match precision {
            Precision::F64 => (
                "double",
                "long long",
                "unsigned long long",
                "__double_as_longlong",
                "__longlong_as_double",
                "",
                f64::MANTISSA_BITS,
                f64::BIAS,
                f64::LN_TERMS,
                f64::EXP_TERMS,
            ),
            Precision::F32 => (
                "float",
                "int",
                "unsigned int",
                "__float_as_int",
                "__int_as_float",
                "f",
                f32::MANTISSA_BITS,
                f32::BIAS,
                f32::LN_TERMS,
                f32::EXP_TERMS,
            ),
        };
    let (ln2_hi, ln2_lo, z_min, z_max) = match precision {
        Precision::F64 => (f64::LN2_HI, f64::LN2_LO, f64::Z_MIN, f64::Z_MAX),
        Precision::F32 => (f32::LN2_HI, f32::LN2_LO, f32::Z_MIN, f32::Z_MAX),
    };
    let lit = |x: f64| CReal(precision).literal(x);
    let u = |x: u64| format!("(({uint}){x}ull)");
    let shift = i64::from(mantissa) + 1;
    let two_m = (1u64 << mantissa) as f64;
    let coefficients = |series: &[f64]| series.iter().map(|&a| lit(a)).collect::<Vec<_>>();
    let mut ln = String::new();
    let ln_sum = c_estrin(
        &mut ln,
        real,
        "ln",
        &coefficients(&LN_SERIES[..ln_terms]),
        "s2",
    );
    let mut ex = String::new();
    let exp_sum = c_estrin(
        &mut ex,
        real,
        "ex",
        &coefficients(&EXP_SERIES[..exp_terms]),
        "r",
    );
    let (zero, one, inf, nan) = (lit(0.0), lit(1.0), lit(f64::INFINITY), lit(f64::NAN));
    let (z_min, z_max, ln2_hi, ln2_lo) = (lit(z_min), lit(z_max), lit(ln2_hi), lit(ln2_lo));
    let shifter = lit(1.5 * two_m);
    format!(
        "// ln x (x > 0, finite) and exp z as the controllers compute them, and
// x^y from them (cubie's own; the CPU's bits).
__device__ __forceinline__ {real} cubie_ln({real} x)
{{
    const bool tiny = x < {min_positive};
    const {real} xs = tiny ? x * {of_bits}(({int}){scale_bits}) : x;
    const {uint} bits = ({uint}){bits_of}(xs);
    const {uint} biased = (bits >> {mantissa}) & {exponent_mask};
    const {real} mantissa = {of_bits}(({int})((bits & {mantissa_mask}) | {one_bits}));
    const bool high = mantissa > {sqrt2};
    const {real} m = high ? mantissa * {half} : mantissa;
    const {real} unbiased = {of_bits}(({int})({two_m_bits} | biased)) - {two_m_bias};
    const {real} e = unbiased - (tiny ? {shift_f} : {zero}) + (high ? {one} : {zero});
    const {real} s = (m - {one}) / (m + {one});
    const {real} s2 = s * s;
{ln}    const {real} ln_m = (s + s) * {ln_sum};
    return e * {ln2_hi} + (e * {ln2_lo} + ln_m);
}}

__device__ __forceinline__ {real} cubie_exp({real} z)
{{
    const {real} zc = fmin{suffix}(fmax{suffix}(z, {z_min}), {z_max});
    const {real} t = zc * {inv_ln2} + {shifter};
    const {real} k = t - {shifter};
    const {real} r = (zc - k * {ln2_hi}) - k * {ln2_lo};
{ex}    const {real} exp_r = {exp_sum};
    const {real} two_k = {of_bits}(({int})((({uint}){bits_of}(t) + {bias_u}) << {mantissa}));
    return z > {z_max} ? {inf} : (z < {z_min} ? {zero} : exp_r * two_k);
}}

__device__ __forceinline__ {real} cubie_pow({real} x, {real} y)
{{
    const {real} z = y * cubie_ln(x);
    const {real} finite = cubie_exp(z);
    if (y == {zero}) return {one};
    if (x != x || y != y || x < {zero}) return {nan};
    if (x == {zero}) return y > {zero} ? {zero} : {inf};
    if (x == {inf}) return y > {zero} ? {inf} : {zero};
    if (z != z) return {nan};
    return finite;
}}
",
        min_positive = match precision {
            Precision::F64 => lit(f64::MIN_POSITIVE),
            Precision::F32 => lit(f64::from(f32::MIN_POSITIVE)),
        },
        scale_bits = u(((bias + shift) as u64) << mantissa),
        exponent_mask = u((bias as u64) * 2 + 1),
        mantissa_mask = u((1u64 << mantissa) - 1),
        one_bits = u((bias as u64) << mantissa),
        two_m_bits = u(match precision {
            Precision::F64 => two_m.to_bits(),
            Precision::F32 => u64::from((two_m as f32).to_bits()),
        }),
        two_m_bias = lit(two_m + bias as f64),
        shift_f = lit(shift as f64),
        bias_u = u(bias as u64),
        sqrt2 = lit(SQRT_2),
        half = lit(0.5),
        inv_ln2 = lit(INV_LN_2),
    )
}
