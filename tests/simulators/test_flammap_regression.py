"""FlamMap 6 MTT regression on the Missoula Fire Lab TestMTT sample (../shared data).

Inputs as in the sample's 19545.input: wind 36 mph from 299 deg, moistures 3/4/10/53/131 %,
foliar 100 %, 400 min, FlamMap conventions; the barrier polygon (barrier2.shp) rasterized as a
break; the ignition cell row 38, col 31. FlamMap's arrival times are outputs/testMTT_ArrivalTime.asc.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
import torch

from fuelrl import registry
from fuelrl.simulators.base import SimulationOptions, TileBatch
from fuelrl.simulators.scenarios import make_scenarios
from fuelrl.testing import dice

DURATIONS = (100.0, 200.0, 400.0)


def read_polygon_shp(path) -> list[list[float]]:
    """The ring of the first polygon of an ESRI shapefile (spec: ESRI 1998 white paper)."""
    data = path.read_bytes()
    assert struct.unpack("<i", data[32:36])[0] == 5, "expected a polygon shapefile"
    rec = data[100 + 8 :]
    nparts, npts = struct.unpack("<ii", rec[36:44])
    start = 44 + 4 * nparts
    return np.frombuffer(rec[start : start + 16 * npts], "<f8").reshape(-1, 2).tolist()


@pytest.fixture
def testmtt(testmtt_dir):
    from rasterio.features import rasterize

    from fuelrl.landscape import open_landscape

    folder = testmtt_dir
    landscape = open_landscape(folder / "19545.lcp")
    ring = read_polygon_shp(folder / "barrier2.shp")
    barrier = rasterize(
        [({"type": "Polygon", "coordinates": [ring]}, 1)],
        out_shape=landscape.shape,
        transform=landscape.transform,
        all_touched=True,
    ).astype(bool)
    ref = np.loadtxt(folder / "outputs" / "testMTT_ArrivalTime.asc", skiprows=6)
    ref = np.where(ref < 0, np.inf, ref)
    return landscape, barrier, ref


def _run(backend: str, landscape, barrier, **kw):
    w = landscape.shape[1]
    scenarios = make_scenarios(
        [[38 * w + 31] * len(DURATIONS)],
        wind_speed_20ft_mph=36.0,
        wind_from_deg=299.0,
        moisture_pct=[3, 4, 10, 53, 131],
        foliar_moisture_pct=100.0,
        duration_min=[list(DURATIONS)],
    )
    sim = registry.create(backend, options=SimulationOptions(conventions="flammap"), **kw)
    return sim.simulate(TileBatch.stack([landscape]), torch.from_numpy(barrier[None]), scenarios)


def test_barrier_covers_the_expected_cells(testmtt):
    landscape, barrier, ref = testmtt
    burnable_barrier = np.argwhere(barrier & landscape.burnable).tolist()
    assert burnable_barrier == [[37, 29], [37, 30]]
    assert np.isinf(ref[37, 29]) and np.isinf(ref[37, 30])  # FlamMap did not burn them either


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_matches_flammap_mtt(testmtt, backend):
    landscape, barrier, ref = testmtt
    res = _run(backend, landscape, barrier)
    arrival = res.arrival_min[0].numpy()
    for i, duration in enumerate(DURATIONS):
        d = dice(np.isfinite(arrival[i]), ref <= duration)
        assert d >= 0.9, f"{backend}: Dice at {duration:g} min is {d:.3f}"
    area = float(res.burned_ha[0, -1])
    ref_area = float((ref <= 400.0).sum() * landscape.cell_area_ha)
    assert abs(area / ref_area - 1.0) <= 0.10, f"burned area {area:.1f} ha vs FlamMap {ref_area:.1f} ha"
    assert not np.isfinite(arrival[-1][barrier]).any()
