//! The CSV writer. A CSV holds one table: with saved time series, one row
//! per run and save time (`run,status,time,<saved variables>`, the run's
//! status on each of its rows, so that the NaN saves of a failed run cannot
//! pass for values); without, one row per run
//! (`run,status,<parameters>,<initial values>,<final state>`). NaN is
//! written `NaN`, infinities `inf` and `-inf`.
//!
//! [`CsvStream`] writes the table chunk by chunk, rows appended as each
//! chunk of runs is solved; the file appears when the last is written.

use std::io::{Seek, Write};
use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;

use super::partial::{PartialFile, io_error};
use super::{ArrayData, ResultSink, ResultsError, SolveResult};

fn format_row(out: &mut impl Write, fields: impl Iterator<Item = String>) -> std::io::Result<()> {
    let row: Vec<String> = fields.collect();
    writeln!(out, "{}", row.join(","))
}

/// Writes `result` as a CSV table at `path`.
pub fn write_csv(result: &SolveResult, path: &Path) -> Result<(), ResultsError> {
    let mut csv = CsvStream::create(path)?;
    csv.write_chunk(0, 0..result.n_runs, result)?;
    csv.finish()
}

/// A CSV table written chunk by chunk (chunks in run order).
#[derive(Debug)]
pub struct CsvStream {
    file: Option<PartialFile>,
    next_run: usize,
    /// Bytes written so far.
    written: u64,
}

impl CsvStream {
    /// Starts the table at `path` (written to a temporary sibling until
    /// [`finish`](ResultSink::finish)).
    pub fn create(path: &Path) -> Result<Self, ResultsError> {
        Ok(CsvStream {
            file: Some(PartialFile::create(path)?),
            next_run: 0,
            written: 0,
        })
    }
}

impl ResultSink for CsvStream {
    fn write_chunk(
        &mut self,
        _index: usize,
        runs: Range<usize>,
        chunk: &SolveResult,
    ) -> Result<(), ResultsError> {
        super::sink::in_order(self.next_run, &runs)?;
        let Some(file) = &mut self.file else {
            return Err(ResultsError::Finished);
        };
        let path = file.destination().to_path_buf();
        write_rows(file.writer(), chunk, runs.start, runs.start == 0).map_err(io_error(&path))?;
        let written = file.writer().stream_position().map_err(io_error(&path))?;
        file.wrote(written.saturating_sub(self.written))
            .map_err(io_error(&path))?;
        self.written = written;
        self.next_run = runs.end;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ResultsError> {
        match self.file.take() {
            Some(file) => file.commit(),
            None => Err(ResultsError::Finished),
        }
    }
}

/// A numeric array's values, read as f64 where they lie.
#[derive(Debug, Clone, Copy)]
enum Values<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
    I32(&'a [i32]),
    I64(&'a [i64]),
}

impl<'a> Values<'a> {
    /// The numeric array `name` of `result`.
    fn of(result: &'a SolveResult, name: &str) -> Option<Self> {
        match &result.get(name)?.data {
            ArrayData::F32(v) => Some(Values::F32(v)),
            ArrayData::F64(v) => Some(Values::F64(v)),
            ArrayData::I32(v) => Some(Values::I32(v)),
            ArrayData::I64(v) => Some(Values::I64(v)),
            ArrayData::Str(_) => None,
        }
    }

    fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::I32(v) => v.len(),
            Values::I64(v) => v.len(),
        }
    }

    /// Value `i` widened to f64.
    fn get(&self, i: usize) -> Option<f64> {
        match self {
            Values::F32(v) => v.get(i).map(|&x| f64::from(x)),
            Values::F64(v) => v.get(i).copied(),
            Values::I32(v) => v.get(i).map(|&x| f64::from(x)),
            Values::I64(v) => v.get(i).map(|&x| x as f64),
        }
    }

    /// Writes `,value` for each of the values `range` (as f64), or fails
    /// when the array is shorter than its labels say.
    fn write(&self, out: &mut Vec<u8>, range: Range<usize>) -> std::io::Result<()> {
        fn each<T: Copy>(
            out: &mut Vec<u8>,
            values: &[T],
            range: Range<usize>,
            widen: impl Fn(T) -> f64,
        ) -> std::io::Result<()> {
            let values = values.get(range).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "an array is shorter than its labels say",
                )
            })?;
            for &v in values {
                write!(out, ",{}", widen(v))?;
            }
            Ok(())
        }
        match *self {
            Values::F32(v) => each(out, v, range, f64::from),
            Values::F64(v) => each(out, v, range, |x| x),
            Values::I32(v) => each(out, v, range, f64::from),
            Values::I64(v) => each(out, v, range, |x| x as f64),
        }
    }
}

/// Text formatted per parallel task, about.
const TEXT_PER_TASK: usize = 64 << 10;
/// Tasks formatted before their text is written.
const TASKS_PER_BATCH: usize = 128;

