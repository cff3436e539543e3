//! How a solve's arrays map onto a Zarr store: dimension names (for
//! xarray), label coordinates, element types and fill values.

use zarrs::array::{DataType, FillValue, data_type};

use crate::results::ArrayData;

/// The label arrays and the dimension each labels (a coordinate of that
/// name in the store).
pub(crate) const LABEL_DIMENSIONS: [(&str, &str); 6] = [
    ("state_labels", "state_var"),
    ("parameter_labels", "parameter_var"),
    ("saved_state_labels", "saved_state_var"),
    ("observable_labels", "observable_var"),
    ("summary_labels", "summary_var"),
    ("counter_labels", "counter_var"),
];

/// The dimension a label array labels.
pub(crate) fn label_dimension(labels: &str) -> Option<&'static str> {
    LABEL_DIMENSIONS
        .iter()
        .find(|(name, _)| *name == labels)
        .map(|(_, dim)| *dim)
}

/// The label array of a coordinate.
pub(crate) fn labels_of_dimension(dimension: &str) -> Option<&'static str> {
    LABEL_DIMENSIONS
        .iter()
        .find(|(_, dim)| *dim == dimension)
        .map(|(name, _)| *name)
}

/// The dimension names of array `name` of `ndim` axes. Names never equal
/// an array's own name unless it is that dimension's coordinate (xarray's
/// rule).
pub(crate) fn dimensions(name: &str, ndim: usize) -> Vec<String> {
    let fixed: &[&str] = match name {
        "time" => &["time"],
        "summary_time" => &["window"],
        "status" => &["run"],
        "final_state" | "initial_values" => &["run", "state_var"],
        "parameters" => &["run", "parameter_var"],
        "state" => &["run", "time", "saved_state_var"],
        "observables" => &["run", "time", "observable_var"],
        "counters" => &["run", "counter_var"],
        _ => &[],
    };
    if fixed.len() == ndim {
        return fixed.iter().map(|s| s.to_string()).collect();
    }
    // Summary metrics: (run, window, variable[, column]).
    let mut dims: Vec<String> = ["run", "window", "summary_var"]
        .iter()
        .take(ndim)
        .map(|s| s.to_string())
        .collect();
    for axis in dims.len()..ndim {
        dims.push(if axis == 3 {
            format!("{name}_column")
        } else {
            format!("{name}_axis{axis}")
        });
    }
    dims
}

/// The Zarr element type and fill value of numeric data: NaN for reals
/// (an unsolved run reads as NaN), -1 for status words and counters (no
/// solved run has either).
pub(crate) fn element_type(data: &ArrayData) -> Option<(DataType, FillValue)> {
    Some(match data {
        ArrayData::F32(_) => (data_type::float32(), FillValue::from(f32::NAN)),
        ArrayData::F64(_) => (data_type::float64(), FillValue::from(f64::NAN)),
        ArrayData::I32(_) => (data_type::int32(), FillValue::from(-1i32)),
        ArrayData::I64(_) => (data_type::int64(), FillValue::from(-1i64)),
        ArrayData::Str(_) => return None,
    })
}

/// `data` padded with its fill value to `len` elements (an edge chunk is
/// stored whole).
pub(crate) fn padded(data: &ArrayData, len: usize) -> ArrayData {
    fn pad<T: Copy>(v: &[T], len: usize, fill: T) -> Vec<T> {
        let mut out = Vec::with_capacity(len.max(v.len()));
        out.extend_from_slice(v);
        out.resize(len.max(v.len()), fill);
        out
    }
    match data {
        ArrayData::F32(v) => ArrayData::F32(pad(v, len, f32::NAN)),
        ArrayData::F64(v) => ArrayData::F64(pad(v, len, f64::NAN)),
        ArrayData::I32(v) => ArrayData::I32(pad(v, len, -1)),
        ArrayData::I64(v) => ArrayData::I64(pad(v, len, -1)),
        ArrayData::Str(v) => ArrayData::Str(v.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_dimension_takes_the_name_of_another_array() {
        let names = [
            "final_state",
            "state",
            "observables",
            "parameters",
            "counters",
            "mean",
            "peaks",
            "status",
        ];
        for name in names {
            for ndim in 1..5 {
                for d in dimensions(name, ndim) {
                    assert!(
                        !names.contains(&d.as_str()) || d == name && ndim == 1,
                        "{name}: {d}"
                    );
                }
            }
        }
        assert_eq!(dimensions("peaks", 4)[3], "peaks_column");
        assert_eq!(label_dimension("state_labels"), Some("state_var"));
        assert_eq!(labels_of_dimension("counter_var"), Some("counter_labels"));
    }
}
