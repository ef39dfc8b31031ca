"""Burn probability's companions: conditional flame length and FSim's flame-length probabilities.

Checked against: GDAL (rasterio) reading what ``fuelrl simulate`` writes; the burn probability
the same run writes (the six classes sum to it); the cell's head and backing fire from the
physics (a cell burns with a flame between the two); an exact arrival-time field (a planar front
moving at a known rate); FlamMap MTT's fireline intensity map on TestMTT.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
import torch

from fuelrl import registry
from fuelrl.cli import main
from fuelrl.landscape import open_landscape
from fuelrl.simulators.base import SimulationOptions, TileBatch
from fuelrl.simulators.companions import (
    FLAME_CLASS_EDGES_FT,
    FLAME_CLASS_NAMES,
    FlameStats,
    burning_flame_length_m,
    front_normal_rate_m_min,
)
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution, make_scenarios

SPEC = "synthetic:seed=4,size=32"
M_PER_FT = 0.3048


def test_simulate_writes_cfl_and_six_flame_classes(tmp_path):
    out = tmp_path / "bp"
    argv = ["simulate", SPEC, "--fires", "6", "--seed", "2", "--backend", "numpy", "--wind-speed", "25"]
    assert main([*argv, "--duration", "240", "--out", str(out)]) == 0
    landscape = open_landscape(SPEC)
    with rasterio.open(out / "burn_probability.tif") as ds:
        bp = ds.read(1)
    with rasterio.open(out / "flame_length_probability.tif") as ds:
        assert ds.count == 6 and (ds.height, ds.width) == landscape.shape
        assert ds.transform == landscape.transform and ds.crs == landscape.crs and ds.nodata == -1.0
        assert ds.descriptions == tuple(
            f"probability of burning with flame length {c}" for c in FLAME_CLASS_NAMES
        )
        flp = ds.read()
    with rasterio.open(out / "conditional_flame_length.tif") as ds:
        assert ds.nodata == -9999.0 and ds.units == ("m",)
        cfl = ds.read(1)
    valid = landscape.valid
    burnable = valid & landscape.burnable
    assert (~burnable & valid).any()  # the landscape has non-burnable cells: -1 there, as outside
    assert (flp[:, ~burnable] == -1.0).all() and (bp[~burnable] == -1.0).all()
    assert (bp[burnable] >= 0).all() and (bp[burnable] == 0).any()  # 0: burnable, never burned
    np.testing.assert_allclose(flp[:, burnable].sum(0), bp[burnable], atol=1e-6)
    assert (bp[valid] > 0).any()
    np.testing.assert_array_equal(cfl != -9999.0, valid & (bp > 0))  # defined exactly where cells burn
    # the mean flame length lies within the classes the cell burned in
    edges_m = np.array([0.0, *FLAME_CLASS_EDGES_FT, math.inf]) * M_PER_FT
    burned = np.argwhere(valid & (bp > 0))
    for r, c in burned:
        seen = np.flatnonzero(flp[:, r, c] > 0)
        assert edges_m[seen.min()] - 1e-6 <= cfl[r, c] <= edges_m[seen.max() + 1] + 1e-6


@pytest.fixture(scope="module")
def fires():
    landscape = open_landscape(SPEC)
    tiles = TileBatch.stack([landscape])
    breaks = torch.zeros((1, *landscape.shape), dtype=torch.bool)
    sampler = ScenarioSampler(WeatherDistribution(wind_speed_20ft_mph=(5.0, 30.0)), fires=8, seed=3)
    scenarios = sampler.sample(landscape.burnable)
    options = SimulationOptions()
    result = registry.create("numpy", options=options).simulate(tiles, breaks, scenarios)
    return landscape, tiles, breaks, scenarios, options, result.arrival_min[0]


def test_flame_between_backing_and_head_fire(fires):
    """Per fire, each burned cell's flame lies between its backing- and head-fire flame lengths."""
    from fuelrl.physics.cellwise import behavior_at_rate

    landscape, tiles, breaks, scenarios, options, arrival = fires
    stats = FlameStats(tiles, breaks, options)
    for f in range(arrival.shape[0]):
        key, head = stats._head(scenarios, f)
        flame = burning_flame_length_m(arrival[f : f + 1], head, tiles.cell_size_m)[0].numpy()
        burned = np.isfinite(arrival[f].numpy())
        assert (np.isfinite(flame) == burned).all()
        r, e = head["ros_head_m_min"], head["eccentricity"]
        _, low = behavior_at_rate(
            r, head["fireline_intensity_kw_m"], head["fire_type"], r * (1 - e) / (1 + e)
        )
        _, high = behavior_at_rate(r, head["fireline_intensity_kw_m"], head["fire_type"], r)
        assert (flame[burned] >= low[burned] - 1e-9).all() and (flame[burned] <= high[burned] + 1e-9).all()
        assert (flame[burned] < high[burned] - 1e-6).any()  # flanks and backs burn with less


