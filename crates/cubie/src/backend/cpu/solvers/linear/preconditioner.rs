//! The preconditioners `z = P⁻¹ v` of the iterative solvers, per lane.

use super::{Handle, LinearOperator};
use crate::backend::cpu::solvers::vector::{copy, update};
use crate::memory::{LaneBuf, LaneMask, RunArena};
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
    /// Once per solve, before any [`apply`](Self::apply), in the lanes of
    /// `mask`: `jacobi` caches `diag(A)` (the operator is fixed during a
    /// solve).
    pub fn prepare<O: LinearOperator<T> + ?Sized>(
        &self,
        op: &O,
        arena: &RunArena<T>,
        mask: LaneMask,
    ) {
        if let Some(d) = self.diagonal {
            op.diagonal(d.view(arena), mask);
        }
    }

    /// `out ← P⁻¹ v` in the lanes of `mask`. `scratch` is clobbered (in
    /// those lanes) by `neumann`; `out`, `v` and `scratch` are distinct
    /// vectors.
    pub fn apply<O: LinearOperator<T> + ?Sized>(
        &self,
        op: &O,
        v: LaneBuf<'_, T>,
        out: LaneBuf<'_, T>,
        scratch: LaneBuf<'_, T>,
        arena: &RunArena<T>,
        mask: LaneMask,
    ) {
        match self.kind {
            PreconditionerKind::None => copy(v, out, mask),
            PreconditionerKind::Jacobi => match self.diagonal {
                Some(d) => {
                    let d = d.view(arena);
                    update(out, mask, |i, l| v.get(i, l) / d.get(i, l));
                }
                // `lu` builds no diagonal and never preconditions.
                None => copy(v, out, mask),
            },
            PreconditionerKind::Neumann => {
                // Horner form of Σ_{i=0..k} (I − A)^i v: z ← v + z − A z.
                copy(v, out, mask);
                for _ in 0..self.order {
                    op.apply(out, scratch, mask);
                    update(out, mask, |i, l| {
                        v.get(i, l) + out.get(i, l) - scratch.get(i, l)
                    });
                }
            }
        }
    }
}
