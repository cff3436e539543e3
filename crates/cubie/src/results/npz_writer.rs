//! The `.npz` writer: an uncompressed zip of `.npy` arrays that
//! `numpy.load` reads without pickle. Members of 4 GiB or more are written
//! as zip64.
//!
//! [`NpzStream`] writes an archive chunk by chunk: each chunk's rows of every
//! per-run array are appended to a file of their own in a temporary folder
//! beside the output, and [`finish`](ResultSink::finish) assembles the
//! archive from them, reading a block at a time; memory never holds more
//! than one chunk.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use npyz::WriterBuilder;
use npyz::npz::NpzWriter;
use npyz::zip::write::FileOptions;

use super::partial::{PartialDir, io_error, write_atomically};
use super::{ArrayData, NamedArray, ResultSink, ResultsError, SolveResult, is_per_run};

/// Members at least this large need zip64 records.
const ZIP64_FROM: u64 = u32::MAX as u64;

fn options(bytes: u64) -> FileOptions {
    FileOptions::default()
        .compression_method(npyz::zip::CompressionMethod::Stored)
        .large_file(bytes >= ZIP64_FROM)
}

fn write_array<W: Write + Seek>(npz: &mut NpzWriter<W>, array: &NamedArray) -> io::Result<()> {
    let shape: Vec<u64> = array.shape.iter().map(|&n| n as u64).collect();
    let bytes = array.data.len() as u64 * 8;
    macro_rules! numeric {
        ($t:ty, $values:expr) => {{
            let mut w = npz
                .array::<$t>(&array.name, options(bytes))?
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
                .array::<str>(&array.name, options(0))?
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
        let mut npz = NpzWriter::new(out);
        for array in result.arrays() {
            write_array(&mut npz, array)?;
        }
        npz.zip_writer()
            .finish()
            .map_err(|e| io::Error::other(e.to_string()))?;
        Ok(())
    })
}

/// The element type of a streamed member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    F32,
    F64,
    I32,
    I64,
}

impl Element {
    fn of(data: &ArrayData) -> Option<Self> {
        match data {
            ArrayData::F32(_) => Some(Element::F32),
            ArrayData::F64(_) => Some(Element::F64),
            ArrayData::I32(_) => Some(Element::I32),
            ArrayData::I64(_) => Some(Element::I64),
            ArrayData::Str(_) => None,
        }
    }

    fn bytes(self) -> usize {
        match self {
            Element::F32 | Element::I32 => 4,
            Element::F64 | Element::I64 => 8,
        }
    }
}

/// Appends the little-endian bytes of `data` to `out`.
fn append(out: &mut impl Write, data: &ArrayData) -> io::Result<()> {
    let mut buf = Vec::with_capacity(data.len() * 8);
    match data {
        ArrayData::F32(v) => v.iter().for_each(|x| buf.extend(x.to_le_bytes())),
        ArrayData::F64(v) => v.iter().for_each(|x| buf.extend(x.to_le_bytes())),
        ArrayData::I32(v) => v.iter().for_each(|x| buf.extend(x.to_le_bytes())),
        ArrayData::I64(v) => v.iter().for_each(|x| buf.extend(x.to_le_bytes())),
        ArrayData::Str(_) => {}
    }
    out.write_all(&buf)
}

/// One member of a streamed archive.
#[derive(Debug)]
enum Member {
    /// Shared by every run: written as given.
    Whole(NamedArray),
    /// One row per run: rows collected in `file`.
    PerRun {
        name: String,
        row_shape: Vec<usize>,
        element: Element,
        path: PathBuf,
        file: BufWriter<File>,
    },
}

/// A `.npz` archive written chunk by chunk (chunks in run order).
#[derive(Debug)]
pub struct NpzStream {
    path: PathBuf,
    dir: PartialDir,
    members: Vec<Member>,
    next_run: usize,
    finished: bool,
}

impl NpzStream {
    /// Starts the archive at `path`; its chunk files go to a temporary
    /// folder beside it, deleted when the stream is dropped.
    pub fn create(path: &Path) -> Result<Self, ResultsError> {
        Ok(NpzStream {
            path: path.to_path_buf(),
            dir: PartialDir::beside(path)?,
            members: Vec::new(),
            next_run: 0,
            finished: false,
        })
    }

