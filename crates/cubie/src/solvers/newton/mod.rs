//! Damped Newton–Krylov: solves `G(x) = 0` for a residual the caller
//! provides ([`NonlinearProblem`]), each correction `G'(x) δ = −G(x)` by
//! the hosted linear solver, each step `x + α δ` backtracked
//! (`α = 1, d, d², …`) until the residual norm decreases.
//!
//! The Newton component registers `delta`, `residual`, `residual_temp`
//! and `stage_base_bt` (shared by default) and hosts its linear solver as
//! the child component `linear_solver`, so the solver's memory appears as
//! the `linear_solver_shared` / `linear_solver_persistent` entries of
//! `newton`.

mod settings;

use std::cell::Cell;

use crate::memory::{BufferRegistry, BufferSpec, Component, ComponentId, CpuAllocator, RunArena};
use crate::precision::Real;
use crate::settings::SettingsMap;
use crate::solvers::error::SolverError;
use crate::solvers::linear::{
    LinearOperator, LinearSolver, LinearSolverComponent, LinearSolverSettings, LinearSolverSpec,
};
use crate::solvers::vector::{all_finite, copy, fill, norm};

pub use settings::NewtonSettings;

/// The nonlinear system `G(x) = 0` of one implicit stage (or step).
///
/// The implicit steps implement it from the model: `G` from `dxdt`, the
/// Jacobian of `G` from the Jacobian-vector product and the symbolic
/// Jacobian. All slices have length `n`; outputs never overlap inputs.
pub trait NonlinearProblem<T: Real> {
    /// `out ← G(x)`.
    fn residual(&self, x: &[Cell<T>], out: &[Cell<T>]);

    /// `out ← G'(x) v`.
    fn jacobian_apply(&self, x: &[Cell<T>], v: &[Cell<T>], out: &[Cell<T>]);

    /// `out ← diag G'(x)` (for the `jacobi` preconditioner).
    fn jacobian_diagonal(&self, x: &[Cell<T>], out: &[Cell<T>]);

    /// `out ← G'(x)`, row-major (for the `lu` linear solver).
    fn jacobian_dense(&self, x: &[Cell<T>], out: &[Cell<T>]);
}

/// `G'(x)` as the linear solver's operator.
struct JacobianAt<'a, P: ?Sized, T> {
    problem: &'a P,
    x: &'a [Cell<T>],
}

impl<T: Real, P: NonlinearProblem<T> + ?Sized> LinearOperator<T> for JacobianAt<'_, P, T> {
    fn apply(&self, v: &[Cell<T>], out: &[Cell<T>]) {
        self.problem.jacobian_apply(self.x, v, out);
    }

    fn diagonal(&self, out: &[Cell<T>]) {
        self.problem.jacobian_diagonal(self.x, out);
    }

    fn dense(&self, out: &[Cell<T>]) {
        self.problem.jacobian_dense(self.x, out);
    }
}

/// Why a Newton solve stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NewtonStatus {
    /// `‖G(x)‖₂ ≤ newton_tolerance`.
    Converged,
    /// `newton_max_iters` iterations without converging.
    MaxIterations,
    /// A non-finite residual at the start, or no backtracked step reduced
    /// the residual norm; `x` is left at the last accepted iterate.
    Diverged,
}

/// How a Newton solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NewtonOutcome {
    /// Why it stopped.
    pub status: NewtonStatus,
    /// Newton iterations (linear solves) taken.
    pub iterations: u32,
    /// Linear-solver iterations over all corrections.
    pub linear_iterations: u32,
    /// Some linear solve stopped unconverged (iteration limit or breakdown):
    /// the caller raises its max-linear-iterations flag.
    pub linear_limit_hit: bool,
    /// The solve failed on a non-finite value: the initial residual, or
    /// the residual or iterate of the last backtracking search (every trial
    /// that did not lower the residual norm included one). The caller
    /// raises its non-finite flag.
    pub non_finite: bool,
}

impl NewtonOutcome {
    /// True when the solve converged.
    pub fn converged(&self) -> bool {
        self.status == NewtonStatus::Converged
    }
}

/// The Newton solver's node in the buffer registry, its settings and its
/// hosted linear solver.
#[derive(Debug, Clone, PartialEq)]
pub struct NewtonComponent {
    id: ComponentId,
    n: usize,
    settings: NewtonSettings,
    linear: LinearSolverComponent,
}

