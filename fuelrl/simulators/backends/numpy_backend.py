"""``numpy``: the reference backend. Minimum travel time on the corner graph with scipy's Dijkstra."""

from __future__ import annotations

import numpy as np
import torch

from fuelrl.simulators.base import (
    SimulationOptions,
    TileBatch,
)
from fuelrl.simulators.engine import (
    BuiltinBackend,
    FirePlan,
    solve_fires_dijkstra,
)
from fuelrl.simulators.fields import SpreadFields


class NumpyBackend(BuiltinBackend):
    """Reference minimum-travel-time fire growth (Finney 2002): physics in numpy float64, one scipy
    Dijkstra per fire over the 16-neighbour corner graph (see :mod:`fuelrl.simulators.mtt`).

    Fires sharing a tile and weather share one spread field and one graph. The physics runs for
    up to ``group_chunk`` weather groups per vectorised call (fewer on large tiles).
    """

    description = "reference minimum travel time (Finney 2002): numpy physics, scipy Dijkstra per fire"
    devices = ("cpu",)

    def __init__(
        self,
        *,
        device: str | torch.device | None = None,
        options: SimulationOptions | None = None,
        group_chunk: int = 64,
    ):
        super().__init__(device=device, options=options)
        self.group_chunk = int(group_chunk)

    def _solve(self, tiles: TileBatch, breaks: torch.Tensor, plan: FirePlan, spread: SpreadFields | None):
        b, f, h, w = plan.shape
        arrival = np.full((b * f, h, w), np.inf, dtype=np.float32)
        # the physics runs for a few weather groups at a time (at most ~2^18 cells per call: bigger
        # arrays fall out of cache), then every fire of those groups is solved on their graphs
        per_call = max(1, min(self.group_chunk, 2**18 // (h * w)))
        group_of_fire = plan.groups.group_of_fire.reshape(-1)
        order = np.argsort(group_of_fire, kind="stable")
        bounds = np.searchsorted(group_of_fire[order], np.arange(0, len(plan.groups) + per_call, per_call))
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
            if stop > start:
                idx = order[start:stop]
                arrival[idx] = solve_fires_dijkstra(tiles, breaks, plan, idx, self.options, spread)
        return arrival
