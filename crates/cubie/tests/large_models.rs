//! Models with tens of thousands of states: the front end's time and
//! memory follow the size of the equations, not `n_states^2`. The
//! Jacobian-vector product is a forward-mode pass, the Jacobian is built
//! only on request and only its non-zeros, and a dense linear solver
//! that cannot hold its `n x n` matrix is refused before it is built.

mod model_support;

use cubie::batch::{GridKind, Sweep};
use cubie::kernel::{KernelError, MemoryError};
use cubie::system::Model;
use cubie::system::SystemFunction;
use cubie::system::args::Inputs;
use cubie::system::eval::Evaluator;
use cubie::time_loop::LoopSettings;
use cubie::{SolveError, Solver, SolverSettings};
use model_support::Rng;

const N: usize = 20_000;

/// `dx_i = -x_i`.
fn diagonal(n: usize) -> Model {
    let equations: String = (0..n).map(|i| format!("dx{i} = -x{i}\n")).collect();
    let states: Vec<(String, f64)> = (0..n).map(|i| (format!("x{i}"), 1.0)).collect();
    Model::builder(equations)
        .states(states)
        .build()
        .unwrap_or_else(|e| panic!("{}", e.render()))
}

/// `dx_i = k (x_{i-1} - 2 x_i + x_{i+1}) - x_i^3`, with zero ends.
fn banded(n: usize) -> Model {
    let x = |i: usize| format!("x{i}");
    let equations: String = (0..n)
        .map(|i| {
            let left = if i > 0 { x(i - 1) } else { "0".into() };
            let right = if i + 1 < n { x(i + 1) } else { "0".into() };
            format!("dx{i} = k * ({left} - 2 * x{i} + {right}) - x{i}^3\n")
        })
        .collect();
    let states: Vec<(String, f64)> = (0..n).map(|i| (x(i), 0.5)).collect();
    Model::builder(equations)
        .states(states)
        .parameters([("k", 0.5)])
        .build()
        .unwrap_or_else(|e| panic!("{}", e.render()))
}

#[test]
fn a_diagonal_model_of_twenty_thousand_states_stays_linear() {
    let model = diagonal(N);
    let f = model.functions();
    assert!(
        f.jacobian.is_none(),
        "the Jacobian is built only on request"
    );
    // States, their negations and the directions' negations.
    assert!(
        f.graph.len() <= 4 * N + 8,
        "graph of {} nodes",
        f.graph.len()
    );
    assert_eq!(model.jacobian_nonzeros(), N);

    let with = model.functions_with_jacobian();
    let jacobian = with.jacobian.as_ref().expect("built");
    assert_eq!(jacobian.len(), N);
    for (k, (&(i, j), &value)) in jacobian
        .positions()
        .iter()
        .zip(jacobian.values())
        .enumerate()
    {
        assert_eq!((i as usize, j as usize), (k, k));
        assert_eq!(with.graph.const_value(value), Some(-1.0));
    }
    assert!(with.graph.len() <= f.graph.len() + 8);

    let mut rng = Rng::new(3);
    let state: Vec<f64> = (0..N).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let direction: Vec<f64> = (0..N).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let mut eval = Evaluator::<f64>::new(f).expect("valid");
    let mut jvp = vec![0.0; N];
    let inputs = Inputs::new(0.0, &state, &[]).with_direction(&direction);
    eval.eval(SystemFunction::Jvp, &inputs, &mut jvp[..])
        .expect("lengths");
    let expected: Vec<f64> = direction.iter().map(|v| -v).collect();
    assert_eq!(jvp, expected);
}

