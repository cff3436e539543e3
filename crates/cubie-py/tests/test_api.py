"""The entry points: systems, solvers, grids, solve_ivp and results."""

import pickle

import numpy as np
import pytest

import cubie


def test_systems_from_text_lists_and_files(lorenz, lorenz_file):
    assert [n for n, _ in lorenz.states] == ["x", "y", "z"]
    assert lorenz.parameters == [("rho", 21.0)]
    assert lorenz.observables == ["energy"]
    assert lorenz.precision == "float64"
    names_only = cubie.create_ODE_system(
        "dx = -a * x\ndy = x - y", states=["x", "y"], parameters=["a"], precision="float32"
    )
    assert names_only.states == [("x", 0.0), ("y", 0.0)]
    assert names_only.precision == "float32"
    loaded = cubie.load_model(lorenz_file)
    assert loaded.name == "lorenz"
    assert [n for n, _ in loaded.drivers] == ["stim"]
    assert "System(" in repr(loaded)


def test_systems_survive_pickling(lorenz, lorenz_file):
    for system in (lorenz, cubie.load_model(lorenz_file)):
        again = pickle.loads(pickle.dumps(system))
        assert again.states == system.states
        assert again.equations == system.equations
        a = cubie.solve_ivp(system, parameters={"rho": [5.0, 20.0]}, method="tsit5")
        b = cubie.solve_ivp(again, parameters={"rho": [5.0, 20.0]}, method="tsit5")
        assert np.array_equal(a.final_state, b.final_state)


def test_solve_ivp_matches_the_exact_solution(decay):
    k = np.array([0.5, 1.0, 2.0, 4.0])
    result = cubie.solve_ivp(
        decay, parameters={"k": k}, method="tsit5", duration=2.0, atol=1e-10, rtol=1e-10
    )
    assert result.n_runs == 4
    assert result.success.all()
    np.testing.assert_allclose(result.final_state[:, 0], np.exp(-2.0 * k), rtol=1e-8)
    assert result.final_state.dtype == np.float64


def test_outputs_shapes_labels_and_summaries(lorenz):
    result = cubie.solve_ivp(
        lorenz,
        y0={"x": [1.0, 2.0]},
        parameters={"rho": np.linspace(0, 28, 5)},
        method="tsit5",
        duration=1.0,
        save_every=0.1,
        output_types=["state", "observables", "time", "counters", "mean", "peaks[2]"],
        summarise_every=0.5,
    )
    assert result.state.shape == (10, 11, 3)
    assert result.observables.shape == (10, 11, 1)
    np.testing.assert_allclose(result.time, np.linspace(0, 1, 11), atol=1e-12)
    assert result.state_labels == ["x", "y", "z"]
    assert result.observable_labels == ["energy"]
    assert result.parameter_labels == ["rho"]
    assert result.counter_labels[0] == "accepted_steps"
    assert set(result.summaries) == {"mean", "peaks"}
    assert result.summaries["mean"].shape == (10, 2, 4)
    assert result.summaries["peaks"].shape == (10, 2, 4, 2)
    # The saved energy is x^2 + y^2 + z^2 of the saved state.
    np.testing.assert_allclose(result.observables[..., 0], (result.state**2).sum(axis=-1), rtol=1e-12)
    # Combinatorial: x varies slowest.
    assert list(result.initial_values[:, 0]) == [1.0] * 5 + [2.0] * 5
    assert result.attributes["algorithm"] == "tsit5"


def test_arrays_reach_numpy_without_a_copy(lorenz):
    result = cubie.solve_ivp(lorenz, parameters={"rho": [1.0, 2.0]}, save_every=0.5)
    state = result.state
    assert not state.flags.owndata
    # The base chain ends in the Rust vector's owner, not a numpy copy.
    base = state.base
    while isinstance(base, np.ndarray):
        assert not base.flags.owndata
        base = base.base
    assert base is not None


def test_a_solver_is_reused_and_precision_is_kept(lorenz):
    solver = cubie.Solver(lorenz, method="classical-rk4", dt=0.01, duration=0.5, precision="float32")
    assert solver.algorithm == "classical-rk4"
    assert solver.precision == "float32"
    first = solver.solve(parameters={"rho": [10.0, 20.0, 28.0]})
    second = solver.solve(parameters={"rho": [10.0, 20.0, 28.0]})
    assert first.final_state.dtype == np.float32
    assert np.array_equal(first.final_state, second.final_state)
    other = solver.solve(parameters={"rho": [5.0]})
    assert other.n_runs == 1


