"""Gridded weather rasters: read on the landscape's grid, resampled with a notice, bad grids refused."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from fuelrl.errors import FuelrlNotice, InputError
from fuelrl.landscape import generate_landscape, open_landscape, write_geotiff
from fuelrl.landscape.weather_grids import (
    read_weather_grids,
    reference_wind,
    uniform_weather,
)
from fuelrl.physics.units import M_MIN_PER_MPH
from tests.conftest import shared_path

from .conftest import write_band


@pytest.fixture
def land():
    return generate_landscape(seed=1, shape=(20, 24))


def _grid(tmp_path, land, name, values):
    return write_geotiff(tmp_path / name, np.asarray(values, np.float32), land, nodata=-9999.0)


def test_real_sample_on_its_grid():
    """The 2427464 FlamMap sample: fractions detected, values kept cell by cell, wind in m/min."""
    root = shared_path("landscapes", "flammap_testflammap_2427464")
    land = open_landscape(root / "2427464.lcp")
    g = root / "gridded_inputs"
    with pytest.warns(FuelrlNotice, match="read as fractions"):
        gw = read_weather_grids(
            land,
            wind=(g / "test_WINDSPEEDGRID.tif", g / "test_WINDDIRGRID.tif"),
            moisture={"1h": g / "test_FUELMOISTURE1.tif", "100h": g / "test_FUELMOISTURE100.tif"},
        )
    with rasterio.open(g / "test_FUELMOISTURE1.tif") as ds:
        raw = ds.read(1)
    with rasterio.open(g / "test_WINDSPEEDGRID.tif") as ds:
        mph = ds.read(1)
    burn = land.burnable
    assert gw.shape == land.shape
    np.testing.assert_array_equal(gw.moisture_fraction["1h"][burn], raw[burn])
    np.testing.assert_allclose(gw.wind_speed_20ft_m_min, mph * M_MIN_PER_MPH, rtol=1e-6)
    assert set(gw.moisture_fraction) == {"1h", "100h"}
    assert np.isfinite(gw.moisture_fraction["1h"]).all()  # nodata outside burnable filled
    assert 0 < gw.reference_wind_speed_20ft_mph < 85


def test_percent_rule(tmp_path, land):
    dead = np.full(land.shape, 6.0)  # percent: max > 1
    live = np.full(land.shape, 0.9)  # fraction: max <= 4
    with pytest.warns(FuelrlNotice, match="read as percent"):
        gw = read_weather_grids(
            land,
            moisture={
                "1h": _grid(tmp_path, land, "d.tif", dead),
                "herb": _grid(tmp_path, land, "h.tif", live),
            },
        )
    np.testing.assert_allclose(gw.moisture_fraction["1h"], 0.06, rtol=1e-6)
    np.testing.assert_allclose(gw.moisture_fraction["herb"], 0.9, rtol=1e-6)


def test_resampled_to_the_grid_with_a_notice(tmp_path, land):
    """A coarser georeferenced grid (60 m over the 30 m landscape) is resampled; direction through
    its vector components (350 and 10 degrees meet at north, not south)."""
    left, top = land.transform.c, land.transform.f
    coarse = Affine(60.0, 0.0, left - 60, 0.0, -60.0, top + 60)
    speed = np.full((14, 16), 12.0, np.float32)
    direction = np.tile(np.array([350.0, 10.0], np.float32), (14, 8))
    paths = []
    for name, arr in (("s.tif", speed), ("d.tif", direction)):
        paths.append(_plain_tif(tmp_path / name, arr, coarse, land.crs))
    with pytest.warns(FuelrlNotice, match="resampled"):
        gw = read_weather_grids(land, wind=tuple(paths))
    assert gw.shape == land.shape
    np.testing.assert_allclose(gw.wind_speed_20ft_m_min, 12.0 * M_MIN_PER_MPH, rtol=1e-5)
    turn = (gw.wind_from_deg + 180.0) % 360.0 - 180.0  # around north
    assert np.abs(turn).max() <= 10.0 + 1e-3


def _plain_tif(path, arr, transform=None, crs=None):
    return write_band(path, arr, dtype="float32", crs=crs, transform=transform)


def test_bad_grids_get_one_line_errors(tmp_path, land):
    ok = _grid(tmp_path, land, "ok.tif", np.full(land.shape, 10.0))
    other = _plain_tif(tmp_path / "other.tif", np.full((7, 9), 10.0))
    with pytest.raises(InputError, match=r"other\.tif is 7x9 cells.*no CRS and transform"):
        read_weather_grids(land, wind=(other, ok))
    nan = np.full(land.shape, 10.0)
    r, c = np.argwhere(land.burnable)[0]
    nan[r, c] = np.nan
    with pytest.raises(InputError, match=r"nan\.tif has nodata or NaN in 1 burnable cell"):
        read_weather_grids(land, wind=(_grid(tmp_path, land, "nan.tif", nan), ok))
    with pytest.raises(InputError, match=r"neg\.tif holds negative wind speeds"):
        read_weather_grids(land, wind=(_grid(tmp_path, land, "neg.tif", np.full(land.shape, -1.0)), ok))
    with pytest.warns(FuelrlNotice), pytest.raises(InputError, match=r"wet\.tif holds moistures up to 450 %"):
        read_weather_grids(
            land, moisture={"woody": _grid(tmp_path, land, "wet.tif", np.full(land.shape, 450.0))}
        )
    far = Affine(30.0, 0.0, land.transform.c + 1e6, 0.0, -30.0, land.transform.f)
    away = _plain_tif(tmp_path / "away.tif", np.full((20, 24), 10.0), far, land.crs)
    with pytest.raises(InputError, match=r"away\.tif does not overlap the landscape"):
        read_weather_grids(land, wind=(away, ok))
    with pytest.raises(InputError, match="file not found"):
        read_weather_grids(land, moisture={"1h": tmp_path / "missing.tif"})


def test_uniform_grid_is_its_own_reference(land):
    gw = uniform_weather(land.shape, wind_speed_20ft_mph=17.0, wind_from_deg=-30.0)
    assert (gw.wind_speed_ratio() == 1.0).all() and (gw.wind_turn_deg() == 0.0).all()
    speed, direction = reference_wind(gw.wind_speed_20ft_m_min, gw.wind_from_deg, land.burnable)
    assert np.float32(speed * M_MIN_PER_MPH) == gw.wind_speed_20ft_m_min[0, 0]
    assert direction == pytest.approx(330.0)
    win = gw.window(2, 3, 5, 6)
    assert win.shape == (5, 6) and win.reference_wind_speed_20ft_mph == 17.0
