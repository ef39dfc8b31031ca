# Sourced by scripts/demo.sh and scripts/test.sh: create .venv if missing and install the project
# (with its pinned constraints) when pyproject.toml, constraints.txt or a plugin changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "fuelrl: creating virtual environment in .venv" >&2
  "$PY" -m venv .venv
fi
stamp=.venv/.fuelrl-install-stamp
shopt -s nullglob
want="$(cat pyproject.toml constraints.txt plugins/*/pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "fuelrl: installing the project into .venv (first run takes a few minutes)" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
  # torch is installed first, pinned, so no other requirement can pull a CUDA build.
  .venv/bin/python -m pip install --quiet -c constraints.txt "torch==2.13.0"
  plugin_args=()
  for p in plugins/*/pyproject.toml; do plugin_args+=(-e "$(dirname "$p")"); done
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[dev]" ${plugin_args[@]+"${plugin_args[@]}"}
  echo "$want" > "$stamp"
fi
export PATH="$root/.venv/bin:$PATH"
