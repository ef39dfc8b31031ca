"""The scenario sampler: seeded, common random numbers, ignitions on burnable cells only."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fuelrl.errors import InputError
from fuelrl.physics.units import M_MIN_PER_MPH
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution, make_scenarios


def _burnable(seed=0, shape=(2, 30, 40)):
    return np.random.default_rng(seed).random(shape) < 0.7


def test_same_seed_same_fires_other_seed_other_fires():
    burnable = _burnable()
    a = ScenarioSampler(fires=50, seed=4).sample(burnable)
    b = ScenarioSampler(fires=50, seed=4).sample(torch.from_numpy(burnable))
    c = ScenarioSampler(fires=50, seed=5).sample(burnable)
    for name in (
        "ignition_cell",
        "wind_speed_20ft_m_min",
        "wind_from_deg",
        "moisture_fraction",
        "duration_min",
    ):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert not torch.equal(a.ignition_cell, c.ignition_cell)
    s1 = ScenarioSampler(fires=50, seed=4).sample(burnable, stream=1)
    assert not torch.equal(a.ignition_cell, s1.ignition_cell)


def test_ignitions_only_on_burnable_cells_and_follow_the_weight():
    burnable = _burnable(1)
    sc = ScenarioSampler(fires=400, seed=0).sample(burnable)
    b, h, w = burnable.shape
    flat = sc.ignition_cell.numpy()
    for i in range(b):
        assert burnable[i].reshape(-1)[flat[i]].all()
    weight = np.zeros((h, w))
    weight[:, : w // 2] = 1.0
    weight[0, -1] = 3.0  # one heavy cell on the right half
    sc = ScenarioSampler(fires=2000, seed=0).sample(burnable, ignition_weight=weight)
    cols = sc.ignition_cell.numpy() % w
    rows = sc.ignition_cell.numpy() // w
    right = cols >= w // 2
    assert (rows[right] == 0).all() and (cols[right] == w - 1).all()
    # the heavy cell gets its share (3 / total weight on burnable cells) within sampling noise
    for i in range(b):
        total = (burnable[i] * weight).sum()
        expected = 3.0 * burnable[i, 0, -1] / total
        assert abs(right[i].mean() - expected) < 4 * np.sqrt(expected * (1 - expected) / 2000) + 1e-9


def test_ignitions_do_not_depend_on_the_weather_distribution():
    burnable = _burnable(2)
    a = ScenarioSampler(WeatherDistribution(wind_speed_20ft_mph=5.0), fires=30, seed=9).sample(burnable)
    b = ScenarioSampler(WeatherDistribution(wind_speed_20ft_mph=(10, 30)), fires=30, seed=9).sample(burnable)
    assert torch.equal(a.ignition_cell, b.ignition_cell)


def test_weather_units_and_ranges():
    wx = WeatherDistribution(
        wind_speed_20ft_mph=(10.0, 20.0),
        wind_from_center_deg=350.0,
        wind_from_spread_deg=20.0,
        moisture_pct=(3.0, (4.0, 6.0), 8.0, 60.0, 90.0),
        foliar_moisture_pct=100.0,
        duration_min=(60.0, 120.0),
    )
    sc = ScenarioSampler(wx, fires=500, seed=1).sample(_burnable())
    mph = sc.wind_speed_20ft_m_min.numpy() / M_MIN_PER_MPH
    assert mph.min() >= 10.0 - 1e-4 and mph.max() <= 20.0 + 1e-4 and mph.std() > 2.0
    wd = sc.wind_from_deg.numpy()
    assert ((wd >= 330.0 - 1e-3) | (wd <= 10.0 + 1e-3)).all() and (wd >= 0).all() and (wd < 360).all()
    m = sc.moisture_fraction.numpy()
    assert np.allclose(m[..., 0], 0.03) and m[..., 1].min() >= 0.04 - 1e-6 and m[..., 1].max() <= 0.06 + 1e-6
    assert np.allclose(sc.foliar_moisture_fraction.numpy(), 1.0)
    assert sc.duration_min.min() >= 60.0 and sc.duration_min.max() <= 120.0


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(InputError, match="moisture_pct"):
        WeatherDistribution(moisture_pct=(3.0, 4.0))
    with pytest.raises(InputError, match="wind_speed_20ft_mph"):
        WeatherDistribution(wind_speed_20ft_mph=(30.0, 10.0))
    with pytest.raises(InputError, match="no burnable cell"):
        ScenarioSampler(fires=3, seed=0).sample(np.zeros((5, 5), bool))
    with pytest.raises(InputError, match="ignition_weight"):
        ScenarioSampler(fires=3, seed=0).sample(np.ones((5, 5), bool), ignition_weight=-np.ones((5, 5)))


def test_make_scenarios_converts_user_units():
    sc = make_scenarios(
        [3, 4], wind_speed_20ft_mph=36.0, wind_from_deg=299.0, moisture_pct=[3, 4, 10, 53, 131]
    )
    assert sc.shape == (1, 2)
    assert sc.wind_speed_20ft_m_min[0, 0].item() == pytest.approx(36.0 * 1609.344 / 60.0, rel=1e-6)
    assert sc.moisture_fraction[0, 1].tolist() == pytest.approx([0.03, 0.04, 0.10, 0.53, 1.31])
    assert sc.foliar_moisture_fraction[0, 0].item() == pytest.approx(1.0)
