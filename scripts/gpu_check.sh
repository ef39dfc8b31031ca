#!/usr/bin/env bash
# Every GPU check of fuelrl in one command, within 8 minutes on one H100/H200 (issue 18):
#
#   bash scripts/gpu_check.sh OUTDIR
#
# 1. setup: finds a Python whose torch sees CUDA ($GPU_CHECK_PYTHON, .venv, python3,
#    /opt/torch/.venv); on a machine with an NVIDIA GPU but no CUDA torch it installs the CUDA build
#    of torch 2.13.0 (docs/install.md). What else fuelrl needs and the machine lacks is installed
#    with --no-deps into a scratch folder put on PYTHONPATH (nothing of the machine's is replaced):
#    from .gpu-carry/wheels when that folder holds wheels (a machine with no internet; made by
#    scripts/gpu_prepare.sh), else from the package index. The source tree is used in place.
# 2. pytest -m gpu; fuelrl bench --device cuda: sim (torch cuda row, 64^2/256^2 and 1024^2 tiles,
#    F = 1/16/64/256), train + warmup (default.yaml), memory (peak GPU memory of the four profiles);
#    a `fuelrl fit --config configs/default.yaml` of 2 minutes with the PyTorch profiler on
#    (shortened when less time is left); last, the CPU side: threaded vs numpy over 1/2/4/8/16
#    workers, ParallelEnv vs SerialEnv over 1/2/4/8. Each step runs under its own `timeout`, and no
#    step starts past the budget ($GPU_CHECK_BUDGET_S, default 480 s, setup included).
# 3. Writes OUTDIR/results.json, OUTDIR/results.md, OUTDIR/gpu_check.log, OUTDIR/logs.tar.gz (every
#    step's log, bench.json and bench.md, the fit's TensorBoard files) and OUTDIR/profiler.tar.gz.
#    Exit status 0 when every step that ran passed, 1 otherwise.
#
# Without CUDA (no CUDA torch and no NVIDIA GPU) it runs nothing GPU-bound: it prints one line,
# writes results.json/results.md saying so, and exits 0.
#
# Environment: GPU_CHECK_BUDGET_S (seconds, default 480); GPU_CHECK_STEPS (comma-separated subset
# of pytest_gpu,sim_cuda,sim_cuda_1024,train_memory,fit_default,cpu_sim,cpu_env; setup
# always runs); GPU_CHECK_PYTHON (the interpreter to use); GPU_CHECK_WORK (scratch folder, default
# a new /tmp/fuelrl-gpu-check.*); GPU_CHECK_CARRY (default .gpu-carry: wheels/ and shared/);
# GPU_CHECK_TORCH_INDEX (where the CUDA torch comes from, default
# https://download.pytorch.org/whl/cu130); GPU_CHECK_REHEARSE=1 (run every step at smoke-test scale
# on the CPU, to check this script without a GPU; the figures mean nothing; 3x the time limits).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
mkdir -p "$1" || exit 2
OUT="$(cd "$1" && pwd)"
REHEARSE="${GPU_CHECK_REHEARSE:-0}"
# a rehearsal runs on a CPU that may be small and shared: three times the time for everything
[ "$REHEARSE" = 1 ] && CAP_SCALE=3 || CAP_SCALE=1
BUDGET="${GPU_CHECK_BUDGET_S:-$((480 * CAP_SCALE))}"
CARRY="${GPU_CHECK_CARRY:-$ROOT/.gpu-carry}"
TORCH_INDEX="${GPU_CHECK_TORCH_INDEX:-https://download.pytorch.org/whl/cu130}"
if [ -n "${GPU_CHECK_WORK:-}" ]; then WORK="$GPU_CHECK_WORK" OWN_WORK=0; else
  WORK="$(mktemp -d /tmp/fuelrl-gpu-check.XXXXXX)" OWN_WORK=1
fi
mkdir -p "$WORK/logs" "$WORK/cmd"
: >"$WORK/steps.tsv"
LOG="$OUT/gpu_check.log"
: >"$LOG"
SITE="$WORK/site"
T0=$SECONDS
FAILED=0
REPORTER="$ROOT/scripts/gpu_check_report.py"

