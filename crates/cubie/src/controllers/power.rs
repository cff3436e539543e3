//! `x^y` for the step controllers, cubie's own: a logarithm series and an
//! exponential polynomial built from `+ - * /` and the exponent bits. The
//! library `pow` is a call per lane that no compiler vectorizes (a third of an explicit adaptive solve's time in lane blocks), and it
//! differs between the host's libm and CUDA's; this one vectorizes across
//! lanes and gives the same bits on the CPU, scalar or in lanes, and in
//! the CUDA kernel, which carries its translation
//! (`backend::cuda::power`).
//!
//! Accuracy: `y ln x` is rounded once, so the result is within about
//! `2 + |y ln x|` units in the last place of the library's (checked in the
//! tests): 1e-14 relative in `f64`, 5e-6 in `f32` for the errors and
//! exponents a controller sees, far below its own heuristics. Results
//! below the smallest normal number are 0.

use crate::precision::Real;

/// `1 / (2k + 1)`, the series `ln m = 2 s (1 + s²/3 + s⁴/5 + …)` with
/// `s = (m - 1) / (m + 1)`; `|s| <= 0.1716` for `m` in `[√½, √2]`.
pub(crate) const LN_SERIES: [f64; 11] = [
    1.0,
    1.0 / 3.0,
    1.0 / 5.0,
    1.0 / 7.0,
    1.0 / 9.0,
    1.0 / 11.0,
    1.0 / 13.0,
    1.0 / 15.0,
    1.0 / 17.0,
    1.0 / 19.0,
    1.0 / 21.0,
];

/// `1 / k!`, Taylor's series of `exp r` for `|r| <= ln 2 / 2`.
pub(crate) const EXP_SERIES: [f64; 14] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362880.0,
    1.0 / 3628800.0,
    1.0 / 39916800.0,
    1.0 / 479001600.0,
    1.0 / 6227020800.0,
];

pub(crate) const SQRT_2: f64 = std::f64::consts::SQRT_2;
pub(crate) const INV_LN_2: f64 = std::f64::consts::LOG2_E;

/// The precision-dependent constants of [`pow`].
pub trait PowerBits: Real {
    /// Stored mantissa bits.
    const MANTISSA_BITS: u32;
    /// The exponent's bias.
    const BIAS: i64;
    /// Terms of the logarithm's series used.
    const LN_TERMS: usize;
    /// Terms of the exponential's series used.
    const EXP_TERMS: usize;
    /// `ln 2` split so that `k · LN2_HI` is exact for every exponent `k`.
    const LN2_HI: f64;
    /// `ln 2 - LN2_HI`.
    const LN2_LO: f64;
    /// The exponent range whose powers of two are normal numbers.
    const Z_MIN: f64;
    /// See [`Z_MIN`](Self::Z_MIN).
    const Z_MAX: f64;
    /// The bits, widened.
    fn raw(self) -> u64;
    /// The value of (narrowed) bits.
    fn from_raw(bits: u64) -> Self;
}

impl PowerBits for f64 {
    const MANTISSA_BITS: u32 = 52;
    const BIAS: i64 = 1023;
    const LN_TERMS: usize = 11;
    const EXP_TERMS: usize = 14;
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    const Z_MIN: f64 = -708.0;
    const Z_MAX: f64 = 709.0;
    fn raw(self) -> u64 {
        self.to_bits()
    }
    fn from_raw(bits: u64) -> Self {
        f64::from_bits(bits)
    }
}

impl PowerBits for f32 {
    const MANTISSA_BITS: u32 = 23;
    const BIAS: i64 = 127;
    const LN_TERMS: usize = 5;
    const EXP_TERMS: usize = 8;
    const LN2_HI: f64 = f32::from_bits(0x3f31_7200) as f64;
    const LN2_LO: f64 = f32::from_bits(0x35bf_be8e) as f64;
    const Z_MIN: f64 = -87.0;
    const Z_MAX: f64 = 88.0;
    fn raw(self) -> u64 {
        u64::from(self.to_bits())
    }
    fn from_raw(bits: u64) -> Self {
        f32::from_bits(bits as u32)
    }
}

/// `x^y` as the controllers compute it (see the module docs): `exp(y ·
/// ln x)` by [`ln`] and [`exp`], rounded once between them. Special values
/// follow C's `pow` for `x >= 0`: `x^0 = 1`, `0^y` is `0` or `∞`, `∞^y` is
/// `∞` or `0`; a NaN or a negative `x` gives NaN.
#[inline(always)]
pub fn pow<T: PowerBits>(x: T, y: T) -> T {
    let (zero, one) = (T::zero(), T::one());
    let z = y * ln(x);
    let finite = exp(z);
    if y == zero {
        one
    } else if x.is_nan() || y.is_nan() || x < zero {
        T::nan()
    } else if x == zero {
        if y > zero { zero } else { T::infinity() }
    } else if x.is_infinite() {
        if y > zero { T::infinity() } else { zero }
    } else if z.is_nan() {
        T::nan()
    } else {
        finite
    }
}

