//! Direct solve: the operator's dense matrix, LU-factorised with partial
//! pivoting in the registry's `lu_matrix`, row swaps in `pivots`. Each
//! lane pivots on its own matrix.

use super::{Handle, LinearOperator, LinearOutcome};
use crate::backend::cpu::solvers::vector::{all_finite, copy, splat};
use crate::memory::{LaneBuf, LaneMask, MAX_LANES, PerLane, RunArena};
use crate::precision::Real;

#[derive(Debug, Clone, Copy)]
pub(super) struct Lu<T> {
    /// `n × n`, row-major; `L` (unit diagonal, below) and `U` after factoring.
    pub matrix: Handle<T>,
    /// Row swapped with row `k` at step `k`, stored as an exact integer
    /// value (the arena holds only reals; exact up to 2²⁴ in f32).
    pub pivots: Handle<T>,
}

/// One flag per lane of a block of `w`: whether it is in `mask`.
fn lane_flags(mask: LaneMask, w: usize) -> [bool; MAX_LANES] {
    let mut on = [false; MAX_LANES];
    for (l, f) in on.iter_mut().enumerate().take(w) {
        *f = mask.contains(l);
    }
    on
}

impl<T: Real> Lu<T> {
    /// Factorises `A` in place in the lanes of `mask`; returns the lanes
    /// whose pivots were all nonzero and finite (a lane stops at its
    /// first bad pivot).
    fn factor(&self, m: LaneBuf<'_, T>, piv: LaneBuf<'_, T>, n: usize, mask: LaneMask) -> LaneMask {
        let mut live = mask;
        let mut p = [0usize; MAX_LANES];
        let mut best = splat(T::zero());
        let mut pivot = splat(T::zero());
        let mut factor = splat(T::zero());
        for k in 0..n {
            if live.is_empty() {
                break;
            }
            // The search runs over every lane (only live lanes' results
            // are used): branch-free, so it vectorizes.
            for (l, c) in m.element(k * n + k).iter().enumerate() {
                p[l] = k;
                best[l] = c.get().abs();
            }
            for i in k + 1..n {
                for (l, c) in m.element(i * n + k).iter().enumerate() {
                    let v = c.get().abs();
                    let larger = v > best[l];
                    best[l] = if larger { v } else { best[l] };
                    p[l] = if larger { i } else { p[l] };
                }
            }
            for l in live.lanes() {
                piv.set(k, l, T::from_f64(p[l] as f64));
                if best[l] == T::zero() || !best[l].is_finite() {
                    live.remove(l);
                }
            }
            for l in live.lanes() {
                if p[l] != k {
                    for j in 0..n {
                        m.cell(k * n + j, l).swap(m.cell(p[l] * n + j, l));
                    }
                }
                pivot[l] = m.get(k * n + k, l);
            }
            // Elimination runs over every lane, each keeping its old
            // value unless live: branch-free, so it vectorizes.
            let on = lane_flags(live, m.width());
            for i in k + 1..n {
                let below = m.element(i * n + k);
                for (l, c) in below.iter().enumerate() {
                    factor[l] = c.get() / pivot[l];
                    c.set(if on[l] { factor[l] } else { c.get() });
                }
                for j in k + 1..n {
                    let (row, top) = (m.element(i * n + j), m.element(k * n + j));
                    for (l, (a, b)) in row.iter().zip(top).enumerate() {
                        let v = a.get() - factor[l] * b.get();
                        a.set(if on[l] { v } else { a.get() });
                    }
                }
            }
        }
        live
    }

    /// `b ← A⁻¹ b` with the factors, in the lanes of `mask`.
    fn substitute(
        &self,
        m: LaneBuf<'_, T>,
        piv: LaneBuf<'_, T>,
        b: LaneBuf<'_, T>,
        n: usize,
        mask: LaneMask,
    ) {
        for k in 0..n {
            for l in mask.lanes() {
                let p = piv.get(k, l).to_f64() as usize;
                if p != k {
                    b.cell(k, l).swap(b.cell(p, l));
                }
            }
        }
        let on = lane_flags(mask, b.width());
        let w = b.width();
        let mut s = splat(T::zero());
        for i in 0..n {
            let bi = b.element(i);
            for (sl, c) in s.iter_mut().zip(bi) {
                *sl = c.get();
            }
            for j in 0..i {
                let (mij, bj) = (m.element(i * n + j), b.element(j));
                for l in 0..w {
                    s[l] = s[l] - mij[l].get() * bj[l].get();
                }
            }
            for (l, c) in bi.iter().enumerate() {
                c.set(if on[l] { s[l] } else { c.get() });
            }
        }
        for i in (0..n).rev() {
            let bi = b.element(i);
            for (sl, c) in s.iter_mut().zip(bi) {
                *sl = c.get();
            }
            for j in i + 1..n {
                let (mij, bj) = (m.element(i * n + j), b.element(j));
                for l in 0..w {
                    s[l] = s[l] - mij[l].get() * bj[l].get();
                }
            }
            let mii = m.element(i * n + i);
            for (l, c) in bi.iter().enumerate() {
                let v = s[l] / mii[l].get();
                c.set(if on[l] { v } else { c.get() });
            }
        }
    }

    pub fn solve<O: LinearOperator<T> + ?Sized>(
        &self,
        op: &O,
        rhs: LaneBuf<'_, T>,
        x: LaneBuf<'_, T>,
        arena: &RunArena<T>,
        mask: LaneMask,
    ) -> PerLane<LinearOutcome> {
        let (m, piv) = (self.matrix.view(arena), self.pivots.view(arena));
        let n = rhs.len();
        op.dense(m, mask);
        let factored = self.factor(m, piv, n, mask);
        self.substitute(m, piv, rhs, n, factored);
        let converged = all_finite(rhs, factored);
        copy(rhs, x, converged);
        let mut out = splat(LinearOutcome::default());
        for l in mask.lanes() {
            out[l] = LinearOutcome {
                converged: converged.contains(l),
                iterations: 1,
            };
        }
        out
    }
}
