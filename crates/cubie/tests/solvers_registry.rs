//! The solvers as registry components: Newton hosts its linear solver,
//! totals roll up, the report shows the owner chain, and results do not
//! depend on where buffers live.

// Dense-matrix index arithmetic reads clearer as index loops.
#![allow(clippy::needless_range_loop)]

use std::cell::Cell;

use cubie::Precision;
use cubie::backend::cpu::CpuForm;
use cubie::backend::cpu::solvers::NonlinearProblem;
use cubie::memory::{BufferRegistry, BufferSpec, Component, LaneBuf, LaneMask, LaneView, Region};
use cubie::settings::SettingsMap;
use cubie::solvers::{
    LinearSolverKind, LinearSolverSettings, NewtonComponent, NewtonSettings, NewtonSpec,
    PreconditionerKind,
};

const N: usize = 3;

/// Backward-Euler step of Robertson's problem, h = 1, from near the
/// solution at t = 40.
struct RobertsonStep;

const H: f64 = 1.0;
const Y0: [f64; 3] = [0.7158271, 9.185535e-6, 0.284163714465];

impl RobertsonStep {
    fn jac(y: &[f64]) -> [f64; 9] {
        let j = [
            -0.04,
            1e4 * y[2],
            1e4 * y[1],
            0.04,
            -6e7 * y[1] - 1e4 * y[2],
            -1e4 * y[1],
            0.0,
            6e7 * y[1],
            0.0,
        ];
        let mut g = [0.0; 9];
        for k in 0..9 {
            g[k] = if k / 3 == k % 3 { 1.0 } else { 0.0 } - H * j[k];
        }
        g
    }
    fn vals(x: LaneView<'_, f64>) -> [f64; 3] {
        [x[0].get(), x[1].get(), x[2].get()]
    }
}

/// One lane's problem; the solver runs it in a block of one lane.
impl NonlinearProblem<f64> for RobertsonStep {
    fn residual(&self, x: LaneBuf<'_, f64>, out: LaneBuf<'_, f64>, _: LaneMask) {
        let (x, out) = (x.lane(0), out.lane(0));
        let y = Self::vals(x);
        let f = [
            -0.04 * y[0] + 1e4 * y[1] * y[2],
            0.04 * y[0] - 3e7 * y[1] * y[1] - 1e4 * y[1] * y[2],
            3e7 * y[1] * y[1],
        ];
        for i in 0..3 {
            out[i].set(y[i] - Y0[i] - H * f[i]);
        }
    }
    fn jacobian_apply(
        &self,
        x: LaneBuf<'_, f64>,
        v: LaneBuf<'_, f64>,
        out: LaneBuf<'_, f64>,
        _: LaneMask,
    ) {
        let (v, out) = (v.lane(0), out.lane(0));
        let g = Self::jac(&Self::vals(x.lane(0)));
        for i in 0..3 {
            out[i].set((0..3).map(|k| g[i * 3 + k] * v[k].get()).sum());
        }
    }
    fn jacobian_diagonal(&self, x: LaneBuf<'_, f64>, out: LaneBuf<'_, f64>, _: LaneMask) {
        let out = out.lane(0);
        let g = Self::jac(&Self::vals(x.lane(0)));
        for i in 0..3 {
            out[i].set(g[i * 4]);
        }
    }
    fn jacobian_dense(&self, x: LaneBuf<'_, f64>, out: LaneBuf<'_, f64>, _: LaneMask) {
        for (o, g) in out.lane(0).iter().zip(Self::jac(&Self::vals(x.lane(0)))) {
            o.set(g);
        }
    }
}

/// kernel → step (own `stage_rhs`) → newton → linear_solver.
fn tree(
    linear: LinearSolverSettings,
) -> (BufferRegistry, cubie::memory::ComponentId, NewtonComponent) {
    let mut reg = BufferRegistry::new(Precision::F64);
    let kernel = reg.add_component("kernel", None).expect("kernel");
    let step = reg.add_component("step", Some(kernel)).expect("step");
    reg.register(step, BufferSpec::shared("stage_rhs", N))
        .expect("stage_rhs");
    let newton = NewtonComponent::register(
        &mut reg,
        Some(step),
        NewtonSpec {
            n: N,
            settings: NewtonSettings::default(),
            linear,
        },
    )
    .expect("newton");
    (reg, kernel, newton)
}

fn bicgstab_jacobi() -> LinearSolverSettings {
    LinearSolverSettings {
        kind: LinearSolverKind::Bicgstab,
        preconditioner: PreconditionerKind::Jacobi,
        krylov_tolerance: 1e-13,
        ..Default::default()
    }
}

