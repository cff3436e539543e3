//! The step of a kernel, whatever its family: one value the kernel tree
//! registers and each backend resolves into its form.

use crate::memory::{BufferRegistry, ComponentId};

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

impl StepComponent {
    /// Registers `algorithm`'s step under `id` for `n` states; implicit
    /// steps take their solvers' settings
    /// from `solver` (`None` is refused for them).
    pub fn register(
        registry: &mut BufferRegistry,
        id: ComponentId,
        algorithm: &AlgorithmEntry,
        n: usize,
        solver: Option<ImplicitSolverSettings>,
    ) -> Result<Self, StepError> {
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
}
