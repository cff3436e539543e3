#!/usr/bin/env bash
# Bench, not a test: `cubie check` and a short solve of a diagonal and a
# banded model of N states (default 20,000), with wall time and peak RSS.
#
#   scripts/bench_large_models.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
cargo build --release --quiet --bin cubie
cubie=target/release/cubie
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# diagonal: dx_i = -x_i; banded: dx_i = k (x_{i-1} - 2 x_i + x_{i+1}) - x_i^3.
model() {
  awk -v n="$n" -v kind="$1" 'BEGIN {
    print "equations = \"\"\""
    for (i = 0; i < n; i++) {
      if (kind == "diagonal") { printf "dx%d = -x%d\n", i, i; continue }
      l = (i > 0) ? "x" (i - 1) : "0"; r = (i < n - 1) ? "x" (i + 1) : "0"
      printf "dx%d = k * (%s - 2 * x%d + %s) - x%d^3\n", i, l, i, r, i
    }
    print "\"\"\""; print "[states]"
    for (i = 0; i < n; i++) printf "x%d = %g\n", i, 1 + i / n
    if (kind == "banded") { print "[parameters]"; print "k = 0.5" }
  }' > "$dir/$1.toml"
}

measure() {
  local label=$1; shift
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -o "$dir/time" -f "%e s, peak RSS %M KiB" "$@" > /dev/null 2>&1
    printf '%-52s %s\n' "$label" "$(cat "$dir/time")"
  else
    local start=$SECONDS
    "$@" > /dev/null 2>&1
    printf '%-52s %s s\n' "$label" "$((SECONDS - start))"
  fi
}

for kind in diagonal banded; do
  model "$kind"
  measure "check $kind ($n states)" "$cubie" check "$dir/$kind.toml"
  measure "solve $kind tsit5, 0.1 s" \
    "$cubie" solve "$dir/$kind.toml" --algorithm tsit5 --duration 0.1 --out "$dir/out.npz"
  measure "solve $kind backwards_euler + bicgstab, 0.1 s" \
    "$cubie" solve "$dir/$kind.toml" --algorithm backwards_euler --duration 0.1 \
    --set linear_solver=bicgstab --set preconditioner=none --out "$dir/out.npz"
  measure "solve $kind radau_iia_5 + bicgstab/jacobi, 0.1 s" \
    "$cubie" solve "$dir/$kind.toml" --algorithm radau_iia_5 --duration 0.1 \
    --set linear_solver=bicgstab --set preconditioner=jacobi --out "$dir/out.npz"
done
