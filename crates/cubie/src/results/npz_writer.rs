//! The `.npz` writer: an uncompressed zip of `.npy` arrays that
//! `numpy.load` reads without pickle. Members of 4 GiB or more are written
//! as zip64.
//!
//! [`NpzStream`] writes an archive chunk by chunk, straight into place: the
//! first chunk and the batch's number of runs fix where every member lies
//! in the file, each chunk's rows are written at their place as they come
//! (and added to their member's checksum), and
//! [`finish`](ResultSink::finish) writes the members' headers and the
//! zip's central directory. No byte of results is copied once written, and
//! memory never holds more than one chunk. The zip records are those the
//! `zip` crate writes (`npyz`'s writer): the tests compare them byte for
//! byte.

use std::borrow::Cow;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use npyz::WriterBuilder;

use super::partial::{PartialFile, io_error};
use super::{ArrayData, NamedArray, ResultSink, ResultsError, SolveResult, is_per_run};

/// Members larger than this need zip64 records.
const ZIP64_BYTES_THR: u64 = u32::MAX as u64;
/// Archives of more members than this need zip64 records.
const ZIP64_ENTRY_THR: usize = u16::MAX as usize;

/// Writes every array of `result` to a `.npz` archive at `path`.
pub fn write_npz(result: &SolveResult, path: &Path) -> Result<(), ResultsError> {
    let mut npz = NpzStream::create(path, result.n_runs)?;
    npz.write_chunk(0, 0..result.n_runs, result)?;
    npz.finish()
}

/// The element type of a per-run member.
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

    fn bytes(self) -> u64 {
        match self {
            Element::F32 | Element::I32 => 4,
            Element::F64 | Element::I64 => 8,
        }
    }

    /// The `.npy` header of an array of this type and `shape`.
    fn npy_header(self, shape: &[u64]) -> io::Result<Vec<u8>> {
        fn header<T: npyz::AutoSerialize>(shape: &[u64]) -> io::Result<Vec<u8>> {
            let mut bytes = Vec::new();
            npyz::WriteOptions::new_header_only()
                .dtype(T::default_dtype())
                .shape(shape)
                .writer(&mut bytes)
                .write_header_only()?;
            Ok(bytes)
        }
        match self {
            Element::F32 => header::<f32>(shape),
            Element::F64 => header::<f64>(shape),
            Element::I32 => header::<i32>(shape),
            Element::I64 => header::<i64>(shape),
        }
    }
}

/// The little-endian bytes of numeric `data` (borrowed on little-endian
/// machines; empty for labels).
fn le_bytes(data: &ArrayData) -> Cow<'_, [u8]> {
    #[cfg(target_endian = "little")]
    {
        match data {
            ArrayData::F32(v) => Cow::Borrowed(bytemuck::cast_slice(v)),
            ArrayData::F64(v) => Cow::Borrowed(bytemuck::cast_slice(v)),
            ArrayData::I32(v) => Cow::Borrowed(bytemuck::cast_slice(v)),
            ArrayData::I64(v) => Cow::Borrowed(bytemuck::cast_slice(v)),
            ArrayData::Str(_) => Cow::Borrowed(&[]),
        }
    }
    #[cfg(not(target_endian = "little"))]
    {
        let mut buf = Vec::with_capacity(data.len() * data.element_bytes());
        match data {
            ArrayData::F32(v) => v.iter().for_each(|x| buf.extend(x.to_le_bytes())),
            ArrayData::F64(v) => v.iter().for_each(|x| buf.extend(x.to_le_bytes())),
            ArrayData::I32(v) => v.iter().for_each(|x| buf.extend(x.to_le_bytes())),
            ArrayData::I64(v) => v.iter().for_each(|x| buf.extend(x.to_le_bytes())),
            ArrayData::Str(_) => {}
        }
        Cow::Owned(buf)
    }
}

