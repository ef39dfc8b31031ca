"""Wrong units are caught: values inconsistent with the declared unit are an error naming the layer,
the unit read and the unit the values suggest; ``units=`` overrides and is never second-guessed."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import rasterio.shutil

from fuelrl.landscape import generate_landscape, open_landscape

from .conftest import LANDFIRE_FILES, landscape_error, write_band, write_int16


@pytest.fixture
def landscape():
    return generate_landscape(seed=3, shape=(64, 64))


def _folder(tmp_path, landscape, replace=None):
    """A LANDFIRE folder; ``replace`` maps a file name to (float data, unit tag or None)."""
    folder = tmp_path / "lf"
    folder.mkdir()
    for name, fn in LANDFIRE_FILES.items():
        if replace and name in replace:
            data, unit = replace[name]
            write_band(
                folder / name,
                data,
                dtype="float32",
                crs=landscape.crs,
                transform=landscape.transform,
                nodata=-9999.0,
                units=unit,
            )
        else:
            write_int16(folder / name, np.asarray(fn(landscape)), landscape)
    return folder


def test_cbd_in_kg_m3_read_as_landfire_x100_is_an_error(tmp_path, landscape):
    cbd = landscape.canopy_bulk_density_kg_m3
    folder = _folder(tmp_path, landscape, {"LC22_CBD_230.tif": (cbd, None)})
    msg = landscape_error(folder)
    assert "LC22_CBD_230.tif (canopy bulk density)" in msg
    assert "do not fit kg/m3*100 (default)" in msg and "look like kg/m3 " in msg
    assert "canopy_bulk_density=kg/m3" in msg
    L = open_landscape(folder, units={"canopy_bulk_density": "kg/m3"})
    np.testing.assert_allclose(L.canopy_bulk_density_kg_m3, cbd, atol=1e-6)


def test_cover_as_fraction_read_as_percent_is_an_error(tmp_path, landscape):
    cc = landscape.canopy_cover_fraction
    folder = _folder(tmp_path, landscape, {"LC22_CC_230.tif": (cc, "Percent")})
    msg = landscape_error(folder)
    assert "LC22_CC_230.tif (canopy cover)" in msg and "percent (metadata)" in msg
    assert "look like fraction" in msg
    L = open_landscape(folder, units={"cc": "fraction"})
    np.testing.assert_allclose(L.canopy_cover_fraction, cc, atol=1e-6)


def test_canopy_height_in_m_read_as_m_x10_is_an_error(tmp_path, landscape):
    folder = _folder(tmp_path, landscape, {"LC22_CH_230.tif": (landscape.canopy_height_m, None)})
    msg = landscape_error(folder)
    assert "LC22_CH_230.tif (canopy height)" in msg and "m*10 (default)" in msg and "look like m " in msg


def test_base_height_tagged_m_but_stored_m_x10_is_an_error(tmp_path, landscape):
    cbh10 = landscape.canopy_base_height_m * 10.0
    folder = _folder(tmp_path, landscape, {"LC22_CBH_230.tif": (cbh10, "Meters")})
    msg = landscape_error(folder)
    assert "LC22_CBH_230.tif (canopy base height)" in msg and "m (metadata)" in msg


def test_base_height_above_canopy_height_is_an_error(tmp_path, landscape):
    # both plausible on their own, but the base sits above the top: one unit is wrong
    ch = np.where(landscape.canopy_height_m > 0, 4.0, 0.0)
    cbh = np.where(landscape.canopy_height_m > 0, 8.0, 0.0)
    folder = _folder(
        tmp_path, landscape, {"LC22_CH_230.tif": (ch, "Meters"), "LC22_CBH_230.tif": (cbh, "Meters")}
    )
    msg = landscape_error(folder)
    assert "exceeds canopy height" in msg and "LC22_CBH_230.tif" in msg


def test_user_units_are_never_second_guessed(tmp_path, landscape):
    folder = _folder(tmp_path, landscape, {"LC22_CC_230.tif": (landscape.canopy_cover_fraction, None)})
    # the user insists on percent: read as percent (0..0.01 fraction), no unit error
    L = open_landscape(folder, units={"canopy_cover": "percent"})
    assert L.canopy_cover_fraction.max() <= 0.01 + 1e-6


def test_correct_units_pass(landfire_folder, worcester_dir):
    open_landscape(landfire_folder)
    open_landscape(worcester_dir)


def test_negative_slope_in_degrees_is_refused_like_percent(tmp_path, landscape):
    slope = np.degrees(np.arctan(landscape.slope_fraction))
    slope[3, 4] = -5.0
    folder = _folder(tmp_path, landscape, {"LC20_SlpP_220.tif": (slope, "Degrees")})
    (folder / "LC20_SlpP_220.tif").rename(folder / "LC20_Slope_220.tif")
    msg = landscape_error(folder)
    assert "(slope)" in msg and "1 cells outside the physical range" in msg and "row 3, col 4" in msg


# ----------------------------------------------------------------------------------- .lcp flags
def _lcp(tmp_path, landscape, name="x.lcp", scale=None, **flags):
    """An .lcp written by GDAL from LANDFIRE-convention int16 bands, with unit flags ``flags``."""
    stored = [np.asarray(fn(landscape)) for fn in LANDFIRE_FILES.values()]
    stored[1] = np.rint(np.degrees(np.arctan(landscape.slope_fraction)))  # LCP slope in degrees
    for band, factor in (scale or {}).items():
        stored[band - 1] = np.rint(stored[band - 1] * factor)
    src = tmp_path / "src.tif"
    h, w = landscape.shape
    with rasterio.open(
        src,
        "w",
        driver="GTiff",
        height=h,
        width=w,
        count=8,
        dtype="int16",
        crs=landscape.crs,
        transform=landscape.transform,
    ) as dst:
        for b, data in enumerate(stored, start=1):
            dst.write(data.astype(np.int16), b)
    options = {
        "LATITUDE": 45,
        "LINEAR_UNIT": "METER",
        "SLOPE_UNIT": "DEGREES",
        "ASPECT_UNIT": "AZIMUTH_DEGREES",
        "CANOPY_COV_UNIT": "PERCENT",
        "CANOPY_HT_UNIT": "METERS_X_10",
        "CBH_UNIT": "METERS_X_10",
        "CBD_UNIT": "KG_PER_CUBIC_METER_X_100",
        "ELEVATION_UNIT": "METERS",
    } | flags
    rasterio.shutil.copy(src, tmp_path / name, driver="LCP", **options)
    return tmp_path / name


def test_lcp_with_right_flags_loads(tmp_path, landscape):
    L = open_landscape(_lcp(tmp_path, landscape))
    np.testing.assert_allclose(
        L.canopy_cover_fraction, np.rint(landscape.canopy_cover_fraction * 100) / 100, atol=1e-6
    )


def test_lcp_cover_flag_classes_on_percent_values(tmp_path, landscape):
    msg = landscape_error(_lcp(tmp_path, landscape, CANOPY_COV_UNIT="CATEGORIES"))
    assert "x.lcp band 5 (canopy cover)" in msg and "class (metadata)" in msg and "look like percent" in msg


def test_lcp_cbd_flag_kg_m3_on_x100_values(tmp_path, landscape):
    msg = landscape_error(_lcp(tmp_path, landscape, CBD_UNIT="KG_PER_CUBIC_METER"))
    assert "x.lcp band 8 (canopy bulk density)" in msg and "look like kg/m3*100" in msg


def test_lcp_height_flag_feet_x10_on_metre_values(tmp_path, landscape):
    # stored in m (not m x 10) but flagged m x 10: every height 10x too small
    msg = landscape_error(_lcp(tmp_path, landscape, scale={6: 0.1}))
    assert "x.lcp band 6 (canopy height)" in msg and "look like m" in msg


def test_lcp_elevation_flag_feet_on_metre_values(tmp_path, landscape):
    msg = landscape_error(_lcp(tmp_path, landscape, ELEVATION_UNIT="FEET"))
    assert "x.lcp band 1 (elevation)" in msg and "do not fit ft (metadata)" in msg and "suggest m" in msg
    open_landscape(tmp_path / "x.lcp", units={"elevation": "ft"})  # insisted: read as feet


def test_lcp_aspect_flag_grass_on_azimuth_values(tmp_path, landscape):
    msg = landscape_error(_lcp(tmp_path, landscape, ASPECT_UNIT="GRASS_DEGREES"))
    assert "x.lcp band 3 (aspect)" in msg and "grass_degrees (metadata)" in msg and "suggest degrees" in msg
