"""numpy, threaded and torch give the same arrival times on a real LANDFIRE tile with wind and slope."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fuelrl import registry
from fuelrl.simulators.base import SimulationOptions, TileBatch
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution


@pytest.fixture
def worcester_tiles(worcester_dir):
    from fuelrl.landscape import open_landscape

    landscape = open_landscape(worcester_dir)
    # two 64x64 tiles with relief and mixed fuels
    tiles = [landscape.window(200, 250, 64, 64), landscape.window(380, 120, 64, 64)]
    for t in tiles:
        assert t.slope_fraction.max() > 0.15, "the test wants slopes"
        assert t.burnable.mean() > 0.5
    return tiles


def _assert_builtins_agree(batch, breaks, scenarios, options, *, chunk_fires: int) -> np.ndarray:
    """threaded (2 workers, ``chunk_fires`` a chunk) and torch (CPU) arrival times equal numpy's;
    returns numpy's [B, F, H, W] arrival times."""
    results = {
        name: registry.create(name, options=options, **kw).simulate(batch, breaks, scenarios)
        for name, kw in [
            ("numpy", {}),
            ("threaded", {"workers": 2, "chunk_fires": chunk_fires}),
            ("torch", {"device": "cpu"}),
        ]
    }
    ref = results["numpy"].arrival_min.numpy()
    duration = scenarios.duration_min.numpy()[:, :, None, None]
    for name in ("threaded", "torch"):
        got = results[name].arrival_min.numpy()
        differ = np.isfinite(got) != np.isfinite(ref)
        # only cells whose arrival sits at the duration (float rounding) may differ
        near = np.abs(np.where(np.isfinite(ref), ref, got) - duration) < 1e-2
        assert not (differ & ~near).any(), f"{name}: {int(differ.sum())} cells burn in one backend only"
        both = np.isfinite(got) & np.isfinite(ref)
        np.testing.assert_allclose(got[both], ref[both], rtol=1e-4, atol=1e-3, err_msg=name)
    return ref


@pytest.mark.parametrize("conventions", ["behave", "flammap"])
def test_builtin_backends_agree_on_worcester(worcester_tiles, conventions):
    batch = TileBatch.stack(worcester_tiles)
    weather = WeatherDistribution(
        wind_speed_20ft_mph=(10.0, 25.0),
        wind_from_center_deg=240.0,
        wind_from_spread_deg=60.0,
        moisture_pct=(3.0, 4.0, 6.0, 40.0, 70.0),
        duration_min=(240.0, 480.0),
    )
    burnable = np.stack([t.burnable for t in worcester_tiles])
    scenarios = ScenarioSampler(weather, fires=6, seed=11).sample(burnable)
    breaks = torch.zeros(batch.shape, dtype=torch.bool)
    breaks[0, 20:50, 40] = True
    breaks[1, 30, 5:60] = True
    ref = _assert_builtins_agree(
        batch, breaks, scenarios, SimulationOptions(conventions=conventions), chunk_fires=4
    )
    burned = np.isfinite(ref).sum(axis=(2, 3))
    assert burned.min() > 20, f"every fire should spread: {burned}"


def test_threaded_physics_split_by_rows_matches_numpy(worcester_tiles):
    """One tile and one weather: the threaded backend splits the physics into bands of rows."""
    tile = worcester_tiles[0]
    batch = TileBatch.stack([tile])
    weather = WeatherDistribution(
        wind_speed_20ft_mph=20.0, wind_from_deg=225.0, moisture_pct=(3, 4, 5, 30, 60)
    )
    scenarios = ScenarioSampler(weather, fires=5, seed=3).sample(tile.burnable)
    breaks = torch.zeros(batch.shape, dtype=torch.bool)
    ref = registry.create("numpy").simulate(batch, breaks, scenarios).arrival_min.numpy()
    got = registry.create("threaded", workers=3).simulate(batch, breaks, scenarios).arrival_min.numpy()
    assert np.array_equal(np.isfinite(ref), np.isfinite(got))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("use_torch", [False, True])
