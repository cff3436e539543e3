//! The preconditioners `z = P⁻¹ v` of the iterative solvers.

use std::cell::Cell;

use super::{Handle, LinearOperator};
use crate::backend::cpu::solvers::vector::copy;
use crate::memory::RunArena;
use crate::precision::Real;
use crate::solvers::PreconditionerKind;

/// A built preconditioner.
#[derive(Debug, Clone, Copy)]
pub(super) struct Preconditioner<T> {
    pub kind: PreconditionerKind,
    /// Neumann series order `k`.
    pub order: u32,
    /// `jacobi_diagonal`, for `jacobi`.
    pub diagonal: Option<Handle<T>>,
}

impl<T: Real> Preconditioner<T> {
    /// Once per solve, before any [`apply`](Self::apply): `jacobi` caches
    /// `diag(A)` (the operator is fixed during a solve).
    pub fn prepare<O: LinearOperator<T> + ?Sized>(&self, op: &O, arena: &RunArena<T>) {
        if let Some(d) = self.diagonal {
            op.diagonal(d.view(arena));
        }
    }

    /// `out ← P⁻¹ v`. `scratch` is clobbered by `neumann`; `out`, `v` and
    /// `scratch` are distinct vectors.
    pub fn apply<O: LinearOperator<T> + ?Sized>(
        &self,
        op: &O,
        v: &[Cell<T>],
        out: &[Cell<T>],
        scratch: &[Cell<T>],
        arena: &RunArena<T>,
    ) {
        match self.kind {
            PreconditionerKind::None => copy(v, out),
            PreconditionerKind::Jacobi => match self.diagonal {
                Some(d) => {
                    for ((o, vi), di) in out.iter().zip(v).zip(d.view(arena)) {
                        o.set(vi.get() / di.get());
                    }
                }
                // `lu` builds no diagonal and never preconditions.
                None => copy(v, out),
            },
            PreconditionerKind::Neumann => {
                // Horner form of Σ_{i=0..k} (I − A)^i v: z ← v + z − A z.
                copy(v, out);
                for _ in 0..self.order {
                    op.apply(out, scratch);
                    for ((o, vi), si) in out.iter().zip(v).zip(scratch) {
                        o.set(vi.get() + o.get() - si.get());
                    }
                }
            }
        }
    }
}