/// The whole `.npy` file of `array`, as `npyz` writes it.
fn npy_file(array: &NamedArray) -> io::Result<Vec<u8>> {
    let shape: Vec<u64> = array.shape.iter().map(|&n| n as u64).collect();
    if let Some(element) = Element::of(&array.data) {
        let mut bytes = element.npy_header(&shape)?;
        bytes.extend_from_slice(&le_bytes(&array.data));
        return Ok(bytes);
    }
    let ArrayData::Str(labels) = &array.data else {
        return Ok(Vec::new());
    };
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
    let mut bytes = Vec::new();
    let mut w = npyz::WriteOptions::<str>::new()
        .dtype(npyz::DType::Plain(type_str))
        .shape(&shape)
        .writer(&mut bytes)
        .begin_nd()?;
    for label in labels {
        w.push(label.as_str())?;
    }
    w.finish()?;
    Ok(bytes)
}

/// Where a per-run member's rows go.
#[derive(Debug)]
struct Rows {
    /// The array's name in a chunk.
    array: String,
    /// Its shape after the run axis.
    row_shape: Vec<usize>,
    element: Element,
    /// Bytes of one run's row.
    row_bytes: u64,
    /// Where run 0's row starts in the file.
    start: u64,
}

/// One member of the archive and its place in the file.
#[derive(Debug)]
struct Member {
    /// `<array>.npy`.
    file_name: String,
    /// Where its local header starts.
    header_start: u64,
    /// Its bytes: the `.npy` header and the data.
    size: u64,
    /// Written with zip64 sizes.
    large_file: bool,
    /// The checksum of the bytes written so far.
    crc: crc32fast::Hasher,
    /// For a per-run member: where its rows go.
    rows: Option<Rows>,
}

impl Member {
    /// Bytes of its local header.
    fn local_header_len(file_name: &str, large_file: bool) -> u64 {
        30 + file_name.len() as u64 + if large_file { 20 } else { 0 }
    }
}

/// An MS-DOS date and time, as zip stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DosTime {
    time: u16,
    date: u16,
}

impl DosTime {
    /// The time now, in UTC (1980-01-01 00:00 outside 1980 to 2107), as
    /// the `zip` crate stamps members.
    fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self::from_unix(secs)
    }

    /// The UTC date and time `secs` seconds after 1970-01-01.
    fn from_unix(secs: u64) -> Self {
        let (days, second_of_day) = (secs / 86_400, secs % 86_400);
        let (year, month, day) = civil_from_days(days);
        let (hour, minute, second) = (
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60,
        );
        if !(1980..=2107).contains(&year) {
            // zip's default date: 1980-01-01 00:00:00.
            return DosTime {
                time: 0,
                date: 1 | (1 << 5),
            };
        }
        DosTime {
            time: ((second as u16) >> 1) | ((minute as u16) << 5) | ((hour as u16) << 11),
            date: (day as u16) | ((month as u16) << 5) | (((year - 1980) as u16) << 9),
        }
    }
}

/// The proleptic Gregorian date `days` days after 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// A `.npz` archive written chunk by chunk (chunks in run order), each
/// chunk's rows straight into their place in the file.
#[derive(Debug)]
pub struct NpzStream {
    path: PathBuf,
    file: Option<PartialFile>,
    n_runs: usize,
    members: Vec<Member>,
    /// Where the central directory starts: the end of the last member.
    end: u64,
    started: bool,
    next_run: usize,
    /// Stamps the members instead of the time of `finish` (tests).
    stamp: Option<DosTime>,
    /// Members from this size on get zip64 sizes (lowered by tests).
    zip64_from: u64,
}

impl NpzStream {
    /// Starts the archive at `path` for a batch of `n_runs` runs; it is
    /// written to a temporary sibling, renamed into place by
    /// [`finish`](ResultSink::finish) and deleted if the stream is dropped
    /// before.
    pub fn create(path: &Path, n_runs: usize) -> Result<Self, ResultsError> {
        Ok(NpzStream {
            path: path.to_path_buf(),
            file: Some(PartialFile::create(path)?),
            n_runs,
            members: Vec::new(),
            end: 0,
            started: false,
            next_run: 0,
            stamp: None,
            zip64_from: ZIP64_BYTES_THR,
        })
    }

