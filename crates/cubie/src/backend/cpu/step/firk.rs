//! The fully implicit step's CPU form (see [`crate::step::FirkStep`]).

use std::cell::Cell;

use crate::backend::cpu::jit::JitReal;
use crate::backend::cpu::solvers::vector::{
    by_width, copy, map1, map2, per_lane, rounded, scaled, update,
};
use crate::backend::cpu::solvers::{LinearSolver, NewtonKrylov, NonlinearProblem};
use crate::backend::cpu::{CpuForm, SystemCall};
use crate::memory::{
    BufferRegistry, CpuAllocator, LaneBuf, LaneMask, MAX_LANES, PerLane, RunArena,
};
use crate::step::{FirkStep, StepError};
use crate::time_loop::Status;

use super::implicit::{ShiftedJacobian, count, newton_status};
use super::{CpuStep, StepIo, StepReport};

impl CpuForm for FirkStep {
    type Form<T: JitReal> = FirkCpu<T>;
    type Error = StepError;

    /// The CPU form.
    fn cpu<T: JitReal>(&self, registry: &BufferRegistry) -> Result<FirkCpu<T>, StepError> {
        let t = &self.tableau;
        let alloc = |name| registry.cpu_allocator::<T>(self.id, name);
        let r = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
        let error_weights = self.error_weights().map(|w| r(&w));
        let filter = match &self.filter {
            Some(f) => Some(f.cpu(registry)?),
            None => None,
        };
        Ok(FirkCpu {
            n: self.n,
            a: t.a.iter().map(|row| r(row)).collect(),
            c: t.c.clone(),
            solution_weights: r(&self.solution_weights()),
            error_weights,
            gamma0: T::from_f64(t.b_hat_start),
            newton: self.newton.cpu(registry)?,
            filter,
            stage_increment: alloc("stage_increment")?,
            stage_rhs: alloc("stage_rhs")?,
            stage_state: alloc("stage_state")?,
            start_rhs: alloc("start_rhs")?,
            jacobian_scratch: alloc("jacobian_scratch")?,
        })
    }
}

/// The FIRK step's CPU form.
#[derive(Debug, Clone)]
pub struct FirkCpu<T: JitReal> {
    n: usize,
    a: Vec<Vec<T>>,
    c: Vec<f64>,
    solution_weights: Vec<T>,
    error_weights: Option<Vec<T>>,
    gamma0: T,
    newton: NewtonKrylov<T>,
    filter: Option<LinearSolver<T>>,
    stage_increment: CpuAllocator<T>,
    stage_rhs: CpuAllocator<T>,
    stage_state: CpuAllocator<T>,
    start_rhs: CpuAllocator<T>,
    jacobian_scratch: CpuAllocator<T>,
}

/// The coupled stage system `G(Z)_i = Z_i − h Σ_j a_ij f(t_j, y + Z_j)`,
/// in every lane with its own `h`, `t` and `y`.
struct CoupledStages<'a, 'b, T: JitReal> {
    sys: &'a SystemCall<'b, T>,
    n: usize,
    h: PerLane<T>,
    a: &'a [Vec<T>],
    c: &'a [f64],
    t0: &'a PerLane<f64>,
    h64: PerLane<f64>,
    y: LaneBuf<'a, T>,
    state: LaneBuf<'a, T>,
    per_stage: LaneBuf<'a, T>,
    jac: LaneBuf<'a, T>,
    evaluations: Cell<PerLane<u32>>,
}

impl<T: JitReal> CoupledStages<'_, '_, T> {
    /// Stage `j`'s time in every lane, as the model sees it.
    fn stage_time(&self, j: usize) -> PerLane<f64> {
        per_lane(self.y.width(), |l| {
            rounded::<T>(self.t0[l] + self.c[j] * self.h64[l])
        })
    }

    fn stage<'x>(&self, x: LaneBuf<'x, T>, j: usize) -> LaneBuf<'x, T> {
        x.slice(j * self.n..(j + 1) * self.n)
    }

    fn set_state(&self, z: LaneBuf<'_, T>, j: usize, mask: LaneMask) {
        map2(self.y, self.stage(z, j), self.state, mask, |_, _, y, z| {
            y + z
        });
    }

    /// `out_i = x_i − h Σ_j a_ij w_j` with `w` in `per_stage`.
    fn combine(&self, x: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask) {
        let (n, w, h, a) = (self.n, self.per_stage, &self.h, self.a);
        by_width!(
            out.width(),
            combine_w(n, a, h, w, x, out, mask),
            for (i, row) in a.iter().enumerate() {
                update(out.slice(i * n..(i + 1) * n), mask, |e, l| {
                    let mut v = T::zero();
                    for (j, &aij) in row.iter().enumerate() {
                        v = v + aij * w.get(j * n + e, l);
                    }
                    x.get(i * n + e, l) - h[l] * v
                });
            }
        )
    }
}