#[test]
fn a_banded_model_has_the_banded_jacobian_and_its_product() {
    let model = banded(N);
    assert_eq!(model.jacobian_nonzeros(), 3 * N - 2);
    let f = model.functions_with_jacobian();
    let jacobian = f.jacobian.as_ref().expect("built");
    assert_eq!(jacobian.len(), 3 * N - 2);
    assert!(
        jacobian
            .positions()
            .iter()
            .all(|&(i, j)| i.abs_diff(j) <= 1)
    );

    let k = 0.5;
    let mut rng = Rng::new(5);
    let state: Vec<f64> = (0..N).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let direction: Vec<f64> = (0..N).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let mut eval = Evaluator::<f64>::new(f).expect("valid");
    let parameters = [k];
    let inputs = Inputs::new(0.0, &state, &parameters).with_direction(&direction);
    let mut jvp = vec![0.0; N];
    eval.eval(SystemFunction::Jvp, &inputs, &mut jvp[..])
        .expect("lengths");
    // J v = k (v_{i-1} - 2 v_i + v_{i+1}) - 3 x_i^2 v_i.
    for i in 0..N {
        let left = if i > 0 { direction[i - 1] } else { 0.0 };
        let right = if i + 1 < N { direction[i + 1] } else { 0.0 };
        let exact =
            k * (left - 2.0 * direction[i] + right) - 3.0 * state[i] * state[i] * direction[i];
        assert!(
            (jvp[i] - exact).abs() <= 1e-13,
            "row {i}: {} vs {exact}",
            jvp[i]
        );
    }
    // The entries themselves, at a few rows.
    let support = model_support::Inputs {
        states: state.clone(),
        parameters: vec![k],
        ..Default::default()
    };
    let values = model_support::eval(&f.graph, jacobian.values(), &support);
    for (&(i, j), v) in jacobian.positions().iter().zip(values).take(8) {
        let (i, j) = (i as usize, j as usize);
        let exact = if i == j {
            -2.0 * k - 3.0 * state[i] * state[i]
        } else {
            k
        };
        assert!((v - exact).abs() <= 1e-14, "J[{i}][{j}] = {v}, not {exact}");
    }
}

fn short_solve(algorithm: &str, named: &[&str], memory_limit: Option<u64>) -> SolverSettings {
    SolverSettings {
        algorithm: algorithm.parse().unwrap(),
        time: LoopSettings {
            duration: 0.1,
            save_every: None,
            ..LoopSettings::default()
        },
        named: named.iter().map(|s| s.to_string()).collect(),
        memory_limit,
        ..SolverSettings::default()
    }
}

#[test]
fn large_models_solve_explicitly_and_matrix_free() {
    let model = diagonal(N);
    for (algorithm, named) in [
        ("tsit5", &[][..]),
        (
            "backwards_euler",
            &["linear_solver=bicgstab", "preconditioner=none"][..],
        ),
    ] {
        let solver = Solver::new(&model, &short_solve(algorithm, named, None))
            .unwrap_or_else(|e| panic!("{algorithm}: {e}"));
        let runs = solver
            .grid(&[Sweep::new("x0", vec![1.0, 2.0])], GridKind::Combinatorial)
            .expect("grid");
        let result = solver.solve(&runs).expect("solves");
        assert_eq!(result.status(), &[0, 0], "{algorithm}");
        let last = result.final_state();
        assert_eq!(last.len(), 2 * N);
        // x(0.1) = x0 exp(-0.1); backward Euler's default step is coarse.
        let tolerance = if algorithm == "tsit5" { 1e-6 } else { 1e-2 };
        for (run, x0) in [(0, 1.0), (1, 2.0)] {
            let exact = x0 * (-0.1f64).exp();
            let got = last[run * N];
            assert!(
                (got - exact).abs() <= tolerance * x0,
                "{algorithm}: {got} vs {exact}"
            );
            let other = last[run * N + N - 1];
            assert!(
                (other - (-0.1f64).exp()).abs() <= tolerance,
                "{algorithm}: {other}"
            );
        }
    }
}

#[test]
fn a_dense_jacobian_that_does_not_fit_is_refused_with_the_way_out() {
    let n = 2_000;
    let model = diagonal(n);
    // The LU matrix alone is 2000^2 x 8 bytes = 30.5 MiB.
    let settings = short_solve("backwards_euler", &["linear_solver=lu"], Some(16 << 20));
    match Solver::new(&model, &settings) {
        Err(SolveError::Kernel(KernelError::Memory(e @ MemoryError::WorkingMemory { .. }))) => {
            let text = e.to_string();
            assert!(text.contains("2000 x 2000"), "{text}");
            assert!(text.contains("bicgstab"), "{text}");
            assert!(
                text.contains("16 MiB") || text.contains("16.0 MiB"),
                "{text}"
            );
        }
        other => panic!("expected a working-memory refusal, got {other:?}"),
    }
    // The same solve, matrix-free, fits, the Jacobi preconditioner
    // included: it reads the Jacobian's diagonal alone.
    for preconditioner in ["preconditioner=none", "preconditioner=jacobi"] {
        let free = short_solve(
            "backwards_euler",
            &["linear_solver=bicgstab", preconditioner],
            Some(16 << 20),
        );
        Solver::new(&model, &free)
            .unwrap_or_else(|e| panic!("{preconditioner}: a matrix-free solve fits: {e}"));
    }
}

