#!/usr/bin/env bash
# The GPU check, run on a machine with an NVIDIA GPU, its driver and the
# CUDA 13 toolkit (for NVRTC), but no Rust: from the folder that
# scripts/gpu-payload.sh builds.
#
#   bash gpu-payload/gpu-check.sh [CUBIE_KIT_DIR]
#
# 1. the device tests (they fail here, rather than skip, without a GPU);
# 2. the benchmark: Lorenz, rho = linspace(0, 21, N), u0 = (1, 0, 0),
#    t in [0, 1], final state only, N = 2^21 (CUBIE_BENCH_RUNS overrides):
#    kernel time (CUDA events), end-to-end time, compile time cold and
#    cached, and the CPU backend's time for the same solve;
# 3. CuBIE (Python) on the same cases, when its kit is given or found in
#    the payload (cubie_py/).
# Each step has a time limit, so the whole check stays within 5 minutes.
# CUBIE_CHECK_BACKEND=cpu runs the benchmark's "GPU" solves on the CPU: a
# dry run of the script on a machine without a GPU.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kit=${1:-$here/cubie_py}
runs=${CUBIE_BENCH_RUNS:-2097152}
cubie="$here/bin/cubie"
model="$here/lorenz.toml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

# NVRTC: the toolkit's library folder, or a pip wheel's, on the loader path.
for dir in "${CUDA_HOME:-/nonexistent}/lib64" /usr/local/cuda/lib64 \
  /usr/local/cuda/targets/x86_64-linux/lib \
  $(python3 -c 'import glob, site; print(" ".join(d for p in site.getsitepackages() for d in glob.glob(p + "/nvidia/*/lib")))' 2>/dev/null); do
  if compgen -G "$dir/libnvrtc.so*" >/dev/null; then
    export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    break
  fi
done

echo "== device"
nvidia-smi --query-gpu=name,driver_version,memory.total,memory.free --format=csv 2>&1 || true

echo "== device tests"
export CUBIE_REQUIRE_GPU=1 CUBIE_REQUIRE_NVRTC=1
for t in cuda_device cuda_runtime cuda_nvrtc; do
  echo "-- $t"
  timeout 100 "$here/tests/$t" --nocapture >"$work/$t.log" 2>&1
  rc=$?
  awk '/^(test |note:|compile|---- )|test result/ { print } /panicked/ { print; getline; print }' "$work/$t.log" | tail -n 40
  [[ $rc -eq 0 ]] || { echo "$t: exit status $rc"; status=1; }
done

# budget SECONDS: true while the check has run for less than 300 - SECONDS.
budget() { ((SECONDS + $1 < 300)); }

# value KEY FILE: the seconds of `timing: KEY S` in FILE.
value() { awk -v k="$1" '$1 == "timing:" && $2 == k { print $3 }' "$2"; }