/// Newton's own buffers, in registration order.
const BUFFERS: [&str; 4] = ["delta", "residual", "residual_temp", "stage_base_bt"];

/// What the Newton solver is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct NewtonSpec {
    /// Unknowns per system.
    pub n: usize,
    /// Newton's own settings.
    pub settings: NewtonSettings,
    /// The hosted linear solver's settings.
    pub linear: LinearSolverSettings,
}

impl Component for NewtonComponent {
    const NAME: &'static str = "newton";
    type Spec<'a> = NewtonSpec;
    type Error = SolverError;

    /// Adds a `newton` component under `parent` (or as a root) for `n`
    /// unknowns, registers its buffers, and adds its `linear_solver` child.
    fn register(
        reg: &mut BufferRegistry,
        parent: Option<ComponentId>,
        spec: NewtonSpec,
    ) -> Result<Self, SolverError> {
        let NewtonSpec {
            n,
            settings,
            linear,
        } = spec;
        settings.validate()?;
        linear.validate()?;
        if n == 0 {
            return Err(SolverError::EmptySystem);
        }
        let id = reg.add_component(Self::NAME, parent)?;
        for name in BUFFERS {
            reg.register(id, BufferSpec::shared(name, n))?;
        }
        let linear = LinearSolverComponent::register(
            reg,
            Some(id),
            LinearSolverSpec {
                n,
                settings: linear,
            },
        )?;
        Ok(NewtonComponent {
            id,
            n,
            settings,
            linear,
        })
    }

    fn id(&self) -> ComponentId {
        self.id
    }
}

impl NewtonComponent {
    /// Both solvers' settings from named settings (CuBIE's defaults for
    /// keys not given), e.g. `--set newton_tolerance=1e-8`.
    pub fn settings_from(
        map: &SettingsMap,
    ) -> Result<(NewtonSettings, LinearSolverSettings), SolverError> {
        Ok((
            NewtonSettings::from_settings(map)?,
            LinearSolverSettings::from_settings(map)?,
        ))
    }

    /// Every setting key the Newton solver and its linear solver take
    /// (location keys aside: see [`location_keys`](Self::location_keys)).
    pub fn setting_keys() -> Vec<&'static str> {
        NewtonSettings::KEYS
            .iter()
            .chain(LinearSolverSettings::KEYS.iter())
            .copied()
            .collect()
    }

    /// The `<buffer>_location` keys of Newton's and its linear solver's
    /// buffers, sorted.
    pub fn location_keys(&self, reg: &BufferRegistry) -> Result<Vec<String>, SolverError> {
        let mut keys = reg.location_settings(self.id)?;
        keys.extend(reg.location_settings(self.linear.id())?);
        keys.sort();
        Ok(keys)
    }

    /// Applies every `<buffer>_location` key of `map` naming a buffer of
    /// Newton or of its linear solver (declaring those keys known).
    pub fn apply_locations(
        &self,
        reg: &mut BufferRegistry,
        map: &SettingsMap,
    ) -> Result<(), SolverError> {
        for owner in [self.id, self.linear.id()] {
            let given: Vec<(String, String)> = reg
                .location_settings(owner)?
                .into_iter()
                .filter_map(|k| map.raw(&k).map(|v| (k.clone(), v.to_string())))
                .collect();
            reg.apply_locations(owner, given)?;
        }
        Ok(())
    }

    /// Switches the hosted linear solver's settings; its buffers are
    /// re-registered and Newton's `linear_solver_*` entries follow.
    pub fn reconfigure_linear(
        &mut self,
        reg: &mut BufferRegistry,
        settings: LinearSolverSettings,
    ) -> Result<(), SolverError> {
        self.linear.reconfigure(reg, settings)
    }

    /// Replaces Newton's own settings (no buffer changes).
    pub fn set_settings(&mut self, settings: NewtonSettings) -> Result<(), SolverError> {
        settings.validate()?;
        self.settings = settings;
        Ok(())
    }

    /// Unknowns per system.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Its settings.
    pub fn settings(&self) -> &NewtonSettings {
        &self.settings
    }

    /// The hosted linear solver.
    pub fn linear(&self) -> &LinearSolverComponent {
        &self.linear
    }

    /// Resolves Newton's and the linear solver's buffers into handles on
    /// the run arena. Call it once the whole tree is registered and located.
    pub fn build<T: Real>(&self, reg: &BufferRegistry) -> Result<NewtonKrylov<T>, SolverError> {
        let h = |name: &str| reg.cpu_allocator::<T>(self.id, name);
        Ok(NewtonKrylov {
            n: self.n,
            tolerance: T::from_f64(self.settings.tolerance),
            max_iters: self.settings.max_iters,
            damping: T::from_f64(self.settings.damping),
            max_backtracks: self.settings.max_backtracks,
            delta: h("delta")?,
            residual: h("residual")?,
            residual_temp: h("residual_temp")?,
            stage_base_bt: h("stage_base_bt")?,
            linear: self.linear.build(reg)?,
        })
    }
}

