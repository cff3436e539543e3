//! One-dimensional projection solvers (CuBIE's `linear_solver`): each
//! iteration moves `x` along the preconditioned residual `z = P⁻¹ r` by
//! the step that minimises `‖r − α A z‖` (minimal residual) or the
//! A-norm error along `z` (steepest descent, exact for SPD `A`).

use super::preconditioner::Preconditioner;
use super::{Handle, LinearOperator, LinearOutcome};
use crate::backend::cpu::solvers::vector::{axpy, dot, norm, splat, update};
use crate::memory::{LaneBuf, LaneMask, PerLane, RunArena};
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
        r: LaneBuf<'_, T>,
        x: LaneBuf<'_, T>,
        arena: &RunArena<T>,
        mask: LaneMask,
        tol: T,
        max_iters: u32,
    ) -> PerLane<LinearOutcome> {
        let w = r.width();
        let z = self.preconditioned.view(arena);
        let temp = self.temp.view(arena);
        let mut out = splat(LinearOutcome::default());
        precond.prepare(op, arena, mask);

        // r ← rhs − A x.
        op.apply(x, temp, mask);
        update(r, mask, |i, l| r.get(i, l) - temp.get(i, l));
        let rn = norm(r);
        // The lanes still iterating: neither converged nor stopped.
        let mut live = mask;
        for l in mask.lanes() {
            if rn[l] <= tol {
                out[l].converged = true;
                live.remove(l);
            }
        }
        let mut iterations = 0;
        while live.any() && iterations < max_iters {
            iterations += 1;
            for l in live.lanes() {
                out[l].iterations = iterations;
            }
            precond.apply(op, r, z, temp, arena, live);
            op.apply(z, temp, live);
            let (num, den) = if self.steepest_descent {
                (dot(r, z), dot(temp, z))
            } else {
                (dot(temp, r), dot(temp, temp))
            };
            let mut alpha = splat(T::zero());
            let mut minus_alpha = splat(T::zero());
            for l in 0..w {
                alpha[l] = num[l] / den[l];
                minus_alpha[l] = -alpha[l];
            }
            // A zero or non-finite step can make no progress: stop unconverged.
            for l in live.lanes() {
                if den[l] == T::zero() || !alpha[l].is_finite() {
                    live.remove(l);
                }
            }
            axpy(&alpha, z, x, live);
            axpy(&minus_alpha, temp, r, live);
            let rn = norm(r);
            for l in live.lanes() {
                if !rn[l].is_finite() {
                    live.remove(l);
                } else if rn[l] <= tol {
                    out[l].converged = true;
                    live.remove(l);
                }
            }
        }
        out
    }
}
