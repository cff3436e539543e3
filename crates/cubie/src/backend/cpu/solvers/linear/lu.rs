//! Direct solve: the operator's dense matrix, LU-factorised with partial
//! pivoting in the registry's `lu_matrix`, row swaps in `pivots`. Each
//! lane pivots on its own matrix.

use super::{Handle, LinearOperator, LinearOutcome};
use crate::backend::cpu::solvers::vector::{by_width, copy_finite, splat};
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
        by_width!(
            m.width(),
            factor_w(m, piv, n, mask),
            self.factor_dynamic(m, piv, n, mask)
        )
    }

    /// [`factor`](Self::factor) for any width.
    fn factor_dynamic(
        &self,
        m: LaneBuf<'_, T>,
        piv: LaneBuf<'_, T>,
        n: usize,
        mask: LaneMask,
    ) -> LaneMask {
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
        by_width!(
            m.width(),
            substitute_w(m, piv, b, n, mask),
            self.substitute_dynamic(m, piv, b, n, mask)
        )
    }

    /// [`substitute`](Self::substitute) for any width.
    fn substitute_dynamic(
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
        self.solve_kept(op, &mut Factorisation::default(), rhs, x, arena, mask)
    }

    /// [`solve`](Self::solve) reusing the factors in `kept` for the lanes
    /// it has already factorised (same operator), factorising the others
    /// and recording them there.
    pub fn solve_kept<O: LinearOperator<T> + ?Sized>(
        &self,
        op: &O,
        kept: &mut Factorisation,
        rhs: LaneBuf<'_, T>,
        x: LaneBuf<'_, T>,
        arena: &RunArena<T>,
        mask: LaneMask,
    ) -> PerLane<LinearOutcome> {
        let (m, piv) = (self.matrix.view(arena), self.pivots.view(arena));
        let n = rhs.len();
        let fresh = mask.without(kept.attempted);
        if fresh.any() {
            op.dense(m, fresh);
            let ok = self.factor(m, piv, n, fresh);
            kept.attempted = kept.attempted | fresh;
            kept.factored = kept.factored.without(fresh) | ok;
        }
        let factored = kept.factored & mask;
        self.substitute(m, piv, rhs, n, factored);
        let converged = copy_finite(rhs, x, factored);
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

/// The lanes whose LU factors in the solver's buffers belong to the
/// current operator: solves of one operator with several right-hand sides
/// (a Rosenbrock step's stages) factorise it once.
#[derive(Debug, Clone, Copy, Default)]
pub struct Factorisation {
    /// Lanes factorised (successfully or not).
    attempted: LaneMask,
    /// Lanes whose factorisation succeeded.
    factored: LaneMask,
}

/// [`Lu::factor`] for a block of `W` lanes. The pivot search, row swaps
/// and elimination run over every lane, branch-free, each lane keeping
/// its old values unless live, so they vectorize.
#[inline(always)]
fn factor_w<const W: usize, T: Real>(
    m: LaneBuf<'_, T>,
    piv: LaneBuf<'_, T>,
    n: usize,
    mask: LaneMask,
) -> LaneMask {
    let mut live = mask;
    for k in 0..n {
        if live.is_empty() {
            break;
        }
        let mut best = m.load::<W>(k * n + k).map(|v| v.abs());
        let mut p = [k; W];
        for i in k + 1..n {
            let col = m.load::<W>(i * n + k);
            for l in 0..W {
                let v = col[l].abs();
                let larger = v > best[l];
                best[l] = if larger { v } else { best[l] };
                p[l] = if larger { i } else { p[l] };
            }
        }
        let on = live.flags::<W>();
        piv.store_where::<W>(k, p.map(|r| T::from_f64(r as f64)), on);
        for (l, &b) in best.iter().enumerate() {
            if on[l] && (b == T::zero() || !b.is_finite()) {
                live.remove(l);
            }
        }
        let on = live.flags::<W>();
        // Row swaps as blends: row k trades places with row i in the
        // lanes that pivot on it.
        for i in k + 1..n {
            let swap: [bool; W] = std::array::from_fn(|l| on[l] && p[l] == i);
            if !swap.contains(&true) {
                continue;
            }
            for j in 0..n {
                let (a, b) = (m.load::<W>(k * n + j), m.load::<W>(i * n + j));
                m.store::<W>(
                    k * n + j,
                    std::array::from_fn(|l| if swap[l] { b[l] } else { a[l] }),
                );
                m.store::<W>(
                    i * n + j,
                    std::array::from_fn(|l| if swap[l] { a[l] } else { b[l] }),
                );
            }
        }
        let pivot = m.load::<W>(k * n + k);
        for i in k + 1..n {
            let below = m.load::<W>(i * n + k);
            let factor: [T; W] = std::array::from_fn(|l| below[l] / pivot[l]);
            m.store_where::<W>(i * n + k, factor, on);
            for j in k + 1..n {
                let (a, b) = (m.load::<W>(i * n + j), m.load::<W>(k * n + j));
                let v = std::array::from_fn(|l| a[l] - factor[l] * b[l]);
                m.store_where::<W>(i * n + j, v, on);
            }
        }
    }
    live
}

/// [`Lu::substitute`] for a block of `W` lanes: swaps as blends, then the
/// two triangular solves over every lane, each keeping its old values
/// unless in `mask`.
#[inline(always)]
fn substitute_w<const W: usize, T: Real>(
    m: LaneBuf<'_, T>,
    piv: LaneBuf<'_, T>,
    b: LaneBuf<'_, T>,
    n: usize,
    mask: LaneMask,
) {
    if mask.is_empty() {
        return;
    }
    let on = mask.flags::<W>();
    for k in 0..n {
        let p = piv.load::<W>(k);
        for i in k + 1..n {
            let row = T::from_f64(i as f64);
            let swap: [bool; W] = std::array::from_fn(|l| on[l] && p[l] == row);
            if !swap.contains(&true) {
                continue;
            }
            let (bk, bi) = (b.load::<W>(k), b.load::<W>(i));
            b.store::<W>(
                k,
                std::array::from_fn(|l| if swap[l] { bi[l] } else { bk[l] }),
            );
            b.store::<W>(
                i,
                std::array::from_fn(|l| if swap[l] { bk[l] } else { bi[l] }),
            );
        }
    }
    for i in 0..n {
        let mut s = b.load::<W>(i);
        for j in 0..i {
            let (mij, bj) = (m.load::<W>(i * n + j), b.load::<W>(j));
            for l in 0..W {
                s[l] = s[l] - mij[l] * bj[l];
            }
        }
        b.store_where::<W>(i, s, on);
    }
    for i in (0..n).rev() {
        let mut s = b.load::<W>(i);
        for j in i + 1..n {
            let (mij, bj) = (m.load::<W>(i * n + j), b.load::<W>(j));
            for l in 0..W {
                s[l] = s[l] - mij[l] * bj[l];
            }
        }
        let mii = m.load::<W>(i * n + i);
        let v = std::array::from_fn(|l| s[l] / mii[l]);
        b.store_where::<W>(i, v, on);
    }
}