say() { echo "gpu_check [$((SECONDS - T0)) s]: $*" | tee -a "$LOG"; }
note() { echo "$*" >>"$LOG"; }
left() { echo $((BUDGET - (SECONDS - T0))); }
wanted() { [ -z "${GPU_CHECK_STEPS:-}" ] || [[ ",$GPU_CHECK_STEPS," == *",$1,"* ]]; }
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$WORK/steps.tsv"; }

write_meta() {
  printf '{"command": "%s", "budget_s": %s, "wall_s": %s, "rehearsal": %s, "work": "%s"}\n' \
    "scripts/gpu_check.sh $OUT" "$BUDGET" "$((SECONDS - T0))" \
    "$([ "$REHEARSE" = 1 ] && echo true || echo false)" "$WORK" >"$WORK/meta.json"
}

# ------------------------------------------------------------------------- find a CUDA torch
probe() { # prints "torch_version cuda_available(0/1)" or nothing
  timeout 120 "$1" -c 'import torch; print(torch.__version__, int(torch.cuda.is_available()))' 2>/dev/null
}
PY="" ANY_PY="" TORCH_SEEN=""
for cand in "${GPU_CHECK_PYTHON:-}" "$ROOT/.venv/bin/python" "$(command -v python3 || true)" \
  /opt/torch/.venv/bin/python3; do
  [ -n "$cand" ] && [ -x "$cand" ] || continue
  [ -n "$ANY_PY" ] || ANY_PY="$cand"
  got="$(probe "$cand")" || got=""
  [ -n "$got" ] || continue
  note "python $cand: torch ${got% *}, CUDA available: ${got#* }"
  [ -n "$TORCH_SEEN" ] || TORCH_SEEN="torch ${got% *} in $cand"
  if [ "${got#* }" = 1 ] || { [ "$REHEARSE" = 1 ] && [ -z "$PY" ]; }; then
    PY="$cand"
    [ "${got#* }" = 1 ] && break
  fi
done
[ "$REHEARSE" = 1 ] && DEV=cpu || DEV=cuda
[ -n "$ANY_PY" ] || { echo "gpu_check: no python3 on this machine" >&2; exit 2; }

gpu_present() {
  { command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q "^GPU"; } ||
    compgen -G "/dev/nvidia[0-9]*" >/dev/null
}

if [ -z "$PY" ] && ! gpu_present; then
  reason="no CUDA GPU on this machine (${TORCH_SEEN:-no torch found}, CUDA not available; no NVIDIA GPU seen by nvidia-smi)"
  write_meta
  "$ANY_PY" "$REPORTER" machine >"$WORK/machine.json" 2>>"$LOG" || rm -f "$WORK/machine.json"
  "$ANY_PY" "$REPORTER" report "$WORK" "$OUT" --no-cuda "$reason" >>"$LOG" 2>&1
  [ "$OWN_WORK" = 1 ] && rm -rf "$WORK"
  echo "gpu_check: $reason: nothing GPU-bound was run; wrote $OUT/results.json and results.md"
  exit 0
fi

say "output in $OUT, scratch in $WORK, budget ${BUDGET} s$([ "$REHEARSE" = 1 ] && echo ', REHEARSAL on the CPU')"
setup_start=$SECONDS
setup_status=ok
{
  echo "setup: python ${PY:-none with CUDA torch}"
  if [ -z "$PY" ]; then
    # An NVIDIA GPU but no CUDA torch: install torch 2.13.0's CUDA build (docs/install.md).
    base="$(command -v python3)"
    mkdir -p "$SITE"
    if compgen -G "$CARRY/wheels/torch-2.13.0*.whl" >/dev/null; then
      "$base" -m pip install -q --no-index --find-links "$CARRY/wheels" --target "$SITE" torch==2.13.0
    else
      "$base" -m pip install -q --target "$SITE" torch==2.13.0 --index-url "$TORCH_INDEX"
    fi
    PY="$base"
  fi
} >>"$WORK/logs/setup.log" 2>&1
export PYTHONPATH="$ROOT:$SITE${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$SITE/bin:$PATH"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
[ -d "$CARRY/shared/data" ] && export FUELRL_SHARED="$CARRY/shared"
if [ "$DEV" = cuda ] && [ "$(probe "$PY" | cut -d' ' -f2)" != 1 ]; then
  setup_status=failed
  say "setup: no torch with CUDA after the install (see logs/setup.log)"