/// `ln x` for a positive, finite `x` (subnormal included); other values
/// give a meaningless number, which [`pow`] replaces.
#[inline(always)]
pub fn ln<T: PowerBits>(x: T) -> T {
    let c = T::from_f64;
    let (zero, one) = (T::zero(), T::one());
    let mantissa_mask = (1u64 << T::MANTISSA_BITS) - 1;
    let exponent_mask = (T::BIAS as u64) * 2 + 1;
    // A subnormal x is scaled into the normal range first.
    let tiny = x < T::min_positive_value();
    let shift = i64::from(T::MANTISSA_BITS) + 1;
    let xs = if tiny {
        x * T::from_raw(((T::BIAS + shift) as u64) << T::MANTISSA_BITS)
    } else {
        x
    };
    let bits = xs.raw();
    let biased = (bits >> T::MANTISSA_BITS) & exponent_mask;
    let mantissa = T::from_raw((bits & mantissa_mask) | ((T::BIAS as u64) << T::MANTISSA_BITS));
    // x = 2^e · m with m in [√½, √2). The exponent becomes a float by
    // bits (2^M + biased), not a conversion, so that it vectorizes.
    let high = mantissa > c(SQRT_2);
    let m = if high { mantissa * c(0.5) } else { mantissa };
    let two_m = (1u64 << T::MANTISSA_BITS) as f64;
    let unbiased = T::from_raw(c(two_m).raw() | biased) - c(two_m + T::BIAS as f64);
    let e = unbiased - if tiny { c(shift as f64) } else { zero } + if high { one } else { zero };
    let s = (m - one) / (m + one);
    let ln_m = (s + s) * estrin(&LN_SERIES[..T::LN_TERMS], s * s);
    e * c(T::LN2_HI) + (e * c(T::LN2_LO) + ln_m)
}

/// `exp z`: `∞` above the range whose result is a normal number, `0`
/// below it; a NaN `z` gives a meaningless number, which [`pow`]
/// replaces.
#[inline(always)]
pub fn exp<T: PowerBits>(z: T) -> T {
    let c = T::from_f64;
    let two_m = (1u64 << T::MANTISSA_BITS) as f64;
    // exp z = 2^k · exp r, |r| <= ln 2 / 2; k rounded by adding 1.5 · 2^M,
    // which leaves it in the low bits of t.
    let zc = z.max(c(T::Z_MIN)).min(c(T::Z_MAX));
    let shifter = 1.5 * two_m;
    let t = zc * c(INV_LN_2) + c(shifter);
    let k = t - c(shifter);
    let r = (zc - k * c(T::LN2_HI)) - k * c(T::LN2_LO);
    let exp_r = estrin(&EXP_SERIES[..T::EXP_TERMS], r);
    let two_k = T::from_raw(t.raw().wrapping_add(T::BIAS as u64) << T::MANTISSA_BITS);
    if z > c(T::Z_MAX) {
        T::infinity()
    } else if z < c(T::Z_MIN) {
        T::zero()
    } else {
        exp_r * two_k
    }
}

/// `Σ aᵢ xⁱ` by Estrin's scheme: pairs `a₂ᵢ + x a₂ᵢ₊₁`, then pairs of
/// those with `x²`, and so on; a short dependency chain, so that lanes
/// overlap. The CUDA backend's `power` module writes the same operations
/// in C.
#[inline(always)]
fn estrin<T: Real>(coefficients: &[f64], x: T) -> T {
    debug_assert!(coefficients.len() <= 16);
    let mut terms = [T::zero(); 16];
    for (t, &a) in terms.iter_mut().zip(coefficients) {
        *t = T::from_f64(a);
    }
    // Four levels reach 16 terms; each is written out so that every loop
    // has a constant trip count once inlined, and unrolls into registers.
    let n0 = coefficients.len();
    let p0 = x;
    let n1 = estrin_level(&mut terms, n0, p0);
    let p1 = p0 * p0;
    let n2 = estrin_level(&mut terms, n1, p1);
    let p2 = p1 * p1;
    let n3 = estrin_level(&mut terms, n2, p2);
    let p3 = p2 * p2;
    estrin_level(&mut terms, n3, p3);
    terms[0]
}

