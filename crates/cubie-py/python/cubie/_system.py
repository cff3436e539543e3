"""Systems: a model written as equations in cubie's model language."""

from __future__ import annotations

import os
from typing import Iterable, Mapping, Optional, Sequence, Union

from . import _cubie

NamedValues = Union[Mapping[str, float], Sequence[str], None]


def _named(values: NamedValues, what: str) -> list[tuple[str, float]]:
    """`{name: value}` or a list of names (value 0) as (name, value) pairs."""
    if values is None:
        return []
    if isinstance(values, str):
        raise _cubie.ModelError(f"{what}: give a dict of name -> value or a list of names, not a string")
    if isinstance(values, Mapping):
        pairs = []
        for name, value in values.items():
            try:
                pairs.append((str(name), float(value)))
            except (TypeError, ValueError) as e:
                raise _cubie.ModelError(f"{what}: `{name}` has no numeric value ({value!r})") from e
        return pairs
    return [(str(name), 0.0) for name in values]


def _precision(precision) -> Optional[str]:
    """`"float32"`, `"float64"`, numpy dtypes and their names, or None."""
    if precision is None:
        return None
    try:
        import numpy as np

        return np.dtype(precision).name
    except TypeError:
        return str(precision)


def create_ODE_system(
    dxdt: Union[str, Iterable[str]],
    states: NamedValues = None,
    parameters: NamedValues = None,
    constants: NamedValues = None,
    observables: Optional[Sequence[str]] = None,
    drivers: NamedValues = None,
    precision=None,
    name: Optional[str] = None,
) -> _cubie.System:
    """Create a system of ODEs from equations.

    Parameters
    ----------
    dxdt:
        The equations in cubie's model language, one string (one equation
        a line) or a list of strings: ``"dx = sigma * (y - x)"`` defines
        the derivative of state ``x``; ``"energy = x^2 + y^2"`` defines an
        auxiliary (an observable when listed in `observables`).
    states, parameters, constants, drivers:
        Dicts of name -> default value, or lists of names (default 0).
        Parameters may differ in every run; constants are fixed for a
        batch; drivers are time-varying inputs (see `solve_ivp`).
    observables:
        Auxiliary names to save alongside the states.
    precision:
        ``"float32"`` / ``numpy.float32`` or ``"float64"`` (the default).
    name:
        A name for the system.

    Returns
    -------
    System
        Raises `cubie.ModelError` (a `ValueError`) with ``line`` and
        ``column`` attributes when the equations are wrong.

    Examples
    --------
    >>> import cubie
    >>> lorenz = cubie.create_ODE_system(
    ...     ["dx = sigma * (y - x)", "dy = x * (rho - z) - y", "dz = x * y - beta * z"],
    ...     states={"x": 1.0, "y": 0.0, "z": 0.0},
    ...     parameters={"rho": 21.0},
    ...     constants={"sigma": 10.0, "beta": 8 / 3},
    ... )
    >>> [n for n, _ in lorenz.states]
    ['x', 'y', 'z']
    """
    if isinstance(dxdt, str):
        equations = dxdt
    else:
        equations = "\n".join(str(line) for line in dxdt)
    return _cubie.create_system(
        equations,
        _named(states, "states"),
        _named(parameters, "parameters"),
        _named(constants, "constants"),
        [str(o) for o in (observables or [])],
        _named(drivers, "drivers"),
        _precision(precision),
        name,
    )


def load_model(path: Union[str, os.PathLike]) -> _cubie.System:
    """Load a model file (the TOML format of ``cubie solve``).

    Raises `cubie.ModelError` with the file, line and column of an error.
    """
    return _cubie.load_model(os.fspath(path))
