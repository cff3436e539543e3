//! The explicit Runge–Kutta step, driven by a [`ButcherTableau`] (Euler is
//! the one-stage tableau).
//!
//! Buffers (all registered with the registry):
//! - `stage_rhs` (n): the derivative of the current stage;
//! - `stage_accumulator` ((stages - 1) n): for each later stage, its stage
//!   state `y + dt Σ a_ij k_j`, accumulated as the `k_j` appear;
//! - `stage_cache` (n, persistent, FSAL methods only): the last stage's
//!   derivative, which is the next step's first. It aliases `stage_rhs`
//!   when that is shared (then no copy is needed), else
//!   `stage_accumulator` when that is shared, else it keeps its own
//!   location (persistent-local by default). The registry makes that
//!   choice from the final locations, the user's settings included;
//! - `secondary_error` (n, DOP853 only): the 3rd-order error estimate that
//!   Hairer's combined error measure needs.
//!
//! On the CPU, a small model with constant drivers takes each step through
//! a fused form (`backend::cpu::jit::FusedErkStep`): the whole step compiled as one function, stages in
//! registers. That path uses only `stage_cache` and `secondary_error`;
//! when it is chosen, `stage_rhs` and `stage_accumulator` (the generic
//! path's memory) shrink to zero elements, so the plan shows what is used.

use crate::memory::{BufferRegistry, BufferSpec, ComponentId};

use super::StepError;
use super::tableau::ButcherTableau;

/// The ERK step component: registers its buffers and holds its tableau;
/// each backend builds its form from [`ErkStep::scheme`].
#[derive(Debug, Clone)]
pub struct ErkStep {
    pub(crate) tableau: &'static ButcherTableau,
    pub(crate) n: usize,
    pub(crate) id: ComponentId,
}

impl ErkStep {
    /// Registers the step's buffers under `id` for a system of `n` states.
    pub fn register(
        registry: &mut BufferRegistry,
        id: ComponentId,
        tableau: &'static ButcherTableau,
        n: usize,
    ) -> Result<Self, StepError> {
        let stages = tableau.stages();
        registry.register(id, BufferSpec::shared("stage_rhs", n))?;
        registry.register(
            id,
            BufferSpec::shared("stage_accumulator", (stages - 1) * n),
        )?;
        let secondary = if tableau.secondary_embedded().is_some() {
            n
        } else {
            0
        };
        registry.register(id, BufferSpec::local("secondary_error", secondary))?;
        // The cache reuses the first of its hosts that ends up shared; the
        // registry decides from the final locations (user settings
        // included), so the cache is registered once.
        let size = if tableau.fsal() { n } else { 0 };
        registry.register(
            id,
            BufferSpec::local("stage_cache", size)
                .persistent()
                .aliasing_first_shared(["stage_rhs", "stage_accumulator"]),
        )?;
        Ok(ErkStep { tableau, n, id })
    }

    /// The tableau.
    pub fn tableau(&self) -> &'static ButcherTableau {
        self.tableau
    }

    /// The tableau's coefficients, as every form of the step reads them.
    pub fn scheme(&self) -> ErkScheme {
        let tab = self.tableau;
        let s = tab.stages();
        ErkScheme {
            a: (0..s)
                .map(|i| (0..i).map(|j| tab.a(i, j)).collect())
                .collect(),
            b: tab.b().to_vec(),
            c: tab.c().to_vec(),
            error_weights: tab.error_weights().unwrap_or_default(),
            secondary_weights: tab
                .secondary_embedded()
                .map(|e| tab.b().iter().zip(e.weights).map(|(b, h)| b - h).collect())
                .unwrap_or_default(),
            fsal: tab.fsal(),
        }
    }

    /// Shrinks the generic form's stage buffers to nothing, for a form
    /// that keeps its stages in registers (the CPU's fused step): the plan
    /// then shows the memory of the form chosen.
    pub fn release_stage_buffers(&self, registry: &mut BufferRegistry) -> Result<(), StepError> {
        registry.set_size(self.id, "stage_rhs", 0)?;
        registry.set_size(self.id, "stage_accumulator", 0)?;
        Ok(())
    }
}