    /// Lays the members out from the first chunk (of `chunk_runs` runs)
    /// and writes what is known of them: the `.npy` headers, and whole the
    /// arrays every run shares.
    fn start(
        &mut self,
        chunk: &SolveResult,
        chunk_runs: usize,
        out: &mut impl WriteAt,
    ) -> io::Result<()> {
        let mut offset = 0;
        for array in chunk.arrays() {
            let file_name = npyz::npz::file_name_from_array_name(&array.name);
            let element = Element::of(&array.data)
                .filter(|_| is_per_run(array) && array.shape.first() == Some(&chunk_runs));
            // The sizes from which `zip` was asked for zip64 records.
            let (head, data_bytes, zip64_hint, element) = match element {
                Some(element) => {
                    let row_shape = &array.shape[1..];
                    let shape: Vec<u64> = std::iter::once(self.n_runs)
                        .chain(row_shape.iter().copied())
                        .map(|n| n as u64)
                        .collect();
                    let data_bytes = shape.iter().product::<u64>() * element.bytes();
                    (
                        element.npy_header(&shape)?,
                        data_bytes,
                        data_bytes,
                        Some(element),
                    )
                }
                None => {
                    let hint = match array.data {
                        ArrayData::Str(_) => 0,
                        _ => array.data.len() as u64 * 8,
                    };
                    (npy_file(array)?, 0, hint, None)
                }
            };
            let size = head.len() as u64 + data_bytes;
            let large_file = zip64_hint >= self.zip64_from || size > ZIP64_BYTES_THR;
            let npy_start = offset + Member::local_header_len(&file_name, large_file);
            let mut crc = crc32fast::Hasher::new();
            out.write_at(npy_start, &head, &mut |b| crc.update(b))?;
            let rows = element.map(|element| Rows {
                array: array.name.clone(),
                row_shape: array.shape[1..].to_vec(),
                element,
                row_bytes: array.shape[1..].iter().product::<usize>() as u64 * element.bytes(),
                start: npy_start + head.len() as u64,
            });
            self.members.push(Member {
                file_name,
                header_start: offset,
                size,
                large_file,
                crc,
                rows,
            });
            offset = npy_start + size;
        }
        self.end = offset;
        Ok(())
    }

    /// Writes the rows of every per-run member of `chunk`, runs `runs`.
    fn write_rows(
        &mut self,
        chunk: &SolveResult,
        runs: &Range<usize>,
        out: &mut impl WriteAt,
    ) -> Result<(), ResultsError> {
        for member in &mut self.members {
            let Some(rows) = &member.rows else {
                continue;
            };
            let array = chunk
                .get(&rows.array)
                .filter(|a| {
                    a.shape.first() == Some(&runs.len())
                        && a.shape[1..] == rows.row_shape[..]
                        && Element::of(&a.data) == Some(rows.element)
                })
                .ok_or_else(|| ResultsError::ChunkLayout(rows.array.clone()))?;
            let at = rows.start + runs.start as u64 * rows.row_bytes;
            let crc = &mut member.crc;
            out.write_at(at, &le_bytes(&array.data), &mut |b| crc.update(b))
                .map_err(io_error(&self.path))?;
        }
        Ok(())
    }

    /// Writes every member's local header and the central directory.
    fn write_directory(&self, out: &mut impl WriteAt) -> io::Result<()> {
        let stamp = self.stamp.unwrap_or_else(DosTime::now);
        let mut directory = Vec::new();
        for member in &self.members {
            let crc = member.crc.clone().finalize();
            let header = local_header(member, crc, stamp);
            out.write_at(member.header_start, &header, &mut |_| {})?;
            central_header(&mut directory, member, crc, stamp);
        }
        directory_end(&mut directory, self.members.len(), self.end);
        out.write_at(self.end, &directory, &mut |_| {})
    }
}

