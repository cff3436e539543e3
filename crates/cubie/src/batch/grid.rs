//! Combining sweeps into runs.

use std::ops::Range;

use crate::Precision;

use super::{BatchError, Sweep};

/// How several sweeps combine into runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GridKind {
    /// Every combination of the sweeps' values (the first sweep varies
    /// slowest).
    #[default]
    Combinatorial,
    /// The sweeps zipped together; all must have the same length.
    Verbatim,
}

impl std::str::FromStr for GridKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "combinatorial" => Ok(GridKind::Combinatorial),
            "verbatim" => Ok(GridKind::Verbatim),
            other => Err(format!(
                "unknown grid `{other}`: expected `combinatorial` or `verbatim`"
            )),
        }
    }
}

/// The variables a batch can set per run, with their defaults.
#[derive(Debug, Clone, Copy)]
pub struct InputSpace<'a> {
    /// State names, in model order.
    pub state_names: &'a [String],
    /// Default initial value of each state.
    pub state_defaults: &'a [f64],
    /// Parameter names, in model order.
    pub parameter_names: &'a [String],
    /// Default value of each parameter.
    pub parameter_defaults: &'a [f64],
}

/// Where a variable lives in a run's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    State(usize),
    Parameter(usize),
}

impl InputSpace<'_> {
    pub(crate) fn slot(&self, name: &str, context: &str) -> Result<Slot, BatchError> {
        if let Some(i) = self.state_names.iter().position(|n| n == name) {
            return Ok(Slot::State(i));
        }
        if let Some(i) = self.parameter_names.iter().position(|n| n == name) {
            return Ok(Slot::Parameter(i));
        }
        let valid: Vec<&str> = self
            .state_names
            .iter()
            .chain(self.parameter_names)
            .map(String::as_str)
            .collect();
        Err(BatchError::UnknownName {
            name: name.to_string(),
            context: context.to_string(),
            valid: valid.join(", "),
        })
    }

    pub(crate) fn default_run(&self, precision: Precision) -> (Vec<f64>, Vec<f64>) {
        let round = |v: &[f64]| v.iter().map(|x| precision.round(*x)).collect();
        (round(self.state_defaults), round(self.parameter_defaults))
    }
}

/// Each run's initial values and parameters, row-major, in the solve's
/// precision (stored as f64).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchInputs {
    /// Number of runs.
    pub n_runs: usize,
    /// Number of states (columns of `initial_values`).
    pub n_states: usize,
    /// Number of parameters (columns of `parameters`).
    pub n_parameters: usize,
    /// `(n_runs, n_states)`.
    pub initial_values: Vec<f64>,
    /// `(n_runs, n_parameters)`.
    pub parameters: Vec<f64>,
}

impl BatchInputs {
    /// One run's initial values.
    pub fn initial_values_of(&self, run: usize) -> &[f64] {
        &self.initial_values[run * self.n_states..(run + 1) * self.n_states]
    }

    /// One run's parameters.
    pub fn parameters_of(&self, run: usize) -> &[f64] {
        &self.parameters[run * self.n_parameters..(run + 1) * self.n_parameters]
    }

    pub(crate) fn with_capacity(space: &InputSpace<'_>, runs: usize) -> Result<Self, BatchError> {
        Self::with_sizes(space.state_names.len(), space.parameter_names.len(), runs)
    }

    /// An empty batch with room for `runs` runs of `ns` states and `np`
    /// parameters, refused if it cannot be allocated.
    pub(crate) fn with_sizes(ns: usize, np: usize, runs: usize) -> Result<Self, BatchError> {
        let out_of_memory = || BatchError::OutOfMemory {
            runs,
            bytes: runs as u128 * (ns + np) as u128 * 8,
        };
        let mut inputs = BatchInputs {
            n_runs: 0,
            n_states: ns,
            n_parameters: np,
            initial_values: Vec::new(),
            parameters: Vec::new(),
        };
        let reserve = |v: &mut Vec<f64>, per_run: usize| {
            let len = runs.checked_mul(per_run).ok_or_else(out_of_memory)?;
            v.try_reserve_exact(len).map_err(|_| out_of_memory())
        };
        reserve(&mut inputs.initial_values, ns)?;
        reserve(&mut inputs.parameters, np)?;
        Ok(inputs)
    }

    pub(crate) fn push(&mut self, states: &[f64], parameters: &[f64]) {
        self.initial_values.extend_from_slice(states);
        self.parameters.extend_from_slice(parameters);
        self.n_runs += 1;
    }
}

