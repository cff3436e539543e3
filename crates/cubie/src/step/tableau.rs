//! The Butcher tableau of an explicit Runge–Kutta method.
//!
//! Coefficients are stored as `f64` (exact rationals where the published
//! method is rational, full published digits otherwise); a step rounds them
//! to the precision of the solve when it is built.

use thiserror::Error;

/// Embedded weights `b̂` that give a second, lower-order solution from the
/// same stages; `b - b̂` are the error weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmbeddedWeights {
    /// The weights `b̂`, one per stage.
    pub weights: &'static [f64],
    /// Classical order of the solution these weights give.
    pub order: u32,
}

/// An explicit Runge–Kutta method: `a` strictly lower triangular, weights
/// `b`, nodes `c`, and optionally embedded weights for an error estimate.
///
/// `a` is stored row by row without the zero upper part: row `i` holds the
/// `i` coefficients `a[i][0..i]` (row 0 is empty).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ButcherTableau {
    pub(crate) name: &'static str,
    pub(crate) aliases: &'static [&'static str],
    pub(crate) reference: &'static str,
    pub(crate) a: &'static [&'static [f64]],
    pub(crate) b: &'static [f64],
    pub(crate) c: &'static [f64],
    pub(crate) order: u32,
    pub(crate) embedded: Option<EmbeddedWeights>,
    pub(crate) secondary: Option<EmbeddedWeights>,
}

/// A tableau whose arrays do not fit together.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TableauShapeError {
    /// Row `row` of `a` does not have `row` entries.
    #[error("tableau `{name}`: row {row} of `a` has {len} entries, expected {row}")]
    RowLength {
        /// Tableau name.
        name: &'static str,
        /// Row index.
        row: usize,
        /// Entries found.
        len: usize,
    },
    /// `b`, `c` or an embedded weight vector has the wrong length.
    #[error("tableau `{name}`: `{what}` has {len} entries, expected {stages}")]
    VectorLength {
        /// Tableau name.
        name: &'static str,
        /// Which vector.
        what: &'static str,
        /// Entries found.
        len: usize,
        /// Number of stages.
        stages: usize,
    },
}

impl ButcherTableau {
    /// Canonical name, as CuBIE spells it (e.g. `dormand-prince-54`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Other names accepted by [`erk_tableau`](super::erk_tableau).
    pub fn aliases(&self) -> &'static [&'static str] {
        self.aliases
    }

    /// Literature source of the coefficients.
    pub fn reference(&self) -> &'static str {
        self.reference
    }

    /// Number of stages.
    pub fn stages(&self) -> usize {
        self.b.len()
    }

    /// `a[i][j]`; zero on and above the diagonal.
    pub fn a(&self, i: usize, j: usize) -> f64 {
        if j < i { self.a[i][j] } else { 0.0 }
    }

    /// Row `i` of `a` up to (not including) the diagonal.
    pub fn a_row(&self, i: usize) -> &'static [f64] {
        self.a[i]
    }

    /// Weights of the propagated solution.
    pub fn b(&self) -> &'static [f64] {
        self.b
    }

    /// Nodes `c`.
    pub fn c(&self) -> &'static [f64] {
        self.c
    }

    /// Classical order of the propagated solution.
    pub fn order(&self) -> u32 {
        self.order
    }

    /// The embedded solution used for the error estimate, if any.
    pub fn embedded(&self) -> Option<EmbeddedWeights> {
        self.embedded
    }

    /// Embedded weights `b̂`, if the method has an error estimate.
    pub fn b_hat(&self) -> Option<&'static [f64]> {
        self.embedded.map(|e| e.weights)
    }

    /// Order of the embedded solution (the error estimate is
    /// `O(dt^(error_order + 1))` per step).
    pub fn error_order(&self) -> Option<u32> {
        self.embedded.map(|e| e.order)
    }

    /// A second embedded solution. Only DOP853 has one: its 3rd-order
    /// weights, which Hairer's code combines with the 5th-order estimate
    /// (see [`dop853_combined_error`]).
    pub fn secondary_embedded(&self) -> Option<EmbeddedWeights> {
        self.secondary
    }

    /// Error weights `d = b - b̂` (the local error estimate is
    /// `dt * Σ d_i k_i`), or `None` for a method without an estimate.
    pub fn error_weights(&self) -> Option<Vec<f64>> {
        self.b_hat()
            .map(|bh| self.b.iter().zip(bh).map(|(b, h)| b - h).collect())
    }

    /// Whether the method has an error estimate (can drive an adaptive
    /// controller).
    pub fn is_adaptive(&self) -> bool {
        self.embedded.is_some()
    }

    /// First-same-as-last: the last stage is evaluated at `(t + dt, y_new)`,
    /// so its derivative is the next step's first stage. True when the last
    /// row of `a` equals `b` and the last node is 1.
    pub fn fsal(&self) -> bool {
        let s = self.stages();
        if s < 2 || self.c[s - 1] != 1.0 || self.b[s - 1] != 0.0 {
            return false;
        }
        self.a[s - 1].iter().zip(self.b).all(|(a, b)| a == b)
    }

    /// Checks that the arrays fit together (each row of `a` has its index
    /// as length; `b`, `c` and embedded weights have one entry per stage).
    pub fn check_shape(&self) -> Result<(), TableauShapeError> {
        let stages = self.stages();
        let name = self.name;
        let vec_len = |what, len| {
            if len == stages {
                Ok(())
            } else {
                Err(TableauShapeError::VectorLength {
                    name,
                    what,
                    len,
                    stages,
                })
            }
        };
        vec_len("a", self.a.len())?;
        vec_len("c", self.c.len())?;
        if let Some(e) = self.embedded {
            vec_len("b_hat", e.weights.len())?;
        }
        if let Some(e) = self.secondary {
            vec_len("secondary b_hat", e.weights.len())?;
        }
        for (row, r) in self.a.iter().enumerate() {
            if r.len() != row {
                return Err(TableauShapeError::RowLength {
                    name,
                    row,
                    len: r.len(),
                });
            }
        }
        Ok(())
    }
}

/// Hairer's combined DOP853 error measure from the scaled RMS norms of the
/// 5th-order estimate (`err5`, weights `b - b̂₅`) and the 3rd-order estimate
/// (`err3`, weights `b - b̂₃`): `err5² / sqrt(err5² + 0.01 err3²)`.
///
/// For small steps it behaves like `O(dt^8)`, i.e. like the estimate of a
/// 7th-order embedded method, which is why OrdinaryDiffEq's `DP8` controller
/// uses the exponent 1/8. Both norms zero gives zero.
pub fn dop853_combined_error<T: crate::Real>(err5: T, err3: T) -> T {
    let e5sq = err5 * err5;
    let deno = e5sq + T::from_f64(0.01) * err3 * err3;
    // Hairer's code sets a zero denominator to 1 (only reached when both
    // estimates vanish, and then the numerator is zero too).
    if deno > T::zero() {
        e5sq / deno.sqrt()
    } else {
        T::zero()
    }
}
