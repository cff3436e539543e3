//! The step of a kernel, whatever its family: one value the kernel tree
//! registers and each backend resolves into its form.

use crate::memory::{BufferRegistry, Component, ComponentId};

use super::implicit::ImplicitSolverSettings;
use super::{AlgorithmEntry, DirkStep, ErkStep, FirkStep, Method, RosenbrockStep, StepError};

/// A registered step component of any family.
#[derive(Debug, Clone)]
pub enum StepComponent {
    /// Explicit Runge–Kutta.
    Erk(ErkStep),
    /// Diagonally implicit (DIRK tableaus, backward Euler, Crank–Nicolson).
    Dirk(DirkStep),
    /// Fully implicit Runge–Kutta.
    Firk(FirkStep),
    /// Rosenbrock.
    Rosenbrock(RosenbrockStep),
}

/// What the step component is built from.
#[derive(Debug, Clone)]
pub struct StepSpec<'a> {
    /// The catalogue's entry of the algorithm.
    pub algorithm: &'a AlgorithmEntry,
    /// States per run.
    pub n_states: usize,
    /// The Newton and linear solvers' settings; implicit steps need them
    /// (`None` is refused for them), the others ignore them.
    pub solver: Option<ImplicitSolverSettings>,
}

impl Component for StepComponent {
    const NAME: &'static str = "step";
    type Spec<'a> = StepSpec<'a>;
    type Error = StepError;

    /// Adds the `step` node and registers the algorithm's step there.
    fn register(
        registry: &mut BufferRegistry,
        parent: Option<ComponentId>,
        spec: StepSpec<'_>,
    ) -> Result<Self, StepError> {
        let StepSpec {
            algorithm,
            n_states: n,
            solver,
        } = spec;
        let id = registry.add_component(Self::NAME, parent)?;
        let solver = || {
            solver.ok_or_else(|| StepError::MissingSolverSettings {
                algorithm: algorithm.name.to_string(),
            })
        };
        Ok(match algorithm.method {
            Method::Erk(t) => StepComponent::Erk(ErkStep::register(registry, id, t, n)?),
            Method::Implicit(m) => {
                StepComponent::Dirk(DirkStep::register_named(registry, id, m, n, solver()?)?)
            }
            Method::Dirk(t) => {
                StepComponent::Dirk(DirkStep::register_tableau(registry, id, t, n, solver()?)?)
            }
            Method::Firk(t) => {
                StepComponent::Firk(FirkStep::register(registry, id, t, n, solver()?)?)
            }
            Method::Rosenbrock(t) => {
                StepComponent::Rosenbrock(RosenbrockStep::register(registry, id, t, n, solver()?)?)
            }
        })
    }

    fn id(&self) -> ComponentId {
        match self {
            StepComponent::Erk(s) => s.id,
            StepComponent::Dirk(s) => s.id,
            StepComponent::Firk(s) => s.id,
            StepComponent::Rosenbrock(s) => s.id,
        }
    }
}