/// Positioned writes, `each` handed the bytes in order (in pieces).
trait WriteAt {
    fn write_at(
        &mut self,
        offset: u64,
        bytes: &[u8],
        each: &mut dyn FnMut(&[u8]),
    ) -> io::Result<()>;
}

impl WriteAt for PartialFile {
    fn write_at(
        &mut self,
        offset: u64,
        bytes: &[u8],
        each: &mut dyn FnMut(&[u8]),
    ) -> io::Result<()> {
        PartialFile::write_at(self, offset, bytes, each)
    }
}

#[cfg(test)]
impl<W: io::Write + io::Seek> WriteAt for W {
    fn write_at(
        &mut self,
        offset: u64,
        bytes: &[u8],
        each: &mut dyn FnMut(&[u8]),
    ) -> io::Result<()> {
        each(bytes);
        self.seek(io::SeekFrom::Start(offset))?;
        self.write_all(bytes)
    }
}

/// The local header of `member`, as `zip` leaves it once the member is
/// written.
fn local_header(member: &Member, crc: u32, stamp: DosTime) -> Vec<u8> {
    let name = member.file_name.as_bytes();
    let mut h = Vec::with_capacity(Member::local_header_len(&member.file_name, true) as usize);
    h.extend(0x0403_4b50u32.to_le_bytes());
    // Version needed, as known when the header was begun (sizes 0).
    let version: u16 = if member.header_start > ZIP64_BYTES_THR {
        45
    } else {
        20
    };
    h.extend(version.to_le_bytes());
    h.extend(flags(&member.file_name).to_le_bytes());
    h.extend(0u16.to_le_bytes()); // stored
    h.extend(stamp.time.to_le_bytes());
    h.extend(stamp.date.to_le_bytes());
    h.extend(crc.to_le_bytes());
    let size32 = if member.large_file {
        ZIP64_BYTES_THR as u32
    } else {
        member.size as u32
    };
    h.extend(size32.to_le_bytes());
    h.extend(size32.to_le_bytes());
    h.extend((name.len() as u16).to_le_bytes());
    let extra: u16 = if member.large_file { 20 } else { 0 };
    h.extend(extra.to_le_bytes());
    h.extend(name);
    if member.large_file {
        h.extend(1u16.to_le_bytes());
        h.extend(16u16.to_le_bytes());
        h.extend(member.size.to_le_bytes());
        h.extend(member.size.to_le_bytes());
    }
    h
}

/// General purpose flags: UTF-8 names.
fn flags(file_name: &str) -> u16 {
    if file_name.is_ascii() { 0 } else { 1 << 11 }
}

/// Appends the central directory header of `member`.
fn central_header(out: &mut Vec<u8>, member: &Member, crc: u32, stamp: DosTime) {
    let name = member.file_name.as_bytes();
    let big_size = member.size > ZIP64_BYTES_THR;
    let big_start = member.header_start > ZIP64_BYTES_THR;
    let mut zip64 = Vec::new();
    if big_size {
        zip64.extend(member.size.to_le_bytes());
        zip64.extend(member.size.to_le_bytes());
    }
    if big_start {
        zip64.extend(member.header_start.to_le_bytes());
    }
    out.extend(0x0201_4b50u32.to_le_bytes());
    // Made by: Unix, zip's version 4.6.
    out.extend((3u16 << 8 | 46).to_le_bytes());
    let version: u16 = if big_size || big_start { 45 } else { 20 };
    out.extend(version.to_le_bytes());
    out.extend(flags(&member.file_name).to_le_bytes());
    out.extend(0u16.to_le_bytes()); // stored
    out.extend(stamp.time.to_le_bytes());
    out.extend(stamp.date.to_le_bytes());
    out.extend(crc.to_le_bytes());
    let size32 = member.size.min(ZIP64_BYTES_THR) as u32;
    out.extend(size32.to_le_bytes());
    out.extend(size32.to_le_bytes());
    out.extend((name.len() as u16).to_le_bytes());
    let extra_len = if zip64.is_empty() { 0 } else { 4 + zip64.len() };
    out.extend((extra_len as u16).to_le_bytes());
    out.extend(0u16.to_le_bytes()); // comment
    out.extend(0u16.to_le_bytes()); // disk
    out.extend(0u16.to_le_bytes()); // internal attributes
    out.extend((0o100644u32 << 16).to_le_bytes()); // a regular file, rw-r--r--
    out.extend((member.header_start.min(ZIP64_BYTES_THR) as u32).to_le_bytes());
    out.extend(name);
    if !zip64.is_empty() {
        out.extend(1u16.to_le_bytes());
        out.extend((zip64.len() as u16).to_le_bytes());
        out.extend(zip64);
    }
}