else
  {
    mkdir -p "$SITE"
    wheels=()
    compgen -G "$CARRY/wheels/*.whl" >/dev/null && wheels=("$CARRY/wheels")
    need="$("$PY" "$REPORTER" missing "$ROOT/scripts/gpu_requirements.txt" "${wheels[@]}")"
    if [ -n "$need" ]; then
      echo "installing (no deps) into $SITE: $(echo $need)"
      if [ ${#wheels[@]} = 1 ]; then
        # shellcheck disable=SC2086
        "$PY" -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$SITE" \
          --find-links "$CARRY/wheels" $need
      else
        # shellcheck disable=SC2086
        "$PY" -m pip install -q --no-deps --no-compile --upgrade --target "$SITE" $need
      fi
    fi
    if ! "$PY" -c 'import importlib.metadata as m, sys; sys.exit(not m.entry_points(group="fuelrl.simulators"))'; then
      echo "fuelrl: using the source tree $ROOT (dist-info written into $SITE)"
      "$PY" "$REPORTER" dist-info "$SITE" "$ROOT/pyproject.toml"
    fi
    "$PY" -c 'import fuelrl.cli, fuelrl.envs, fuelrl.agents, fuelrl.bench.suite, fuelrl.landscape, torchrl
import tensordict, lightning, rasterio, jsonargparse, omegaconf, scipy, matplotlib, tensorboard, pytest
print("imports ok")'
  } >>"$WORK/logs/setup.log" 2>&1 || setup_status=failed
fi
"$PY" "$REPORTER" machine >"$WORK/machine.json" 2>>"$WORK/logs/setup.log" || true
FUELRL="$(command -v fuelrl || true)"
[ -n "$FUELRL" ] || FUELRL="$PY -m fuelrl.cli"
echo "python: $PY; fuelrl: $FUELRL" >"$WORK/cmd/setup.txt"
record setup "$setup_status" "$([ $setup_status = ok ] && echo 0 || echo 1)" "$((SECONDS - setup_start))" "" \
  "find a CUDA torch, install what is missing"
say "setup: $setup_status ($((SECONDS - setup_start)) s; python $PY)"
[ "$setup_status" = ok ] || FAILED=1

# --------------------------------------------------------------------------------- the steps
# step NAME CAP WHAT CMD...: run CMD under timeout min(CAP, time left), log to logs/NAME.log
step() {
  local name="$1" cap=$(($2 * CAP_SCALE)) what="$3"
  shift 3
  if ! wanted "$name"; then
    record "$name" "skipped: not in GPU_CHECK_STEPS" "" "" "" "$what"
    return
  fi
  if [ "$setup_status" != ok ]; then
    record "$name" "skipped: setup failed" "" "" "" "$what"
    return
  fi
  local t=$(($(left) < cap ? $(left) : cap))
  if [ "$t" -lt 15 ]; then
    record "$name" "skipped: out of time" "" "" "" "$what"
    say "$name: skipped (out of time)"
    return
  fi
  echo "$*" >"$WORK/cmd/$name.txt"
  local start=$SECONDS rc status
  (cd "$ROOT" && timeout -k 10 "$t" "$@") >"$WORK/logs/$name.log" 2>&1
  rc=$?
  case $rc in
    0) status=ok ;;
    124 | 137) status=timeout ;;
    *) status=failed ;;
  esac
  [ $rc = 0 ] || FAILED=1
  record "$name" "$status" "$rc" "$((SECONDS - start))" "$t" "$what"
  say "$name: $status ($((SECONDS - start)) s of $t s)"
}

bench() { # bench NAME ARGS...: fuelrl bench into $WORK/NAME
  local name="$1"
  shift
  echo "$FUELRL bench $* --out $WORK/$name"
}

if [ "$REHEARSE" = 1 ]; then
  SIM_GPU=(--tiny --device cpu --sections sim --backends torch --torch-devices cpu --fires 1,4)
  SIZES_A=32 SIZES_B=64 GPU_SCALE=(--tiny --device cpu) PROFILES=quickstart
  CPU_SIM=(--tiny --sizes 32 --fires 1,4 --threaded-workers 1,2) ENV_W=1,2 CPU_SCALE=(--tiny)
  FIT=(--config configs/quickstart.yaml --data.warmup_frames=64 --data.prefill_frames=32
    --trainer.val_check_interval=100000 --trainer.accelerator=cpu)
  FIT_MAX=20 FIT_MARGIN=130