# bench LABEL ARGS...: the GPU solve of Lorenz cold (empty module cache)
# and cached, then the CPU backend; one summary line. BENCH_MODEL and
# BENCH_SWEEP replace the model and its sweep.
bench() {
  local label=$1
  shift
  if ! budget 60; then
    echo "$label: skipped (the check's 5 minutes are nearly spent)"
    return
  fi
  local sweep=${BENCH_SWEEP:-rho=0:21:$runs}
  local n=${sweep##*:}
  local args=(solve "${BENCH_MODEL:-$model}" --sweep "$sweep" --chunk-runs "$n" --quiet --timings "$@")
  local cache="$work/cache-$label"
  for pass in cold cached; do
    if ! CUBIE_CACHE_DIR="$cache" timeout 60 "$cubie" "${args[@]}" --backend "${CUBIE_CHECK_BACKEND:-cuda}" \
      2>"$work/$label.$pass" >/dev/null; then
      echo "$label: the CUDA solve ($pass) failed:"
      cat "$work/$label.$pass"
      status=1
      return
    fi
  done
  if ! timeout 45 "$cubie" "${args[@]}" --backend cpu 2>"$work/$label.cpu" >/dev/null; then
    echo "$label: the CPU solve failed or ran past 45 s"
    : >"$work/$label.cpu"
  fi
  local warm="$work/$label.cached" cpu
  cpu=$(value total "$work/$label.cpu")
  printf '%-24s kernel %8.4f s  end-to-end %8.4f s  compile cold %7.3f s cached %7.4f s  load %6.3f s  up %6.3f s  down %6.3f s  launches %s  cpu %s s  cpu/gpu %s\n' \
    "$label" "$(value kernel "$warm")" "$(value total "$warm")" \
    "$(value compile "$work/$label.cold")" "$(value compile "$warm")" \
    "$(value module_load "$warm")" "$(value upload "$warm")" "$(value download "$warm")" \
    "$(value launches "$warm")" "${cpu:-n/a}" \
    "$(awk -v c="${cpu:-0}" -v g="$(value total "$warm")" 'BEGIN { if (c > 0 && g > 0) printf "%.1f", c / g; else print "n/a" }')"
}

echo "== benchmark: Lorenz, $runs runs, t in [0, 1], final state only"
bench rk4-f32 --algorithm classical-rk4 --dt 0.001 --precision f32
bench rk4-f64 --algorithm classical-rk4 --dt 0.001 --precision f64
bench tsit5-fixed-f32 --algorithm tsit5 --controller fixed --dt 0.001 --precision f32
# CuBIE's defaults for adaptive explicit steps: I controller, first dt
# 1e-3, dt_min 1e-6, dt_max 1.
bench tsit5-adaptive-f32 --algorithm tsit5 --atol 1e-6 --rtol 1e-6 --controller i \
  --dt 0.001 --dt-min 1e-6 --dt-max 1 --precision f32
grep -h -m1 '^timing: device' "$work"/*.cold 2>/dev/null | head -n 1
# The stiff ensemble: Van der Pol at mu = 1000 (eps = 1/mu^2 swept
# around 1e-6), 2^18 runs, t in [0, 2], atol = rtol = 1e-6.
stiff_runs=$((runs / 8))
echo "== benchmark: Van der Pol (mu ~ 1000), $stiff_runs runs, t in [0, 2], final state only"
for algorithm in radau_iia_5 rodas3p; do
  BENCH_MODEL="$here/van_der_pol.toml" BENCH_SWEEP="eps=0.5e-6:2e-6:$stiff_runs" \
    bench "$algorithm-f64" --algorithm "$algorithm" --duration 2 --atol 1e-6 --rtol 1e-6 --precision f64
done

if [[ -f $kit/lorenz_cubie.py ]]; then
  echo "== CuBIE (Python) from $kit"
  site="$work/site"
  if python3 -m pip install -q --no-index --no-deps --target "$site" "$kit"/wheels/*.whl; then
    export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
    py() {
      local limit=$((290 - SECONDS))
      if ((limit < 20)); then
        echo "CuBIE: skipped (the check's 5 minutes are nearly spent): $*"
        return
      fi
      ((limit > 75)) && limit=75
      CUBIE_CACHE_DIR="$work/cubie-py" timeout "$limit" python3 "$kit/lorenz_cubie.py" --runs "$runs" --repeats 2 "$@" 2>"$work/cubie-py.log" || {
        echo "CuBIE failed or ran past $limit s: $*"
        tail -n 5 "$work/cubie-py.log"
      }
    }
    py --algorithm classical-rk4 --dt 0.001 --precision float32
    py --algorithm classical-rk4 --dt 0.001 --precision float64
    py --algorithm tsit5 --step-controller fixed --dt 0.001 --precision float32
    py --algorithm tsit5 --atol 1e-6 --rtol 1e-6 --precision float32
  else
    echo "CuBIE: the offline install failed"
  fi
else
  echo "== CuBIE (Python): no kit at $kit; skipped"
fi

echo "== gpu-check: $([[ $status -eq 0 ]] && echo passed || echo FAILED)"
exit $status
