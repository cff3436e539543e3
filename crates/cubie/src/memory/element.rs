//! The element type of a registry buffer: the solve's precision, or one of
//! the integer types the loop's flags and counters are made of.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::precision::Precision;

/// What one element of a buffer is.
///
/// Real elements follow the solve's [`Precision`]; integer elements hold
/// flags and counters. The shared and persistent regions hold elements of
/// the registry's precision only, so a buffer of any other type is a plain
/// local array (see [`RegistryError::MixedPrecisionRegion`](super::RegistryError::MixedPrecisionRegion)).
///
/// ```
/// use cubie::Precision;
/// use cubie::memory::ElementType;
/// assert_eq!(ElementType::from(Precision::F32).c_type(), "float");
/// assert_eq!(ElementType::I32.bytes(), 4);
/// assert!(ElementType::I64.is_integer());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElementType {
    /// IEEE single precision.
    F32,
    /// IEEE double precision.
    F64,
    /// A 32-bit signed integer (a flag).
    I32,
    /// A 64-bit signed integer (a counter).
    I64,
}

impl ElementType {
    /// Bytes of one element.
    pub fn bytes(self) -> usize {
        match self {
            ElementType::F32 | ElementType::I32 => 4,
            ElementType::F64 | ElementType::I64 => 8,
        }
    }

    /// The CUDA C type name.
    pub fn c_type(self) -> &'static str {
        match self {
            ElementType::F32 => "float",
            ElementType::F64 => "double",
            ElementType::I32 => "int",
            ElementType::I64 => "long long",
        }
    }

    /// True for the integer types.
    pub fn is_integer(self) -> bool {
        matches!(self, ElementType::I32 | ElementType::I64)
    }

    /// The precision of a real element type.
    pub fn precision(self) -> Option<Precision> {
        match self {
            ElementType::F32 => Some(Precision::F32),
            ElementType::F64 => Some(Precision::F64),
            ElementType::I32 | ElementType::I64 => None,
        }
    }
}

impl From<Precision> for ElementType {
    fn from(p: Precision) -> Self {
        match p {
            Precision::F32 => ElementType::F32,
            Precision::F64 => ElementType::F64,
        }
    }
}

impl fmt::Display for ElementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ElementType::F32 => "f32",
            ElementType::F64 => "f64",
            ElementType::I32 => "i32",
            ElementType::I64 => "i64",
        })
    }
}
