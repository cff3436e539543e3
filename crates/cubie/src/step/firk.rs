//! Fully implicit Runge–Kutta steps (Gauss–Legendre, Radau IIA): one
//! Newton solve for all `s` stage increments at once (`s·n` unknowns,
//! the hosted Newton solver sized for them):
//! `Z_i = h Σ_j a_ij f(t + c_j h, y + Z_j)`.
//!
//! The solution and error estimate are combinations of the increments
//! (`y₁ = y + Σ d_j Z_j`, `d = bᵀA⁻¹`), so no evaluation follows the solve.
//! Radau IIA's estimate is Hairer's: `err = Σ e_j Z_j − hγ₀ f(t, y)`,
//! `e = (b − b̂)ᵀA⁻¹`, filtered through `(I − hγ₀J)⁻¹` by a second linear
//! solver (`n` unknowns) hosted by the step as `error_filter`, which keeps it bounded on
//! stiff components.
//!
//! Buffers: `stage_increment` (s·n, Newton's unknown), `stage_rhs` (s·n,
//! slopes or Jacobian-vector products per stage), `stage_state` (n),
//! `start_rhs` (n, `f(t, y)`), `jacobian_scratch` (n² with `lu`, n
//! with `jacobi`); Newton's memory is hosted as `solver_scratch`.

use crate::memory::{BufferRegistry, BufferSpec, Component, ComponentId};
use crate::solvers::{LinearSolverComponent, LinearSolverSpec, NewtonComponent, NewtonSpec};

use super::StepError;
use super::implicit::ImplicitSolverSettings;
use super::implicit_tableaus::RkTableau;

/// The FIRK step component.
#[derive(Debug, Clone)]
pub struct FirkStep {
    pub(crate) id: ComponentId,
    pub(crate) n: usize,
    pub(crate) tableau: RkTableau,
    pub(crate) newton: NewtonComponent,
    pub(crate) filter: Option<LinearSolverComponent>,
}

/// Inverse of a small dense matrix by Gauss–Jordan with partial pivoting.
pub(crate) fn invert(m: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let s = m.len();
    let mut a: Vec<Vec<f64>> = m
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = row.clone();
            r.extend((0..s).map(|j| if i == j { 1.0 } else { 0.0 }));
            r
        })
        .collect();
    for col in 0..s {
        let p = (col..s)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .unwrap_or(col);
        a.swap(col, p);
        let pivot = a[col][col];
        for v in &mut a[col] {
            *v /= pivot;
        }
        for r in 0..s {
            if r != col {
                let f = a[r][col];
                let pivot_row = a[col].clone();
                for (v, pv) in a[r].iter_mut().zip(&pivot_row) {
                    *v -= f * pv;
                }
            }
        }
    }
    a.into_iter().map(|r| r[s..].to_vec()).collect()
}

/// `wᵀ A⁻¹`.
pub(crate) fn through_inverse(w: &[f64], a_inv: &[Vec<f64>]) -> Vec<f64> {
    (0..w.len())
        .map(|j| w.iter().zip(a_inv).map(|(wi, row)| wi * row[j]).sum())
        .collect()
}

impl FirkStep {
    /// Registers the step's buffers, its Newton solver (for `s·n`
    /// unknowns) and, with an error estimate, the filter's linear solver.
    pub fn register(
        registry: &mut BufferRegistry,
        id: ComponentId,
        tableau: &RkTableau,
        n: usize,
        solver: ImplicitSolverSettings,
    ) -> Result<Self, StepError> {
        let s = tableau.stages();
        registry.register(id, BufferSpec::shared("stage_increment", s * n))?;
        registry.register(id, BufferSpec::shared("stage_rhs", s * n))?;
        registry.register(id, BufferSpec::shared("stage_state", n))?;
        registry.register(id, BufferSpec::shared("start_rhs", n))?;
        let jacobian = if solver.needs_dense_jacobian() {
            n * n
        } else if solver.needs_jacobian() {
            n
        } else {
            0
        };
        registry.register(id, BufferSpec::local("jacobian_scratch", jacobian))?;
        let newton = NewtonComponent::register(
            registry,
            Some(id),
            NewtonSpec {
                n: s * n,
                settings: solver.newton,
                linear: solver.linear,
            },
        )?;
        registry.host_shared_as(newton.id(), "solver_scratch")?;
        let filter = match tableau.b_hat {
            Some(_) => Some(LinearSolverComponent::register_as(
                registry,
                Some(id),
                "error_filter",
                LinearSolverSpec {
                    n,
                    settings: solver.linear,
                },
            )?),
            None => None,
        };
        Ok(FirkStep {
            id,
            n,
            tableau: tableau.clone(),
            newton,
            filter,
        })
    }

    /// The hosted Newton solver.
    pub fn newton(&self) -> &NewtonComponent {
        &self.newton
    }

    /// `d = bᵀA⁻¹`: the solution is `y + Σ d_j Z_j`.
    pub fn solution_weights(&self) -> Vec<f64> {
        through_inverse(&self.tableau.b, &invert(&self.tableau.a))
    }

    /// `e = (b − b̂)ᵀA⁻¹`, with an embedded solution: the error is
    /// `Σ e_j Z_j − hγ₀ f(t, y)` before the filter.
    pub fn error_weights(&self) -> Option<Vec<f64>> {
        let a_inv = invert(&self.tableau.a);
        self.tableau
            .error_weights()
            .map(|w| through_inverse(&w, &a_inv))
    }
}