#[test]
fn the_jacobi_preconditioner_reads_the_diagonal_of_a_large_model() {
    let model = banded(N);
    let f = model.functions_with_jacobian();
    let jacobian = f.jacobian.as_ref().expect("built");
    assert_eq!(jacobian.diagonal_rows().len(), N);
    let mut eval = Evaluator::<f64>::new(f).expect("valid");
    let state: Vec<f64> = (0..N).map(|i| (i as f64 / N as f64) - 0.5).collect();
    let parameters = [0.5];
    let mut diagonal = vec![0.0; N];
    eval.eval(
        SystemFunction::JacobianDiagonal,
        &Inputs::new(0.0, &state, &parameters),
        &mut diagonal[..],
    )
    .expect("lengths");
    for (i, d) in diagonal.iter().enumerate() {
        let exact = -2.0 * 0.5 - 3.0 * state[i] * state[i];
        assert!((d - exact).abs() <= 1e-14, "J[{i}][{i}] = {d}, not {exact}");
    }
    // A stiff solve preconditioned by it (a smaller model: the point is
    // the path, which the size does not change).
    let model = banded(2_000);
    let settings = short_solve(
        "radau_iia_5",
        &["linear_solver=bicgstab", "preconditioner=jacobi"],
        None,
    );
    let solver = Solver::new(&model, &settings).expect("builds");
    let runs = solver
        .grid(&[Sweep::new("k", vec![0.5])], GridKind::Combinatorial)
        .expect("grid");
    let result = solver.solve(&runs).expect("solves");
    assert_eq!(result.status(), &[0]);
}

#[test]
fn streamed_native_code_matches_the_evaluator_and_may_alias_its_inputs() {
    use cubie::backend::cpu::jit::{JitOptions, NativeSystem, STREAMING_NODES};
    use std::cell::Cell;

    let n = 600;
    let model = banded(n);
    let f = model.functions_with_jacobian();
    // Without power expansion the native code is bit-identical.
    let exact = JitOptions {
        expand_integer_powers: false,
    };
    let native = NativeSystem::<f64>::compile_with(f, &exact).expect("compiles");
    assert!(
        native.stack_bytes() >= n * 8,
        "streamed functions park outputs"
    );
    let mut eval = Evaluator::<f64>::new(f).expect("valid");
    let mut rng = Rng::new(9);
    let state: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let direction: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let parameters = [0.5];
    let inputs = Inputs::new(0.0, &state, &parameters).with_direction(&direction);
    for function in [
        SystemFunction::Dxdt,
        SystemFunction::Jvp,
        SystemFunction::Jacobian,
        SystemFunction::JacobianDiagonal,
    ] {
        let schedule = native.schedule().function(function);
        assert!(
            schedule.nodes().len() > STREAMING_NODES,
            "{function:?} is streamed"
        );
        let len = native.n_outputs(function);
        let mut expected = vec![f64::NAN; len];
        let mut got = vec![f64::NAN; len];
        eval.eval(function, &inputs, &mut expected[..])
            .expect("lengths");
        native
            .call(function, &inputs, &mut got[..])
            .expect("lengths");
        let same = expected
            .iter()
            .zip(&got)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{function:?} differs from the evaluator");
    }
    // dxdt written over the state it reads sees the state from before.
    let mut expected = vec![0.0; n];
    native
        .dxdt(0.0, &state[..], &parameters[..], &[], &mut expected[..])
        .expect("lengths");
    let mut arena = state.clone();
    let cells = Cell::from_mut(&mut arena[..]).as_slice_of_cells();
    native
        .dxdt(0.0, cells, &parameters[..], &[], cells)
        .expect("lengths");
    assert_eq!(arena, expected);
}
