"""The downstream protection value (DPV) of cells on one landscape, for the greedy DPV planner.

The core (minimum-travel-time trees from arrival times, subtree sums, DPV of a batch of tiles)
lives in :mod:`fuelrl.simulators.trees`, below the env, so FireEnv's optional ``dpv`` observation
channel and this planner compute exactly the same thing. See that module for the method and its
sources (Finney 2002, 2007; Thompson et al.; Murray et al. 2025).
"""

from __future__ import annotations

import numpy as np
import torch

from fuelrl.simulators.base import PreparedFires, ScenarioSet, SimulationOptions, TileBatch
from fuelrl.simulators.fields import SpreadFields
from fuelrl.simulators.trees import (
    CENTRE_CROSSINGS,
    centre_travel_times,
    dpv,
    predecessors,
    subtree_sums,
)

__all__ = [
    "CENTRE_CROSSINGS",
    "centre_travel_times",
    "downstream_protection_value",
    "predecessors",
    "subtree_sums",
]


def downstream_protection_value(
    tiles: TileBatch,
    breaks: torch.Tensor,
    scenarios: ScenarioSet,
    arrival_min: torch.Tensor,
    options: SimulationOptions,
    *,
    value_ha: torch.Tensor | np.ndarray | None = None,
    spread: SpreadFields | None = None,
) -> torch.Tensor:
    """DPV of every cell of one tile, ha per fire (see :mod:`fuelrl.simulators.trees`).

    ``tiles`` holds one tile (B = 1) and ``breaks`` [1, H, W] the breaks already placed;
    ``scenarios`` [1, F] the fires and ``arrival_min`` [1, F, H, W] their arrival times (from any
    backend). ``value_ha`` [H, W]: the value of each cell when it burns (default: its area in ha).
    ``spread``: the tile's prepared spread fields (``PreparedFires.spread``), if known.
    Returns float64 [H, W] on the tiles' device.
    """
    if tiles.shape[0] != 1:
        raise ValueError("downstream_protection_value works on one tile (B = 1)")
    prepared = PreparedFires(tiles=tiles, scenarios=scenarios, options=options, spread=spread)
    return dpv(prepared, breaks, arrival_min, value_ha=value_ha)[0]