else
  SIM_GPU=(--quick --device cuda --sections sim --backends torch --torch-devices cuda --fires 1,16,64,256)
  SIZES_A=64,256 SIZES_B=1024 GPU_SCALE=(--quick --device cuda) PROFILES=quickstart,low_mem,default,high_mem
  CPU_SIM=(--quick --sizes 64,256 --fires 16,64,256 --threaded-workers 1,2,4,8,16) ENV_W=1,2,4,8
  CPU_SCALE=(--quick --repeats 2)
  FIT=(--config configs/default.yaml --trainer.accelerator=gpu)
  FIT_MAX=120 FIT_MARGIN=45
fi

# GPU first, then the 2-minute fit, then the CPU side (rerun it alone with
# GPU_CHECK_STEPS=cpu_sim,cpu_env if the budget ran out before it)
step pytest_gpu 100 "pytest -m gpu (the gpu-marked tests, low_mem's peak-memory fit included)" \
  "$PY" -m pytest -m gpu -p no:cacheprovider -q -rA --junitxml "$WORK/pytest_gpu.xml" tests
# shellcheck disable=SC2046
step sim_cuda 50 "fuelrl bench sim: torch backend on $DEV, $SIZES_A tiles, F = ${SIM_GPU[-1]}" \
  $(bench sim_cuda "${SIM_GPU[@]}" --sizes "$SIZES_A")
# shellcheck disable=SC2046
step sim_cuda_1024 50 "fuelrl bench sim: torch backend on $DEV, $SIZES_B tiles, F = ${SIM_GPU[-1]}" \
  $(bench sim_cuda_1024 "${SIM_GPU[@]}" --sizes "$SIZES_B" --repeats 2)
# shellcheck disable=SC2046
step train_memory 150 "fuelrl bench train,warmup,memory on $DEV, profiles $PROFILES: update ratio, \
end-to-end exp/s, first episode vs steady, peak GPU memory; host RSS" \
  $(bench train_memory "${GPU_SCALE[@]}" --sections train,warmup,memory --profiles "$PROFILES")
# the fit: 2 minutes of training (less if less time is left) plus its start-up, last eval, shut-down
fit_s=$(($(left) - FIT_MARGIN < FIT_MAX ? $(left) - FIT_MARGIN : FIT_MAX))
[ "$REHEARSE" = 1 ] && fit_s=$FIT_MAX
if ! wanted fit_default; then
  record fit_default "skipped: not in GPU_CHECK_STEPS" "" "" "" "fuelrl fit ${FIT[1]}"
elif [ "$fit_s" -lt 30 ] && [ "$REHEARSE" != 1 ]; then
  record fit_default "skipped: out of time" "" "" "" "fuelrl fit ${FIT[1]}"
  say "fit_default: skipped (out of time)"
else
  # shellcheck disable=SC2046
  step fit_default $(((fit_s + FIT_MARGIN) / CAP_SCALE)) "fuelrl fit ${FIT[1]}, max_time $fit_s s, PyTorch profiler on" \
    $FUELRL fit "${FIT[@]}" --trainer.max_time "00:00:$(printf '%02d:%02d' $((fit_s / 60)) $((fit_s % 60)))" \
    --trainer.max_steps=-1 --trainer.profiler=pytorch --trainer.enable_progress_bar=false \
    --trainer.default_root_dir "$WORK/fit"
fi
# shellcheck disable=SC2046
step cpu_sim 60 "fuelrl bench sim on the CPU: numpy vs threaded workers" \
  $(bench cpu_sim "${CPU_SIM[@]}" --device cpu --sections sim --backends numpy,threaded)
# shellcheck disable=SC2046
step cpu_env 90 "fuelrl bench env on the CPU: SerialEnv vs ParallelEnv on $ENV_W workers" \
  $(bench cpu_env "${CPU_SCALE[@]}" --device cpu --sections env --env-workers "$ENV_W" --threads 1)

write_meta
if ! "$PY" "$REPORTER" report "$WORK" "$OUT" >>"$LOG" 2>&1; then
  say "writing the report failed (see $LOG)"
  FAILED=1
fi
say "done in $((SECONDS - T0)) s: $OUT/results.md$([ $FAILED = 0 ] || echo ' (some steps failed: see the Steps table)')"
exit $FAILED
