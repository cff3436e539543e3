//! Right-preconditioned BiCGSTAB (van der Vorst 1992): two operator and
//! two preconditioner applications per iteration, five work vectors.

use std::cell::Cell;

use super::preconditioner::Preconditioner;
use super::{Handle, LinearOperator, LinearOutcome};
use crate::backend::cpu::solvers::vector::{axpy, copy, dot, fill, norm};
use crate::memory::RunArena;
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

impl<T: Real> Bicgstab<T> {
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
        let (r0_hat, p, v, tmp, s_hat) = (
            self.r0_hat.view(arena),
            self.p.view(arena),
            self.v.view(arena),
            self.tmp.view(arena),
            self.s_hat.view(arena),
        );
        precond.prepare(op, arena);

        op.apply(x, tmp);
        for (ri, ti) in r.iter().zip(tmp) {
            ri.set(ri.get() - ti.get());
        }
        copy(r, r0_hat);
        fill(p, T::zero());
        fill(v, T::zero());
        let (mut rho_prev, mut alpha, mut omega) = (T::one(), T::one(), T::one());
        let mut converged = norm(r) <= tol;
        let mut iterations = 0;
        while !converged && iterations < max_iters {
            iterations += 1;
            let rho = dot(r0_hat, r);
            // Breakdown (r ⟂ r̂₀, or a previous ω of zero): stop unconverged.
            if rho == T::zero() || !rho.is_finite() || omega == T::zero() {
                break;
            }
            let beta = (rho / rho_prev) * (alpha / omega);
            for ((pi, ri), vi) in p.iter().zip(r).zip(v.iter()) {
                pi.set(ri.get() + beta * (pi.get() - omega * vi.get()));
            }
            // v is free until A·tmp overwrites it: it is the scratch here.
            precond.apply(op, p, tmp, v, arena);
            op.apply(tmp, v);
            let den = dot(r0_hat, v);
            if den == T::zero() || !den.is_finite() {
                break;
            }
            alpha = rho / den;
            axpy(alpha, tmp, x);
            axpy(-alpha, v, r); // r is now s
            let sn = norm(r);
            if !sn.is_finite() {
                break;
            }
            if sn <= tol {
                converged = true;
                break;
            }
            // tmp (P⁻¹p) is spent: it is the scratch, then holds t = A ŝ.
            precond.apply(op, r, s_hat, tmp, arena);
            op.apply(s_hat, tmp);
            let tt = dot(tmp, tmp);
            if tt == T::zero() || !tt.is_finite() {
                break;
            }
            omega = dot(tmp, r) / tt;
            axpy(omega, s_hat, x);
            axpy(-omega, tmp, r);
            rho_prev = rho;
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