/// [`CoupledStages::combine`] for a block of `W` lanes: each element's
/// lanes in vector registers, the same operations in the same order.
#[inline(always)]
fn combine_w<const W: usize, T: JitReal>(
    n: usize,
    a: &[Vec<T>],
    h: &PerLane<T>,
    w: LaneBuf<'_, T>,
    x: LaneBuf<'_, T>,
    out: LaneBuf<'_, T>,
    mask: LaneMask,
) {
    if mask.is_empty() {
        return;
    }
    let on = mask.flags::<W>();
    let full = mask == LaneMask::all(W);
    for (i, row) in a.iter().enumerate() {
        for e in 0..n {
            let mut v = [T::zero(); W];
            for (j, &aij) in row.iter().enumerate() {
                let wj = w.load::<W>(j * n + e);
                for l in 0..W {
                    v[l] = v[l] + aij * wj[l];
                }
            }
            let xi = x.load::<W>(i * n + e);
            let r = std::array::from_fn(|l| xi[l] - h[l] * v[l]);
            if full {
                out.store::<W>(i * n + e, r);
            } else {
                out.store_where::<W>(i * n + e, r, on);
            }
        }
    }
}

/// Stage `j`'s column of blocks of the big matrix, `δ_ij I − h a_ij J_j`
/// (as [`CoupledStages::jacobian_dense`] writes it), for a block of `W`
/// lanes.
#[inline(always)]
fn scatter_jacobian_w<const W: usize, T: JitReal>(
    n: usize,
    a: &[Vec<T>],
    h: &PerLane<T>,
    j: usize,
    jac: LaneBuf<'_, T>,
    out: LaneBuf<'_, T>,
    mask: LaneMask,
) {
    if mask.is_empty() {
        return;
    }
    let on = mask.flags::<W>();
    let full = mask == LaneMask::all(W);
    let big = a.len() * n;
    for (i, row) in a.iter().enumerate() {
        let aij = row[j];
        for r in 0..n {
            for c in 0..n {
                let identity = if i == j && r == c {
                    T::one()
                } else {
                    T::zero()
                };
                let jv = jac.load::<W>(r * n + c);
                let v = std::array::from_fn(|l| identity - h[l] * aij * jv[l]);
                let at = (i * n + r) * big + j * n + c;
                if full {
                    out.store::<W>(at, v);
                } else {
                    out.store_where::<W>(at, v, on);
                }
            }
        }
    }
}

impl<T: JitReal> NonlinearProblem<T> for CoupledStages<'_, '_, T> {
    fn residual(&self, z: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask) {
        for j in 0..self.a.len() {
            self.set_state(z, j, mask);
            self.sys.dxdt(
                &self.stage_time(j),
                self.state,
                self.stage(self.per_stage, j),
                mask,
            );
        }
        count(&self.evaluations, mask, self.a.len() as u32);
        self.combine(z, out, mask);
    }

    fn jacobian_apply(
        &self,
        z: LaneBuf<'_, T>,
        v: LaneBuf<'_, T>,
        out: LaneBuf<'_, T>,
        mask: LaneMask,
    ) {
        for j in 0..self.a.len() {
            self.set_state(z, j, mask);
            self.sys.jvp(
                &self.stage_time(j),
                self.state,
                self.stage(v, j),
                self.stage(self.per_stage, j),
                mask,
            );
        }
        self.combine(v, out, mask);
    }

    fn jacobian_diagonal(&self, z: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask) {
        let n = self.n;
        let jac = self.jac.first(n);
        for (i, row) in self.a.iter().enumerate() {
            self.set_state(z, i, mask);
            self.sys
                .jacobian_diagonal(&self.stage_time(i), self.state, jac, mask);
            let aii = row[i];
            update(self.stage(out, i), mask, |e, l| {
                T::one() - self.h[l] * aii * jac.get(e, l)
            });
        }
    }

