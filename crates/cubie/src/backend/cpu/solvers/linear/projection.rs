//! One-dimensional projection solvers (CuBIE's `linear_solver`): each
//! iteration moves `x` along the preconditioned residual `z = P⁻¹ r` by
//! the step that minimises `‖r − α A z‖` (minimal residual) or the
//! A-norm error along `z` (steepest descent, exact for SPD `A`).

use std::cell::Cell;

use super::preconditioner::Preconditioner;
use super::{Handle, LinearOperator, LinearOutcome};
use crate::backend::cpu::solvers::vector::{axpy, dot, norm};
use crate::memory::RunArena;
use crate::precision::Real;

#[derive(Debug, Clone, Copy)]
pub(super) struct Projection<T> {
    pub steepest_descent: bool,
    /// `z = P⁻¹ r`.
    pub preconditioned: Handle<T>,
    /// `A x`, then `A z`; the preconditioner's scratch.
    pub temp: Handle<T>,
}

impl<T: Real> Projection<T> {
    #[allow(clippy::too_many_arguments)]
    pub fn solve<O: LinearOperator<T> + ?Sized>(
        &self,
        op: &O,
        precond: &Preconditioner<T>,
        r: &[Cell<T>],
        x: &[Cell<T>],
        arena: &RunArena<T>,
        tol: T,
        max_iters: u32,
    ) -> LinearOutcome {
        let z = self.preconditioned.view(arena);
        let temp = self.temp.view(arena);
        precond.prepare(op, arena);

        // r ← rhs − A x.
        op.apply(x, temp);
        for (ri, ti) in r.iter().zip(temp) {
            ri.set(ri.get() - ti.get());
        }
        let mut converged = norm(r) <= tol;
        let mut iterations = 0;
        while !converged && iterations < max_iters {
            iterations += 1;
            precond.apply(op, r, z, temp, arena);
            op.apply(z, temp);
            let (num, den) = if self.steepest_descent {
                (dot(r, z), dot(temp, z))
            } else {
                (dot(temp, r), dot(temp, temp))
            };
            let alpha = num / den;
            // A zero or non-finite step can make no progress: stop unconverged.
            if den == T::zero() || !alpha.is_finite() {
                break;
            }
            axpy(alpha, z, x);
            axpy(-alpha, temp, r);
            let rn = norm(r);
            if !rn.is_finite() {
                break;
            }
            converged = rn <= tol;
        }
        LinearOutcome {
            converged,
            iterations,
        }
    }
}