/// Appends the end records of a central directory of `n_files` headers,
/// `directory` so far, starting at `start`.
fn directory_end(directory: &mut Vec<u8>, n_files: usize, start: u64) {
    let size = directory.len() as u64;
    if n_files > ZIP64_ENTRY_THR || size.max(start) > ZIP64_BYTES_THR {
        directory.extend(0x0606_4b50u32.to_le_bytes());
        directory.extend(44u64.to_le_bytes());
        directory.extend(46u16.to_le_bytes()); // made by
        directory.extend(46u16.to_le_bytes()); // needed
        directory.extend(0u32.to_le_bytes());
        directory.extend(0u32.to_le_bytes());
        directory.extend((n_files as u64).to_le_bytes());
        directory.extend((n_files as u64).to_le_bytes());
        directory.extend(size.to_le_bytes());
        directory.extend(start.to_le_bytes());
        directory.extend(0x0706_4b50u32.to_le_bytes());
        directory.extend(0u32.to_le_bytes());
        directory.extend((start + size).to_le_bytes());
        directory.extend(1u32.to_le_bytes());
    }
    let files = n_files.min(ZIP64_ENTRY_THR) as u16;
    directory.extend(0x0605_4b50u32.to_le_bytes());
    directory.extend(0u16.to_le_bytes());
    directory.extend(0u16.to_le_bytes());
    directory.extend(files.to_le_bytes());
    directory.extend(files.to_le_bytes());
    directory.extend((size.min(ZIP64_BYTES_THR) as u32).to_le_bytes());
    directory.extend((start.min(ZIP64_BYTES_THR) as u32).to_le_bytes());
    directory.extend(0u16.to_le_bytes()); // comment
}

