//! Numbers in messages: `1e-300` reads as `1e-300`, not as 300 digits.

use std::fmt;

/// Shows an `f64` the way a person typed it: plain decimals between 1e-4
/// and 1e16, scientific notation outside, both in the shortest form that
/// reads back to the same value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num(pub f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        let magnitude = v.abs();
        if v.is_finite() && v != 0.0 && !(1e-4..1e16).contains(&magnitude) {
            write!(f, "{v:e}")
        } else {
            write!(f, "{v}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Num;

    #[test]
    fn extreme_values_use_scientific_notation() {
        assert_eq!(Num(1e-300).to_string(), "1e-300");
        assert_eq!(Num(-2.5e300).to_string(), "-2.5e300");
        assert_eq!(Num(1e-12).to_string(), "1e-12");
        assert_eq!(Num(1e16).to_string(), "1e16");
    }

    #[test]
    fn ordinary_values_stay_decimal() {
        assert_eq!(Num(0.001).to_string(), "0.001");
        assert_eq!(Num(21.5).to_string(), "21.5");
        assert_eq!(Num(0.0).to_string(), "0");
        assert_eq!(Num(-1.0).to_string(), "-1");
        assert_eq!(Num(f64::NAN).to_string(), "NaN");
        assert_eq!(Num(f64::INFINITY).to_string(), "inf");
    }
}
