"""The whole-tile DPV of commit e70d67b, kept as the oracle of the per-window trees.

Spread rates, travel times and predecessors on the whole [F, H, W] landscape for every fire, as
``downstream_protection_value_batch`` computed them before :func:`fuelrl.simulators.trees.dpv`
worked on each fire's burned window. Only the tree primitives (``centre_travel_times``, ``predecessors``,
``subtree_sums``, unchanged and tested against brute force in tests/baselines/test_dpv.py) and the
whole-tile physics (``inverse_ros``) are shared with the code under test.
"""

from __future__ import annotations

import numpy as np
import torch

from fuelrl.simulators.fields import PhysicsFormat
from fuelrl.simulators.spread import inverse_ros, weather_groups
from fuelrl.simulators.trees import centre_travel_times, predecessors, subtree_sums


def whole_tile_dpv(tiles, breaks, scenarios, arrival_min, options, *, value_ha=None) -> torch.Tensor:
    """DPV [B, H, W] (float64, ha per fire) with every tree built on the whole tile."""
    b, h, w = tiles.shape
    f = scenarios.shape[1]
    if value_ha is None:
        value = torch.full((b, h, w), tiles.cell_area_ha, dtype=torch.float64)
    else:
        value = torch.as_tensor(np.asarray(value_ha), dtype=torch.float64).expand(b, h, w)
    value = value.reshape(b, h * w)
    arrival = arrival_min.reshape(b * f, h, w)
    groups = weather_groups(scenarios)
    group_of_fire = groups.group_of_fire.reshape(-1)
    dpv = torch.zeros(b, h * w, dtype=torch.float64)
    numpy = PhysicsFormat.for_device("cpu")
    for n in np.argsort(group_of_fire, kind="stable").tolist():
        inv, _ = inverse_ros(tiles, breaks, groups, group_of_fire[[n]], options, numpy)
        travel = centre_travel_times(torch.as_tensor(inv), tiles.cell_size_m)
        arr = arrival[n : n + 1]
        parent = predecessors(arr, travel).reshape(1, -1)
        burned_value = torch.where(torch.isfinite(arr).reshape(1, -1), value[n // f], 0.0)
        dpv[n // f] += subtree_sums(parent, burned_value)[0]
    return (dpv / max(f, 1)).view(b, h, w)