/// The numerics plan of an explicit Runge–Kutta step, in f64: the
/// coefficients every backend's form reads (independent of where the
/// tableau is defined).
#[derive(Debug, Clone, PartialEq)]
pub struct ErkScheme {
    /// `a[i][j]` for `j < i` (row `i` may be shorter; missing entries are 0).
    pub a: Vec<Vec<f64>>,
    /// Solution weights, one per stage.
    pub b: Vec<f64>,
    /// Stage nodes, one per stage.
    pub c: Vec<f64>,
    /// Error weights `b - b̂` (empty for a method without error estimate).
    pub error_weights: Vec<f64>,
    /// DOP853's secondary error weights (empty otherwise).
    pub secondary_weights: Vec<f64>,
    /// First same as last: the last stage's derivative is the next step's
    /// first.
    pub fsal: bool,
}

impl ErkScheme {
    /// Number of stages.
    pub fn stages(&self) -> usize {
        self.b.len()
    }

    /// The step as every backend's generic form performs it: for each
    /// stage `j`, the places its derivative `k_j` contributes
    /// `dt * weight * k_j` to, in order. Every non-zero coefficient is one
    /// contribution; the first contribution to a target also initialises it
    /// (from the state for stage states and the solution, from zero for
    /// error estimates).
    pub fn contributions(&self) -> ErkPlan {
        let s = self.stages();
        let mut stages: Vec<Vec<ErkContribution>> = vec![Vec::new(); s];
        let mut started = vec![false; s + 3];
        let mut add = |j: usize, target: ErkTarget, weight: f64, slot: usize| {
            if weight != 0.0 {
                let first = !std::mem::replace(&mut started[slot], true);
                stages[j].push(ErkContribution {
                    target,
                    weight,
                    first,
                });
            }
        };
        for j in 0..s {
            for i in j + 1..s {
                add(j, ErkTarget::Stage(i - 1), self.a(i, j), i);
            }
            add(j, ErkTarget::Solution, self.b[j], 0);
            if let Some(&w) = self.error_weights.get(j) {
                add(j, ErkTarget::Error, w, s + 1);
            }
            if let Some(&w) = self.secondary_weights.get(j) {
                add(j, ErkTarget::Secondary, w, s + 2);
            }
        }
        let stage_reads_state = (0..s).map(|i| i == 0 || !started[i]).collect();
        ErkPlan {
            stages,
            stage_reads_state,
        }
    }

    /// `a[i][j]`, zero where the row is short.
    pub fn a(&self, i: usize, j: usize) -> f64 {
        self.a
            .get(i)
            .and_then(|row| row.get(j))
            .copied()
            .unwrap_or(0.0)
    }
}

/// Where a stage derivative is accumulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErkTarget {
    /// The stage state of stage `i + 1` (accumulator slot `i`).
    Stage(usize),
    /// The proposed solution.
    Solution,
    /// The error estimate.
    Error,
    /// DOP853's second error estimate.
    Secondary,
}

/// `target (=|+=) dt * weight * k_j`; with `first`, `=` and the base
/// value added (the state for stage states and the solution, nothing for
/// errors).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErkContribution {
    /// Where it goes.
    pub target: ErkTarget,
    /// Its coefficient.
    pub weight: f64,
    /// True for the first contribution to its target.
    pub first: bool,
}

/// The unrolled step ([`ErkScheme::contributions`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ErkPlan {
    /// Per stage, its contributions in order.
    pub stages: Vec<Vec<ErkContribution>>,
    /// Per stage, true when it is evaluated at the step's start state (no
    /// earlier stage feeds it).
    pub stage_reads_state: Vec<bool>,
}
