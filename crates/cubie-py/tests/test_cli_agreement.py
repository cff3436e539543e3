"""The Python package and the CLI solve the same problem to the same bits."""

import numpy as np

import cubie


def test_the_same_solve_gives_bit_identical_arrays(tmp_path, cli, lorenz_file):
    npz = tmp_path / "cli.npz"
    cli(
        "solve", lorenz_file, "--algorithm", "tsit5", "--sweep", "rho=0:28:48", "--sweep", "x=1,2",
        "--save-every", "0.05", "--duration", "2", "--atol", "1e-8", "--rtol", "1e-8",
        "--outputs", "state,observables,time,counters,mean,max,peaks[2]", "--summarise-every", "0.5",
        "--out", npz,
    )
    expected = cubie.open(npz)
    system = cubie.load_model(lorenz_file)
    result = cubie.solve_ivp(
        system,
        y0={"x": [1.0, 2.0]},
        parameters={"rho": np.linspace(0.0, 28.0, 48)},
        method="tsit5",
        duration=2.0,
        save_every=0.05,
        atol=1e-8,
        rtol=1e-8,
        output_types=["state", "observables", "time", "counters", "mean", "max", "peaks[2]"],
        summarise_every=0.5,
    )
    # The CLI's sweeps run in the order given: rho slowest, then x.
    order = np.lexsort((result.initial_values[:, 0], result.parameters[:, 0]))
    assert np.array_equal(result.parameters[order], expected.parameters)
    assert np.array_equal(result.initial_values[order], expected.initial_values)
    arrays, want = result.arrays(), expected.arrays()
    assert set(arrays) == set(want)
    for name, value in want.items():
        got = arrays[name]
        if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == 96 and name != "summary_labels":
            got = got[order]
        if isinstance(value, np.ndarray):
            assert got.dtype == value.dtype, name
            assert got.tobytes() == value.tobytes(), name
        else:
            assert list(got) == list(value), name
