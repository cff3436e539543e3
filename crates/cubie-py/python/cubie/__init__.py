"""cubie: batch ODE integration. One system of ODEs, integrated for
thousands to millions of runs at once on CPU cores or an NVIDIA GPU.

>>> import cubie, numpy as np
>>> lorenz = cubie.create_ODE_system(
...     "dx = sigma * (y - x)\\ndy = x * (rho - z) - y\\ndz = x * y - beta * z",
...     states={"x": 1.0, "y": 0.0, "z": 0.0},
...     parameters={"rho": 21.0},
...     constants={"sigma": 10.0, "beta": 8 / 3},
... )
>>> result = cubie.solve_ivp(lorenz, parameters={"rho": np.linspace(0, 28, 100)},
...                          method="tsit5", duration=1.0, save_every=0.01)
>>> result.state.shape
(100, 101, 3)

Entry points: `create_ODE_system`, `load_model`, `Solver`, `solve_ivp`,
`open`; results are `SolveResult`s; errors are `ModelError` and
`SolveError`, both `ValueError`s. `cubie.distributed` runs a sweep on a
Dask cluster.
"""

from ._cubie import STATUS_FLAGS, CubieError, ModelError, SolveError, System, __version__
from ._result import SolveResult, open
from ._solver import Solver, solve_ivp
from ._system import create_ODE_system, load_model

__all__ = [
    "STATUS_FLAGS",
    "CubieError",
    "ModelError",
    "SolveError",
    "SolveResult",
    "Solver",
    "System",
    "__version__",
    "create_ODE_system",
    "load_model",
    "open",
    "solve_ivp",
]
