#!/usr/bin/env bash
# The main job on the embedded default: a short DQN training run (configs/quickstart.yaml) on a
# generated, synthetic LANDFIRE-like landscape. No data download, no GPU. It ends by printing where
# its outputs are (TensorBoard logs, checkpoints). Extra arguments go to `fuelrl fit`.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
exec fuelrl fit --config configs/quickstart.yaml "$@"
