"""Per-cell weather through the spread physics: each cell burns as under its own scalar weather."""

from __future__ import annotations

import numpy as np
import torch

from fuelrl import registry
from fuelrl.simulators.base import SimulationOptions
from fuelrl.simulators.fields import PhysicsFormat
from fuelrl.simulators.scenarios import make_scenarios
from fuelrl.simulators.spread import inverse_ros, weather_groups
from fuelrl.simulators.trees import dpv
from fuelrl.testing.simulators import BackendConformance, mixed_landscape

NUMPY = PhysicsFormat(np)


def _inv(tiles, sc, options):
    groups = weather_groups(sc)
    none = torch.zeros(tiles.shape, dtype=torch.bool)
    return inverse_ros(tiles, none, groups, np.arange(len(groups)), options, NUMPY)


def test_each_cell_gets_the_physics_of_its_own_weather():
    """Directional spread rates of a varying grid, cell by cell, equal those of a scalar run with
    that cell's 20-ft wind, direction and 1-h moisture (an independent path through the physics)."""
    tiles = mixed_landscape()
    grid = BackendConformance.varying_weather(tiles.shape[1:])
    gridded = tiles.with_weather([grid])
    moist = (3.0, 4.0, 5.0, 30.0, 60.0)
    sc = make_scenarios([[820]], wind_speed_20ft_mph=15.0, wind_from_deg=270.0, moisture_pct=moist)
    options = SimulationOptions(conventions="flammap")
    inv, burn = _inv(gridded, sc, options)
    ratio, turn = grid.wind_speed_ratio(), grid.wind_turn_deg()
    ref = float(sc.wind_speed_20ft_m_min[0, 0])
    cells = [(r, c) for r, c in np.argwhere(burn[0])[::97]][:12]
    assert len(cells) >= 8
    for r, c in cells:
        speed_mph = ref * float(ratio[r, c]) / (0.3048 * 88.0)
        one = make_scenarios(
            [[820]],
            wind_speed_20ft_mph=speed_mph,
            wind_from_deg=(270.0 + float(turn[r, c])) % 360.0,
            moisture_pct=(float(grid.moisture_fraction["1h"][r, c]) * 100.0, *moist[1:]),
        )
        want, _ = _inv(tiles, one, options)
        np.testing.assert_allclose(inv[0, :, r, c], want[0, :, r, c], rtol=1e-5, err_msg=f"cell {r},{c}")


def test_dpv_reads_the_grid():
    """The fire-path trees (DPV) run on gridded tiles: a uniform grid gives the scalar answer to
    the last bit, a varying one another map."""
    backend = registry.create("numpy")
    tiles = mixed_landscape()
    sc = make_scenarios(
        [[820, 410]], wind_speed_20ft_mph=15.0, wind_from_deg=270.0, moisture_pct=(3, 4, 5, 30, 60)
    )
    none = torch.zeros(tiles.shape, dtype=torch.bool)

    def dpv_of(t):
        prepared = backend.prepare(t, sc)
        return dpv(prepared, none, backend.simulate_prepared(prepared, none).arrival_min)

    from fuelrl.landscape.weather_grids import uniform_weather

    uniform = tiles.with_weather(
        [uniform_weather(tiles.shape[1:], wind_speed_20ft_mph=15.0, wind_from_deg=270.0)]
    )
    varying = tiles.with_weather([BackendConformance.varying_weather(tiles.shape[1:])])
    base = dpv_of(tiles)
    assert torch.equal(dpv_of(uniform), base)
    assert not torch.equal(dpv_of(varying), base)
