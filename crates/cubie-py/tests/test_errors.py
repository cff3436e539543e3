"""Bad input is a Python exception (a ValueError) with the CLI's message;
nothing panics."""

import numpy as np
import pytest

import cubie


def test_a_malformed_equation_has_the_clis_message_line_and_column(tmp_path, cli):
    text = "dx = sigma * (y - x)\ndy = x * (rho - z) - y\ndz = x * y - beta *\n"
    with pytest.raises(cubie.ModelError) as info:
        cubie.create_ODE_system(
            text, states=["x", "y", "z"], parameters=["rho"], constants={"sigma": 10, "beta": 2}
        )
    error = info.value
    assert isinstance(error, ValueError)
    assert (error.line, error.column) == (3, 20)
    assert error.file is None
    assert "^" in str(error)
    # The same model as a file: the CLI's `check` prints the same text.
    model = tmp_path / "bad.toml"
    model.write_text(
        'equations = """\n' + text + '"""\n[states]\nx = 1\ny = 0\nz = 0\n[parameters]\nrho = 1\n'
        "[constants]\nsigma = 10\nbeta = 2\n"
    )
    with pytest.raises(cubie.ModelError) as from_file:
        cubie.load_model(model)
    out = cli("check", model, check=False)
    assert out.returncode != 0
    assert str(from_file.value) in out.stderr
    assert from_file.value.file == str(model)
    assert from_file.value.line == 4


def test_unknown_names_are_errors(lorenz):
    with pytest.raises(cubie.SolveError, match="unknown algorithm `nope`"):
        cubie.solve_ivp(lorenz, method="nope")
    with pytest.raises(cubie.SolveError, match="unknown setting `frobnicate`"):
        cubie.solve_ivp(lorenz, frobnicate=3)
    with pytest.raises(cubie.SolveError, match="not one of the system's parameters"):
        cubie.solve_ivp(lorenz, parameters={"sigma": [1.0]})
    with pytest.raises(cubie.SolveError, match="grid_type"):
        cubie.solve_ivp(lorenz, grid_type="diagonal")
    with pytest.raises(cubie.SolveError, match="backend"):
        cubie.solve_ivp(lorenz, backend="tpu")
    with pytest.raises(cubie.SolveError, match="cannot read model file"):
        cubie.load_model("no/such/model.toml")


def test_wrong_shapes_and_values_are_errors(lorenz):
    with pytest.raises(cubie.SolveError, match=r"shape \(runs, 3\)"):
        cubie.solve_ivp(lorenz, y0=np.zeros((4, 2)))
    with pytest.raises(cubie.SolveError, match="1-D"):
        cubie.solve_ivp(lorenz, parameters={"rho": np.zeros((2, 2))})
    with pytest.raises(cubie.SolveError, match="`rho` is NaN in run 1"):
        cubie.solve_ivp(lorenz, parameters={"rho": [1.0, np.nan]})
    with pytest.raises(cubie.SolveError, match="`x` is inf"):
        cubie.solve_ivp(lorenz, y0=np.array([[np.inf, 0.0, 0.0]]))
    with pytest.raises(cubie.SolveError, match="verbatim"):
        cubie.solve_ivp(lorenz, y0=np.zeros((2, 3)), parameters=np.zeros((3, 1)), grid_type="verbatim")
    with pytest.raises(cubie.SolveError):
        cubie.solve_ivp(lorenz, parameters={"rho": [1.0, 2.0]}, y0={"x": [1.0]}, grid_type="verbatim")
    with pytest.raises(cubie.SolveError):
        cubie.solve_ivp(lorenz, duration=-1.0)
    with pytest.raises(cubie.SolveError):
        cubie.solve_ivp(lorenz, atol="tight")
    with pytest.raises(cubie.ModelError, match="no numeric value"):
        cubie.create_ODE_system("dx = -x", states={"x": "one"})


def test_failed_runs_are_statuses_not_exceptions():
    blow_up = cubie.create_ODE_system("dx = k * x^2", states={"x": 1.0}, parameters={"k": 1.0})
    result = cubie.solve_ivp(blow_up, parameters={"k": [0.0, 10.0]}, method="tsit5", duration=1.0)
    assert result.status[0] == 0
    assert result.status[1] != 0
    flags = [name for bit, name in cubie.STATUS_FLAGS.items() if result.status[1] & bit]
    assert flags
