"""Sweeps larger than one machine, on a Dask cluster.

The batch is cut into the chunks and shards of ``cubie solve --shard``;
each shard is one Dask task that solves its chunks (with every core of its
worker) into a shared Zarr store. A chunk appears in the store whole or not
at all, and a shard skips the chunks already whole, so a task that fails
or whose worker is lost is simply run again by Dask (``retries``): no run
is lost or written twice. The store records everything that determines
the results, and a shard of a different solve is refused.

>>> from dask.distributed import Client, LocalCluster  # doctest: +SKIP
>>> import cubie, cubie.distributed, numpy as np  # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2))  # doctest: +SKIP
>>> lorenz = cubie.load_model("examples/lorenz.toml")  # doctest: +SKIP
>>> result = cubie.distributed.solve(  # doctest: +SKIP
...     client, lorenz, parameters={"rho": np.linspace(0, 28, 1_000_000)},
...     method="tsit5", duration=1.0, store="lorenz.zarr")
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from typing import Any, Mapping, Optional

import numpy as np

from . import _cubie
from ._result import SolveResult, open as open_result
from ._solver import Inputs, Solver, _as_sweeps

#: A test hook. Set in the workers' environment to a folder, it makes each
#: shard of a store whose name starts with ``faulty`` fail once, after
#: writing its first chunk (leaving a marker file in the folder), so that
#: tests can watch Dask retry it. Never set it otherwise.
FAULT_VARIABLE = "CUBIE_DISTRIBUTED_FAULT"


def _identity(system: _cubie.System, solver: Solver, grid: Any) -> str:
    """Everything that determines the results, as JSON, for the store."""
    model = system.source_text or json.dumps(
        {
            "equations": system.equations,
            "states": system.states,
            "parameters": system.parameters,
            "constants": system.constants,
            "observables": system.observables,
            "drivers": system.drivers,
            "precision": system.precision,
        }
    )
    settings = {k: v for k, v in solver._engine_settings.items()}
    return json.dumps(
        {
            "cubie_version": _cubie.__version__,
            "model": model,
            "algorithm": solver.algorithm,
            "precision": solver.precision,
            "settings": json.dumps(settings, sort_keys=True, default=str),
            "grid": grid,
        }
    )


def _grid_digest(initial_values: np.ndarray, parameters: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in (initial_values, parameters):
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    return digest.hexdigest()


def _solve_shard(
    system: _cubie.System,
    method: Optional[str],
    settings: Mapping[str, Any],
    store: str,
    identity: str,
    chunk_runs: int,
    chunks: tuple[int, int],
    grid: Mapping[str, Any],
) -> tuple[int, int]:
    """One Dask task: the chunks of one shard into the store."""
    solver = Solver(system, method, **settings)
    first, end = chunks

    def run(span: tuple[int, int]) -> tuple[int, int]:
        if "sweeps" in grid:
            return solver._engine.solve_to_store(
                store, identity, chunk_runs, span, sweeps=grid["sweeps"], kind=grid["kind"]
            )
        return solver._engine.solve_to_store(
            store,
            identity,
            chunk_runs,
            span,
            initial_values=grid["initial_values"],
            parameters=grid["parameters"],
        )

    fault = os.environ.get(FAULT_VARIABLE)
    name = os.path.basename(store.rstrip("/"))
    if fault and name.startswith("faulty") and end > first:
        marker = os.path.join(fault, f"{name}-chunks-{first}-{end}")
        if not os.path.exists(marker):
            run((first, first + 1))
            with open(marker, "w") as f:
                f.write("failed once\n")
            raise RuntimeError(f"injected failure of the shard of chunks {first}..{end}")
    return run((first, end))


def solve(
    client,
    system: _cubie.System,
    y0: Inputs = None,
    parameters: Inputs = None,
    *,
    store: str,
    method: Optional[str] = None,
    grid_type: str = "combinatorial",
    shards: Optional[int] = None,
    chunk_runs: Optional[int] = None,
    retries: int = 3,
    **settings: Any,
) -> SolveResult:
    """Solve a sweep on a Dask cluster into the Zarr store `store`, and
    open the result.

    Parameters
    ----------
    client:
        A ``dask.distributed.Client``.
    system, y0, parameters, method, grid_type, **settings:
        As for `cubie.solve_ivp` (``drivers`` and ``progress`` excepted).
    store:
        A ``.zarr`` path every worker can write (a shared filesystem). An
        existing store of the same solve is completed, not redone.
    shards:
        Dask tasks (default: two per worker, at most one per chunk).
    chunk_runs:
        Runs per chunk (default: as the CLI picks for a store).
    retries:
        Times Dask reruns a failed shard.

    Returns
    -------
    SolveResult
        The store, opened: bit-identical to a single-process solve.
    """
    if "drivers" in settings:
        raise _cubie.SolveError("cubie.distributed.solve does not take drivers yet")
    if not str(store).rstrip("/").endswith(".zarr"):
        raise _cubie.SolveError(f"store `{store}`: the name must end in .zarr")
    store = os.path.abspath(os.fspath(store))
    solver = Solver(system, method, **settings)
    states, params = solver.state_names, solver.parameter_names
    if all(v is None or isinstance(v, Mapping) for v in (y0, parameters)):
        sweeps = _as_sweeps(y0 or {}, states, "states") + _as_sweeps(parameters or {}, params, "parameters")
        grid: dict[str, Any] = {"sweeps": sweeps, "kind": grid_type}
        n_runs = solver._engine.grid_size(sweeps, grid_type)
        digest = hashlib.sha256()
        for name, values in sweeps:
            digest.update(name.encode() + b"\0")
            digest.update(np.asarray(values, dtype=np.float64).tobytes())
        grid_key: Any = {"sweeps": [name for name, _ in sweeps], "kind": grid_type, "digest": digest.hexdigest()}
    else:
        initial_values, param_rows = solver.build_grid(y0, parameters, grid_type)
        grid = {"initial_values": initial_values, "parameters": param_rows}
        n_runs = len(initial_values)
        grid_key = {"rows": _grid_digest(initial_values, param_rows)}
    if chunk_runs is None:
        chunk_runs = solver._engine.store_chunk_runs(n_runs)
    n_chunks = -(-n_runs // chunk_runs)
    if shards is None:
        workers = max(len(client.scheduler_info().get("workers", {})), 1)
        shards = 2 * workers
    shards = max(1, min(int(shards), n_chunks))
    identity = _identity(system, solver, grid_key)
    spans = [_cubie.shard_chunks(n_runs, chunk_runs, k, shards) for k in range(shards)]
    # One object for every shard (a dict would be scattered key by key).
    grid_future = client.scatter([grid], broadcast=True, hash=False)[0] if "initial_values" in grid else grid
    call = uuid.uuid4().hex[:12]
    futures = [
        client.submit(
            _solve_shard,
            system,
            method,
            settings,
            store,
            identity,
            chunk_runs,
            span,
            grid_future,
            retries=retries,
            pure=False,
            key=f"cubie-shard-{k}-of-{shards}-{call}",
        )
        for k, span in enumerate(spans)
    ]
    client.gather(futures)
    return open_result(store)

