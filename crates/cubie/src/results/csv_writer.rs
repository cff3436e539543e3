//! The CSV writer. A CSV holds one table: with saved time series, one row
//! per run and save time (`run,status,time,<saved variables>`, the run's
//! status on each of its rows, so that the NaN saves of a failed run cannot
//! pass for values); without, one row per run
//! (`run,status,<parameters>,<initial values>,<final state>`). NaN is
//! written `NaN`, infinities `inf` and `-inf`.

use std::io::Write;
use std::path::Path;

use super::{ResultsError, SolveResult, write_atomically};

fn format_row(out: &mut impl Write, fields: impl Iterator<Item = String>) -> std::io::Result<()> {
    let row: Vec<String> = fields.collect();
    writeln!(out, "{}", row.join(","))
}

/// Writes `result` as a CSV table at `path`.
pub fn write_csv(result: &SolveResult, path: &Path) -> Result<(), ResultsError> {
    let labels = |name| {
        result
            .labels(name)
            .map(<[String]>::to_vec)
            .unwrap_or_default()
    };
    let state_labels = labels("state_labels");
    let parameter_labels = labels("parameter_labels");
    write_atomically(path, |out| {
        if let (Some(time), Some(state)) = (result.values("time"), result.values("state")) {
            let observables = result.values("observables");
            let observable_labels = labels("observable_labels");
            let saved_labels = labels("saved_state_labels");
            let state_cols = if saved_labels.is_empty() {
                state_labels.clone()
            } else {
                saved_labels
            };
            let header = ["run".to_string(), "status".to_string(), "time".to_string()]
                .into_iter()
                .chain(state_cols.iter().cloned())
                .chain(
                    observables
                        .iter()
                        .flat_map(|_| observable_labels.iter().cloned()),
                );
            format_row(out, header)?;
            let (ns, no, saves) = (state_cols.len(), observable_labels.len(), time.len());
            for run in 0..result.n_runs {
                for (k, t) in time.iter().enumerate() {
                    let s = &state[(run * saves + k) * ns..(run * saves + k + 1) * ns];
                    let o: &[f64] = match &observables {
                        Some(obs) => &obs[(run * saves + k) * no..(run * saves + k + 1) * no],
                        None => &[],
                    };
                    let status = result.status().get(run).copied().unwrap_or_default();
                    let fields = [run.to_string(), status.to_string(), t.to_string()]
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
        let header = ["run".to_string(), "status".to_string()]
            .into_iter()
            .chain(parameter_labels.iter().cloned())
            .chain(state_labels.iter().map(|s| format!("{s}_initial")))
            .chain(state_labels.iter().map(|s| format!("{s}_final")));
        format_row(out, header)?;
        let (ns, np) = (state_labels.len(), parameter_labels.len());
        for run in 0..result.n_runs {
            let fields = [run.to_string(), result.status()[run].to_string()]
                .into_iter()
                .chain(params[run * np..(run + 1) * np].iter().map(f64::to_string))
                .chain(inits[run * ns..(run + 1) * ns].iter().map(f64::to_string))
                .chain(finals[run * ns..(run + 1) * ns].iter().map(f64::to_string));
            format_row(out, fields)?;
        }
        Ok(())
    })
}