    /// The members, from the first chunk.
    fn start(&mut self, chunk: &SolveResult) -> Result<(), ResultsError> {
        for (i, array) in chunk.arrays().iter().enumerate() {
            let member = match Element::of(&array.data) {
                Some(element) if is_per_run(array) => {
                    let path = self.dir.path().join(format!("{i}.bin"));
                    let file = File::create(&path).map_err(io_error(&path))?;
                    Member::PerRun {
                        name: array.name.clone(),
                        row_shape: array.shape[1..].to_vec(),
                        element,
                        path,
                        file: BufWriter::new(file),
                    }
                }
                _ => Member::Whole(array.clone()),
            };
            self.members.push(member);
        }
        Ok(())
    }
}

impl ResultSink for NpzStream {
    fn write_chunk(
        &mut self,
        _index: usize,
        runs: Range<usize>,
        chunk: &SolveResult,
    ) -> Result<(), ResultsError> {
        if self.finished {
            return Err(ResultsError::Finished);
        }
        super::sink::in_order(self.next_run, &runs)?;
        if self.members.is_empty() {
            self.start(chunk)?;
        }
        for member in &mut self.members {
            let Member::PerRun {
                name,
                row_shape,
                element,
                path,
                file,
            } = member
            else {
                continue;
            };
            let array = chunk
                .get(name)
                .filter(|a| a.shape[1..] == row_shape[..] && Element::of(&a.data) == Some(*element))
                .ok_or_else(|| ResultsError::ChunkLayout(name.clone()))?;
            append(file, &array.data).map_err(io_error(path))?;
        }
        self.next_run = runs.end;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ResultsError> {
        if self.finished {
            return Err(ResultsError::Finished);
        }
        self.finished = true;
        let runs = self.next_run;
        for member in &mut self.members {
            if let Member::PerRun { path, file, .. } = member {
                file.flush().map_err(io_error(path))?;
            }
        }
        let members = &self.members;
        write_atomically(&self.path, |out| {
            let mut npz = NpzWriter::new(out);
            for member in members {
                match member {
                    Member::Whole(array) => write_array(&mut npz, array)?,
                    Member::PerRun {
                        name,
                        row_shape,
                        element,
                        path,
                        ..
                    } => copy_member(&mut npz, name, runs, row_shape, *element, path)?,
                }
            }
            npz.zip_writer()
                .finish()
                .map_err(|e| io::Error::other(e.to_string()))?;
            Ok(())
        })
    }
}

/// Elements read from a chunk file per block.
const BLOCK: usize = 1 << 17;

/// Writes member `name` of shape `(runs, row_shape...)` from the raw
/// little-endian elements in `path`, a block at a time.
fn copy_member<W: Write + Seek>(
    npz: &mut NpzWriter<W>,
    name: &str,
    runs: usize,
    row_shape: &[usize],
    element: Element,
    path: &Path,
) -> io::Result<()> {
    let shape: Vec<u64> = std::iter::once(runs)
        .chain(row_shape.iter().copied())
        .map(|n| n as u64)
        .collect();
    let total: u64 = shape.iter().product();
    let bytes = total * element.bytes() as u64;
    let mut reader = BufReader::new(File::open(path)?);
    let mut buf = vec![0u8; BLOCK * element.bytes()];
    macro_rules! stream {
        ($t:ty) => {{
            let mut w = npz
                .array::<$t>(name, options(bytes))?
                .default_dtype()
                .shape(&shape)
                .begin_nd()?;
            let size = std::mem::size_of::<$t>();
            let mut left = bytes as usize;
            while left > 0 {
                let n = left.min(buf.len());
                reader.read_exact(&mut buf[..n])?;
                w.extend(
                    buf[..n]
                        .chunks_exact(size)
                        .map(|b| <$t>::from_le_bytes(std::array::from_fn(|i| b[i]))),
                )?;
                left -= n;
            }
            w.finish()
        }};
    }
    match element {
        Element::F32 => stream!(f32),
        Element::F64 => stream!(f64),
        Element::I32 => stream!(i32),
        Element::I64 => stream!(i64),
    }
}
