"""Solvers, grids of runs and `solve_ivp`."""

from __future__ import annotations

import sys
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

from . import _cubie
from ._result import SolveResult

#: Settings with a typed meaning; any other keyword is passed to the
#: engine as a named setting (``KEY=VALUE``, as ``cubie solve --set``).
TYPED_SETTINGS = (
    "precision",
    "duration",
    "t0",
    "settling_time",
    "save_every",
    "dt",
    "dt_min",
    "dt_max",
    "atol",
    "rtol",
    "step_controller",
    "output_types",
    "save_variables",
    "summarise_variables",
    "summarise_every",
    "sample_summaries_every",
    "threads",
    "lanes",
    "codegen",
    "backend",
    "memory_limit",
)

#: CuBIE's names for the same settings.
ALIASES = {"algorithm": "method", "warmup": "settling_time", "dt_save": "save_every", "dt_summarise": "summarise_every"}

Inputs = Union[Mapping[str, Any], Sequence[Sequence[float]], np.ndarray, None]


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_setting_text(v) for v in value)
    return str(value)


def _normalise(method: Optional[str], settings: Mapping[str, Any]) -> dict:
    """The engine's settings dict: typed keys, the rest under ``named``."""
    out: dict[str, Any] = {}
    named: list[str] = []
    if method is not None:
        out["method"] = str(method)
    for key, value in settings.items():
        key = ALIASES.get(key, key)
        try:
            _normalise_one(out, named, key, value)
        except (TypeError, ValueError) as e:
            raise _cubie.SolveError(f"setting `{key}`: {e}") from None
    out["named"] = named
    return out


def _normalise_one(out: dict, named: list, key: str, value: Any) -> None:
    """One setting into `out` (typed) or `named`."""
    if key == "method":
        if value is not None:
            out["method"] = str(value)
    elif key == "precision":
        out[key] = None if value is None else np.dtype(value).name
    elif key in ("atol", "rtol"):
        out[key] = None if value is None else [float(v) for v in np.atleast_1d(value)]
    elif key in ("output_types", "save_variables", "summarise_variables"):
        if value is None:
            out[key] = None
        elif isinstance(value, str):
            out[key] = [value]
        else:
            out[key] = [str(v) for v in value]
    elif key in ("threads", "lanes", "memory_limit"):
        out[key] = None if value is None else int(value)
    elif key in ("step_controller", "codegen", "backend"):
        out[key] = None if value is None else str(value)
    elif key in TYPED_SETTINGS:
        out[key] = None if value is None else float(value)
    elif value is not None:
        named.append(f"{key}={_setting_text(value)}")


def _drivers(system: _cubie.System, drivers: Optional[Mapping[str, Any]]):
    """``{"time": times, name: values, ...}`` as the engine's driver series."""
    if drivers is None:
        return None
    if not isinstance(drivers, Mapping) or "time" not in drivers:
        raise _cubie.SolveError('drivers: give a dict with "time" and one array per driver')
    known = {name for name, _ in system.drivers}
    series = []
    for name, values in drivers.items():
        if name == "time":
            continue
        if name not in known:
            raise _cubie.SolveError(
                f"drivers: `{name}` is not a driver of the system (drivers: {', '.join(sorted(known)) or 'none'})"
            )
        series.append((str(name), [float(v) for v in np.asarray(values, dtype=float).ravel()]))
    times = [float(t) for t in np.asarray(drivers["time"], dtype=float).ravel()]
    return (times, series)


