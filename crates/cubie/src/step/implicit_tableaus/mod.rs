//! Coefficient tables of the implicit algorithm families: diagonally
//! implicit ([`dirk`]), fully implicit ([`firk`]) Runge–Kutta methods and
//! Rosenbrock(-W) methods ([`rosenbrock`]), looked up by the names CuBIE
//! uses, with checks of their order conditions ([`order`]).
//!
//! ```
//! use cubie::step::implicit_tableaus::dirk;
//! let t = dirk::tableau("ode23t")?;
//! assert_eq!(t.name, "trapezoidal_dirk");
//! assert!(t.explicit_first_stage() && t.stiffly_accurate());
//! # Ok::<(), cubie::step::implicit_tableaus::TableauError>(())
//! ```

pub mod dirk;
pub mod firk;
pub mod order;
pub mod rosenbrock;

use thiserror::Error;

/// A tableau lookup that failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TableauError {
    /// No tableau of this family has the name.
    #[error("unknown {family} tableau `{name}`; valid names: {}", valid.join(", "))]
    Unknown {
        /// `dirk`, `firk` or `rosenbrock`.
        family: &'static str,
        /// The name as given.
        name: String,
        /// Every accepted name, aliases included.
        valid: Vec<&'static str>,
    },
}

/// A Runge–Kutta tableau (DIRK or FIRK), in `f64`; a step rounds it to its
/// precision when built.
#[derive(Debug, Clone, PartialEq)]
pub struct RkTableau {
    /// Canonical name, as CuBIE spells it.
    pub name: &'static str,
    /// Other names that select it.
    pub aliases: &'static [&'static str],
    /// Stage coupling, `s × s` (lower triangular, diagonal included, for a DIRK).
    pub a: Vec<Vec<f64>>,
    /// Solution weights.
    pub b: Vec<f64>,
    /// Stage nodes (the row sums of `a`).
    pub c: Vec<f64>,
    /// Embedded weights of the error estimate, if the method has one.
    pub b_hat: Option<Vec<f64>>,
    /// Weight of `f(t_n, y_n)` in the embedded solution (Radau IIA's
    /// Hairer estimate uses the start-of-step derivative); 0 otherwise.
    pub b_hat_start: f64,
    /// Classical order of the solution.
    pub order: u32,
    /// Order of the embedded solution, if any.
    pub error_order: Option<u32>,
}

impl RkTableau {
    /// Number of stages.
    pub fn stages(&self) -> usize {
        self.b.len()
    }

    /// The diagonal of `a`.
    pub fn diagonal(&self) -> Vec<f64> {
        (0..self.stages()).map(|i| self.a[i][i]).collect()
    }

    /// First stage is explicit (ESDIRK): `a[0][0] = 0`, so stage 1 is just
    /// `f(t_n, y_n)`.
    pub fn explicit_first_stage(&self) -> bool {
        self.a[0].iter().all(|&x| x == 0.0)
    }

    /// Every implicit stage has the same diagonal (SDIRK): one matrix
    /// `I − h·γ·J` serves all stage solves.
    pub fn singly_diagonal(&self) -> bool {
        let d: Vec<f64> = self.diagonal().into_iter().filter(|&x| x != 0.0).collect();
        d.windows(2).all(|w| w[0] == w[1])
    }

    /// Lower triangular (diagonal included): stages can be solved one at a time.
    pub fn is_diagonally_implicit(&self) -> bool {
        (0..self.stages()).all(|i| self.a[i][i + 1..].iter().all(|&x| x == 0.0))
    }

    /// The last row of `a` equals `b`: the last stage value is the step's
    /// solution, so no final combination is needed.
    pub fn stiffly_accurate(&self) -> bool {
        self.a.last().is_some_and(|row| *row == self.b)
    }

    /// Stiffly accurate with an explicit first stage: the last stage's
    /// derivative is the next step's first (first same as last).
    pub fn first_same_as_last(&self) -> bool {
        self.stiffly_accurate() && self.explicit_first_stage() && self.c.last() == Some(&1.0)
    }

    /// `b − b̂` (the error estimate's weights), if there is an embedded pair.
    pub fn error_weights(&self) -> Option<Vec<f64>> {
        self.b_hat
            .as_ref()
            .map(|bh| self.b.iter().zip(bh).map(|(b, h)| b - h).collect())
    }

    /// The embedded method as a tableau of its own; with a start-of-step
    /// weight it gains an explicit stage at `c = 0` in front.
    pub fn embedded(&self) -> Option<(Vec<Vec<f64>>, Vec<f64>)> {
        let b_hat = self.b_hat.as_ref()?;
        if self.b_hat_start == 0.0 {
            return Some((self.a.clone(), b_hat.clone()));
        }
        let s = self.stages();
        let mut a = vec![vec![0.0; s + 1]];
        a.extend(self.a.iter().map(|row| {
            let mut r = vec![0.0];
            r.extend(row);
            r
        }));
        let mut b = vec![self.b_hat_start];
        b.extend(b_hat);
        Some((a, b))
    }
}

/// A registry row: canonical name, aliases, and the tableau's builder.
type Entry<T> = (&'static str, &'static [&'static str], fn() -> T);

/// Looks up `name` among `(canonical, aliases, builder)` entries.
fn lookup<T>(family: &'static str, entries: &[Entry<T>], name: &str) -> Result<T, TableauError> {
    entries
        .iter()
        .find(|(n, aliases, _)| *n == name || aliases.contains(&name))
        .map(|(_, _, build)| build())
        .ok_or_else(|| TableauError::Unknown {
            family,
            name: name.to_string(),
            valid: names(entries),
        })
}

/// Every canonical name and alias of `entries`, in table order.
fn names<T>(entries: &[Entry<T>]) -> Vec<&'static str> {
    entries
        .iter()
        .flat_map(|(n, aliases, _)| std::iter::once(*n).chain(aliases.iter().copied()))
        .collect()
}
