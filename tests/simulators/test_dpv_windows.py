"""The per-window MTT trees give the DPV of the whole-tile trees (tests/simulators/dpv_oracle.py)
on real landscapes: the TestMTT sample and a window of the Worcester, VT LANDFIRE clip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fuelrl import registry
from fuelrl.landscape import open_landscape
from fuelrl.simulators.base import PreparedFires, SimulationOptions, TileBatch
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution
from fuelrl.simulators.trees import dpv, fire_windows

from .dpv_oracle import whole_tile_dpv


def _case(request, name: str, treatment: int):
    if name == "testmtt":
        land = open_landscape(request.getfixturevalue("testmtt_dir") / "19545.tif")
    else:
        land = open_landscape(request.getfixturevalue("worcester_dir")).window(100, 120, 160, 200)
    tiles = TileBatch.stack([land])
    options = SimulationOptions(treatment_fuel_model=treatment)
    backend = registry.create("numpy", options=options)
    weather = WeatherDistribution(
        wind_speed_20ft_mph=(5.0, 30.0), wind_from_deg=280.0, duration_min=(120.0, 400.0)
    )
    burnable = torch.as_tensor(land.burnable)[None]
    scenarios = ScenarioSampler(weather, fires=8, seed=7).sample(burnable)
    breaks = torch.zeros(tiles.shape, dtype=torch.bool)
    rng = np.random.default_rng(3)
    cells = rng.choice(np.flatnonzero(land.burnable), size=burnable.sum().item() // 20, replace=False)
    breaks.view(-1)[torch.as_tensor(cells)] = True
    return tiles, breaks, scenarios, backend


@pytest.mark.parametrize("name", ["testmtt", "worcester"])
@pytest.mark.parametrize("treatment", [91, 181])  # NB1 and a burnable treatment (TL1)
def test_window_trees_give_the_whole_tile_dpv(request, name, treatment):
    """Bit for bit, so ties (and DPV plans) break the same way."""
    tiles, breaks, scenarios, backend = _case(request, name, treatment)
    arrival = backend.simulate(tiles, breaks, scenarios).arrival_min
    want = whole_tile_dpv(tiles, breaks, scenarios, arrival, backend.options)
    spread = backend.prepare(tiles, scenarios).spread
    assert spread is not None
    for fields in (spread, None):  # from prepared fields and from the physics on the windows
        got = dpv(PreparedFires(tiles, scenarios, backend.options, spread=fields), breaks, arrival)
        assert float(want.sum()) > 0
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    # the windows are what burned, not the landscape
    windows = fire_windows(arrival[0])
    area = (windows[:, 1] - windows[:, 0]) * (windows[:, 3] - windows[:, 2])
    assert area.max() < tiles.shape[1] * tiles.shape[2]


def test_dpv_plan_on_testmtt_is_the_plan_of_the_whole_tile_trees(testmtt_dir, monkeypatch):
    """The greedy DPV planner places the same breaks, in the same order, with either trees."""
    from fuelrl.baselines import DPVPlanner, PlanningProblem, heuristics

    land = open_landscape(testmtt_dir / "19545.tif")
    backend = registry.create("numpy")
    weather = WeatherDistribution(
        wind_speed_20ft_mph=36.0, wind_from_deg=299.0, moisture_pct=(3, 4, 10, 53, 131), duration_min=200.0
    )
    scenarios = ScenarioSampler(weather, fires=6, seed=0).sample(torch.as_tensor(land.burnable)[None])

    def plan():
        problem = PlanningProblem(
            land, TileBatch.stack([land]), backend, scenarios, budget_cells=60, recompute_every=15, seed=0
        )
        return DPVPlanner().plan(problem)

    new = plan()

    def oracle(prepared, breaks, arrival, *, value_ha=None, ignition_guard_cells=0):
        assert ignition_guard_cells == 0  # the plain DPV the whole-tile trees compute
        p = prepared
        return whole_tile_dpv(p.tiles, breaks, p.scenarios, arrival, p.options, value_ha=value_ha)

    monkeypatch.setattr(heuristics, "dpv", oracle)
    old = plan()
    assert new.recomputes == old.recomputes == 4
    np.testing.assert_array_equal(new.order, old.order)
