"""Sweeps on a Dask LocalCluster of two workers: the store holds what a
single-process solve gives, bit for bit, also when shards fail and are
retried."""

import os

import numpy as np
import pytest

import cubie

distributed = pytest.importorskip("dask.distributed")
pytest.importorskip("zarr")

import cubie.distributed as cd  # noqa: E402

SETTINGS = dict(method="tsit5", duration=1.0, save_every=0.1, atol=1e-8, rtol=1e-8)


@pytest.fixture(scope="module")
def fault_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="module")
def client(fault_dir):
    # Workers inherit the environment: shards of stores whose name holds
    # "faulty" fail once after their first chunk (see `cd.FAULT_VARIABLE`).
    os.environ[cd.FAULT_VARIABLE] = str(fault_dir)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()
    del os.environ[cd.FAULT_VARIABLE]


def assert_identical(a, b):
    for name, value in b.arrays().items():
        if isinstance(value, np.ndarray):
            assert a.arrays()[name].tobytes() == value.tobytes(), name
        else:
            assert list(a.arrays()[name]) == list(value), name


def test_a_sweep_on_two_workers_is_bit_identical_with_one_process(client, lorenz, tmp_path, fault_dir):
    params = {"rho": np.linspace(0, 28, 300)}
    y0 = {"x": [1.0, -1.0]}
    local = cubie.solve_ivp(lorenz, y0=y0, parameters=params, **SETTINGS)
    store = tmp_path / "faulty.zarr"
    result = cd.solve(client, lorenz, y0, params, store=str(store), chunk_runs=64, shards=4, **SETTINGS)
    assert result.n_runs == 600
    assert_identical(result, local)
    # Every shard failed once after its first chunk, and was retried.
    assert len(os.listdir(fault_dir)) == 4
    # A second call on the complete store solves nothing and agrees.
    again = cd.solve(client, lorenz, y0, params, store=str(store), chunk_runs=64, shards=4, **SETTINGS)
    assert_identical(again, local)


def test_rows_and_a_store_of_another_solve(client, lorenz, tmp_path):
    rows = np.column_stack([np.linspace(1, 2, 50), np.zeros(50), np.zeros(50)])
    params = np.linspace(5, 25, 50)[:, None]
    local = cubie.solve_ivp(lorenz, y0=rows, parameters=params, grid_type="verbatim", **SETTINGS)
    store = tmp_path / "rows.zarr"
    result = cd.solve(client, lorenz, rows, params, store=str(store), grid_type="verbatim", chunk_runs=16, **SETTINGS)
    assert_identical(result, local)
    with pytest.raises(Exception, match="different solve"):
        cd.solve(client, lorenz, rows, params, store=str(store), grid_type="verbatim", chunk_runs=16,
                 **{**SETTINGS, "duration": 2.0}, retries=0)
