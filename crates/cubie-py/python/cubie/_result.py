"""A solve's results: numpy arrays, labels, and conversions."""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Optional, Union

import numpy as np

from . import _cubie

#: Status bits of a run (0 is success) and their names, as the CLI
#: reports them.
STATUS_FLAGS: dict[int, str] = dict(_cubie.STATUS_FLAGS)


class SolveResult:
    """The outputs of a batch solve.

    Arrays are numpy arrays in the solve's precision, run-major:

    - ``state``: ``(runs, times, saved states)``; ``observables``:
      ``(runs, times, observables)``; ``time``: ``(times,)``.
    - ``final_state``: ``(runs, states)``; ``status``: ``(runs,)``, 0 for
      success (see `STATUS_FLAGS`); ``counters``: ``(runs, counters)``.
    - ``initial_values``, ``parameters``: each run's inputs.
    - ``summaries``: ``{metric: (runs, summary times, variables[, k])}``
      with ``summary_time``.

    Arrays that were not asked for are None. Labels (``state_labels``,
    ``observable_labels``, ``parameter_labels``, ``counter_labels``,
    ``summary_labels``) name the last axis. ``attributes`` holds the
    solve's settings.
    """

    def __init__(self, arrays: Mapping[str, Any], attributes: Optional[Mapping[str, Any]] = None):
        self._arrays = dict(arrays)
        self.attributes = dict(attributes or {})

    def _get(self, name: str):
        return self._arrays.get(name)

    def _labels(self, name: str) -> list[str]:
        value = self._arrays.get(name)
        return [] if value is None else [str(v) for v in value]

    @property
    def state(self) -> Optional[np.ndarray]:
        return self._get("state")

    @property
    def observables(self) -> Optional[np.ndarray]:
        return self._get("observables")

    @property
    def time(self) -> Optional[np.ndarray]:
        return self._get("time")

    @property
    def status(self) -> np.ndarray:
        return self._get("status")

    @property
    def final_state(self) -> np.ndarray:
        return self._get("final_state")

    @property
    def counters(self) -> Optional[np.ndarray]:
        return self._get("counters")

    @property
    def initial_values(self) -> np.ndarray:
        return self._get("initial_values")

    @property
    def parameters(self) -> np.ndarray:
        return self._get("parameters")

    @property
    def summary_time(self) -> Optional[np.ndarray]:
        return self._get("summary_time")

    @property
    def summaries(self) -> dict[str, np.ndarray]:
        """``{metric: array}`` for every summary metric asked for."""
        return {k[len("summary_") :]: v for k, v in self._arrays.items() if k.startswith("summary_") and k not in ("summary_time", "summary_labels")}

    @property
    def state_labels(self) -> list[str]:
        """Names of the saved states (the last axis of ``state``)."""
        return self._labels("saved_state_labels") or self._labels("state_labels")

    @property
    def final_state_labels(self) -> list[str]:
        """Names of every state (the last axis of ``final_state``)."""
        return self._labels("state_labels")

    @property
    def observable_labels(self) -> list[str]:
        return self._labels("observable_labels")

    @property
    def parameter_labels(self) -> list[str]:
        return self._labels("parameter_labels")

    @property
    def counter_labels(self) -> list[str]:
        return self._labels("counter_labels")

    @property
    def summary_labels(self) -> list[str]:
        return self._labels("summary_labels")

    @property
    def n_runs(self) -> int:
        return int(self.status.shape[0])

    @property
    def success(self) -> np.ndarray:
        """True for each run that finished without a status flag."""
        return self.status == 0

    def arrays(self) -> dict[str, Any]:
        """Every array and label list, by the names of the CLI's ``.npz``."""
        return dict(self._arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self._arrays.items() if isinstance(v, np.ndarray))
        return f"SolveResult({self.n_runs} runs: {shapes})"

    def as_pandas(self):
        """A pandas DataFrame.

        With saved time series: one row per run and saved time (a
        ``(run, time)`` MultiIndex), one column per saved state and
        observable. Without: one row per run with its inputs, final state,
        status and counters.
        """
        import pandas as pd

        if self.state is not None or self.observables is not None:
            runs, times = self.n_runs, len(self.time) if self.time is not None else None
            blocks, columns = [], []
            for values, labels in ((self.state, self.state_labels), (self.observables, self.observable_labels)):
                if values is not None:
                    times = values.shape[1]
                    blocks.append(values.reshape(runs * times, values.shape[2]))
                    columns += labels
            time = self.time if self.time is not None else np.arange(times)
            index = pd.MultiIndex.from_arrays(
                [np.repeat(np.arange(runs), times), np.tile(time, runs)], names=["run", "time"]
            )
            return pd.DataFrame(np.concatenate(blocks, axis=1), index=index, columns=columns)
        frame = {}
        for values, labels, prefix in (
            (self.initial_values, self.final_state_labels, "initial_"),
            (self.parameters, self.parameter_labels, ""),
            (self.final_state, self.final_state_labels, "final_"),
            (self.counters, self.counter_labels, ""),
        ):
            if values is not None:
                for k, label in enumerate(labels):
                    frame[prefix + label] = values[:, k]
        frame["status"] = self.status
        return pd.DataFrame(frame, index=pd.RangeIndex(self.n_runs, name="run"))

    def to_xarray(self):
        """An xarray Dataset with dimensions ``run``, ``time`` and
        ``variable`` (the saved states), labels as coordinates and the
        solve's settings as attributes. Other dimensions: ``observable``,
        ``state_label`` (every state: ``final_state``, ``initial_values``),
        ``parameter``, ``counter``, ``summary_time`` and ``summarised``."""
        import xarray as xr

        coords: dict[str, Any] = {"run": np.arange(self.n_runs)}
        data: dict[str, Any] = {}
        if self.time is not None:
            coords["time"] = self.time
        if self.state is not None:
            coords["variable"] = self.state_labels
            data["state"] = (("run", "time", "variable"), self.state)
        if self.observables is not None:
            coords["observable"] = self.observable_labels
            data["observables"] = (("run", "time", "observable"), self.observables)
        coords["state_label"] = self.final_state_labels
        data["final_state"] = (("run", "state_label"), self.final_state)
        data["initial_values"] = (("run", "state_label"), self.initial_values)
        coords["parameter"] = self.parameter_labels
        data["parameters"] = (("run", "parameter"), self.parameters)
        data["status"] = (("run",), self.status)
        if self.counters is not None:
            coords["counter"] = self.counter_labels
            data["counters"] = (("run", "counter"), self.counters)
        if self.summary_time is not None:
            coords["summary_time"] = self.summary_time
            coords["summarised"] = self.summary_labels
            for metric, values in self.summaries.items():
                dims = ("run", "summary_time", "summarised") + tuple(
                    f"{metric}_index" for _ in values.shape[3:]
                )
                data[f"summary_{metric}"] = (dims, values)
        attributes = {k: _attribute(v) for k, v in self.attributes.items()}
        return xr.Dataset(data, coords=coords, attrs=attributes)


def _attribute(value: Any):
    """A setting as an attribute value netCDF can store."""
    if value is None:
        return "none"
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, float, str, np.number)):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)
        if all(isinstance(v, (int, float, np.number)) for v in items):
            return np.asarray(items)
        return ",".join(str(v) for v in items)
    return json.dumps(value, default=str)


def open(path: Union[str, os.PathLike]) -> SolveResult:
    """Open results the CLI (or `cubie.distributed`) wrote: a ``.npz`` file
    or a ``.zarr`` store. The store's settings become the attributes."""
    path = os.fspath(path)
    if path.endswith(".npz"):
        with np.load(path) as archive:
            arrays = {}
            for name in archive.files:
                value = archive[name]
                arrays[name] = [str(v) for v in value] if value.dtype.kind == "U" else value
        return SolveResult(arrays, {"source": path})
    if path.rstrip("/").endswith(".zarr"):
        arrays = _cubie.read_zarr(path)
        identity = json.loads(arrays.pop("__identity__"))
        identity["source"] = path
        return SolveResult(arrays, identity)
    raise _cubie.SolveError(f"cannot open `{path}`: cubie reads .npz files and .zarr stores")