    fn jacobian_dense(&self, z: LaneBuf<'_, T>, out: LaneBuf<'_, T>, mask: LaneMask) {
        let n = self.n;
        let s = self.a.len();
        let big = s * n;
        let jac = self.jac;
        for j in 0..s {
            self.set_state(z, j, mask);
            self.sys
                .jacobian(&self.stage_time(j), self.state, jac, mask);
            if matches!(out.width(), 1 | 2 | 4 | 8 | 16) {
                by_width!(
                    out.width(),
                    scatter_jacobian_w(n, self.a, &self.h, j, jac, out, mask),
                    ()
                );
                continue;
            }
            for (i, row) in self.a.iter().enumerate() {
                let aij = row[j];
                for r in 0..n {
                    // Row `i n + r` of the big matrix, columns `j n..(j+1) n`.
                    let start = (i * n + r) * big + j * n;
                    let jr = jac.slice(r * n..(r + 1) * n);
                    map1(jr, out.slice(start..start + n), mask, |c, l, jv| {
                        let identity = if i == j && r == c {
                            T::one()
                        } else {
                            T::zero()
                        };
                        identity - self.h[l] * aij * jv
                    });
                }
            }
        }
    }
}

impl<T: JitReal> CpuStep<T> for FirkCpu<T> {
    fn step(
        &self,
        sys: &SystemCall<'_, T>,
        arena: &RunArena<T>,
        io: &StepIo<'_, T>,
        reports: &mut PerLane<StepReport>,
    ) {
        let n = self.n;
        let w = io.state.width();
        let h = *io.dt;
        let h64 = per_lane(w, |l| h[l].to_f64());
        let z = self.stage_increment.view(arena);
        let f0 = self.start_rhs.view(arena);
        let state = self.stage_state.view(arena);
        let jac = self.jacobian_scratch.view(arena);
        let active = io.active;
        let mut status = [Status::SUCCESS; MAX_LANES];
        if active.is_empty() {
            return;
        }

        // Explicit Euler predictor for every stage: Z_i = c_i h f(t, y).
        sys.dxdt(io.t, io.state, f0, active);
        for (i, &ci) in self.c.iter().enumerate() {
            let g = per_lane(w, |l| h[l] * T::from_f64(ci));
            scaled(&g, f0, z.slice(i * n..(i + 1) * n), active);
        }
        let problem = CoupledStages {
            sys,
            n,
            h,
            a: &self.a,
            c: &self.c,
            t0: io.t,
            h64,
            y: io.state,
            state,
            per_stage: self.stage_rhs.view(arena),
            jac,
            evaluations: Cell::new([1; MAX_LANES]),
        };
        let outcome = self.newton.solve_with(&problem, z, arena, active, 1);
        let evaluations = problem.evaluations.get();
        // The lanes whose solve failed end their step here, the state
        // proposed unchanged.
        let mut live = active;
        for l in active.lanes() {
            status[l].insert(newton_status(&outcome[l]));
            if !status[l].is_success() {
                live.remove(l);
            }
        }
        copy(io.state, io.proposed, active.without(live));
        let combine = |wts: &[T], e: usize, l: usize| {
            wts.iter()
                .enumerate()
                .fold(T::zero(), |acc, (j, &wj)| acc + wj * z.get(j * n + e, l))
        };
        update(io.proposed, live, |e, l| {
            io.state.get(e, l) + combine(&self.solution_weights, e, l)
        });
        if let (Some(wts), false) = (&self.error_weights, io.error.is_empty()) {
            let g = per_lane(w, |l| h[l] * self.gamma0);
            // The unfiltered estimate goes to `stage_state`, the filter's
            // right-hand side (which the solve clobbers).
            update(state.first(n), live, |e, l| {
                combine(wts, e, l) - g[l] * f0.get(e, l)
            });
            copy(state.first(n), io.error, live);
            if let Some(filter) = &self.filter
                && live.any()
            {
                let op = ShiftedJacobian {
                    sys,
                    t: per_lane(w, |l| rounded::<T>(io.t[l])),
                    state: io.state,
                    gh: g,
                };
                let lin = filter.solve(&op, state, io.error, arena, live);
                for l in live.lanes() {
                    if !lin[l].converged {
                        status[l].insert(Status::MAX_LINEAR_ITERATIONS);
                    }
                }
            }
        }
        for l in active.lanes() {
            reports[l] = StepReport {
                status: status[l],
                evaluations: evaluations[l],
                newton_iterations: outcome[l].iterations,
            };
        }
    }
}
