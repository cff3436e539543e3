//! One named output array.

/// The elements of an output array.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData {
    /// Single-precision values.
    F32(Vec<f32>),
    /// Double-precision values.
    F64(Vec<f64>),
    /// Integers (status words).
    I32(Vec<i32>),
    /// Counters.
    I64(Vec<i64>),
    /// Labels.
    Str(Vec<String>),
}

impl ArrayData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            ArrayData::F32(v) => v.len(),
            ArrayData::F64(v) => v.len(),
            ArrayData::I32(v) => v.len(),
            ArrayData::I64(v) => v.len(),
            ArrayData::Str(v) => v.len(),
        }
    }

    /// Bytes per element (labels: 0, they have no fixed width).
    pub fn element_bytes(&self) -> usize {
        match self {
            ArrayData::F32(_) | ArrayData::I32(_) => 4,
            ArrayData::F64(_) | ArrayData::I64(_) => 8,
            ArrayData::Str(_) => 0,
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Numeric values widened to f64 (None for labels).
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        match self {
            ArrayData::F32(v) => Some(v.iter().map(|x| *x as f64).collect()),
            ArrayData::F64(v) => Some(v.clone()),
            ArrayData::I32(v) => Some(v.iter().map(|x| *x as f64).collect()),
            ArrayData::I64(v) => Some(v.iter().map(|x| *x as f64).collect()),
            ArrayData::Str(_) => None,
        }
    }
}

/// An output array: name, shape (row-major) and data.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedArray {
    /// Name in the `.npz` archive.
    pub name: String,
    /// Shape, outermost first.
    pub shape: Vec<usize>,
    /// The elements, row-major.
    pub data: ArrayData,
}

impl NamedArray {
    /// A new array; the shape must match the data's length.
    pub fn new(name: impl Into<String>, shape: Vec<usize>, data: ArrayData) -> Self {
        let array = NamedArray {
            name: name.into(),
            shape,
            data,
        };
        debug_assert_eq!(
            array.shape.iter().product::<usize>(),
            array.data.len(),
            "shape of `{}`",
            array.name
        );
        array
    }

    /// A one-dimensional label array.
    pub fn labels(name: impl Into<String>, labels: &[String]) -> Self {
        NamedArray::new(name, vec![labels.len()], ArrayData::Str(labels.to_vec()))
    }
}