impl ResultSink for NpzStream {
    fn write_chunk(
        &mut self,
        _index: usize,
        runs: Range<usize>,
        chunk: &SolveResult,
    ) -> Result<(), ResultsError> {
        super::sink::in_order(self.next_run, &runs)?;
        if runs.end > self.n_runs {
            return Err(ResultsError::RunCount {
                expected: self.n_runs,
                got: runs.end,
            });
        }
        let Some(mut file) = self.file.take() else {
            return Err(ResultsError::Finished);
        };
        let written = (|| {
            if !self.started {
                self.start(chunk, runs.len(), &mut file)
                    .map_err(io_error(&self.path))?;
                self.started = true;
            }
            self.write_rows(chunk, &runs, &mut file)?;
            file.wrote(0).map_err(io_error(&self.path))
        })();
        // A failed chunk deletes the file: the archive cannot be whole.
        written?;
        self.file = Some(file);
        self.next_run = runs.end;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ResultsError> {
        let Some(mut file) = self.file.take() else {
            return Err(ResultsError::Finished);
        };
        if self.next_run != self.n_runs {
            return Err(ResultsError::RunCount {
                expected: self.n_runs,
                got: self.next_run,
            });
        }
        self.write_directory(&mut file)
            .map_err(io_error(&self.path))?;
        file.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Precision;
    use npyz::zip::DateTime;
    use npyz::zip::write::FileOptions;
    use std::io::{Seek, SeekFrom, Write};

    /// A result with every kind of array, `runs` runs.
    fn result(runs: usize, first: usize) -> SolveResult {
        let mut r = SolveResult::new(Precision::F64, runs);
        let f = |k: usize| (0..k).map(|i| (first * 1000 + i) as f64 * 0.37 - 3.0);
        r.insert(NamedArray::new(
            "final_state",
            vec![runs, 3],
            ArrayData::F64(f(runs * 3).collect()),
        ));
        r.insert(NamedArray::new(
            "status",
            vec![runs],
            ArrayData::I32((0..runs as i32).map(|i| i % 3).collect()),
        ));
        r.insert(NamedArray::labels(
            "state_labels",
            &["x".into(), "y".into(), "zeta_ü".into()],
        ));
        r.insert(NamedArray::new(
            "time",
            vec![4],
            ArrayData::F32(vec![0.0, 0.25, 0.5, 1.0]),
        ));
        r.insert(NamedArray::new(
            "state",
            vec![runs, 4, 2],
            ArrayData::F32(f(runs * 8).map(|v| v as f32).collect()),
        ));
        r.insert(NamedArray::new(
            "counters",
            vec![runs, 2],
            ArrayData::I64((0..runs as i64 * 2).collect()),
        ));
        r.insert(NamedArray::new(
            "empty",
            vec![runs, 0],
            ArrayData::F64(Vec::new()),
        ));
        r
    }

    /// The archive `npyz` and `zip` write for `result`, members stamped
    /// `stamp`, the ones named in `large` with zip64 sizes.
    fn reference(result: &SolveResult, stamp: DateTime, large: &[&str]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut npz = npyz::npz::NpzWriter::new(&mut out);
        for array in result.arrays() {
            let options = FileOptions::default()
                .compression_method(npyz::zip::CompressionMethod::Stored)
                .last_modified_time(stamp)
                .large_file(large.contains(&array.name.as_str()));
            npz.zip_writer()
                .start_file(npyz::npz::file_name_from_array_name(&array.name), options)
                .unwrap();
            npz.zip_writer()
                .write_all(&npy_file(array).unwrap())
                .unwrap();
        }
        npz.zip_writer().finish().unwrap();
        drop(npz);
        out.into_inner()
    }

    fn stamp() -> (DateTime, DosTime) {
        let zip = DateTime::from_date_and_time(2024, 2, 29, 13, 45, 59).unwrap();
        let dos = DosTime {
            time: zip.timepart(),
            date: zip.datepart(),
        };
        (zip, dos)
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cubie-npz-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn npy_files_are_those_npyz_writes() {
        let r = result(5, 0);
        for array in r.arrays() {
            let mut expected = Vec::new();
            let shape: Vec<u64> = array.shape.iter().map(|&n| n as u64).collect();
            macro_rules! numeric {
                ($t:ty, $v:expr) => {{
                    let mut w = npyz::WriteOptions::<$t>::new()
                        .default_dtype()
                        .shape(&shape)
                        .writer(&mut expected)
                        .begin_nd()
                        .unwrap();
                    w.extend($v.iter().copied()).unwrap();
                    w.finish().unwrap();
                }};
            }
            match &array.data {
                ArrayData::F32(v) => numeric!(f32, v),
                ArrayData::F64(v) => numeric!(f64, v),
                ArrayData::I32(v) => numeric!(i32, v),
                ArrayData::I64(v) => numeric!(i64, v),
                ArrayData::Str(_) => continue,
            }
            assert_eq!(npy_file(array).unwrap(), expected, "{}", array.name);
        }
    }

    /// Runs `runs` of `whole`, as a chunk of their own.
    fn cut(whole: &SolveResult, runs: Range<usize>) -> SolveResult {
        let mut chunk = SolveResult::new(Precision::F64, runs.len());
        for array in whole.arrays() {
            let mut a = array.clone();
            if is_per_run(array) {
                let row: usize = array.shape[1..].iter().product();
                let cut = runs.start * row..runs.end * row;
                a.data = match &array.data {
                    ArrayData::F32(v) => ArrayData::F32(v[cut].to_vec()),
                    ArrayData::F64(v) => ArrayData::F64(v[cut].to_vec()),
                    ArrayData::I32(v) => ArrayData::I32(v[cut].to_vec()),
                    ArrayData::I64(v) => ArrayData::I64(v[cut].to_vec()),
                    ArrayData::Str(v) => ArrayData::Str(v.clone()),
                };
                a.shape[0] = runs.len();
            }
            chunk.insert(a);
        }
        chunk
    }

    #[test]
    fn one_chunk_and_many_give_the_bytes_zip_writes() {
        let dir = scratch("bytes");
        let (zip_stamp, dos) = stamp();
        // Small chunks, and chunks of megabytes (whose whole pages go
        // straight to the disk where it can), cut at odd runs.
        let cases = [
            (10, vec![0..4, 4..8, 8..10]),
            (40_000, vec![0..13_001, 13_001..29_999, 29_999..40_000]),
        ];
        for (runs, chunks) in cases {
            let whole = result(runs, 0);
            let expected = reference(&whole, zip_stamp, &[]);
            let one = dir.join("one.npz");
            let mut npz = NpzStream::create(&one, runs).unwrap();
            npz.stamp = Some(dos);
            npz.write_chunk(0, 0..runs, &whole).unwrap();
            npz.finish().unwrap();
            assert!(std::fs::read(&one).unwrap() == expected, "{runs} runs");

            let many = dir.join("many.npz");
            let mut npz = NpzStream::create(&many, runs).unwrap();
            npz.stamp = Some(dos);
            for (k, range) in chunks.into_iter().enumerate() {
                npz.write_chunk(k, range.clone(), &cut(&whole, range))
                    .unwrap();
            }
            npz.finish().unwrap();
            assert!(std::fs::read(&many).unwrap() == expected, "{runs} runs");
            let names: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names.len(), 2, "{names:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn zip64_local_headers_match_zip() {
        let dir = scratch("zip64");
        let (zip_stamp, dos) = stamp();
        let whole = result(6, 0);
        // 6 x 3 f64 and 6 x 8 f32: at least 100 bytes.
        let expected = reference(&whole, zip_stamp, &["final_state", "state"]);
        let path = dir.join("x.npz");
        let mut npz = NpzStream::create(&path, 6).unwrap();
        npz.stamp = Some(dos);
        npz.zip64_from = 100;
        npz.write_chunk(0, 0..6, &whole).unwrap();
        npz.finish().unwrap();
        assert!(std::fs::read(&path).unwrap() == expected);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A writer that keeps what is written in small pieces and only counts
    /// large ones: the records of an archive of huge members.
    #[derive(Default)]
    struct Records {
        pos: u64,
        len: u64,
        kept: Vec<(u64, Vec<u8>)>,
    }

    impl Write for Records {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if buf.len() < 4096 {
                self.kept.push((self.pos, buf.to_vec()));
            }
            self.pos += buf.len() as u64;
            self.len = self.len.max(self.pos);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Seek for Records {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.pos = match to {
                SeekFrom::Start(p) => p,
                SeekFrom::End(d) => (self.len as i64 + d) as u64,
                SeekFrom::Current(d) => (self.pos as i64 + d) as u64,
            };
            Ok(self.pos)
        }
    }

    impl Records {
        /// The bytes kept, later writes over earlier ones, from `from`.
        fn bytes(&self, from: u64, to: u64) -> Vec<u8> {
            let mut out = vec![0u8; (to - from) as usize];
            for (at, bytes) in &self.kept {
                for (i, b) in bytes.iter().enumerate() {
                    let p = at + i as u64;
                    if (from..to).contains(&p) {
                        out[(p - from) as usize] = *b;
                    }
                }
            }
            out
        }
    }

    #[test]
    fn zip64_central_records_match_zip_past_4_gib() {
        // A small member, one of 4 GiB + 101 zeros, and a small one whose
        // header starts past 4 GiB.
        let (zip_stamp, dos) = stamp();
        let big = ZIP64_BYTES_THR + 101;
        let zeros = vec![0u8; 1 << 20];
        let mut zip = npyz::zip::ZipWriter::new(Records::default());
        let options = FileOptions::default()
            .compression_method(npyz::zip::CompressionMethod::Stored)
            .last_modified_time(zip_stamp);
        let mut big_crc = crc32fast::Hasher::new();
        let members = [("a.npy", false), ("big.npy", true), ("c.npy", false)];
        for (name, large_file) in members {
            zip.start_file(name, options.large_file(large_file))
                .unwrap();
            if large_file {
                let mut left = big;
                while left > 0 {
                    let n = left.min(zeros.len() as u64) as usize;
                    zip.write_all(&zeros[..n]).unwrap();
                    big_crc.update(&zeros[..n]);
                    left -= n as u64;
                }
            } else {
                zip.write_all(name.as_bytes()).unwrap();
            }
        }
        let expected = zip.finish().unwrap();

        let mut ours = Records::default();
        let dir = scratch("zip64-big");
        let mut npz = NpzStream::create(&dir.join("x.npz"), 0).unwrap();
        npz.stamp = Some(dos);
        let mut offset = 0;
        for (name, large_file) in members {
            let data_start = offset + Member::local_header_len(name, large_file);
            let (size, crc) = if large_file {
                (big, big_crc.clone())
            } else {
                ours.write_at(data_start, name.as_bytes(), &mut |_| {})
                    .unwrap();
                let mut crc = crc32fast::Hasher::new();
                crc.update(name.as_bytes());
                (name.len() as u64, crc)
            };
            npz.members.push(Member {
                file_name: name.into(),
                header_start: offset,
                size,
                large_file,
                crc,
                rows: None,
            });
            offset = data_start + size;
        }
        npz.end = offset;
        npz.write_directory(&mut ours).unwrap();
        assert_eq!(ours.len, expected.len);
        assert!(npz.members[2].header_start > ZIP64_BYTES_THR);
        // Everything but the big member's zeros.
        let zeros_start = npz.members[1].header_start + 57;
        for (from, to) in [(0, zeros_start), (zeros_start + big, expected.len)] {
            assert_eq!(
                ours.bytes(from, to),
                expected.bytes(from, to),
                "{from}..{to}"
            );
        }
    }

    #[test]
    fn dos_times_are_zips() {
        for (secs, date) in [
            (0u64, None),
            (315_532_800, Some((1980, 1, 1, 0, 0, 0))),
            (951_782_400 + 3661, Some((2000, 2, 29, 1, 1, 1))),
            (1_709_214_359, Some((2024, 2, 29, 13, 45, 59))),
            (4_354_819_199, Some((2107, 12, 31, 23, 59, 59))),
            (4_354_819_200, None),
        ] {
            let expected = date.map_or_else(DateTime::default, |(y, mo, d, h, mi, s)| {
                DateTime::from_date_and_time(y, mo, d, h, mi, s).unwrap()
            });
            let got = DosTime::from_unix(secs);
            assert_eq!(
                (got.time, got.date),
                (expected.timepart(), expected.datepart()),
                "{secs}"
            );
        }
    }

    #[test]
    fn a_stream_given_fewer_runs_than_announced_is_not_finished() {
        let dir = scratch("short");
        let path = dir.join("short.npz");
        let mut npz = NpzStream::create(&path, 12).unwrap();
        npz.write_chunk(0, 0..10, &result(10, 0)).unwrap();
        assert!(matches!(
            npz.finish(),
            Err(ResultsError::RunCount {
                expected: 12,
                got: 10
            })
        ));
        let mut npz = NpzStream::create(&path, 8).unwrap();
        assert!(npz.write_chunk(0, 0..10, &result(10, 0)).is_err());
        drop(npz);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