def test_chunking_does_not_change_the_result(fires):
    landscape, tiles, breaks, scenarios, options, arrival = fires
    whole = FlameStats(tiles, breaks, options)
    whole.add(arrival, scenarios)
    parts = []
    for f in range(arrival.shape[0]):
        one = FlameStats(tiles, breaks, options)
        sub = make_scenarios(
            scenarios.ignition_cell[:, f : f + 1],
            wind_speed_20ft_mph=scenarios.wind_speed_20ft_m_min[:, f : f + 1] / 26.8224,
            wind_from_deg=scenarios.wind_from_deg[:, f : f + 1],
            moisture_pct=scenarios.moisture_fraction[0, f] * 100.0,
            foliar_moisture_pct=float(scenarios.foliar_moisture_fraction[0, f]) * 100.0,
            duration_min=scenarios.duration_min[:, f : f + 1],
        )
        sub.wind_speed_20ft_m_min = scenarios.wind_speed_20ft_m_min[:, f : f + 1]  # exact, no round trip
        one.add(arrival[f : f + 1], sub)
        parts.append(one.state())
    merged = FlameStats(tiles, breaks, options).combined(parts)
    np.testing.assert_array_equal(merged.class_counts, whole.class_counts)
    np.testing.assert_array_equal(merged.burned, whole.burned)
    np.testing.assert_array_equal(merged.conditional_flame_length_m(), whole.conditional_flame_length_m())
    n = arrival.shape[0]
    np.testing.assert_array_equal(
        whole.flame_length_probability(n).sum(0) * n, torch.isfinite(arrival).sum(0).numpy()
    )


@pytest.mark.parametrize("azimuth", [0.0, 33.0, 90.0, 200.0])
def test_front_normal_rate_of_a_planar_front(azimuth):
    """T = (x sin a + y cos a) / R on 30 m cells: the rate is R everywhere, also beside unburned cells."""
    rows, cols = np.mgrid[0:20, 0:20]
    x, y = cols * 30.0, -rows * 30.0  # y northward
    a = math.radians(azimuth)
    t = torch.as_tensor((x * math.sin(a) + y * math.cos(a)) / 2.5 + 1000.0)
    t[5, 7] = math.inf  # a hole: its neighbours use one-sided differences
    rate = front_normal_rate_m_min(t, 30.0).numpy()
    ok = np.isfinite(t.numpy())
    np.testing.assert_allclose(rate[ok], 2.5, rtol=1e-9)


def test_testmtt_intensity_matches_flammap_mtt(testmtt_dir):
    """One TestMTT fire (36 mph from 299 deg, 400 min): our per-cell fireline intensity vs FlamMap
    MTT's FliMap (its head intensity scaled by the rate the fire burned the cell with)."""
    from fuelrl.physics.validate import read_ascii_grid

    landscape = open_landscape(testmtt_dir / "19545.lcp")
    w = landscape.shape[1]
    scenarios = make_scenarios(
        [[38 * w + 31]],
        wind_speed_20ft_mph=36.0,
        wind_from_deg=299.0,
        moisture_pct=[3, 4, 10, 53, 131],
        foliar_moisture_pct=100.0,
        duration_min=400.0,
    )
    options = SimulationOptions(conventions="flammap")
    tiles = TileBatch.stack([landscape])
    breaks = torch.zeros((1, *landscape.shape), dtype=torch.bool)
    arrival = registry.create("numpy", options=options).simulate(tiles, breaks, scenarios).arrival_min[0]
    stats = FlameStats(tiles, breaks, options)
    _, head = stats._head(scenarios, 0)
    r, e = head["ros_head_m_min"], head["eccentricity"]
    rate = np.clip(front_normal_rate_m_min(arrival[0].double(), 30.0).numpy(), r * (1 - e) / (1 + e), r)
    ours = head["fireline_intensity_kw_m"] * np.where(r > 0, rate / np.where(r > 0, r, 1.0), 0.0)
    fm = read_ascii_grid(testmtt_dir / "outputs" / "testMTT_FliMap.asc")
    both = np.isfinite(arrival[0].numpy()) & np.isfinite(fm) & (fm > 0) & (ours > 0)
    assert both.sum() > 1500
    ratio = ours[both] / fm[both]
    assert 0.8 < np.median(ratio) < 1.25
    assert 0.5 < np.quantile(ratio, 0.25) and np.quantile(ratio, 0.75) < 1.5


