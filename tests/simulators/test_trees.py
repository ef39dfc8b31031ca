"""The batched DPV core (fuelrl.simulators.trees) against the one-tile DPV, tile by tile."""

from __future__ import annotations

import torch

from fuelrl import registry
from fuelrl.landscape import generate_landscape
from fuelrl.simulators.base import PreparedFires, TileBatch
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution
from fuelrl.simulators.trees import dpv

FIRES = 5


def _dpv(tiles, breaks, scenarios, arrival, options, spread=None):
    return dpv(PreparedFires(tiles, scenarios, options, spread=spread), breaks, arrival)


def test_batched_dpv_equals_one_tile_at_a_time_and_is_bounded_by_the_fires():
    lands = [generate_landscape(seed=s, shape=(20, 20)) for s in (4, 5, 6)]
    tiles = TileBatch.stack(lands)
    backend = registry.create("numpy")
    weather = WeatherDistribution(wind_speed_20ft_mph=(10.0, 30.0), wind_from_deg=250.0, duration_min=300.0)
    burnable = torch.stack([torch.as_tensor(land.burnable) for land in lands])
    scenarios = ScenarioSampler(weather, fires=FIRES, seed=1).sample(burnable)
    breaks = torch.zeros(tiles.shape, dtype=torch.bool)
    breaks[:, 10, 5:9] = burnable[:, 10, 5:9]
    result = backend.simulate(tiles, breaks, scenarios)
    batch = _dpv(tiles, breaks, scenarios, result.arrival_min, backend.options)
    assert batch.shape == tiles.shape
    assert float(batch.sum()) > 0
    for i in range(3):
        idx = torch.tensor([i])
        one = _dpv(
            tiles.index(idx),
            breaks[i : i + 1],
            scenarios.index(idx),
            result.arrival_min[i : i + 1],
            backend.options,
        )[0]
        torch.testing.assert_close(batch[i], one)
        # a cell protects at most the mean burned area of the tile's fires (that of its roots)
        assert float(batch[i].max()) <= float(result.burned_ha[i].mean()) + 1e-9
        assert not bool((batch[i][breaks[i]] > 0).any())  # treated cells do not burn: DPV 0