/// The number of runs a grid of sweeps makes, counted without overflow.
pub fn grid_size(sweeps: &[Sweep], kind: GridKind) -> Result<usize, BatchError> {
    match kind {
        GridKind::Combinatorial => sweeps
            .iter()
            .try_fold(1usize, |runs, s| runs.checked_mul(s.len()))
            .ok_or_else(|| BatchError::TooManyRuns {
                sizes: sweeps
                    .iter()
                    .map(|s| s.len().to_string())
                    .collect::<Vec<_>>()
                    .join(" x "),
            }),
        GridKind::Verbatim => {
            let len = sweeps.first().map_or(1, |s| s.len());
            if sweeps.iter().any(|s| s.len() != len) {
                let details = sweeps
                    .iter()
                    .map(|s| format!("`{}` has {}", s.name, s.len()))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(BatchError::UnequalLengths { details });
            }
            Ok(len)
        }
    }
}

/// Builds the runs of a grid of sweeps over the model's defaults. With no
/// sweeps the batch is one run of the defaults.
pub fn build_grid(
    space: &InputSpace<'_>,
    sweeps: &[Sweep],
    kind: GridKind,
    precision: Precision,
) -> Result<BatchInputs, BatchError> {
    let grid = GridRuns::new(space, sweeps, kind, precision)?;
    grid.runs(0..grid.n_runs())
}

/// A batch's runs, made a range at a time: a batch larger than memory is
/// solved chunk by chunk without ever holding all its inputs.
pub trait RunSource: Sync {
    /// Runs in the batch.
    fn n_runs(&self) -> usize;

    /// The runs `range` (within `0..n_runs()`), in order.
    fn runs(&self, range: Range<usize>) -> Result<BatchInputs, BatchError>;
}

/// Refuses a range of runs outside a batch of `n_runs`.
fn check_range(range: &Range<usize>, n_runs: usize) -> Result<(), BatchError> {
    if range.end > n_runs || range.start > range.end {
        return Err(BatchError::RunRange {
            start: range.start,
            end: range.end,
            n_runs,
        });
    }
    Ok(())
}

impl RunSource for BatchInputs {
    fn n_runs(&self) -> usize {
        self.n_runs
    }

    fn runs(&self, range: Range<usize>) -> Result<BatchInputs, BatchError> {
        check_range(&range, self.n_runs)?;
        let (ns, np) = (self.n_states, self.n_parameters);
        Ok(BatchInputs {
            n_runs: range.len(),
            n_states: ns,
            n_parameters: np,
            initial_values: self.initial_values[range.start * ns..range.end * ns].to_vec(),
            parameters: self.parameters[range.start * np..range.end * np].to_vec(),
        })
    }
}

/// A grid of sweeps, checked once, whose runs are computed on demand: run
/// `i` is the same whichever range it is made in.
#[derive(Debug, Clone)]
pub struct GridRuns {
    sweeps: Vec<Sweep>,
    slots: Vec<Slot>,
    kind: GridKind,
    precision: Precision,
    states: Vec<f64>,
    parameters: Vec<f64>,
    n_runs: usize,
}

impl GridRuns {
    /// Checks the sweeps (names, duplicates, lengths, the run count)
    /// against `space`.
    pub fn new(
        space: &InputSpace<'_>,
        sweeps: &[Sweep],
        kind: GridKind,
        precision: Precision,
    ) -> Result<Self, BatchError> {
        let mut slots = Vec::with_capacity(sweeps.len());
        for (i, sweep) in sweeps.iter().enumerate() {
            if sweeps[..i].iter().any(|s| s.name == sweep.name) {
                return Err(BatchError::DuplicateSweep(sweep.name.clone()));
            }
            if sweep.is_empty() {
                return Err(BatchError::BadSweep {
                    text: sweep.name.clone(),
                    reason: "no values".into(),
                });
            }
            slots.push(space.slot(&sweep.name, "--sweep")?);
        }
        let n_runs = grid_size(sweeps, kind)?;
        let (states, parameters) = space.default_run(precision);
        Ok(GridRuns {
            sweeps: sweeps.to_vec(),
            slots,
            kind,
            precision,
            states,
            parameters,
            n_runs,
        })
    }
}

impl RunSource for GridRuns {
    fn n_runs(&self) -> usize {
        self.n_runs
    }

