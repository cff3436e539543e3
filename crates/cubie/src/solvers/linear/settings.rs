//! The linear solver's settings: kinds, defaults (CuBIE's), validation and
//! the setting keys it understands.

use std::fmt;
use std::str::FromStr;

use crate::settings::SettingsMap;
use crate::solvers::error::SolverError;

/// The linear solver algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LinearSolverKind {
    /// One-dimensional projection minimising the residual norm each step
    /// (CuBIE's default `linear_correction_type`).
    #[default]
    MinimalResidual,
    /// One-dimensional projection along the (preconditioned) residual,
    /// exact line search for SPD operators.
    SteepestDescent,
    /// Preconditioned BiCGSTAB (van der Vorst).
    Bicgstab,
    /// Dense LU with partial pivoting on the operator's matrix; direct.
    Lu,
}

impl LinearSolverKind {
    /// Every kind's name.
    pub const NAMES: [&'static str; 4] = ["minimal_residual", "steepest_descent", "bicgstab", "lu"];

    /// The setting value.
    pub fn as_str(self) -> &'static str {
        match self {
            LinearSolverKind::MinimalResidual => "minimal_residual",
            LinearSolverKind::SteepestDescent => "steepest_descent",
            LinearSolverKind::Bicgstab => "bicgstab",
            LinearSolverKind::Lu => "lu",
        }
    }
}

impl FromStr for LinearSolverKind {
    type Err = SolverError;

    fn from_str(s: &str) -> Result<Self, SolverError> {
        match s {
            "minimal_residual" => Ok(LinearSolverKind::MinimalResidual),
            "steepest_descent" => Ok(LinearSolverKind::SteepestDescent),
            "bicgstab" => Ok(LinearSolverKind::Bicgstab),
            "lu" => Ok(LinearSolverKind::Lu),
            other => Err(SolverError::UnknownKind {
                what: "linear solver",
                name: other.into(),
                valid: Self::NAMES.to_vec(),
            }),
        }
    }
}

impl fmt::Display for LinearSolverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The preconditioner applied by the iterative kinds (ignored by `lu`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PreconditionerKind {
    /// `P⁻¹ = I`.
    None,
    /// `P⁻¹ = diag(A)⁻¹`.
    Jacobi,
    /// Truncated Neumann series `P⁻¹ = Σ_{i=0..k} (I − A)^i` (CuBIE's
    /// preconditioner; for `A = I − hγJ` this is `Σ (hγJ)^i`), of order
    /// `k = preconditioner_order`.
    #[default]
    Neumann,
}

impl PreconditionerKind {
    /// Every kind's name.
    pub const NAMES: [&'static str; 3] = ["none", "jacobi", "neumann"];

    /// The setting value.
    pub fn as_str(self) -> &'static str {
        match self {
            PreconditionerKind::None => "none",
            PreconditionerKind::Jacobi => "jacobi",
            PreconditionerKind::Neumann => "neumann",
        }
    }
}

impl FromStr for PreconditionerKind {
    type Err = SolverError;

    fn from_str(s: &str) -> Result<Self, SolverError> {
        match s {
            "none" => Ok(PreconditionerKind::None),
            "jacobi" => Ok(PreconditionerKind::Jacobi),
            "neumann" => Ok(PreconditionerKind::Neumann),
            other => Err(SolverError::UnknownKind {
                what: "preconditioner",
                name: other.into(),
                valid: Self::NAMES.to_vec(),
            }),
        }
    }
}

impl fmt::Display for PreconditionerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of a linear solver. Defaults are CuBIE's.
///
/// Convergence: the solve stops when the Euclidean norm of the residual,
/// `‖rhs − A x‖₂`, is at most `krylov_tolerance` (an absolute tolerance,
/// as CuBIE's `krylov_tolerance`); `lu` ignores it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearSolverSettings {
    /// `linear_solver`: the algorithm (default `minimal_residual`).
    pub kind: LinearSolverKind,
    /// `preconditioner` (default `neumann`).
    pub preconditioner: PreconditionerKind,
    /// `preconditioner_order`: terms of the Neumann series beyond the
    /// identity, 1..=32 (default 1).
    pub preconditioner_order: u32,
    /// `krylov_tolerance`: absolute residual norm (default 1e-3).
    pub krylov_tolerance: f64,
    /// `krylov_max_iters`: iteration limit, 1..=32767 (default 100).
    pub krylov_max_iters: u32,
}

impl Default for LinearSolverSettings {
    fn default() -> Self {
        LinearSolverSettings {
            kind: LinearSolverKind::MinimalResidual,
            preconditioner: PreconditionerKind::Neumann,
            preconditioner_order: 1,
            krylov_tolerance: 1e-3,
            krylov_max_iters: 100,
        }
    }
}

impl LinearSolverSettings {
    /// The setting keys a linear solver understands (besides the
    /// `<buffer>_location` keys of its registered buffers).
    pub const KEYS: [&'static str; 5] = [
        "linear_solver",
        "preconditioner",
        "preconditioner_order",
        "krylov_tolerance",
        "krylov_max_iters",
    ];

    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), SolverError> {
        if !(1..=32).contains(&self.preconditioner_order) {
            return Err(SolverError::InvalidSetting {
                key: "preconditioner_order",
                value: self.preconditioner_order.to_string(),
                expected: "an integer in 1..=32",
            });
        }
        if !(self.krylov_tolerance.is_finite() && self.krylov_tolerance > 0.0) {
            return Err(SolverError::InvalidSetting {
                key: "krylov_tolerance",
                value: self.krylov_tolerance.to_string(),
                expected: "a finite number > 0",
            });
        }
        if !(1..=32767).contains(&self.krylov_max_iters) {
            return Err(SolverError::InvalidSetting {
                key: "krylov_max_iters",
                value: self.krylov_max_iters.to_string(),
                expected: "an integer in 1..=32767",
            });
        }
        Ok(())
    }

    /// These settings overridden by any of [`KEYS`](Self::KEYS) given in
    /// `map` (declaring them known), then validated.
    pub fn updated_from(mut self, map: &SettingsMap) -> Result<Self, SolverError> {
        if let Some(v) = map.raw("linear_solver") {
            self.kind = v.parse()?;
        }
        if let Some(v) = map.raw("preconditioner") {
            self.preconditioner = v.parse()?;
        }
        if let Some(v) = map.get::<u32>("preconditioner_order", "a whole number")? {
            self.preconditioner_order = v;
        }
        if let Some(v) = map.get_f64("krylov_tolerance")? {
            self.krylov_tolerance = v;
        }
        if let Some(v) = map.get::<u32>("krylov_max_iters", "a whole number")? {
            self.krylov_max_iters = v;
        }
        self.validate()?;
        Ok(self)
    }

    /// CuBIE's defaults overridden by `map`.
    pub fn from_settings(map: &SettingsMap) -> Result<Self, SolverError> {
        Self::default().updated_from(map)
    }
}
