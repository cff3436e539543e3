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
            for l in live.lanes() {
                p[l] = k;
                best[l] = m.get(k * n + k, l).abs();
            }
            for i in k + 1..n {
                for l in live.lanes() {
                    let v = m.get(i * n + k, l).abs();
                    if v > best[l] {
                        best[l] = v;
                        p[l] = i;
                    }
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
            for i in k + 1..n {
                for l in live.lanes() {
                    factor[l] = m.get(i * n + k, l) / pivot[l];
                    m.set(i * n + k, l, factor[l]);
                }
                for j in k + 1..n {
                    for l in live.lanes() {
                        m.set(
                            i * n + j,
                            l,
                            m.get(i * n + j, l) - factor[l] * m.get(k * n + j, l),
                        );
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
        let mut s = splat(T::zero());
        for i in 0..n {
            for l in mask.lanes() {
                s[l] = b.get(i, l);
            }
            for j in 0..i {
                for l in mask.lanes() {
                    s[l] = s[l] - m.get(i * n + j, l) * b.get(j, l);
                }
            }
            for l in mask.lanes() {
                b.set(i, l, s[l]);
            }
        }
        for i in (0..n).rev() {
            for l in mask.lanes() {
                s[l] = b.get(i, l);
            }
            for j in i + 1..n {
                for l in mask.lanes() {
                    s[l] = s[l] - m.get(i * n + j, l) * b.get(j, l);
                }
            }
            for l in mask.lanes() {
                b.set(i, l, s[l] / m.get(i * n + i, l));
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