/// One level of [`estrin`]: the first `n` terms paired with `p`; returns
/// how many remain.
#[inline(always)]
fn estrin_level<T: Real>(terms: &mut [T; 16], n: usize, p: T) -> usize {
    if n <= 1 {
        return n;
    }
    for i in 0..n / 2 {
        terms[i] = terms[2 * i] + p * terms[2 * i + 1];
    }
    if n % 2 == 1 {
        terms[n / 2] = terms[n - 1];
    }
    n.div_ceil(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative difference from the library's `pow`, in units of `eps`.
    fn ulps<T: PowerBits>(x: T, y: T) -> f64 {
        let (got, want) = (pow(x, y).to_f64(), x.to_f64().powf(y.to_f64()));
        if got == want {
            return 0.0;
        }
        ((got - want) / want).abs() / T::epsilon().to_f64()
    }

    #[test]
    fn powers_are_within_a_few_ulps_of_the_library() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut uniform = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        // The error bound: y ln x rounded once, plus the series' rounding.
        let bound = |x: f64, y: f64| 2.0 + (y * x.ln()).abs();
        for _ in 0..200_000 {
            // Errors from 1e-30 to 1e30, exponents as the controllers use.
            let x = 10f64.powf(60.0 * uniform() - 30.0);
            let y = 2.0 * uniform() - 1.0;
            let e = ulps(x, y);
            assert!(e <= bound(x, y), "f64 {x}^{y}: {e} ulps");
            let (xf, yf) = (x as f32, y as f32);
            if xf > 0.0 && xf.is_finite() {
                let e = ulps(xf, yf);
                assert!(e <= bound(x, y), "f32 {xf}^{yf}: {e} ulps");
            }
        }
    }

    #[test]
    fn exact_cases_and_special_values() {
        for x in [0.25f64, 1.0, 3.0, 1e-300, 1e300] {
            assert_eq!(pow(x, 0.0), 1.0);
            assert!((pow(x, 1.0) / x - 1.0).abs() < 1e-13, "{x}");
        }
        assert_eq!(pow(1.0f64, 0.37), 1.0);
        assert_eq!(pow(4.0f64, 0.5), 2.0);
        assert_eq!(pow(2.0f32, -3.0), 0.125);
        assert_eq!(pow(0.0f64, 0.5), 0.0);
        assert_eq!(pow(0.0f64, -0.5), f64::INFINITY);
        assert_eq!(pow(f64::INFINITY, 0.5), f64::INFINITY);
        assert_eq!(pow(f64::INFINITY, -0.5), 0.0);
        assert!(pow(f64::NAN, 0.5).is_nan());
        assert!(pow(-2.0f64, 0.5).is_nan());
        assert!(pow(2.0f32, f32::NAN).is_nan());
        assert_eq!(pow(1e300f64, 10.0), f64::INFINITY);
        assert_eq!(pow(1e-300f64, 10.0), 0.0);
        // The split of ln 2 is exact where it must be.
        assert_eq!(f64::LN2_HI + f64::LN2_LO, std::f64::consts::LN_2);
        assert_eq!((f32::LN2_HI + f32::LN2_LO) as f32, std::f32::consts::LN_2);
        assert_eq!(f64::LN2_HI.to_bits() & 0x1f_ffff, 0);
        assert_eq!((f32::LN2_HI as f32).to_bits() & 0xff, 0);
        assert_eq!(pow(5e-324f64, 0.0), 1.0);
        // A subnormal x and its normal neighbour agree to rounding.
        let sub = 3e-320f64;
        assert!((pow(sub, 0.1) / sub.powf(0.1) - 1.0).abs() < 1e-14);
    }

    #[test]
    fn logarithms_and_exponentials_are_the_librarys_to_a_few_ulps() {
        for k in -400..=400 {
            let x = 1.37f64.powi(k);
            let (got, want) = (ln(x), x.ln());
            // Absolute near ln x = 0, where the relative error is not
            // defined; else relative.
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON * want.abs().max(1.0),
                "ln {x}: {got} vs {want}"
            );
            let z = k as f64 * 0.017;
            let (got, want) = (exp(z), z.exp());
            assert!(
                ((got - want) / want).abs() <= 4.0 * f64::EPSILON,
                "exp {z}: {got} vs {want}"
            );
            let (got, want) = (exp(z as f32), (z as f32).exp());
            assert!(
                ((got - want) / want).abs() <= 4.0 * f32::EPSILON,
                "exp {z} in f32: {got} vs {want}"
            );
        }
        // Subnormal arguments are scaled, not lost.
        assert!((ln(5e-324f64) - 5e-324f64.ln()).abs() < 1e-12);
        assert_eq!(exp(1000.0f64), f64::INFINITY);
        assert_eq!(exp(-1000.0f64), 0.0);
        assert_eq!(exp(100.0f32), f32::INFINITY);
    }
}