/// A built Newton–Krylov solver. `Copy`, so a worker holds it by value.
#[derive(Debug, Clone, Copy)]
pub struct NewtonKrylov<T> {
    n: usize,
    tolerance: T,
    max_iters: u32,
    damping: T,
    max_backtracks: u32,
    delta: CpuAllocator<T>,
    residual: CpuAllocator<T>,
    residual_temp: CpuAllocator<T>,
    stage_base_bt: CpuAllocator<T>,
    linear: LinearSolver<T>,
}

impl<T: Real> NewtonKrylov<T> {
    /// Unknowns per system.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The hosted linear solver.
    pub fn linear(&self) -> &LinearSolver<T> {
        &self.linear
    }

    /// Solves `G(x) = 0` from the initial guess in `x` (length `n`, not
    /// overlapping the solver's buffers), leaving the last accepted
    /// iterate in `x`.
    pub fn solve<P: NonlinearProblem<T> + ?Sized>(
        &self,
        problem: &P,
        x: &[Cell<T>],
        arena: &RunArena<T>,
    ) -> NewtonOutcome {
        self.solve_with(problem, x, arena, 0)
    }

    /// As [`solve`](Self::solve), but takes at least `min_iters`
    /// iterations even when the initial guess already meets the
    /// tolerance. The implicit steps take one: a good predictor can meet an
    /// absolute tolerance without being accurate to it, and over many small
    /// steps those errors add up. An extra iteration that cannot lower an
    /// already converged residual (round-off) keeps the converged iterate.
    pub fn solve_with<P: NonlinearProblem<T> + ?Sized>(
        &self,
        problem: &P,
        x: &[Cell<T>],
        arena: &RunArena<T>,
        min_iters: u32,
    ) -> NewtonOutcome {
        let x = &x[..self.n];
        let delta = self.delta.view(arena);
        let residual = self.residual.view(arena);
        let trial = self.residual_temp.view(arena);
        let base = self.stage_base_bt.view(arena);
        let mut out = NewtonOutcome {
            status: NewtonStatus::Converged,
            iterations: 0,
            linear_iterations: 0,
            linear_limit_hit: false,
            non_finite: false,
        };

        problem.residual(x, residual);
        let mut norm_prev = norm(residual);
        if !norm_prev.is_finite() {
            out.status = NewtonStatus::Diverged;
            out.non_finite = true;
            return out;
        }
        while norm_prev > self.tolerance || out.iterations < min_iters {
            if out.iterations == self.max_iters {
                out.status = NewtonStatus::MaxIterations;
                return out;
            }
            out.iterations += 1;
            // Solve G'(x) δ = −G(x) from δ = 0.
            for r in residual {
                r.set(-r.get());
            }
            fill(delta, T::zero());
            let lin = self
                .linear
                .solve(&JacobianAt { problem, x }, residual, delta, arena);
            out.linear_iterations += lin.iterations;
            out.linear_limit_hit |= !lin.converged;

            // Backtrack: the first of α = 1, d, d², … that lowers ‖G‖.
            copy(x, base);
            let mut alpha = T::one();
            let mut accepted = false;
            let mut met_non_finite = false;
            for _ in 0..=self.max_backtracks {
                for ((xi, bi), di) in x.iter().zip(base).zip(delta) {
                    xi.set(bi.get() + alpha * di.get());
                }
                problem.residual(x, trial);
                let trial_norm = norm(trial);
                if trial_norm.is_finite() && all_finite(x) && trial_norm < norm_prev {
                    copy(trial, residual);
                    norm_prev = trial_norm;
                    accepted = true;
                    break;
                }
                met_non_finite |= !trial_norm.is_finite() || !all_finite(x);
                alpha = alpha * self.damping;
            }
            if !accepted {
                copy(base, x);
                if norm_prev > self.tolerance {
                    out.status = NewtonStatus::Diverged;
                    out.non_finite = met_non_finite;
                }
                return out;
            }
        }
        out
    }
}
