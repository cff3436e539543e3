"""Shared fixtures: the example models, the CLI binary, a Lorenz system."""

import os
import pathlib
import shutil
import subprocess

import pytest

import cubie

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


def cli_binary() -> pathlib.Path:
    """The `cubie` binary the workspace's release build made."""
    exe = ROOT / "target" / "release" / "cubie"
    if not exe.exists():
        subprocess.run(
            ["cargo", "build", "--release", "--bin", "cubie"], cwd=ROOT, check=True
        )
    return exe


@pytest.fixture(scope="session")
def cli():
    exe = cli_binary()

    def run(*args, check=True):
        out = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)
        if check and out.returncode != 0:
            raise AssertionError(f"cubie {' '.join(map(str, args))} failed:\n{out.stderr}")
        return out

    return run


@pytest.fixture(scope="session")
def lorenz_file() -> pathlib.Path:
    return EXAMPLES / "lorenz.toml"


@pytest.fixture(scope="session")
def lorenz():
    return cubie.create_ODE_system(
        [
            "dx = sigma * (y - x)",
            "dy = x * (rho - z) - y",
            "dz = x * y - beta * z",
            "energy = x^2 + y^2 + z^2",
        ],
        states={"x": 1.0, "y": 0.0, "z": 0.0},
        parameters={"rho": 21.0},
        constants={"sigma": 10.0, "beta": 8 / 3},
        observables=["energy"],
        name="lorenz",
    )


@pytest.fixture(scope="session")
def decay():
    return cubie.create_ODE_system("dx = -k * x", states={"x": 1.0}, parameters={"k": 1.0})