def test_gridded_weather_reaches_the_flame_lengths(tmp_path):
    """simulate --wind-grid: a uniform grid gives the scalar run's CFL and classes bit for bit; a
    grid that doubles the wind on half the landscape changes them there (the head fires are the
    per-cell weather's, as the backends')."""
    from fuelrl.landscape import write_geotiff

    landscape = open_landscape(SPEC)
    speed = np.full(landscape.shape, 20.0, np.float32)
    s = write_geotiff(tmp_path / "s.tif", speed, landscape)
    d = write_geotiff(tmp_path / "d.tif", np.full(landscape.shape, 240.0, np.float32), landscape)
    fast = speed.copy()
    fast[:, landscape.shape[1] // 2 :] = 40.0
    f = write_geotiff(tmp_path / "f.tif", fast, landscape)
    base = ["simulate", SPEC, "--fires", "4", "--seed", "5", "--backend", "numpy", "--duration", "180"]
    runs = {
        "scalar": ["--wind-speed", "20", "--wind-from", "240"],
        "uniform": ["--wind-grid", str(s), str(d)],
        "faster": ["--wind-grid", str(f), str(d)],
    }
    out = {}
    for name, flags in runs.items():
        assert main([*base, *flags, "--out", str(tmp_path / name)]) == 0
        out[name] = {}
        for raster in ("conditional_flame_length", "flame_length_probability", "burn_probability"):
            with rasterio.open(tmp_path / name / f"{raster}.tif") as ds:
                out[name][raster] = ds.read()
    for raster, values in out["scalar"].items():
        np.testing.assert_array_equal(out["uniform"][raster], values, err_msg=raster)
    assert not np.array_equal(
        out["faster"]["conditional_flame_length"], out["scalar"]["conditional_flame_length"]
    )


def test_gridded_head_fires_are_each_cells_own_wind(tmp_path):
    """With a wind grid of 20 mph on the west half and 40 mph on the east half, the head fires the
    flame lengths are made from are the 20- and 40-mph scalar head fires, half by half."""
    from fuelrl.landscape import write_geotiff
    from fuelrl.landscape.weather_grids import read_weather_grids
    from fuelrl.simulators.companions import head_fire_fields

    landscape = open_landscape(SPEC)
    h, w = landscape.shape
    speed = np.full((h, w), 20.0, np.float32)
    speed[:, w // 2 :] = 40.0
    s = write_geotiff(tmp_path / "s.tif", speed, landscape)
    d = write_geotiff(tmp_path / "d.tif", np.full((h, w), 240.0, np.float32), landscape)
    grids = read_weather_grids(landscape, wind=(s, d))
    tiles = TileBatch.stack([landscape], weather=[grids])
    breaks = torch.zeros((1, h, w), dtype=torch.bool)
    options = SimulationOptions()
    scenarios = make_scenarios(
        [[0]],
        wind_speed_20ft_mph=grids.reference_wind_speed_20ft_mph,
        wind_from_deg=grids.reference_wind_from_deg,
        moisture_pct=[6, 7, 8, 60, 90],
        foliar_moisture_pct=100.0,
        duration_min=60.0,
    )
    _, head = FlameStats(tiles, breaks, options)._head(scenarios, 0)
    plain = TileBatch.stack([landscape])
    for mph, cols in ((20.0, slice(0, w // 2)), (40.0, slice(w // 2, w))):
        weather = {
            "wind_speed_20ft_m_min": mph * 26.8224,
            "wind_from_deg": 240.0,
            "moisture_fraction": np.array([0.06, 0.07, 0.08, 0.6, 0.9]),
            "foliar_moisture_fraction": 1.0,
        }
        ref = head_fire_fields(plain, breaks, options, weather)
        for key in ("ros_head_m_min", "fireline_intensity_kw_m", "direction_max_deg"):
            np.testing.assert_allclose(
                head[key][:, cols], ref[key][:, cols], rtol=1e-4, atol=1e-4, err_msg=key
            )
