//! The linear solvers' CPU form: minimal residual and steepest descent
//! (projection), BiCGStab and dense LU, with their preconditioners, on
//! a lane block's arena.
//!
//! Every solve covers the lanes of a mask: lane `l` computes exactly what
//! the same solve of its run alone computes (per-lane scalars, reductions
//! per lane in index order), and a lane that converges or breaks down
//! leaves the iteration: the others go on, its `x`, `rhs` and the
//! solver's buffers are no longer written in it.

mod bicgstab;
mod lu;
mod preconditioner;
mod projection;

use crate::backend::cpu::CpuForm;
use crate::backend::cpu::jit::JitReal;
use crate::memory::{
    BufferRegistry, Component, CpuAllocator, LaneBuf, LaneMask, PerLane, RunArena,
};
use crate::precision::Real;
use crate::solvers::{
    LinearOutcome, LinearSolverComponent, LinearSolverKind, PreconditionerKind, SolverError,
};

use bicgstab::Bicgstab;
pub use lu::Factorisation;
use lu::Lu;
use preconditioner::Preconditioner;
use projection::Projection;

/// The linear operator `A` of a solve, applied matrix-free.
///
/// The implicit steps implement it from the model's Jacobian-vector
/// product (`out = v − h·γ·J·v`) and the symbolic Jacobian. Buffers are
/// lane blocks (arena views or caller blocks) of `n` elements per lane;
/// `out` never overlaps `v`. Each lane has its own operator (its run's),
/// and every method writes only the lanes of `mask` of `out`.
pub trait LinearOperator<T: Real> {
    /// `out ← A v` in the lanes of `mask`.
    fn apply(&self, v: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask);

    /// `out ← diag(A)` in the lanes of `mask` (used by the `jacobi`
    /// preconditioner).
    fn diagonal(&self, out: LaneBuf<'_, T>, mask: LaneMask);

    /// `out ← A`, row-major `n × n`, in the lanes of `mask` (used by `lu`).
    fn dense(&self, out: LaneBuf<'_, T>, mask: LaneMask);
}

impl CpuForm for LinearSolverComponent {
    type Form<T: JitReal> = LinearSolver<T>;
    type Error = SolverError;

    /// Resolves the buffers into handles on the run arena of the tree.
    /// Call it once the whole tree is registered and located.
    fn cpu<T: JitReal>(&self, reg: &BufferRegistry) -> Result<LinearSolver<T>, SolverError> {
        let id = self.id();
        let s = self.settings();
        let handle = |name: &str| reg.cpu_allocator::<T>(id, name);
        let precond = Preconditioner {
            kind: s.preconditioner,
            order: s.preconditioner_order,
            diagonal: match s.preconditioner {
                PreconditionerKind::Jacobi if s.kind != LinearSolverKind::Lu => {
                    Some(handle("jacobi_diagonal")?)
                }
                _ => None,
            },
        };
        let algorithm = match s.kind {
            LinearSolverKind::MinimalResidual | LinearSolverKind::SteepestDescent => {
                Algorithm::Projection(Projection {
                    steepest_descent: s.kind == LinearSolverKind::SteepestDescent,
                    preconditioned: handle("preconditioned_vec")?,
                    temp: handle("temp")?,
                })
            }
            LinearSolverKind::Bicgstab => Algorithm::Bicgstab(Bicgstab {
                r0_hat: handle("bicg_r0_hat")?,
                p: handle("bicg_p")?,
                v: handle("bicg_v")?,
                tmp: handle("bicg_tmp")?,
                s_hat: handle("bicg_s_hat")?,
            }),
            LinearSolverKind::Lu => Algorithm::Lu(Lu {
                matrix: handle("lu_matrix")?,
                pivots: handle("pivots")?,
            }),
        };
        Ok(LinearSolver {
            n: self.n(),
            tolerance: T::from_f64(s.krylov_tolerance),
            max_iters: s.krylov_max_iters,
            precond,
            algorithm,
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum Algorithm<T> {
    Projection(Projection<T>),
    Bicgstab(Bicgstab<T>),
    Lu(Lu<T>),
}

/// A built linear solver: settings as constants, buffers resolved. `Copy`,
/// so a worker holds it by value.
#[derive(Debug, Clone, Copy)]
pub struct LinearSolver<T> {
    n: usize,
    tolerance: T,
    max_iters: u32,
    precond: Preconditioner<T>,
    algorithm: Algorithm<T>,
}

impl<T: Real> LinearSolver<T> {
    /// Unknowns per system.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Solves `A x = rhs` in `arena`, in every lane of `mask`. `x` holds
    /// the initial guess (ignored by `lu`) and receives the solution; `rhs`
    /// is used as work space and holds the last residual (`lu`: the
    /// solution) afterwards, as in CuBIE. Both are blocks of the arena's
    /// width with at least `n` elements and must not overlap this solver's
    /// buffers. Returns each lane's outcome (those of lanes outside `mask`
    /// are meaningless); lanes outside `mask` are not touched.
    pub fn solve<O: LinearOperator<T> + ?Sized>(
        &self,
        op: &O,
        rhs: LaneBuf<'_, T>,
        x: LaneBuf<'_, T>,
        arena: &RunArena<T>,
        mask: LaneMask,
    ) -> PerLane<LinearOutcome> {
        let (rhs, x) = (rhs.first(self.n), x.first(self.n));
        match &self.algorithm {
            Algorithm::Projection(p) => p.solve(
                op,
                &self.precond,
                rhs,
                x,
                arena,
                mask,
                self.tolerance,
                self.max_iters,
            ),
            Algorithm::Bicgstab(b) => b.solve(
                op,
                &self.precond,
                rhs,
                x,
                arena,
                mask,
                self.tolerance,
                self.max_iters,
            ),
            Algorithm::Lu(l) => l.solve(op, rhs, x, arena, mask),
        }
    }

    /// As [`solve`](Self::solve), for a run of solves with one operator
    /// (each lane's `A` unchanged between them, and this solver's buffers
    /// untouched by anything else): `lu` factorises each lane once and
    /// keeps which lanes it did in `kept`, which starts as
    /// `Factorisation::default()`. The results are those of `solve`.
    pub fn solve_kept<O: LinearOperator<T> + ?Sized>(
        &self,
        op: &O,
        kept: &mut Factorisation,
        rhs: LaneBuf<'_, T>,
        x: LaneBuf<'_, T>,
        arena: &RunArena<T>,
        mask: LaneMask,
    ) -> PerLane<LinearOutcome> {
        match &self.algorithm {
            Algorithm::Lu(l) => {
                let (rhs, x) = (rhs.first(self.n), x.first(self.n));
                l.solve_kept(op, kept, rhs, x, arena, mask)
            }
            _ => self.solve(op, rhs, x, arena, mask),
        }
    }
}

/// Handle type re-exported for the algorithm files.
type Handle<T> = CpuAllocator<T>;