    fn runs(&self, range: Range<usize>) -> Result<BatchInputs, BatchError> {
        check_range(&range, self.n_runs)?;
        let mut inputs =
            BatchInputs::with_sizes(self.states.len(), self.parameters.len(), range.len())?;
        let (mut states, mut params) = (self.states.clone(), self.parameters.clone());
        for run in range {
            let mut rest = run;
            // Combinatorial: the last sweep varies fastest, like itertools.product.
            for (sweep, slot) in self.sweeps.iter().zip(&self.slots).rev() {
                let index = match self.kind {
                    GridKind::Verbatim => run,
                    GridKind::Combinatorial => {
                        let i = rest % sweep.len();
                        rest /= sweep.len();
                        i
                    }
                };
                let value = self.precision.round(sweep.value(index));
                match *slot {
                    Slot::State(i) => states[i] = value,
                    Slot::Parameter(i) => params[i] = value,
                }
            }
            inputs.push(&states, &params);
        }
        Ok(inputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn combinatorial_grid_covers_every_combination_in_product_order() {
        let (sn, pn) = (names(&["x", "y"]), names(&["a"]));
        let space = InputSpace {
            state_names: &sn,
            state_defaults: &[1.0, 2.0],
            parameter_names: &pn,
            parameter_defaults: &[5.0],
        };
        let sweeps = [
            Sweep::new("a", vec![10.0, 20.0]),
            Sweep::new("y", vec![0.1, 0.2, 0.3]),
        ];
        let b = build_grid(&space, &sweeps, GridKind::Combinatorial, Precision::F64).unwrap();
        assert_eq!(b.n_runs, 6);
        assert_eq!(b.parameters, vec![10.0, 10.0, 10.0, 20.0, 20.0, 20.0]);
        let ys: Vec<f64> = (0..6).map(|r| b.initial_values_of(r)[1]).collect();
        assert_eq!(ys, vec![0.1, 0.2, 0.3, 0.1, 0.2, 0.3]);
        assert!((0..6).all(|r| b.initial_values_of(r)[0] == 1.0));
    }

    #[test]
    fn verbatim_grid_zips_and_rejects_unequal_lengths() {
        let (sn, pn) = (names(&["x"]), names(&["a", "b"]));
        let space = InputSpace {
            state_names: &sn,
            state_defaults: &[0.0],
            parameter_names: &pn,
            parameter_defaults: &[0.0, 0.0],
        };
        let sweeps = [
            Sweep::new("a", vec![1.0, 2.0]),
            Sweep::new("b", vec![3.0, 4.0]),
        ];
        let b = build_grid(&space, &sweeps, GridKind::Verbatim, Precision::F64).unwrap();
        assert_eq!(b.parameters, vec![1.0, 3.0, 2.0, 4.0]);
        let uneven = [Sweep::new("a", vec![1.0, 2.0]), Sweep::new("b", vec![3.0])];
        let err = build_grid(&space, &uneven, GridKind::Verbatim, Precision::F64).unwrap_err();
        assert!(matches!(err, BatchError::UnequalLengths { .. }), "{err}");
    }

    #[test]
    fn unknown_and_duplicate_names_are_errors() {
        let (sn, pn) = (names(&["x"]), names(&["rho"]));
        let space = InputSpace {
            state_names: &sn,
            state_defaults: &[0.0],
            parameter_names: &pn,
            parameter_defaults: &[0.0],
        };
        let err = build_grid(
            &space,
            &[Sweep::new("rh0", vec![1.0])],
            GridKind::Combinatorial,
            Precision::F64,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown variable `rh0` in --sweep: valid names are x, rho"
        );
        let dup = [Sweep::new("x", vec![1.0]), Sweep::new("x", vec![2.0])];
        assert_eq!(
            build_grid(&space, &dup, GridKind::Combinatorial, Precision::F64).unwrap_err(),
            BatchError::DuplicateSweep("x".into())
        );
    }

    #[test]
    fn values_are_rounded_to_the_solve_precision() {
        let (sn, pn) = (names(&["x"]), names(&["rho"]));
        let space = InputSpace {
            state_names: &sn,
            state_defaults: &[0.1],
            parameter_names: &pn,
            parameter_defaults: &[0.0],
        };
        let sweeps = [Sweep::linspace("rho", 0.0, 21.0, 1024)];
        let b = build_grid(&space, &sweeps, GridKind::Combinatorial, Precision::F32).unwrap();
        assert_eq!(b.parameters[1], (21.0f64 / 1023.0) as f32 as f64);
        assert_eq!(b.initial_values[0], 0.1f32 as f64);
    }
}
