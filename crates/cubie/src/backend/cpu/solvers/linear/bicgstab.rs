//! Right-preconditioned BiCGSTAB (van der Vorst 1992): two operator and
//! two preconditioner applications per iteration, five work vectors.

use super::preconditioner::Preconditioner;
use super::{Handle, LinearOperator, LinearOutcome};
use crate::backend::cpu::solvers::vector::{axpy, copy, dot, fill, norm, splat, update};
use crate::memory::{LaneBuf, LaneMask, PerLane, RunArena};
use crate::precision::Real;

#[derive(Debug, Clone, Copy)]
pub(super) struct Bicgstab<T> {
    /// The fixed shadow residual r̂₀.
    pub r0_hat: Handle<T>,
    /// Search direction.
    pub p: Handle<T>,
    /// `A P⁻¹ p`.
    pub v: Handle<T>,
    /// `P⁻¹ p`, then `t = A ŝ`.
    pub tmp: Handle<T>,
    /// `ŝ = P⁻¹ s`.
    pub s_hat: Handle<T>,
}

/// `-x` in every lane.
#[inline]
fn negated<T: Real>(x: &PerLane<T>) -> PerLane<T> {
    x.map(|v| -v)
}

impl<T: Real> Bicgstab<T> {
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
        let (r0_hat, p, v, tmp, s_hat) = (
            self.r0_hat.view(arena),
            self.p.view(arena),
            self.v.view(arena),
            self.tmp.view(arena),
            self.s_hat.view(arena),
        );
        let mut out = splat(LinearOutcome::default());
        precond.prepare(op, arena, mask);

        op.apply(x, tmp, mask);
        update(r, mask, |i, l| r.get(i, l) - tmp.get(i, l));
        copy(r, r0_hat, mask);
        fill(p, T::zero(), mask);
        fill(v, T::zero(), mask);
        let (mut rho_prev, mut alpha, mut omega) =
            (splat(T::one()), splat(T::one()), splat(T::one()));
        let mut beta = splat(T::zero());
        // The lanes still iterating: neither converged nor broken down.
        let mut live = mask;
        let rn = norm(r);
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
            let rho = dot(r0_hat, r);
            // Breakdown (r ⟂ r̂₀, or a previous ω of zero): stop unconverged.
            for l in live.lanes() {
                if rho[l] == T::zero() || !rho[l].is_finite() || omega[l] == T::zero() {
                    live.remove(l);
                } else {
                    beta[l] = (rho[l] / rho_prev[l]) * (alpha[l] / omega[l]);
                }
            }
            if live.is_empty() {
                break;
            }
            update(p, live, |i, l| {
                r.get(i, l) + beta[l] * (p.get(i, l) - omega[l] * v.get(i, l))
            });
            // v is free until A·tmp overwrites it: it is the scratch here.
            precond.apply(op, p, tmp, v, arena, live);
            op.apply(tmp, v, live);
            let den = dot(r0_hat, v);
            for l in live.lanes() {
                if den[l] == T::zero() || !den[l].is_finite() {
                    live.remove(l);
                } else {
                    alpha[l] = rho[l] / den[l];
                }
            }
            axpy(&alpha, tmp, x, live);
            axpy(&negated(&alpha), v, r, live); // r is now s
            let sn = norm(r);
            for l in live.lanes() {
                if !sn[l].is_finite() {
                    live.remove(l);
                } else if sn[l] <= tol {
                    out[l].converged = true;
                    live.remove(l);
                }
            }
            if live.is_empty() {
                break;
            }
            // tmp (P⁻¹p) is spent: it is the scratch, then holds t = A ŝ.
            precond.apply(op, r, s_hat, tmp, arena, live);
            op.apply(s_hat, tmp, live);
            let tt = dot(tmp, tmp);
            let tr = dot(tmp, r);
            for l in live.lanes() {
                if tt[l] == T::zero() || !tt[l].is_finite() {
                    live.remove(l);
                } else {
                    omega[l] = tr[l] / tt[l];
                }
            }
            axpy(&omega, s_hat, x, live);
            axpy(&negated(&omega), tmp, r, live);
            for l in live.lanes() {
                rho_prev[l] = rho[l];
            }
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
