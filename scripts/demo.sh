#!/usr/bin/env bash
# The main job on the embedded default: a generated (synthetic) LANDFIRE-like landscape, no data
# download, no GPU. Extra arguments go to the command.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
out="${FUELRL_DEMO_OUT:-runs/demo}"
exec fuelrl backends
