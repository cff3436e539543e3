//! The CSV writer. A CSV holds one table: with saved time series, one row
//! per run and save time (`run,status,time,<saved variables>`, the run's
//! status on each of its rows, so that the NaN saves of a failed run cannot
//! pass for values); without, one row per run
//! (`run,status,<parameters>,<initial values>,<final state>`). NaN is
//! written `NaN`, infinities `inf` and `-inf`.
//!
//! [`CsvStream`] writes the table chunk by chunk, rows appended as each
//! chunk of runs is solved; the file appears when the last is written.

use std::io::Write;
use std::ops::Range;
use std::path::Path;

use super::partial::{PartialFile, io_error};
use super::{ResultSink, ResultsError, SolveResult};

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
}

impl CsvStream {
    /// Starts the table at `path` (written to a temporary sibling until
    /// [`finish`](ResultSink::finish)).
    pub fn create(path: &Path) -> Result<Self, ResultsError> {
        Ok(CsvStream {
            file: Some(PartialFile::create(path)?),
            next_run: 0,
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

/// Writes the rows of `result` (its runs numbered from `first_run`), after
/// the header when `header`.
fn write_rows(
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
