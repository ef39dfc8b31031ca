#!/usr/bin/env bash
# Prepare, on a machine with internet, what scripts/gpu_check.sh needs on a GPU machine without it:
#
#   bash scripts/gpu_prepare.sh            # fills .gpu-carry/ (git-ignored, about 42 MB)
#
# .gpu-carry/wheels: wheels (no dependencies resolved, exact versions of
#   scripts/gpu_requirements.txt) of the packages fuelrl needs that the workplace's GPU image lacks;
#   its image already holds a CUDA torch, lightning, numpy, scipy, matplotlib, tensorboard and
#   pytest (/work/.library/device/KINDS.md, package list of 2026-11-17). Built for CPython
#   $GPU_PREPARE_PYTHON (default 3.12, the image's python3) on x86-64 Linux.
# .gpu-carry/shared/data/landscapes/worcester_vt: the LANDFIRE clip the simulator bench cuts its
#   tiles from (from ../shared, or $FUELRL_SHARED), so GPU figures use the same tiles as the CPU ones.
#
# Then carry the folder to the GPU machine and run the check there, e.g. with the device tool:
#   run(command="bash scripts/gpu_check.sh $OUT/gpu", carry=[".gpu-carry"], timeout_s=560)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARRY="${GPU_CHECK_CARRY:-$ROOT/.gpu-carry}"
PYV="${GPU_PREPARE_PYTHON:-3.12}"
PY="${PYTHON:-$([ -x "$ROOT/.venv/bin/python" ] && echo "$ROOT/.venv/bin/python" || echo python3)}"
# what the GPU image lacks of scripts/gpu_requirements.txt (names as there)
LACKING="affine click-plugins cligj docstring_parser hoptorch importlib_metadata jsonargparse lazy-importer
omegaconf orjson pyvers rasterio tensordict torchrl typeshed_client tzdata"

mkdir -p "$CARRY/wheels"
reqs=()
for name in $LACKING; do
  line="$(grep -i -E "^${name}==" "$ROOT/scripts/gpu_requirements.txt")" || {
    echo "gpu_prepare: $name is not in scripts/gpu_requirements.txt" >&2
    exit 1
  }
  reqs+=("$line")
done
plat=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 \
  manylinux1_x86_64; do plat+=(--platform "$p"); done
# the local constraints and find-links of a reference machine do not apply to another platform
PIP_CONSTRAINT="" PIP_FIND_LINKS="" "$PY" -m pip download -q --no-deps --only-binary=:all: \
  --python-version "$PYV" --implementation cp "${plat[@]}" -d "$CARRY/wheels" "${reqs[@]}"

shared="${FUELRL_SHARED:-$ROOT/../shared}"
src="$shared/data/landscapes/worcester_vt"
if [ -d "$src" ]; then
  mkdir -p "$CARRY/shared/data/landscapes"
  rm -rf "$CARRY/shared/data/landscapes/worcester_vt"
  cp -r "$src" "$CARRY/shared/data/landscapes/"
else
  echo "gpu_prepare: $src not found: the GPU bench will use generated tiles" >&2
fi
echo "gpu_prepare: $(ls "$CARRY/wheels" | wc -l) wheels, $(du -sh "$CARRY" | cut -f1) in $CARRY"
