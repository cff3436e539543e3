//! Damped Newton–Krylov: solves `G(x) = 0` for a residual the caller
//! provides (`backend::cpu::solvers::NonlinearProblem`), each correction `G'(x) δ = −G(x)` by
//! the hosted linear solver, each step `x + α δ` backtracked
//! (`α = 1, d, d², …`) until the residual norm decreases.
//!
//! The Newton component registers `delta`, `residual`, `residual_temp`
//! and `stage_base_bt` (shared by default) and hosts its linear solver as
//! the child component `linear_solver`, so the solver's memory appears as
//! the `linear_solver_shared` / `linear_solver_persistent` entries of
//! `newton`.

mod settings;

use crate::memory::{BufferRegistry, BufferSpec, Component, ComponentId};
use crate::settings::SettingsMap;
use crate::solvers::error::SolverError;
use crate::solvers::linear::{LinearSolverComponent, LinearSolverSettings, LinearSolverSpec};

pub use settings::NewtonSettings;

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
}