def test_growing_windows_give_the_whole_tile_answer(worcester_tiles, use_torch):
    """Fires solved on small windows that must grow (warm-started) equal Dijkstra on the tile."""
    from fuelrl.simulators.engine import FirePlan, solve_fires_dijkstra, solve_fires_relax

    batch = TileBatch.stack(worcester_tiles)
    weather = WeatherDistribution(
        wind_speed_20ft_mph=25.0, wind_from_deg=250.0, moisture_pct=(3, 4, 5, 30, 60)
    )
    burnable = np.stack([t.burnable for t in worcester_tiles])
    scenarios = ScenarioSampler(weather, fires=4, seed=5).sample(burnable)
    breaks = torch.zeros(batch.shape, dtype=torch.bool)
    plan = FirePlan.build(batch, scenarios)
    fires = np.arange(plan.n_fires)
    options = SimulationOptions()
    ref = solve_fires_dijkstra(batch, breaks, plan, fires, options)
    from fuelrl.simulators.engine import NUMPY_F32
    from fuelrl.simulators.fields import PhysicsFormat

    solver = PhysicsFormat(torch, torch.float32) if use_torch else NUMPY_F32
    got = solve_fires_relax(batch, breaks, plan, fires, options, solver, window_margin=3)
    got = got.numpy() if use_torch else got
    assert (np.isfinite(ref).sum(axis=(1, 2)) > 30).all(), "the fires must outgrow a 7-cell window"
    assert np.array_equal(np.isfinite(ref), np.isfinite(got))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-4, atol=1e-3)


@pytest.fixture
def gridded_2427464():
    """Two 64x64 tiles of the TestFlamMap sample with windows of its gridded winds and dead
    moistures (the FlamMap run's inputs)."""
    import warnings

    from fuelrl.landscape import open_landscape
    from fuelrl.landscape.weather_grids import read_weather_grids
    from tests.conftest import shared_path

    root = shared_path("landscapes", "flammap_testflammap_2427464")
    g = root / "gridded_inputs"
    landscape = open_landscape(root / "2427464.lcp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the units notices
        grids = read_weather_grids(
            landscape,
            wind=(g / "test_WINDSPEEDGRID.tif", g / "test_WINDDIRGRID.tif"),
            moisture={n: g / f"test_FUELMOISTURE{n[:-1]}.tif" for n in ("1h", "10h", "100h")},
        )
    spots = [(150, 150), (60, 240)]
    tiles = [landscape.window(r, c, 64, 64) for r, c in spots]
    return tiles, [grids.window(r, c, 64, 64) for r, c in spots], grids


def test_builtin_backends_agree_with_gridded_weather(gridded_2427464):
    """The same agreement with per-cell winds and moistures (FlamMap conventions), and the grid
    matters: the fires differ from those under the grid's reference wind alone."""
    tiles, windows, grids = gridded_2427464
    scalar = TileBatch.stack(tiles)
    batch = TileBatch.stack(tiles, weather=windows)
    weather = WeatherDistribution(
        wind_speed_20ft_mph=grids.reference_wind_speed_20ft_mph,
        wind_from_deg=grids.reference_wind_from_deg,
        moisture_pct=(8.0, 15.0, 14.0, 30.0, 60.0),
        duration_min=240.0,
    )
    burnable = np.stack([t.burnable for t in tiles])
    scenarios = ScenarioSampler(weather, fires=4, seed=5).sample(burnable)
    breaks = torch.zeros(batch.shape, dtype=torch.bool)
    breaks[0, 10:50, 30] = True
    options = SimulationOptions(conventions="flammap")
    ref = _assert_builtins_agree(batch, breaks, scenarios, options, chunk_fires=3)
    assert np.isfinite(ref).sum(axis=(2, 3)).min() >= 10, "every fire should spread"
    without = registry.create("numpy", options=options).simulate(scalar, breaks, scenarios)
    assert not np.array_equal(np.isfinite(without.arrival_min.numpy()), np.isfinite(ref))
