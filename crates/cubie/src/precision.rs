//! Floating-point precision of a solve: the [`Real`] trait that every CPU
//! component is generic over, and the run-time [`Precision`] tag.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The precision a solve is built and run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// IEEE single precision (`float` in CUDA C).
    F32,
    /// IEEE double precision (`double` in CUDA C); the default.
    #[default]
    F64,
}

impl Precision {
    /// Size of one element in bytes.
    pub fn bytes(self) -> usize {
        match self {
            Precision::F32 => 4,
            Precision::F64 => 8,
        }
    }

    /// The CUDA C type name.
    pub fn c_type(self) -> &'static str {
        match self {
            Precision::F32 => "float",
            Precision::F64 => "double",
        }
    }

    /// Rounds an `f64` to this precision (and back to `f64`).
    pub fn round(self, x: f64) -> f64 {
        match self {
            Precision::F32 => x as f32 as f64,
            Precision::F64 => x,
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        })
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "f32" | "float32" | "single" => Ok(Precision::F32),
            "f64" | "float64" | "double" => Ok(Precision::F64),
            other => Err(format!(
                "unknown precision `{other}`: expected `f32` or `f64`"
            )),
        }
    }
}

/// A floating-point element type a solve can run in: `f32` or `f64`.
pub trait Real:
    num_traits::Float
    + num_traits::FloatConst
    + Default
    + fmt::Debug
    + fmt::Display
    + Send
    + Sync
    + std::iter::Sum
    + 'static
{
    /// The matching run-time tag.
    const PRECISION: Precision;

    /// Converts from `f64`, rounding to nearest.
    fn from_f64(x: f64) -> Self;

    /// Widens to `f64` exactly.
    fn to_f64(self) -> f64;

    /// `self^y` as the step controllers compute it: cubie's own power
    /// ([`controllers::power`](crate::controllers::power)), the same bits
    /// on every backend and vectorizable across lanes.
    fn controller_pow(self, y: Self) -> Self;

    /// `ln self` for a positive finite value, as
    /// [`controller_pow`](Self::controller_pow) computes it
    /// ([`controllers::power::ln`](crate::controllers::power::ln)).
    fn controller_ln(self) -> Self;

    /// `exp self` as [`controller_pow`](Self::controller_pow) computes it
    /// ([`controllers::power::exp`](crate::controllers::power::exp)).
    fn controller_exp(self) -> Self;
}

/// `Real` for one of the two float types: the conversions, and the
/// controllers' power, logarithm and exponential from
/// [`controllers::power`](crate::controllers::power).
macro_rules! impl_real {
    ($t:ty, $precision:expr) => {
        impl Real for $t {
            const PRECISION: Precision = $precision;

            fn from_f64(x: f64) -> Self {
                x as $t
            }

            fn to_f64(self) -> f64 {
                self as f64
            }

            #[inline(always)]
            fn controller_pow(self, y: Self) -> Self {
                crate::controllers::power::pow(self, y)
            }

            #[inline(always)]
            fn controller_ln(self) -> Self {
                crate::controllers::power::ln(self)
            }

            #[inline(always)]
            fn controller_exp(self) -> Self {
                crate::controllers::power::exp(self)
            }
        }
    };
}

impl_real!(f32, Precision::F32);
impl_real!(f64, Precision::F64);
