#!/usr/bin/env bash
# Every test: the Rust workspace, then the Python package (built into a
# virtual environment, .venv, made on first use) with pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --release

VENV="${CUBIE_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  maturin pytest numpy pandas xarray zarr "dask[distributed]"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check ./crates/cubie-py
"$VENV/bin/python" -m pytest -q -p no:cacheprovider crates/cubie-py/tests
