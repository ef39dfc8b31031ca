"""MTT trees and the downstream protection value, against hand-worked cases and brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fuelrl import registry
from fuelrl.baselines.dpv import centre_travel_times, downstream_protection_value, predecessors, subtree_sums
from fuelrl.simulators.base import SimulationOptions, TileBatch
from fuelrl.simulators.mtt import OFFSETS

from .helpers import corridor, no_breaks, one_fire


def _brute_subtree(parent: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Subtree sums by walking every node up to its root (quadratic, obviously right)."""
    out = np.zeros_like(value, dtype=np.float64)
    for j in range(parent.size):
        i = j
        while i >= 0:
            out[i] += value[j]
            i = parent[i]
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_subtree_sums_match_brute_force_on_random_forests(seed):
    rng = np.random.default_rng(seed)
    n, m = 3, 200
    parents = []
    for _ in range(n):
        order = rng.permutation(m)  # a random topological order: parents come earlier
        parent = np.full(m, -1)
        for pos in range(1, m):
            if rng.random() < 0.95:
                parent[order[pos]] = order[rng.integers(0, pos)]
        parents.append(parent)
    parent = np.stack(parents)
    value = rng.random((n, m))
    got = subtree_sums(torch.as_tensor(parent), torch.as_tensor(value)).numpy()
    for i in range(n):
        np.testing.assert_allclose(got[i], _brute_subtree(parent[i], value[i]), rtol=1e-12)


def test_centre_travel_times_of_an_isotropic_fire():
    ros = 2.0  # m/min in every direction
    cs = 30.0
    inv = torch.full((1, 16, 6, 6), 1.0 / ros, dtype=torch.float64)
    t = centre_travel_times(inv, cs)
    for k, (dr, dc) in enumerate(OFFSETS):
        # interior cell: the source (i - offset) is on the grid
        assert t[0, k, 3, 3].item() == pytest.approx(math.hypot(dr, dc) * cs / ros, rel=1e-12)
    # from off the grid: impassable
    k = OFFSETS.index((1, 0))  # moving south: the source is the cell above
    assert math.isinf(t[0, k, 0, 3].item())


def test_a_knight_move_is_blocked_by_a_non_burnable_cell_beside_its_path():
    inv = torch.full((1, 16, 6, 6), 0.5, dtype=torch.float64)
    k = OFFSETS.index((-2, 1))  # from (4, 2) to (2, 3): crosses (4, 2), (3, 2), (3, 3), (2, 3)
    assert math.isfinite(centre_travel_times(inv, 30.0)[0, k, 2, 3].item())
    inv[:, :, 3, 3] = math.inf
    assert math.isinf(centre_travel_times(inv, 30.0)[0, k, 2, 3].item())


def test_predecessors_form_a_tree_rooted_at_the_ignition():
    ls = corridor()
    tiles = TileBatch.stack([ls])
    fire = one_fire(ls, 5, 2)
    backend = registry.create("numpy")
    res = backend.simulate(tiles, no_breaks(ls), fire)
    from fuelrl.simulators.fields import PhysicsFormat
    from fuelrl.simulators.spread import inverse_ros, weather_groups

    groups = weather_groups(fire)
    inv, _ = inverse_ros(
        tiles, no_breaks(ls), groups, np.arange(len(groups)), SimulationOptions(), PhysicsFormat(torch)
    )
    arrival = res.arrival_min[0]
    pred = predecessors(arrival, centre_travel_times(inv, ls.cell_size_m))[0].reshape(-1)
    a = arrival[0].reshape(-1)
    burned = torch.isfinite(a)
    roots = (pred < 0) & burned
    assert roots.sum().item() == 1 and int(roots.nonzero()[0]) == 5 * ls.shape[1] + 2
    has = pred >= 0
    assert bool(burned[pred[has]].all())
    assert bool((a[pred[has]] < a[has]).all()), "a predecessor always burned earlier"


def test_dpv_of_a_chokepoint_is_the_area_its_treatment_saves():
    """Treating the gap in the wall stops everything beyond it: the area saved must equal its DPV."""
    ls = corridor()
    tiles = TileBatch.stack([ls])
    fire = one_fire(ls, 5, 2)
    backend = registry.create("numpy")
    opts = SimulationOptions()
    res = backend.simulate(tiles, no_breaks(ls), fire)
    dpv = downstream_protection_value(tiles, no_breaks(ls), fire, res.arrival_min, opts)
    gap = no_breaks(ls)
    gap[0, 5, 8] = True
    saved = float(res.burned_ha[0, 0] - backend.simulate(tiles, gap, fire).burned_ha[0, 0])
    assert saved > 10 * ls.cell_area_ha, "the fire must get through the gap for the test to mean anything"
    assert float(dpv[5, 8]) == pytest.approx(saved, abs=1e-6)
    # the ignition cell is upstream of the whole fire
    assert float(dpv[5, 2]) == pytest.approx(float(res.burned_ha[0, 0]), abs=1e-6)
    # no cell protects more than the fire burned; unburned cells protect nothing
    assert float(dpv.max()) <= float(res.burned_ha[0, 0]) + 1e-9
    assert bool((dpv[~res.burned[0, 0]] == 0).all())


def test_dpv_is_the_mean_over_fires_and_follows_the_value_weights():
    ls = corridor()
    tiles = TileBatch.stack([ls])
    backend = registry.create("numpy")
    opts = SimulationOptions()
    from fuelrl.simulators.scenarios import make_scenarios

    w = ls.shape[1]
    fires = make_scenarios(
        [5 * w + 2, 2 * w + 20],
        wind_speed_20ft_mph=10.0,
        wind_from_deg=270.0,
        moisture_pct=(6, 7, 8, 60, 90),
        duration_min=600.0,
    )
    res = backend.simulate(tiles, no_breaks(ls), fires)
    both = downstream_protection_value(tiles, no_breaks(ls), fires, res.arrival_min, opts)
    each = [
        downstream_protection_value(
            tiles, no_breaks(ls), one_fire(ls, r, c), res.arrival_min[:, i : i + 1], opts
        )
        for i, (r, c) in enumerate([(5, 2), (2, 20)])
    ]
    torch.testing.assert_close(both, (each[0] + each[1]) / 2)
    # value in the right room only: the gap's DPV for fire 0 becomes the value of the right room burned
    value = np.zeros(ls.shape)
    value[:, 9:] = 1.0
    v = downstream_protection_value(
        tiles, no_breaks(ls), one_fire(ls, 5, 2), res.arrival_min[:, :1], opts, value_ha=value
    )
    burned_right = int(res.burned[0, 0][:, 9:].sum())
    assert float(v[5, 8]) == pytest.approx(burned_right)
