"""Treatment units: ranks from the placement order, leave-one-out savings against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from fuelrl import registry
from fuelrl.landscape import generate_landscape
from fuelrl.reports.treatments import _grow, label_units, marginal_savings, treatment_units
from fuelrl.simulators.base import SimulationOptions, TileBatch
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution


def test_units_are_4_connected_and_ranked_by_their_first_placed_cell():
    breaks = np.zeros((6, 8), bool)
    breaks[0, 0:3] = True  # a line
    breaks[1, 3] = True  # touches the line at a corner only: its own unit
    breaks[4:6, 5:7] = True  # a block
    order = np.flatnonzero(breaks.reshape(-1))[::-1]  # placed from the last raster cell back
    labels = label_units(breaks, order)
    assert labels.max() == 3 and ((labels > 0) == breaks).all()
    assert (labels[4:6, 5:7] == 1).all()  # holds the first placed cell
    assert labels[1, 3] == 2 and (labels[0, 0:3] == 3).all()
    assert (label_units(breaks)[0, 0:3] == 1).all()  # no order: raster order


@pytest.fixture(scope="module")
def scene():
    ls = generate_landscape(seed=0, shape=(32, 32))
    backend = registry.create("numpy", options=SimulationOptions())
    tiles = TileBatch.stack([ls])
    weather = WeatherDistribution(wind_speed_20ft_mph=15.0, wind_from_deg=225.0, duration_min=120.0)
    fires = ScenarioSampler(weather, fires=12, seed=10).sample(ls.burnable)
    rng = np.random.default_rng(0)
    order = rng.choice(np.flatnonzero(ls.burnable.reshape(-1)), 60, replace=False)
    # a held-out fire lit on a treated cell burns nothing until its unit is removed
    order[0] = int(fires.ignition_cell[0, 0])
    _, first = np.unique(order, return_index=True)
    return ls, backend, tiles, fires, order[np.sort(first)]


def test_leave_one_out_savings_equal_brute_force(scene):
    ls, backend, tiles, fires, order = scene
    breaks = np.zeros(ls.shape, bool)
    breaks.reshape(-1)[order] = True
    labels = label_units(breaks, order)
    values = np.random.default_rng(1).random(ls.shape)
    cell_ha = float(ls.cell_area_ha)
    ha, value = marginal_savings(backend, tiles, labels, fires, values, cell_ha)
    base_ha, base_value, _ = _grow(backend, tiles, breaks, fires, values, cell_ha)
    for u in range(1, int(labels.max()) + 1):
        a, b, _ = _grow(backend, tiles, breaks & (labels != u), fires, values, cell_ha)
        assert ha[u - 1] == pytest.approx((a - base_ha).mean(), abs=1e-9), u
        assert value[u - 1] == pytest.approx((b - base_value).mean(), abs=1e-9), u
    assert (ha > 0).sum() >= 3  # the check is not vacuous
    assert ha[labels.reshape(-1)[order[0]] - 1] > 0  # the unit on a fire's ignition


def test_table_columns_cost_and_default_values(scene):
    ls, backend, tiles, fires, order = scene

    class Plan:
        breaks = np.zeros(ls.shape, bool)

    Plan.order = order
    Plan.breaks.reshape(-1)[order] = True
    cost = np.full(ls.shape, 2.5)
    units = treatment_units(Plan, ls, backend, tiles, fires, cost=cost)
    t = units.table
    assert list(t["rank"]) == list(range(1, len(units) + 1))
    assert t["cells"].sum() == len(order)
    assert t["area_ha"] == pytest.approx(t["cells"] * ls.cell_area_ha)
    assert t["cost"] == pytest.approx(2.5 * t["cells"])
    # without values every cell is valued at its area: the two savings agree
    assert t["value_saved"] == pytest.approx(t["burned_ha_saved"], abs=1e-9)
    assert all(g.is_valid for g in units.geometries)
    assert sum(g.area for g in units.geometries) / 1e4 == pytest.approx(t["area_ha"].sum())
