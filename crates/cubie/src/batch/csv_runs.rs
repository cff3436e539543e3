//! Runs listed in a CSV file: a header of state and parameter names, one
//! row per run. Columns not given take the model's defaults.

use std::io::Read;

use crate::Precision;

use super::grid::Slot;
use super::{BatchError, BatchInputs, InputSpace};

/// Reads runs from CSV text (header = variable names, one row per run).
pub fn runs_from_csv(
    space: &InputSpace<'_>,
    reader: impl Read,
    precision: Precision,
) -> Result<BatchInputs, BatchError> {
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(reader);
    let header = csv
        .headers()
        .map_err(|e| BatchError::Csv(e.to_string()))?
        .clone();
    let mut slots = Vec::with_capacity(header.len());
    for (i, name) in header.iter().enumerate() {
        if header.iter().take(i).any(|n| n == name) {
            return Err(BatchError::Csv(format!("column `{name}` appears twice")));
        }
        slots.push(space.slot(name, "the CSV header")?);
    }
    let (mut states, mut params) = space.default_run(precision);
    let mut inputs = BatchInputs::with_capacity(space, 0)?;
    for (row, record) in csv.records().enumerate() {
        // Line numbers count the header as line 1.
        let line = row + 2;
        let record = record.map_err(|e| BatchError::Csv(format!("line {line}: {e}")))?;
        if record.len() != slots.len() {
            return Err(BatchError::Csv(format!(
                "line {line}: {} fields, but the header has {}",
                record.len(),
                slots.len()
            )));
        }
        for ((field, slot), name) in record.iter().zip(&slots).zip(header.iter()) {
            let value: f64 = field.parse().map_err(|_| {
                BatchError::Csv(format!(
                    "line {line}: `{field}` in column `{name}` is not a number"
                ))
            })?;
            if !value.is_finite() {
                return Err(BatchError::Csv(format!(
                    "line {line}: `{field}` in column `{name}` is not finite"
                )));
            }
            match *slot {
                Slot::State(i) => states[i] = precision.round(value),
                Slot::Parameter(i) => params[i] = precision.round(value),
            }
        }
        inputs.push(&states, &params);
        (states, params) = space.default_run(precision);
    }
    if inputs.n_runs == 0 {
        return Err(BatchError::Empty);
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space<'a>(sn: &'a [String], pn: &'a [String]) -> InputSpace<'a> {
        InputSpace {
            state_names: sn,
            state_defaults: &[1.0, 2.0],
            parameter_names: pn,
            parameter_defaults: &[3.0],
        }
    }

    #[test]
    fn reads_runs_and_fills_defaults() {
        let (sn, pn) = (
            vec!["x".to_string(), "y".to_string()],
            vec!["k".to_string()],
        );
        let text = "k, x\n10, 0.5\n20, 0.25\n";
        let b = runs_from_csv(&space(&sn, &pn), text.as_bytes(), Precision::F64).unwrap();
        assert_eq!(b.n_runs, 2);
        assert_eq!(b.initial_values, vec![0.5, 2.0, 0.25, 2.0]);
        assert_eq!(b.parameters, vec![10.0, 20.0]);
    }

    #[test]
    fn malformed_csv_is_an_error_naming_the_line() {
        let (sn, pn) = (
            vec!["x".to_string(), "y".to_string()],
            vec!["k".to_string()],
        );
        let s = space(&sn, &pn);
        let err = runs_from_csv(&s, "k,x\n1,2\n3,abc\n".as_bytes(), Precision::F64).unwrap_err();
        assert_eq!(
            err.to_string(),
            "runs CSV: line 3: `abc` in column `x` is not a number"
        );
        let err = runs_from_csv(&s, "k,x\n1,2,3\n".as_bytes(), Precision::F64).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = runs_from_csv(&s, "k,q\n1,2\n".as_bytes(), Precision::F64).unwrap_err();
        assert!(matches!(err, BatchError::UnknownName { .. }));
        let err = runs_from_csv(&s, "k,x\n".as_bytes(), Precision::F64).unwrap_err();
        assert_eq!(err, BatchError::Empty);
    }
}
