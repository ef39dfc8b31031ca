"""Every bad input gives one InputError line naming the file and the layer; never synthetic data."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS

from fuelrl.errors import InputError
from fuelrl.landscape import generate_landscape, write_geotiff, write_landscape

from .conftest import LANDFIRE_NODATA, landscape_error, write_int16


def test_missing_path(tmp_path):
    msg = landscape_error(tmp_path / "nope")
    assert "landscape not found" in msg and "nope" in msg


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "empty landscape folder" in landscape_error(tmp_path / "empty")


def test_missing_layer(landfire_folder):
    (landfire_folder / "LC22_CBH_230.tif").unlink()
    msg = landscape_error(landfire_folder)
    assert "missing layer(s) canopy base height" in msg and "*_CBH_*" in msg


def test_shape_disagreement(landfire_folder, small_landscape):
    write_int16(landfire_folder / "LC22_CC_230.tif", np.zeros((47, 40)), small_landscape)
    msg = landscape_error(landfire_folder)
    assert "LC22_CC_230.tif (canopy cover)" in msg and "shape 47x40" in msg and "LC20_Elev_220.tif" in msg


def test_crs_disagreement(landfire_folder, small_landscape):
    write_int16(
        landfire_folder / "LC22_CH_230.tif", np.zeros((48, 40)), small_landscape, crs=CRS.from_epsg(32612)
    )
    msg = landscape_error(landfire_folder)
    assert "LC22_CH_230.tif (canopy height)" in msg and "CRS" in msg


def test_transform_disagreement(landfire_folder, small_landscape):
    moved = small_landscape.transform @ Affine.translation(1, 0)
    write_int16(landfire_folder / "LC22_CBD_230.tif", np.zeros((48, 40)), small_landscape, transform=moved)
    msg = landscape_error(landfire_folder)
    assert "LC22_CBD_230.tif (canopy bulk density)" in msg and "transform" in msg


def test_truncated_multiband_file(tmp_path):
    path = write_landscape(generate_landscape(seed=2, shape=(64, 64)), tmp_path / "full.tif")
    data = path.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) // 2])
    msg = landscape_error(cut)
    assert "cut.tif" in msg and "truncated" in msg


def test_truncated_layer_file(landfire_folder):
    path = landfire_folder / "LC22_F40_230.tif"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 200])
    msg = landscape_error(landfire_folder)
    assert "LC22_F40_230.tif (fuel model)" in msg and "truncated" in msg


def test_unreadable_file(tmp_path):
    bad = tmp_path / "notes.tif"
    bad.write_text("not a raster")
    msg = landscape_error(bad)
    assert "notes.tif" in msg and "cannot open" in msg


def test_all_nodata(landfire_folder, small_landscape):
    for name in ("LC20_Elev_220.tif",):
        write_int16(landfire_folder / name, np.full((48, 40), LANDFIRE_NODATA), small_landscape)
    assert "all nodata" in landscape_error(landfire_folder)


def test_all_nodata_window():
    L = generate_landscape(seed=1, shape=(32, 32))
    L.valid[:16, :16] = False
    with pytest.raises(InputError, match="all nodata"):
        L.window(0, 0, 16, 16)
    with pytest.raises(InputError, match="outside"):
        L.window(20, 20, 16, 16)


def test_unknown_fuel_codes(landfire_folder, small_landscape):
    fuel = small_landscape.fuel_model.copy()
    fuel[3, 4] = 55
    fuel[9, 9] = 150
    write_int16(landfire_folder / "LC22_F40_230.tif", fuel, small_landscape)
    msg = landscape_error(landfire_folder)
    assert "LC22_F40_230.tif (fuel model)" in msg and "55, 150" in msg and "Scott & Burgan" in msg


@pytest.mark.parametrize(
    ("name", "value", "layer"),
    [
        ("LC22_CBD_230.tif", 300, "canopy bulk density"),  # 3 kg/m3
        ("LC22_CC_230.tif", 130, "canopy cover"),  # 130 %
        ("LC22_CH_230.tif", -20, "canopy height"),
        ("LC20_Elev_220.tif", 9500, "elevation"),
        ("LC20_Asp_220.tif", 400, "aspect"),
    ],
)
def test_out_of_range_values(landfire_folder, small_landscape, name, value, layer):
    from .conftest import LANDFIRE_FILES

    data = np.asarray(LANDFIRE_FILES[name](small_landscape)).astype(np.int16)
    data[7, 8] = value
    write_int16(landfire_folder / name, data, small_landscape)
    msg = landscape_error(landfire_folder)
    assert f"{name} ({layer})" in msg and "row 7, col 8" in msg


def test_ambiguous_layer_files(landfire_folder):
    shutil.copy(landfire_folder / "LC22_CC_230.tif", landfire_folder / "LC23_CC_240.tif")
    msg = landscape_error(landfire_folder)
    assert "several files look like the canopy cover layer" in msg and "mapping=" in msg


def test_single_layer_file_is_not_a_landscape(landfire_folder):
    assert "single-layer raster" in landscape_error(landfire_folder / "LC22_CC_230.tif")


def test_multiband_missing_band_by_description(tmp_path):
    G = generate_landscape(seed=3, shape=(16, 16))
    stack = np.stack([G.elevation_m] * 8)
    names = ["elevation_m", "slope_fraction", "aspect_deg", "fuel_model", "canopy_cover_fraction",
             "canopy_height_m", "canopy_base_height_m", "something_else"]  # fmt: skip
    path = write_geotiff(tmp_path / "x.tif", stack, G, description=names)
    msg = landscape_error(path)
    assert "no band for canopy bulk density" in msg and "'something_else'" in msg


def test_geographic_crs_rejected(landfire_folder, small_landscape):
    geo = Affine(0.0003, 0, -113.0, 0, -0.0003, 47.0)
    for p in landfire_folder.iterdir():
        from rasterio import open as ropen

        with ropen(p) as ds:
            data = ds.read(1)
        write_int16(p, data, small_landscape, crs=CRS.from_epsg(4326), transform=geo)
    assert "geographic" in landscape_error(landfire_folder)


def test_bad_options(landfire_folder, tmp_path):
    assert "unknown layer" in landscape_error(landfire_folder, mapping={"fuel_load": "x.tif"})
    assert "cannot be 'furlongs'" in landscape_error(landfire_folder, units={"slope": "furlongs"})
    assert "unknown option 'seeds'" in landscape_error("synthetic:seeds=3")
    assert "cannot read" in landscape_error("synthetic:size=ax3")


def test_write_geotiff_shape_mismatch(tmp_path):
    G = generate_landscape(seed=0, shape=(16, 16))
    with pytest.raises(InputError, match="does not fit the landscape grid"):
        write_geotiff(tmp_path / "bad.tif", np.zeros((15, 16)), G)
    assert not list(tmp_path.iterdir())  # nothing written