def test_grids_combinatorial_and_verbatim(lorenz):
    solver = cubie.Solver(lorenz, method="tsit5")
    y0, p = solver.build_grid({"x": [1.0, 2.0], "y": [0.5, 0.25]}, {"rho": [3.0, 4.0]})
    assert y0.shape == (8, 3) and p.shape == (8, 1)
    assert list(y0[:4, 0]) == [1.0] * 4
    y0, p = solver.build_grid({"x": [1.0, 2.0]}, {"rho": [3.0, 4.0]}, grid_type="verbatim")
    assert y0[:, 0].tolist() == [1.0, 2.0] and p[:, 0].tolist() == [3.0, 4.0]
    assert y0[:, 1].tolist() == [0.0, 0.0], "unlisted states keep their defaults"
    # Rows: every y0 row with every parameter row, or paired.
    rows = np.array([[1.0, 0.0, 0.0], [2.0, 1.0, 0.0]])
    y0, p = solver.build_grid(rows, {"rho": [3.0, 4.0, 5.0]})
    assert y0.shape == (6, 3) and p[:, 0].tolist() == [3.0, 4.0, 5.0] * 2
    y0, p = solver.build_grid(rows, np.array([[7.0], [8.0]]), grid_type="verbatim")
    assert p[:, 0].tolist() == [7.0, 8.0] and y0[1, 0] == 2.0
    # Arrays and the equivalent dicts solve to the same bits.
    a = solver.solve(rows, np.array([[7.0], [8.0]]), grid_type="verbatim")
    b = solver.solve({"x": [1.0, 2.0], "y": [0.0, 1.0]}, {"rho": [7.0, 8.0]}, grid_type="verbatim")
    assert np.array_equal(a.final_state, b.final_state)


def test_drivers_change_the_solution():
    system = cubie.create_ODE_system("dx = -x + u", states={"x": 0.0}, drivers={"u": 0.0})
    times = np.linspace(0.0, 1.0, 11)
    still = cubie.solve_ivp(system, method="tsit5", duration=1.0)
    driven = cubie.solve_ivp(system, method="tsit5", duration=1.0, drivers={"time": times, "u": np.ones(11)})
    assert still.final_state[0, 0] == 0.0
    np.testing.assert_allclose(driven.final_state[0, 0], 1 - np.exp(-1.0), rtol=1e-4)
    with pytest.raises(cubie.SolveError, match="not a driver"):
        cubie.solve_ivp(system, drivers={"time": times, "v": np.ones(11)})


def test_as_pandas_and_to_xarray(lorenz):
    result = cubie.solve_ivp(
        lorenz,
        parameters={"rho": [10.0, 20.0, 28.0]},
        method="tsit5",
        save_every=0.25,
        output_types=["state", "observables", "time", "counters", "max"],
        summarise_every=0.5,
    )
    frame = result.as_pandas()
    assert frame.shape == (3 * 5, 4)
    assert list(frame.columns) == ["x", "y", "z", "energy"]
    assert frame.index.names == ["run", "time"]
    assert frame.loc[(2, 1.0), "x"] == result.state[2, 4, 0]
    ds = result.to_xarray()
    assert ds["state"].dims == ("run", "time", "variable")
    assert list(ds["variable"].values) == ["x", "y", "z"]
    assert ds["state"].sel(variable="z", run=1).values[-1] == result.state[1, -1, 2]
    assert ds.attrs["algorithm"] == "tsit5"
    assert ds.attrs["save_every"] == 0.25
    assert ds["summary_max"].dims == ("run", "summary_time", "summarised")
    finals = cubie.solve_ivp(lorenz, parameters={"rho": [10.0, 20.0]}).as_pandas()
    assert list(finals.columns[:4]) == ["initial_x", "initial_y", "initial_z", "rho"]
    assert "final_z" in finals.columns and "status" in finals.columns


def test_progress_bars_report_every_run(lorenz, capsys):
    seen = []
    solver = cubie.Solver(lorenz, method="tsit5", duration=1.0)
    y0, p = solver.build_grid(parameters={"rho": np.linspace(0, 28, 256)})
    solver._engine.solve(y0, p, seen.append)
    assert seen and seen[-1] == 256
    assert seen == sorted(seen)
    result = solver.solve(parameters={"rho": np.linspace(0, 28, 64)}, progress=True)
    assert result.n_runs == 64
    assert "64" in capsys.readouterr().err


def test_open_reads_what_the_cli_wrote(tmp_path, cli, lorenz_file):
    npz = tmp_path / "l.npz"
    zarr = tmp_path / "l.zarr"
    common = ["solve", lorenz_file, "--algorithm", "tsit5", "--sweep", "rho=0:21:40", "--save-every", "0.25"]
    cli(*common, "--out", npz)
    cli(*common, "--out", zarr, "--chunk-runs", "16")
    a, b = cubie.open(npz), cubie.open(zarr)
    assert a.state.shape == (40, 5, 3)
    for name in ("state", "final_state", "status", "time", "parameters", "counters"):
        assert np.array_equal(a.arrays()[name], b.arrays()[name]), name
    assert a.state_labels == b.state_labels == ["x", "y", "z"]
    assert b.attributes["algorithm"] == "tsit5"
    with pytest.raises(cubie.SolveError, match="cannot open"):
        cubie.open(tmp_path / "l.csv")


def test_help_reads_well():
    for item in (cubie.solve_ivp, cubie.Solver, cubie.create_ODE_system, cubie.SolveResult, cubie.open):
        assert item.__doc__ and len(item.__doc__) > 80, item
    assert "save_every" in cubie.solve_ivp.__doc__


def test_the_docstring_examples_run():
    import doctest

    import cubie._result
    import cubie._solver
    import cubie._system

    for module in (cubie, cubie._system, cubie._solver, cubie._result):
        failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert failures == 0, module.__name__
