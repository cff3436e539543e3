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
//!   `stage_accumulator` when that is shared, else it is persistent-local;
//! - `secondary_error` (n, DOP853 only): the 3rd-order error estimate that
//!   Hairer's combined error measure needs.

use std::cell::Cell;

use crate::memory::{BufferRegistry, BufferSpec, ComponentId, CpuAllocator, RunArena};
use crate::system::jit::JitReal;

use super::tableau::ButcherTableau;
use super::{CpuStep, StepError, StepIo, StepReport, SystemCall};

/// The ERK step component: registers its buffers, then resolves its CPU
/// form.
#[derive(Debug, Clone)]
pub struct ErkStep {
    tableau: &'static ButcherTableau,
    n: usize,
    id: ComponentId,
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
        let step = ErkStep { tableau, n, id };
        step.register_cache(registry)?;
        Ok(step)
    }

    /// Chooses where the FSAL cache lives from the current locations of
    /// its candidate hosts. Call again after locations change.
    pub fn register_cache(&self, registry: &mut BufferRegistry) -> Result<(), StepError> {
        let size = if self.tableau.fsal() { self.n } else { 0 };
        let host = registry.first_shared(self.id, &["stage_rhs", "stage_accumulator"])?;
        let mut spec = BufferSpec::local("stage_cache", size).persistent();
        if let Some(host) = host {
            spec = spec.aliasing(host);
        }
        registry.register(self.id, spec)?;
        Ok(())
    }

    /// The tableau.
    pub fn tableau(&self) -> &'static ButcherTableau {
        self.tableau
    }

    /// The CPU form, with coefficients rounded to `T` and buffers resolved.
    pub fn cpu<T: JitReal>(&self, registry: &BufferRegistry) -> Result<ErkCpu<T>, StepError> {
        let tab = self.tableau;
        let s = tab.stages();
        let t = T::from_f64;
        let alloc = |name| registry.cpu_allocator::<T>(self.id, name);
        let stage_rhs = alloc("stage_rhs")?;
        let stage_cache = alloc("stage_cache")?;
        Ok(ErkCpu {
            n: self.n,
            stages: s,
            a: (0..s)
                .map(|i| (0..i).map(|j| t(tab.a(i, j))).collect())
                .collect(),
            b: tab.b().iter().map(|&x| t(x)).collect(),
            c: tab.c().to_vec(),
            error_weights: tab
                .error_weights()
                .map(|w| w.into_iter().map(t).collect())
                .unwrap_or_default(),
            secondary_weights: tab
                .secondary_embedded()
                .map(|e| {
                    tab.b()
                        .iter()
                        .zip(e.weights)
                        .map(|(b, h)| t(b - h))
                        .collect()
                })
                .unwrap_or_default(),
            fsal: tab.fsal(),
            cache_is_rhs: stage_cache.range() == stage_rhs.range(),
            stage_rhs,
            stage_accumulator: alloc("stage_accumulator")?,
            stage_cache,
            secondary_error: alloc("secondary_error")?,
        })
    }
}

/// The ERK step's CPU form.
#[derive(Debug, Clone)]
pub struct ErkCpu<T: JitReal> {
    n: usize,
    stages: usize,
    a: Vec<Vec<T>>,
    b: Vec<T>,
    c: Vec<f64>,
    error_weights: Vec<T>,
    secondary_weights: Vec<T>,
    fsal: bool,
    cache_is_rhs: bool,
    stage_rhs: CpuAllocator<T>,
    stage_accumulator: CpuAllocator<T>,
    stage_cache: CpuAllocator<T>,
    secondary_error: CpuAllocator<T>,
}

fn copy<T: Copy>(from: &[Cell<T>], to: &[Cell<T>]) {
    for (t, f) in to.iter().zip(from) {
        t.set(f.get());
    }
}

/// `acc += w * k`, element-wise.
#[inline]
fn axpy<T: JitReal>(w: T, k: &[Cell<T>], acc: &[Cell<T>]) {
    for (a, k) in acc.iter().zip(k) {
        a.set(a.get() + w * k.get());
    }
}

impl<T: JitReal> CpuStep<T> for ErkCpu<T> {
    fn step(&self, sys: &SystemCall<'_, T>, arena: &RunArena<T>, io: &StepIo<'_, T>) -> StepReport {
        let n = self.n;
        let k = self.stage_rhs.view(arena);
        let acc = self.stage_accumulator.view(arena);
        let cache = self.stage_cache.view(arena);
        let dt = io.dt;
        let dt64 = dt.to_f64();
        let mut evaluations = 0;

        // First stage: from the cache when the previous step left a valid
        // one (read before the accumulator, which the cache may alias).
        if self.fsal && io.first_stage_cached {
            if !self.cache_is_rhs {
                copy(cache, k);
            }
        } else {
            sys.dxdt(io.t, io.state, k);
            evaluations += 1;
        }
        copy(io.state, io.proposed);
        for e in io.error {
            e.set(T::zero());
        }
        let secondary = self.secondary_error.view(arena);
        for e in secondary {
            e.set(T::zero());
        }
        for i in 1..self.stages {
            copy(io.state, &acc[(i - 1) * n..i * n]);
        }

        for j in 0..self.stages {
            if j > 0 {
                let stage_state = &acc[(j - 1) * n..j * n];
                sys.dxdt(io.t + self.c[j] * dt64, stage_state, k);
                evaluations += 1;
            }
            for i in j + 1..self.stages {
                let a = self.a[i][j];
                if a != T::zero() {
                    axpy(dt * a, k, &acc[(i - 1) * n..i * n]);
                }
            }
            if self.b[j] != T::zero() {
                axpy(dt * self.b[j], k, io.proposed);
            }
            if let Some(&w) = self.error_weights.get(j)
                && w != T::zero()
            {
                axpy(dt * w, k, io.error);
            }
            if let Some(&w) = self.secondary_weights.get(j)
                && w != T::zero()
            {
                axpy(dt * w, k, secondary);
            }
        }
        // The last stage was evaluated at (t + dt, y_new): keep it for the
        // next step.
        if self.fsal && !self.cache_is_rhs {
            copy(k, cache);
        }
        StepReport {
            evaluations,
            ..StepReport::default()
        }
    }

    fn secondary_error<'a>(&self, arena: &'a RunArena<T>) -> Option<&'a [Cell<T>]> {
        (!self.secondary_weights.is_empty()).then(|| self.secondary_error.view(arena))
    }

    fn caches_first_stage(&self) -> bool {
        self.fsal
    }
}
