//! Rosenbrock(-W) steps: no Newton iteration, one linear solve per stage
//! with the step's own linear solver (the child `linear_solver`), in the
//! transformed form of [`RosenbrockTableau`]:
//!
//! ```text
//! (I − hγJ) U_i = hγ [ f(t + c_i h, y + Σ_{j<i} a_ij U_j) + Σ_{j<i} (C_ij/h) U_j + hγ_i ∂f/∂t ]
//! ```
//!
//! with `J` and `∂f/∂t` at the start of the step (`∂f/∂t` includes the
//! drivers through their interpolants' rates). Each solve starts from
//! `U_i = hγ·rhs`, the solution when `J = 0`.
//!
//! Buffers: `stage_increments` (s·n), `stage_state` (n), `stage_rhs` (n;
//! the linear solver clobbers it), and `time_derivative` (n); the drivers'
//! rates come from the loop's `driver_rates`.

use crate::memory::{BufferRegistry, BufferSpec, ComponentId, CpuAllocator, RunArena};
use crate::solvers::{LinearSolver, LinearSolverComponent};
use crate::system::jit::JitReal;
use crate::time_loop::Status;

use super::implicit::{ImplicitSolverSettings, ShiftedJacobian};
use super::implicit_tableaus::rosenbrock::RosenbrockTableau;
use super::{CpuStep, StepError, StepIo, StepReport, SystemCall};

/// The Rosenbrock step component.
#[derive(Debug, Clone)]
pub struct RosenbrockStep {
    id: ComponentId,
    n: usize,
    tableau: RosenbrockTableau,
    linear: LinearSolverComponent,
}

impl RosenbrockStep {
    /// Registers the step's buffers and its linear solver.
    pub fn register(
        registry: &mut BufferRegistry,
        id: ComponentId,
        tableau: &RosenbrockTableau,
        n: usize,
        solver: ImplicitSolverSettings,
    ) -> Result<Self, StepError> {
        let s = tableau.stages();
        registry.register(id, BufferSpec::shared("stage_increments", s * n))?;
        registry.register(id, BufferSpec::shared("stage_state", n))?;
        registry.register(id, BufferSpec::shared("stage_rhs", n))?;
        registry.register(id, BufferSpec::shared("time_derivative", n))?;
        let linear = LinearSolverComponent::register(registry, Some(id), n, solver.linear)?;
        Ok(RosenbrockStep {
            id,
            n,
            tableau: tableau.clone(),
            linear,
        })
    }

    /// The CPU form.
    pub fn cpu<T: JitReal>(
        &self,
        registry: &BufferRegistry,
    ) -> Result<RosenbrockCpu<T>, StepError> {
        let t = &self.tableau;
        let alloc = |name| registry.cpu_allocator::<T>(self.id, name);
        let r = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
        Ok(RosenbrockCpu {
            n: self.n,
            a: t.a.iter().map(|row| r(row)).collect(),
            c_matrix: t.c_matrix.iter().map(|row| r(row)).collect(),
            gamma: T::from_f64(t.gamma),
            gamma_stages: r(&t.gamma_stages),
            b: r(&t.b),
            error_weights: t.error_weights().map(|w| r(&w)),
            c: t.c.clone(),
            linear: self.linear.build(registry)?,
            stage_increments: alloc("stage_increments")?,
            stage_state: alloc("stage_state")?,
            stage_rhs: alloc("stage_rhs")?,
            time_derivative: alloc("time_derivative")?,
        })
    }
}

/// The Rosenbrock step's CPU form.
#[derive(Debug, Clone)]
pub struct RosenbrockCpu<T: JitReal> {
    n: usize,
    a: Vec<Vec<T>>,
    c_matrix: Vec<Vec<T>>,
    gamma: T,
    gamma_stages: Vec<T>,
    b: Vec<T>,
    error_weights: Option<Vec<T>>,
    c: Vec<f64>,
    linear: LinearSolver<T>,
    stage_increments: CpuAllocator<T>,
    stage_state: CpuAllocator<T>,
    stage_rhs: CpuAllocator<T>,
    time_derivative: CpuAllocator<T>,
}

impl<T: JitReal> CpuStep<T> for RosenbrockCpu<T> {
    fn step(&self, sys: &SystemCall<'_, T>, arena: &RunArena<T>, io: &StepIo<'_, T>) -> StepReport {
        let n = self.n;
        let h = io.dt;
        let h64 = h.to_f64();
        let u = self.stage_increments.view(arena);
        let state = self.stage_state.view(arena);
        let rhs = self.stage_rhs.view(arena);
        let ft = self.time_derivative.view(arena);
        let mut status = Status::SUCCESS;
        let mut evaluations = 0u32;
        let t0 = T::from_f64(io.t);
        let gh = h * self.gamma;
        sys.dfdt(io.t, io.state, ft);
        let op = ShiftedJacobian {
            sys,
            t: t0,
            state: io.state,
            gh,
        };
        for i in 0..self.b.len() {
            for (e, s) in state.iter().enumerate() {
                let mut v = io.state[e].get();
                for (j, &aij) in self.a[i][..i].iter().enumerate() {
                    if aij != T::zero() {
                        v = v + aij * u[j * n + e].get();
                    }
                }
                s.set(v);
            }
            sys.dxdt(io.t + self.c[i] * h64, state, rhs);
            evaluations += 1;
            let ui = &u[i * n..(i + 1) * n];
            let g_t = h * self.gamma_stages[i];
            for (e, r) in rhs.iter().enumerate() {
                let mut v = r.get() + g_t * ft[e].get();
                for (j, &cij) in self.c_matrix[i][..i].iter().enumerate() {
                    if cij != T::zero() {
                        v = v + (cij / h) * u[j * n + e].get();
                    }
                }
                let v = gh * v;
                r.set(v);
                ui[e].set(v);
            }
            // A non-finite derivative (or time derivative) is no linear
            // solver's failure: report it as such, the state unchanged.
            let finite = rhs.iter().all(|v| v.get().is_finite());
            let outcome = if finite {
                Some(self.linear.solve(&op, rhs, ui, arena))
            } else {
                None
            };
            if outcome.as_ref().is_none_or(|o| !o.converged) {
                match outcome {
                    None => status.insert(Status::NON_FINITE_STATE),
                    Some(_) => status.insert(Status::MAX_LINEAR_ITERATIONS),
                }
                if ui.iter().any(|v| !v.get().is_finite()) {
                    status.insert(Status::NON_FINITE_STATE);
                }
                for (p, y) in io.proposed.iter().zip(io.state) {
                    p.set(y.get());
                }
                return StepReport {
                    status,
                    evaluations,
                    ..StepReport::default()
                };
            }
        }
        let combine = |w: &[T], e: usize| {
            w.iter()
                .enumerate()
                .fold(T::zero(), |acc, (j, &wj)| acc + wj * u[j * n + e].get())
        };
        for (e, p) in io.proposed.iter().enumerate() {
            p.set(io.state[e].get() + combine(&self.b, e));
        }
        if let Some(w) = &self.error_weights {
            for (e, err) in io.error.iter().enumerate() {
                err.set(combine(w, e));
            }
        }
        StepReport {
            status,
            evaluations,
            ..StepReport::default()
        }
    }
}
