#!/usr/bin/env bash
# Builds the payload of the GPU check (a machine with CUDA but no Rust):
# the stripped release `cubie` binary and the test executables that need
# a device, the Lorenz example, gpu-check.sh, and (when found) the CuBIE
# Python kit, in a git-ignored folder.
#
#   scripts/gpu-payload.sh [OUT_DIR] [CUBIE_KIT_DIR]
#
# OUT_DIR defaults to gpu-payload/; the kit defaults to shared/gpu/cubie_py
# in the repository or beside it. Then, on the GPU machine:
#
#   bash gpu-payload/gpu-check.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${1:-gpu-payload}
kit=${2:-}
if [[ -z $kit ]]; then
  for candidate in shared/gpu/cubie_py ../shared/gpu/cubie_py; do
    if [[ -f $candidate/lorenz_cubie.py ]]; then kit=$candidate; break; fi
  done
fi

rm -rf "$out"
mkdir -p "$out/bin" "$out/tests"

cargo build --release --bin cubie
cp target/release/cubie "$out/bin/"

# Test executables, found by name in cargo's build messages.
tests=(cuda_device cuda_runtime cuda_nvrtc)
for name in "${tests[@]}"; do
  exe=$(cargo test --release -p cubie --test "$name" --no-run --message-format=json 2>/dev/null |
    python3 -c '
import json, sys
name = sys.argv[1]
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == name:
        print(m["executable"])
' "$name")
  if [[ -z $exe ]]; then
    echo "gpu-payload: no executable for test $name" >&2
    exit 1
  fi
  cp "$exe" "$out/tests/$name"
done

strip "$out"/bin/* "$out"/tests/*
cp examples/lorenz.toml examples/van_der_pol.toml "$out/"
cp scripts/gpu-check.sh "$out/"
if [[ -n $kit ]]; then
  mkdir -p "$out/cubie_py"
  cp -r "$kit"/. "$out/cubie_py/"
  chmod -R u+w "$out/cubie_py"
  echo "gpu-payload: CuBIE kit from $kit"
else
  echo "gpu-payload: no CuBIE kit found; the check will skip CuBIE"
fi

bytes=$(du -sb "$out" | cut -f1)
limit=$((64 << 20))
echo "gpu-payload: $out is $((bytes >> 20)) MiB"
if ((bytes > limit)); then
  echo "gpu-payload: over the 64 MiB limit" >&2
  exit 1
fi
