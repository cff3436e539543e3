//! The `.npz` writer: an uncompressed zip of `.npy` arrays that
//! `numpy.load` reads without pickle.

use std::io::{self, Seek, Write};
use std::path::Path;

use npyz::WriterBuilder;
use npyz::zip::write::FileOptions;

use super::{ArrayData, NamedArray, ResultsError, SolveResult, write_atomically};

fn write_array<W: Write + Seek>(
    npz: &mut npyz::npz::NpzWriter<W>,
    array: &NamedArray,
) -> io::Result<()> {
    let shape: Vec<u64> = array.shape.iter().map(|&n| n as u64).collect();
    let options = FileOptions::default().compression_method(npyz::zip::CompressionMethod::Stored);
    macro_rules! numeric {
        ($t:ty, $values:expr) => {{
            let mut w = npz
                .array::<$t>(&array.name, options)?
                .default_dtype()
                .shape(&shape)
                .begin_nd()?;
            w.extend($values.iter().copied())?;
            w.finish()
        }};
    }
    match &array.data {
        ArrayData::F32(v) => numeric!(f32, v),
        ArrayData::F64(v) => numeric!(f64, v),
        ArrayData::I32(v) => numeric!(i32, v),
        ArrayData::I64(v) => numeric!(i64, v),
        ArrayData::Str(labels) => {
            // numpy stores str arrays as fixed-width UTF-32 (`<U{width}`).
            let width = labels
                .iter()
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
                .max(1);
            let type_str: npyz::TypeStr = format!("<U{width}")
                .parse()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{e}")))?;
            let mut w = npz
                .array::<str>(&array.name, options)?
                .dtype(npyz::DType::Plain(type_str))
                .shape(&shape)
                .begin_nd()?;
            for label in labels {
                w.push(label.as_str())?;
            }
            w.finish()
        }
    }
}

/// Writes every array of `result` to a `.npz` archive at `path`.
pub fn write_npz(result: &SolveResult, path: &Path) -> Result<(), ResultsError> {
    write_atomically(path, |out| {
        // Straight to the file: no second copy of the results in memory.
        let mut npz = npyz::npz::NpzWriter::new(out);
        for array in result.arrays() {
            write_array(&mut npz, array)?;
        }
        npz.zip_writer()
            .finish()
            .map_err(|e| io::Error::other(e.to_string()))?;
        Ok(())
    })
}
