//! Matrix-free linear solvers for the Newton correction `A δ = r`, where
//! `A = M − h·γ·J` (M = I) is given only as an operator.
//!
//! A solver is a registry component ([`LinearSolverComponent`]): it
//! registers its work vectors by name when configured; each backend
//! resolves them into its form (on the CPU, `backend::cpu::solvers`).
//!
//! | kind | buffers (shared by default, each `n` unless noted) |
//! | --- | --- |
//! | `minimal_residual`, `steepest_descent` | `preconditioned_vec`, `temp` |
//! | `bicgstab` | `bicg_r0_hat`, `bicg_p`, `bicg_v`, `bicg_tmp`, `bicg_s_hat` |
//! | `lu` | `lu_matrix` (`n²`), `pivots` |
//!
//! plus `jacobi_diagonal` for an iterative kind with the `jacobi`
//! preconditioner. Every buffer can be moved with `<buffer>_location`.

mod settings;

use crate::memory::{BufferRegistry, BufferSpec, Component, ComponentId};
use crate::solvers::error::SolverError;

pub use settings::{LinearSolverKind, LinearSolverSettings, PreconditionerKind};

/// How a linear solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinearOutcome {
    /// The residual norm reached the tolerance (`lu`: the factorisation
    /// succeeded and the solution is finite). `false` after the iteration
    /// limit, a breakdown or a non-finite value: the caller raises its
    /// max-linear-iterations status flag.
    pub converged: bool,
    /// Iterations taken (`lu`: 1).
    pub iterations: u32,
}

/// The linear solver's node in the buffer registry and its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearSolverComponent {
    id: ComponentId,
    n: usize,
    settings: LinearSolverSettings,
}

/// What a linear solver is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearSolverSpec {
    /// Unknowns per system.
    pub n: usize,
    /// Its settings.
    pub settings: LinearSolverSettings,
}

impl Component for LinearSolverComponent {
    const NAME: &'static str = "linear_solver";
    type Spec<'a> = LinearSolverSpec;
    type Error = SolverError;

    /// Adds a `linear_solver` component under `parent` (or as a root) and
    /// registers its buffers.
    fn register(
        reg: &mut BufferRegistry,
        parent: Option<ComponentId>,
        spec: LinearSolverSpec,
    ) -> Result<Self, SolverError> {
        Self::register_as(reg, parent, Self::NAME, spec)
    }

    fn id(&self) -> ComponentId {
        self.id
    }
}

impl LinearSolverComponent {
    /// As [`register`](Component::register), under another component name
    /// (a step that hosts a second linear solver beside its Newton
    /// solver's).
    pub fn register_as(
        reg: &mut BufferRegistry,
        parent: Option<ComponentId>,
        name: &str,
        spec: LinearSolverSpec,
    ) -> Result<Self, SolverError> {
        let LinearSolverSpec { n, settings } = spec;
        settings.validate()?;
        if n == 0 {
            return Err(SolverError::EmptySystem);
        }
        let id = reg.add_component(name, parent)?;
        let component = LinearSolverComponent { id, n, settings };
        component.register_buffers(reg)?;
        Ok(component)
    }

    /// Switches to new settings: drops the old registrations and registers
    /// the new kind's buffers (locations return to their defaults), so the
    /// hosting parents' totals follow.
    pub fn reconfigure(
        &mut self,
        reg: &mut BufferRegistry,
        settings: LinearSolverSettings,
    ) -> Result<(), SolverError> {
        settings.validate()?;
        self.settings = settings;
        reg.clear(self.id)?;
        self.register_buffers(reg)
    }

    /// The buffers `settings` needs for `n` unknowns, in registration order.
    pub fn buffers(n: usize, settings: &LinearSolverSettings) -> Vec<(&'static str, usize)> {
        let mut out = match settings.kind {
            LinearSolverKind::MinimalResidual | LinearSolverKind::SteepestDescent => {
                vec![("preconditioned_vec", n), ("temp", n)]
            }
            LinearSolverKind::Bicgstab => {
                vec![
                    ("bicg_r0_hat", n),
                    ("bicg_p", n),
                    ("bicg_v", n),
                    ("bicg_tmp", n),
                    ("bicg_s_hat", n),
                ]
            }
            LinearSolverKind::Lu => return vec![("lu_matrix", n * n), ("pivots", n)],
        };
        if settings.preconditioner == PreconditionerKind::Jacobi {
            out.push(("jacobi_diagonal", n));
        }
        out
    }

    fn register_buffers(&self, reg: &mut BufferRegistry) -> Result<(), SolverError> {
        for (name, size) in Self::buffers(self.n, &self.settings) {
            reg.register(self.id, BufferSpec::shared(name, size))?;
        }
        Ok(())
    }

    /// Unknowns per system.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Its settings.
    pub fn settings(&self) -> &LinearSolverSettings {
        &self.settings
    }
}