/// Writes the text of runs `0..n_runs`, `format` writing one run's, runs
/// formatted in parallel on the current rayon pool and written in order.
/// `run_bytes` estimates one run's text.
fn write_runs(
    out: &mut impl Write,
    n_runs: usize,
    run_bytes: usize,
    format: impl Fn(usize, &mut Vec<u8>) -> std::io::Result<()> + Sync,
) -> std::io::Result<()> {
    let per_task = (TEXT_PER_TASK / run_bytes.max(1)).max(1);
    let per_batch = per_task * TASKS_PER_BATCH;
    for batch in (0..n_runs).step_by(per_batch) {
        let end = (batch + per_batch).min(n_runs);
        let texts: Vec<std::io::Result<Vec<u8>>> = (batch..end)
            .step_by(per_task)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|first| {
                let mut text = Vec::with_capacity(per_task * run_bytes);
                for run in first..(first + per_task).min(end) {
                    format(run, &mut text)?;
                }
                Ok(text)
            })
            .collect();
        for text in texts {
            out.write_all(&text?)?;
        }
    }
    Ok(())
}

/// Writes the rows of `result` (its runs numbered from `first_run`), after
/// the header when `header`. Rows are formatted in parallel on the current
/// rayon pool, from the arrays where they lie.
fn write_rows(
    out: &mut impl Write,
    result: &SolveResult,
    first_run: usize,
    header: bool,
) -> std::io::Result<()> {
    let labels = |name| result.labels(name).unwrap_or_default();
    let state_labels = labels("state_labels");
    let parameter_labels = labels("parameter_labels");
    let status = result.status();
    let status_of = |run: usize| status.get(run).copied().unwrap_or_default();
    if let (Some(time), Some(state)) = (Values::of(result, "time"), Values::of(result, "state")) {
        let observables = Values::of(result, "observables");
        let observable_labels = labels("observable_labels");
        let saved_labels = labels("saved_state_labels");
        let state_cols = if saved_labels.is_empty() {
            state_labels
        } else {
            saved_labels
        };
        if header {
            let header = ["run".to_string(), "status".to_string(), "time".to_string()]
                .into_iter()
                .chain(state_cols.iter().cloned())
                .chain(
                    observables
                        .iter()
                        .flat_map(|_| observable_labels.iter().cloned()),
                );
            format_row(out, header)?;
        }
        let (ns, no, saves) = (state_cols.len(), observable_labels.len(), time.len());
        let run_bytes = saves * (16 + 20 * (1 + ns + no));
        return write_runs(out, result.n_runs, run_bytes, |run, text| {
            let status = status_of(run);
            for k in 0..saves {
                let t = time.get(k).unwrap_or_default();
                write!(text, "{},{status},{t}", first_run + run)?;
                let row = run * saves + k;
                state.write(text, row * ns..(row + 1) * ns)?;
                if let Some(obs) = &observables {
                    obs.write(text, row * no..(row + 1) * no)?;
                }
                text.push(b'\n');
            }
            Ok(())
        });
    }
    let finals = Values::of(result, "final_state");
    let inits = Values::of(result, "initial_values");
    let params = Values::of(result, "parameters");
    if header {
        let header = ["run".to_string(), "status".to_string()]
            .into_iter()
            .chain(parameter_labels.iter().cloned())
            .chain(state_labels.iter().map(|s| format!("{s}_initial")))
            .chain(state_labels.iter().map(|s| format!("{s}_final")));
        format_row(out, header)?;
    }
    let (ns, np) = (state_labels.len(), parameter_labels.len());
    let run_bytes = 16 + 20 * (np + 2 * ns);
    // A missing array is an empty one.
    let write = |values: &Option<Values<'_>>, text: &mut Vec<u8>, range: Range<usize>| match values
    {
        Some(v) => v.write(text, range),
        None if range.is_empty() => Ok(()),
        None => Values::F64(&[]).write(text, range),
    };
    write_runs(out, result.n_runs, run_bytes, |run, text| {
        write!(text, "{},{}", first_run + run, status_of(run))?;
        write(&params, text, run * np..(run + 1) * np)?;
        write(&inits, text, run * ns..(run + 1) * ns)?;
        write(&finals, text, run * ns..(run + 1) * ns)?;
        text.push(b'\n');
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Precision;
    use crate::results::NamedArray;

    /// The serial writer this one replaced, kept as the reference.
    /// Writes the rows of `result` (its runs numbered from `first_run`), after
    /// the header when `header`.
    fn reference_rows(
        out: &mut impl Write,
        result: &SolveResult,
        first_run: usize,
        header: bool,
    ) -> std::io::Result<()> {
        let labels = |name| {
            result
                .labels(name)
                .map(<[String]>::to_vec)
                .unwrap_or_default()
        };
        let state_labels = labels("state_labels");
        let parameter_labels = labels("parameter_labels");
        let status = result.status();
        if let (Some(time), Some(state)) = (result.values("time"), result.values("state")) {
            let observables = result.values("observables");
            let observable_labels = labels("observable_labels");
            let saved_labels = labels("saved_state_labels");
            let state_cols = if saved_labels.is_empty() {
                state_labels.clone()
            } else {
                saved_labels
            };
            if header {
                let header = ["run".to_string(), "status".to_string(), "time".to_string()]
                    .into_iter()
                    .chain(state_cols.iter().cloned())
                    .chain(
                        observables
                            .iter()
                            .flat_map(|_| observable_labels.iter().cloned()),
                    );
                format_row(out, header)?;
            }
            let (ns, no, saves) = (state_cols.len(), observable_labels.len(), time.len());
            for run in 0..result.n_runs {
                for (k, t) in time.iter().enumerate() {
                    let s = &state[(run * saves + k) * ns..(run * saves + k + 1) * ns];
                    let o: &[f64] = match &observables {
                        Some(obs) => &obs[(run * saves + k) * no..(run * saves + k + 1) * no],
                        None => &[],
                    };
                    let status = status.get(run).copied().unwrap_or_default();
                    let fields = [
                        (first_run + run).to_string(),
                        status.to_string(),
                        t.to_string(),
                    ]
                    .into_iter()
                    .chain(s.iter().chain(o).map(f64::to_string));
                    format_row(out, fields)?;
                }
            }
            return Ok(());
        }
        let finals = result.final_state();
        let inits = result.values("initial_values").unwrap_or_default();
        let params = result.values("parameters").unwrap_or_default();
        if header {
            let header = ["run".to_string(), "status".to_string()]
                .into_iter()
                .chain(parameter_labels.iter().cloned())
                .chain(state_labels.iter().map(|s| format!("{s}_initial")))
                .chain(state_labels.iter().map(|s| format!("{s}_final")));
            format_row(out, header)?;
        }
        let (ns, np) = (state_labels.len(), parameter_labels.len());
        for run in 0..result.n_runs {
            let fields = [
                (first_run + run).to_string(),
                status.get(run).copied().unwrap_or_default().to_string(),
            ]
            .into_iter()
            .chain(params[run * np..(run + 1) * np].iter().map(f64::to_string))
            .chain(inits[run * ns..(run + 1) * ns].iter().map(f64::to_string))
            .chain(finals[run * ns..(run + 1) * ns].iter().map(f64::to_string));
            format_row(out, fields)?;
        }
        Ok(())
    }

    /// A result of `runs` runs in `precision`, with saved series when
    /// `series`, odd values (NaN, infinities, tiny and huge) included.
    fn result(runs: usize, precision: Precision, series: bool, observables: bool) -> SolveResult {
        let mut r = SolveResult::new(precision, runs);
        let value = |i: usize| match i % 7 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => -1.0e-300 * i as f64,
            3 => 1.0e300 / i as f64,
            _ => (i as f64).sin() * 1e3,
        };
        let data = |n: usize, offset: usize| -> ArrayData {
            let v = (0..n).map(|i| value(i + offset));
            match precision {
                Precision::F32 => ArrayData::F32(v.map(|x| x as f32).collect()),
                Precision::F64 => ArrayData::F64(v.collect()),
            }
        };
        let (ns, np, no, saves) = (3, 2, 1, 5);
        r.insert(NamedArray::new(
            "final_state",
            vec![runs, ns],
            data(runs * ns, 1),
        ));
        r.insert(NamedArray::new(
            "status",
            vec![runs],
            ArrayData::I32((0..runs as i32).map(|i| i % 5).collect()),
        ));
        r.insert(NamedArray::new(
            "initial_values",
            vec![runs, ns],
            data(runs * ns, 2),
        ));
        r.insert(NamedArray::new(
            "parameters",
            vec![runs, np],
            data(runs * np, 3),
        ));
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        r.insert(NamedArray::labels("state_labels", &names(&["x", "y", "z"])));
        r.insert(NamedArray::labels("parameter_labels", &names(&["a", "b"])));
        if series {
            r.insert(NamedArray::new("time", vec![saves], data(saves, 4)));
            r.insert(NamedArray::new(
                "state",
                vec![runs, saves, 2],
                data(runs * saves * 2, 5),
            ));
            r.insert(NamedArray::labels(
                "saved_state_labels",
                &names(&["x", "z"]),
            ));
            if observables {
                r.insert(NamedArray::new(
                    "observables",
                    vec![runs, saves, no],
                    data(runs * saves * no, 6),
                ));
                r.insert(NamedArray::labels("observable_labels", &names(&["e"])));
            }
        }
        r
    }

    #[test]
    fn parallel_rows_are_the_serial_writers_bytes() {
        for precision in [Precision::F32, Precision::F64] {
            for (series, observables) in [(false, false), (true, false), (true, true)] {
                // Enough runs for several tasks and batches.
                for runs in [1, 3, 20_000] {
                    let r = result(runs, precision, series, observables);
                    for (first, header) in [(0, true), (1234, false)] {
                        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
                        write_rows(&mut ours, &r, first, header).unwrap();
                        reference_rows(&mut theirs, &r, first, header).unwrap();
                        assert!(
                            ours == theirs,
                            "{precision} series {series} observables {observables} runs {runs}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn an_array_shorter_than_its_labels_is_an_error() {
        let mut r = result(4, Precision::F64, true, false);
        r.insert(NamedArray::new(
            "state",
            vec![1, 5, 2],
            ArrayData::F64(vec![0.0; 10]),
        ));
        assert!(write_rows(&mut Vec::new(), &r, 0, true).is_err());
    }
}