#[test]
fn newton_totals_include_its_linear_solver() {
    let (mut reg, kernel, mut newton) = tree(LinearSolverSettings::default());
    let (nid, lid) = (newton.id(), newton.linear().id());
    // minimal_residual: preconditioned_vec + temp.
    assert_eq!(reg.shared_elements(lid), Ok(2 * N));
    assert_eq!(reg.shared_elements(nid), Ok(4 * N + 2 * N));
    let hosted = reg.placement(nid, "linear_solver_shared").expect("hosted");
    assert_eq!(
        (hosted.region, hosted.offset, hosted.size),
        (Region::Shared, 4 * N, 2 * N)
    );
    assert_eq!(reg.shared_elements(kernel), Ok(N + 6 * N));

    // Another kind, other totals, all the way up.
    newton
        .reconfigure_linear(
            &mut reg,
            LinearSolverSettings {
                kind: LinearSolverKind::Lu,
                ..Default::default()
            },
        )
        .expect("lu");
    assert_eq!(reg.shared_elements(nid), Ok(4 * N + N * N + N));
    assert_eq!(reg.shared_elements(kernel), Ok(N + 4 * N + N * N + N));
    newton
        .reconfigure_linear(&mut reg, bicgstab_jacobi())
        .expect("bicgstab");
    assert_eq!(reg.shared_elements(kernel), Ok(N + 4 * N + 6 * N));

    // The layout report names the chain.
    let report = reg.report().expect("report");
    let owners: Vec<&str> = report.rows.iter().map(|r| r.owner.as_str()).collect();
    assert!(
        owners.contains(&"kernel/step/newton/linear_solver"),
        "{owners:?}"
    );
    let row = report
        .rows
        .iter()
        .find(|r| r.owner == "kernel/step/newton/linear_solver" && r.name == "bicg_p")
        .expect("bicg_p row");
    // Newton's slice starts after stage_rhs, the solver's after Newton's 4n.
    assert_eq!(row.arena_offset, N + 4 * N + N);
    assert!(
        report
            .to_string()
            .contains("kernel/step/newton/linear_solver")
    );
}

fn solve(
    reg: &BufferRegistry,
    kernel: cubie::memory::ComponentId,
    newton: &NewtonComponent,
) -> (Vec<u64>, u32, u32) {
    let solver = newton.cpu::<f64>(reg).expect("build");
    let arena = reg.new_arena::<f64>(kernel).expect("arena");
    let x: Vec<Cell<f64>> = Y0.iter().map(|&v| Cell::new(v)).collect();
    let out = solver.solve(
        &RobertsonStep,
        LaneBuf::scalar(&x),
        &arena,
        LaneMask::lane(0),
    )[0];
    assert!(out.converged(), "{out:?}");
    (
        x.iter().map(|c| c.get().to_bits()).collect(),
        out.iterations,
        out.linear_iterations,
    )
}

#[test]
fn all_shared_and_all_local_give_bit_identical_results() {
    for linear in [
        bicgstab_jacobi(),
        LinearSolverSettings {
            kind: LinearSolverKind::Lu,
            ..Default::default()
        },
        LinearSolverSettings {
            kind: LinearSolverKind::MinimalResidual,
            // Neumann's series diverges at h·‖J‖ ≈ 1e4; Jacobi copes.
            preconditioner: PreconditionerKind::Jacobi,
            preconditioner_order: 1,
            krylov_tolerance: 1e-13,
            krylov_max_iters: 1000,
        },
    ] {
        let (reg, kernel, newton) = tree(linear);
        let shared = solve(&reg, kernel, &newton);

        let (mut reg, kernel, newton) = tree(linear);
        let keys = newton.location_keys(&reg).expect("keys");
        assert!(keys.contains(&"delta_location".to_string()));
        let pairs: Vec<String> = keys.iter().map(|k| format!("{k}=local")).collect();
        let map = SettingsMap::from_pairs(&pairs).expect("pairs");
        newton.apply_locations(&mut reg, &map).expect("locations");
        map.check_all_known().expect("every location key routed");
        assert_eq!(reg.shared_elements(newton.id()), Ok(0), "{:?}", linear.kind);
        assert!(reg.subtree_local_elements(newton.id()).expect("local") >= 4 * N);
        let local = solve(&reg, kernel, &newton);
        assert_eq!(shared, local, "{:?}", linear.kind);
    }
}

#[test]
fn unknown_location_keys_are_left_for_the_caller_to_report() {
    let (mut reg, _, newton) = tree(LinearSolverSettings::default());
    let map =
        SettingsMap::from_pairs(&["delta_location=local", "deltaa_location=local"]).expect("pairs");
    newton.apply_locations(&mut reg, &map).expect("apply");
    assert_eq!(
        reg.location(newton.id(), "delta"),
        Ok(cubie::memory::Location::Local)
    );
    let err = map.check_all_known().expect_err("typo");
    assert!(
        err.to_string().contains("deltaa_location") && err.to_string().contains("temp_location")
    );
    let bad = SettingsMap::from_pairs(&["temp_location=gpu"]).expect("pairs");
    assert!(newton.apply_locations(&mut reg, &bad).is_err());
}