class _Progress:
    """A progress bar: tqdm when installed, else a line on stderr."""

    def __init__(self, total: int):
        self.total = total
        self.last = 0
        try:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="run", desc="cubie")
        except ImportError:
            self.bar = None

    def __call__(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(done - self.last)
        else:
            percent = 100 * done // max(self.total, 1)
            print(f"\rcubie: {done}/{self.total} runs ({percent}%)", end="", file=sys.stderr)
        self.last = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            print(file=sys.stderr)


def _as_sweeps(values: Mapping[str, Any], names: Sequence[str], what: str) -> list[tuple[str, list[float]]]:
    sweeps = []
    for name, v in values.items():
        if name not in names:
            raise _cubie.SolveError(f"{what}: `{name}` is not one of the system's {what} ({', '.join(names)})")
        array = np.atleast_1d(np.asarray(v, dtype=float))
        if array.ndim != 1:
            raise _cubie.SolveError(f"{what}: `{name}` must be a number or a 1-D array, not shape {array.shape}")
        sweeps.append((str(name), np.ascontiguousarray(array)))
    return sweeps


def _as_rows(values: Any, width: int, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.shape[1] != width:
        raise _cubie.SolveError(
            f"{what}: expected an array of shape (runs, {width}) or ({width},), got shape {np.shape(values)}"
        )
    return np.ascontiguousarray(array)


class Solver:
    """A solver: one system, one algorithm and one set of settings,
    compiled once and reused for any number of solves.

    Parameters
    ----------
    system:
        From `create_ODE_system` or `load_model`.
    method:
        An algorithm name or alias (``"tsit5"``, ``"rk4"``, ``"radau_iia_5"``,
        ``"rodas3p"`` ...); cubie's default (Dormand-Prince 5(4)) when None.
    **settings:
        ``duration``, ``t0``, ``settling_time``, ``save_every`` (None: final
        state only), ``dt``, ``dt_min``, ``dt_max``, ``atol``, ``rtol``,
        ``step_controller``, ``output_types`` (``"state"``, ``"observables"``,
        ``"time"``, ``"counters"`` and summary metrics such as ``"mean"``,
        ``"max"``, ``"peaks[3]"``), ``save_variables``,
        ``summarise_variables``, ``summarise_every``,
        ``sample_summaries_every``, ``precision``, ``threads``, ``lanes``,
        ``codegen`` (``"auto"``, the default, ``"cranelift"``, ``"c"``), ``backend``
        (``"cpu"`` or ``"cuda"``), ``memory_limit`` (bytes), ``drivers``;
        any other keyword is a named setting of the engine (controller
        gains, ``max_steps``, Newton and Krylov settings ...), checked by it.

    Examples
    --------
    >>> import cubie, numpy as np
    >>> lorenz = cubie.load_model("examples/lorenz.toml")  # doctest: +SKIP
    >>> solver = cubie.Solver(lorenz, method="tsit5", duration=1.0, save_every=0.1)  # doctest: +SKIP
    >>> result = solver.solve(parameters={"rho": np.linspace(0, 28, 64)})  # doctest: +SKIP
    """

    def __init__(self, system: _cubie.System, method: Optional[str] = None, **settings: Any):
        self.system = system
        drivers = settings.pop("drivers", None)
        self.settings = dict(settings)
        if method is not None:
            self.settings["method"] = method
        self._engine_settings = _normalise(method, settings)
        self._drivers = _drivers(system, drivers)
        self._engine_settings["drivers"] = self._drivers
        self._engine = _cubie.Solver(system, self._engine_settings)

    @property
    def algorithm(self) -> str:
        """The algorithm's canonical name."""
        return self._engine.algorithm

    @property
    def precision(self) -> str:
        """``"float32"`` or ``"float64"``."""
        return self._engine.precision

    @property
    def state_names(self) -> list[str]:
        return list(self._engine.state_names)

    @property
    def parameter_names(self) -> list[str]:
        return list(self._engine.parameter_names)

    def _solver_for(self, drivers: Optional[Mapping[str, Any]]):
        if drivers is None:
            return self._engine
        settings = dict(self._engine_settings)
        settings["drivers"] = _drivers(self.system, drivers)
        return _cubie.Solver(self.system, settings)

    def build_grid(
        self,
        y0: Inputs = None,
        parameters: Inputs = None,
        grid_type: str = "combinatorial",
    ) -> tuple[np.ndarray, np.ndarray]:
        """The runs of a batch: ``(initial_values, parameters)``, arrays of
        shape ``(runs, states)`` and ``(runs, parameters)``.

        `y0` and `parameters` are each a dict of name -> value(s) or an
        array of rows (``(runs, n)``, or ``(n,)`` for one row); what is not
        given takes the system's defaults. ``"combinatorial"`` makes every
        combination (the first value list varies slowest, as the CLI's
        ``--sweep``); ``"verbatim"`` pairs the i-th values of every list
        (all lists, and row counts, the same length).
        """
        if grid_type not in ("combinatorial", "verbatim"):
            raise _cubie.SolveError(f"unknown grid_type `{grid_type}`: use 'combinatorial' or 'verbatim'")
        states, params = self.state_names, self.parameter_names
        is_dict = [v is None or isinstance(v, Mapping) for v in (y0, parameters)]
        if all(is_dict):
            sweeps = _as_sweeps(y0 or {}, states, "states") + _as_sweeps(parameters or {}, params, "parameters")
            return self._engine.grid(sweeps, grid_type)
        # Rows on at least one side: each side becomes rows, then they combine.
        if is_dict[0]:
            y_rows = self._engine.grid(_as_sweeps(y0 or {}, states, "states"), grid_type)[0]
        else:
            y_rows = _as_rows(y0, len(states), "y0")
        if is_dict[1]:
            p_rows = self._engine.grid(_as_sweeps(parameters or {}, params, "parameters"), grid_type)[1]
        else:
            p_rows = _as_rows(parameters, len(params), "parameters")
        ny, npar = len(y_rows), len(p_rows)
        if grid_type == "verbatim":
            if ny != npar and 1 not in (ny, npar):
                raise _cubie.SolveError(
                    f"verbatim grid: {ny} rows of initial values but {npar} rows of parameters"
                )
            runs = max(ny, npar)
            y_rows = np.broadcast_to(y_rows, (runs, len(states))) if ny == 1 else y_rows
            p_rows = np.broadcast_to(p_rows, (runs, len(params))) if npar == 1 else p_rows
        else:
            y_rows = np.repeat(y_rows, npar, axis=0)
            p_rows = np.tile(p_rows, (ny, 1))
        return np.ascontiguousarray(y_rows), np.ascontiguousarray(p_rows)

    def solve(
        self,
        y0: Inputs = None,
        parameters: Inputs = None,
        drivers: Optional[Mapping[str, Any]] = None,
        grid_type: str = "combinatorial",
        progress: bool = False,
    ) -> SolveResult:
        """Integrate every run of the grid of `y0` and `parameters` (see
        `build_grid`). `drivers`: ``{"time": times, name: samples, ...}``
        for time-varying inputs. `progress`: show a progress bar (tqdm when
        installed). The GIL is released while the runs are integrated;
        Ctrl-C cancels the solve and raises `KeyboardInterrupt`.
        """
        engine = self._solver_for(drivers)
        initial_values, params = self.build_grid(y0, parameters, grid_type)
        return self._solve_rows(engine, initial_values, params, progress)

    def _solve_rows(self, engine, initial_values: np.ndarray, params: np.ndarray, progress: bool) -> SolveResult:
        bar = _Progress(len(initial_values)) if progress else None
        try:
            arrays = engine.solve(initial_values, params, bar)
        finally:
            if bar is not None:
                bar.close()
        return SolveResult(arrays, self._attributes())

    def _attributes(self) -> dict:
        """The solve's settings, for a result's attributes."""
        attributes = {"system": self.system.name, "algorithm": self.algorithm, "precision": self.precision}
        for key, value in self.settings.items():
            if key != "method":
                attributes[key] = value
        return attributes


def solve_ivp(
    system: _cubie.System,
    y0: Inputs = None,
    parameters: Inputs = None,
    drivers: Optional[Mapping[str, Any]] = None,
    method: Optional[str] = None,
    duration: float = 1.0,
    settling_time: float = 0.0,
    t0: float = 0.0,
    save_every: Optional[float] = None,
    save_variables: Optional[Sequence[str]] = None,
    summarise_variables: Optional[Sequence[str]] = None,
    output_types: Optional[Sequence[str]] = None,
    grid_type: str = "combinatorial",
    backend: str = "cpu",
    progress: bool = False,
    **settings: Any,
) -> SolveResult:
    """Solve a batch of initial value problems of one system.

    Every combination (``grid_type="combinatorial"``) or every i-th tuple
    (``"verbatim"``) of the values in `y0` and `parameters` is one run;
    unlisted states and parameters keep their defaults.

    Parameters
    ----------
    system:
        From `create_ODE_system` or `load_model`.
    y0, parameters:
        Dicts of name -> value or values, or arrays of rows
        ``(runs, n)``.
    drivers:
        Time-varying inputs: ``{"time": times, name: samples, ...}``.
    method:
        Algorithm name (``"tsit5"``, ``"rk4"``, ``"dormand-prince-853"``,
        ``"radau_iia_5"``, ``"kvaerno5"``, ``"rodas3p"`` ...).
    duration, settling_time, t0:
        The output interval is ``[t0 + settling_time, t0 + settling_time +
        duration]``; nothing is saved during the settling time.
    save_every:
        Interval between saved samples (None: the final state only).
    save_variables, summarise_variables:
        States and observables to save / summarise (default: all).
    output_types:
        ``"state"``, ``"observables"``, ``"time"``, ``"counters"`` and
        summary metrics (``"mean"``, ``"max"``, ``"rms"``, ``"peaks[3]"``, ...).
    backend:
        ``"cpu"`` or ``"cuda"``.
    progress:
        Show a progress bar.
    **settings:
        Anything `Solver` takes: ``atol``, ``rtol``, ``dt``, ``threads`` ...

    Returns
    -------
    SolveResult
        numpy arrays (``state``, ``observables``, ``time``, ``status``,
        ``final_state``, ``summaries``, ``counters``) and labels;
        ``as_pandas()`` and ``to_xarray()`` convert it.

    Examples
    --------
    >>> import cubie, numpy as np
    >>> decay = cubie.create_ODE_system("dx = -k * x", states={"x": 1.0}, parameters={"k": 1.0})
    >>> result = cubie.solve_ivp(decay, parameters={"k": [0.5, 1.0, 2.0]}, method="tsit5",
    ...                          duration=1.0, atol=1e-9, rtol=1e-9)
    >>> np.allclose(result.final_state[:, 0], np.exp(-np.array([0.5, 1.0, 2.0])))
    True
    """
    solver = Solver(
        system,
        method=method,
        duration=duration,
        settling_time=settling_time,
        t0=t0,
        save_every=save_every,
        save_variables=save_variables,
        summarise_variables=summarise_variables,
        output_types=output_types,
        backend=backend,
        drivers=drivers,
        **settings,
    )
    return solver.solve(y0, parameters, grid_type=grid_type, progress=progress)
