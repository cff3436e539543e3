"""Type stubs of the extension module `cubie._cubie` (the Rust engine)."""

from os import PathLike
from typing import Any, Callable, Optional, Union

import numpy as np
import numpy.typing as npt

__version__: str
#: Status bits of a run and their names.
STATUS_FLAGS: dict[int, str]

class CubieError(ValueError):
    """Base class of cubie's errors."""

class ModelError(CubieError):
    """An error in a model's equations or file."""

    line: Optional[int]
    column: Optional[int]
    file: Optional[str]

class SolveError(CubieError):
    """Settings, inputs or a solve that cannot be carried out."""

class System:
    """A model: equations, states, parameters, constants, observables and
    drivers with their defaults."""

    @property
    def name(self) -> str: ...
    @property
    def precision(self) -> str: ...
    @property
    def equations(self) -> str: ...
    @property
    def states(self) -> list[tuple[str, float]]: ...
    @property
    def parameters(self) -> list[tuple[str, float]]: ...
    @property
    def constants(self) -> list[tuple[str, float]]: ...
    @property
    def drivers(self) -> list[tuple[str, float]]: ...
    @property
    def observables(self) -> list[str]: ...
    @property
    def source_text(self) -> Optional[str]: ...

class Solver:
    """The engine's solver: one system and one set of normalised settings."""

    def __init__(self, system: System, settings: dict[str, Any]) -> None: ...
    @property
    def state_names(self) -> list[str]: ...
    @property
    def parameter_names(self) -> list[str]: ...
    @property
    def state_defaults(self) -> list[float]: ...
    @property
    def parameter_defaults(self) -> list[float]: ...
    @property
    def algorithm(self) -> str: ...
    @property
    def precision(self) -> str: ...
    def grid(
        self, sweeps: list[tuple[str, npt.NDArray[np.float64]]], kind: str
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
    def grid_size(self, sweeps: list[tuple[str, npt.NDArray[np.float64]]], kind: str) -> int: ...
    def solve(
        self,
        initial_values: npt.NDArray[np.float64],
        parameters: npt.NDArray[np.float64],
        progress: Optional[Callable[[int], Any]] = None,
    ) -> dict[str, Any]: ...
    def solve_to_store(
        self,
        path: Union[str, PathLike[str]],
        identity: str,
        chunk_runs: int,
        chunks: tuple[int, int],
        sweeps: Optional[list[tuple[str, npt.NDArray[np.float64]]]] = None,
        kind: str = "combinatorial",
        initial_values: Optional[npt.NDArray[np.float64]] = None,
        parameters: Optional[npt.NDArray[np.float64]] = None,
    ) -> tuple[int, int]: ...
    def store_chunk_runs(self, n_runs: int) -> int: ...

def create_system(
    equations: str,
    states: list[tuple[str, float]],
    parameters: list[tuple[str, float]],
    constants: list[tuple[str, float]],
    observables: list[str],
    drivers: list[tuple[str, float]],
    precision: Optional[str] = None,
    name: Optional[str] = None,
) -> System: ...
def system_from_toml(text: str, name: str) -> System: ...
def load_model(path: Union[str, PathLike[str]]) -> System: ...
def read_zarr(path: Union[str, PathLike[str]]) -> dict[str, Any]: ...
def shard_chunks(n_runs: int, chunk_runs: int, index: int, count: int) -> tuple[int, int]: ...
