//! Direct solve: the operator's dense matrix, LU-factorised with partial
//! pivoting in the registry's `lu_matrix`, row swaps in `pivots`.

use std::cell::Cell;

use super::{Handle, LinearOperator, LinearOutcome};
use crate::backend::cpu::solvers::vector::{all_finite, copy};
use crate::memory::RunArena;
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
    /// Factorises `A` in place; false when a pivot is zero or non-finite.
    fn factor(&self, m: &[Cell<T>], piv: &[Cell<T>], n: usize) -> bool {
        for k in 0..n {
            let mut p = k;
            let mut best = m[k * n + k].get().abs();
            for i in k + 1..n {
                let v = m[i * n + k].get().abs();
                if v > best {
                    best = v;
                    p = i;
                }
            }
            piv[k].set(T::from_f64(p as f64));
            if best == T::zero() || !best.is_finite() {
                return false;
            }
            if p != k {
                for j in 0..n {
                    m[k * n + j].swap(&m[p * n + j]);
                }
            }
            let pivot = m[k * n + k].get();
            for i in k + 1..n {
                let l = m[i * n + k].get() / pivot;
                m[i * n + k].set(l);
                for j in k + 1..n {
                    m[i * n + j].set(m[i * n + j].get() - l * m[k * n + j].get());
                }
            }
        }
        true
    }

    /// `b ← A⁻¹ b` with the factors.
    fn substitute(&self, m: &[Cell<T>], piv: &[Cell<T>], b: &[Cell<T>], n: usize) {
        for k in 0..n {
            let p = piv[k].get().to_f64() as usize;
            if p != k {
                b[k].swap(&b[p]);
            }
        }
        for i in 0..n {
            let s = (0..i).fold(b[i].get(), |s, j| s - m[i * n + j].get() * b[j].get());
            b[i].set(s);
        }
        for i in (0..n).rev() {
            let s = (i + 1..n).fold(b[i].get(), |s, j| s - m[i * n + j].get() * b[j].get());
            b[i].set(s / m[i * n + i].get());
        }
    }

    pub fn solve<O: LinearOperator<T> + ?Sized>(
        &self,
        op: &O,
        rhs: &[Cell<T>],
        x: &[Cell<T>],
        arena: &RunArena<T>,
    ) -> LinearOutcome {
        let (m, piv) = (self.matrix.view(arena), self.pivots.view(arena));
        let n = rhs.len();
        op.dense(m);
        if !self.factor(m, piv, n) {
            return LinearOutcome {
                converged: false,
                iterations: 1,
            };
        }
        self.substitute(m, piv, rhs, n);
        let converged = all_finite(rhs);
        if converged {
            copy(rhs, x);
        }
        LinearOutcome {
            converged,
            iterations: 1,
        }
    }
}
