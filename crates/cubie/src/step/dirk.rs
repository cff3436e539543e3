//! Diagonally implicit steps: the DIRK family (any lower-triangular
//! tableau) and the named implicit methods built on the same machinery:
//! backward Euler (one implicit stage), its predictor-corrector form, and
//! Crank–Nicolson (the trapezoidal ESDIRK, its error estimated against a
//! backward Euler solve from the same start).
//!
//! Each implicit stage `i` solves for its increment `z` in
//! `z = h·a_ii·f(t + c_i h, base_i + z)`, `base_i = y + h Σ_{j<i} a_ij k_j`,
//! with the hosted Newton solver; its slope is then `k_i = z / (h·a_ii)`
//! (no extra evaluation, and no amplification of Newton's error by the
//! stiff part of `f`).
//!
//! Buffers (CuBIE's migration plan):
//! - `stage_increment` (n): Newton's unknown;
//! - `stage_base` (n): the current stage's base state;
//! - `accumulator` (s·n): the stage slopes `k_j`; stage `i`'s slot is
//!   Newton's scratch state while `k_i` is being solved for;
//! - `solver_scratch`: the entry hosting Newton's shared memory (the
//!   child's host entry, renamed);
//! - `increment_cache` (n, persistent): the last stage's slope, Newton's
//!   start for the next step's first implicit stage;
//! - `rhs_cache` (n, persistent, first-same-as-last tableaus only): the
//!   last stage's slope, the next step's first stage.
//!
//! Both caches alias `solver_scratch`: while Newton's scratch is shared
//! they overlay it and cost nothing; otherwise they fall back to
//! persistent-local slices. That is sound because a step reads the caches
//! before its first Newton solve and writes them after its last, and
//! they are only read after an accepted step.

use crate::memory::{BufferRegistry, BufferSpec, Component, ComponentId};
use crate::solvers::{NewtonComponent, NewtonSpec};

use super::implicit::ImplicitSolverSettings;
use super::implicit_tableaus::RkTableau;
use super::{ImplicitMethod, StepError};

/// How Newton starts and whether a second solve estimates the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variant {
    /// A DIRK tableau (or backward Euler).
    Plain,
    /// Backward Euler started from an explicit Euler predictor.
    PredictCorrect,
    /// Trapezoid with a backward-Euler error estimate.
    CrankNicolson,
}

/// The diagonally implicit step component.
#[derive(Debug, Clone)]
pub struct DirkStep {
    pub(crate) id: ComponentId,
    pub(crate) n: usize,
    pub(crate) a: Vec<Vec<f64>>,
    pub(crate) b: Vec<f64>,
    pub(crate) c: Vec<f64>,
    pub(crate) error_weights: Option<Vec<f64>>,
    pub(crate) fsal: bool,
    pub(crate) stiffly_accurate: bool,
    pub(crate) variant: Variant,
    /// Backward Euler estimates its error from the change of slope over
    /// the step, `(h/2)(f(t + h, y₁) − f(t, y))` (about `h²y''/2`).
    pub(crate) slope_change_error: bool,
    pub(crate) newton: NewtonComponent,
}

impl DirkStep {
    /// Registers a DIRK step with `tableau`.
    pub fn register_tableau(
        registry: &mut BufferRegistry,
        id: ComponentId,
        tableau: &RkTableau,
        n: usize,
        solver: ImplicitSolverSettings,
    ) -> Result<Self, StepError> {
        Self::register(
            registry,
            id,
            n,
            solver,
            (tableau.a.clone(), tableau.b.clone(), tableau.c.clone()),
            tableau.error_weights(),
            Variant::Plain,
        )
    }

    /// Registers one of the named implicit methods.
    pub fn register_named(
        registry: &mut BufferRegistry,
        id: ComponentId,
        method: ImplicitMethod,
        n: usize,
        solver: ImplicitSolverSettings,
    ) -> Result<Self, StepError> {
        let variant = match method {
            ImplicitMethod::BackwardsEuler => Variant::Plain,
            ImplicitMethod::BackwardsEulerPc => Variant::PredictCorrect,
            ImplicitMethod::CrankNicolson => Variant::CrankNicolson,
        };
        let t = method.tableau();
        let mut step = Self::register(registry, id, n, solver, (t.a, t.b, t.c), None, variant)?;
        step.slope_change_error = method != ImplicitMethod::CrankNicolson;
        Ok(step)
    }

    fn register(
        registry: &mut BufferRegistry,
        id: ComponentId,
        n: usize,
        solver: ImplicitSolverSettings,
        (a, b, c): (Vec<Vec<f64>>, Vec<f64>, Vec<f64>),
        error_weights: Option<Vec<f64>>,
        variant: Variant,
    ) -> Result<Self, StepError> {
        let s = b.len();
        let explicit_first = a[0][0] == 0.0;
        let stiffly_accurate = a[s - 1] == b && a[s - 1][s - 1] != 0.0;
        let fsal = stiffly_accurate && explicit_first && c[s - 1] == 1.0;
        registry.register(id, BufferSpec::shared("stage_increment", n))?;
        registry.register(id, BufferSpec::shared("stage_base", n))?;
        registry.register(id, BufferSpec::shared("accumulator", s * n))?;
        let newton = NewtonComponent::register(
            registry,
            Some(id),
            NewtonSpec {
                n,
                settings: solver.newton,
                linear: solver.linear,
            },
        )?;
        registry.host_shared_as(newton.id(), "solver_scratch")?;
        registry.register(
            id,
            BufferSpec::local("increment_cache", n)
                .persistent()
                .aliasing("solver_scratch"),
        )?;
        registry.register(
            id,
            BufferSpec::local("rhs_cache", if fsal { n } else { 0 })
                .persistent()
                .aliasing("solver_scratch"),
        )?;
        Ok(DirkStep {
            id,
            n,
            a,
            b,
            c,
            error_weights,
            fsal,
            stiffly_accurate,
            variant,
            slope_change_error: false,
            newton,
        })
    }

    /// The hosted Newton solver.
    pub fn newton(&self) -> &NewtonComponent {
        &self.newton
    }
}
