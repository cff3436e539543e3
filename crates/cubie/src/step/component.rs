//! The step of a kernel, whatever its family: one value the kernel
//! registers, relocates and resolves.

use crate::memory::{BufferRegistry, ComponentId};
use crate::system::SystemFunctions;
use crate::system::jit::JitReal;

use super::implicit::ImplicitSolverSettings;
use super::{Algorithm, CpuStep, DirkStep, ErkStep, FirkStep, Method, RosenbrockStep, StepError};

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
        algorithm: &Algorithm,
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

    /// The CPU form in precision `T`; with `functions`, an ERK step also
    /// compiles its fused native form and sizes its buffers for it (see
    /// [`ErkStep::cpu_fused`]), so resolve it before the tree's other
    /// buffers.
    pub fn cpu_with<T: JitReal>(
        &self,
        registry: &mut BufferRegistry,
        functions: Option<&SystemFunctions>,
    ) -> Result<Box<dyn CpuStep<T>>, StepError> {
        match (self, functions) {
            (StepComponent::Erk(s), Some(f)) => Ok(Box::new(s.cpu_fused::<T>(registry, f)?)),
            _ => self.cpu::<T>(registry),
        }
    }

    /// The generic CPU form in precision `T`.
    pub fn cpu<T: JitReal>(
        &self,
        registry: &BufferRegistry,
    ) -> Result<Box<dyn CpuStep<T>>, StepError> {
        Ok(match self {
            StepComponent::Erk(s) => Box::new(s.cpu::<T>(registry)?),
            StepComponent::Dirk(s) => Box::new(s.cpu::<T>(registry)?),
            StepComponent::Firk(s) => Box::new(s.cpu::<T>(registry)?),
            StepComponent::Rosenbrock(s) => Box::new(s.cpu::<T>(registry)?),
        })
    }
}
