"""The grid: a CRS or an explicit cell size in metres, plausible cell sizes, no oversize reads,
no silently dropped bands, messages that say what is wrong."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from fuelrl.errors import InputError
from fuelrl.landscape import generate_landscape, open_landscape, open_reader, write_landscape
from fuelrl.landscape.readers import MAX_READ_CELLS

from .conftest import landscape_error


def _rewrite(path, *, crs="keep", transform=None, count=None, descriptions=True):
    """Copy ``path`` (an 8-band landscape) with another CRS / transform / band count."""
    with rasterio.open(path) as src:
        data, profile, desc = src.read(), src.profile, src.descriptions
    if count is not None and count > data.shape[0]:
        data = np.concatenate([data, data[:1].repeat(count - data.shape[0], axis=0)])
    profile.update(count=data.shape[0])
    if crs != "keep":
        profile["crs"] = crs
    if transform is not None:
        profile["transform"] = transform
    out = path.with_name("re_" + path.name)
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(data)
        if descriptions:
            for b, d in enumerate(desc, start=1):
                dst.set_band_description(b, d)
    return out


@pytest.fixture
def tif(tmp_path):
    return write_landscape(generate_landscape(seed=5, shape=(32, 32)), tmp_path / "ls.tif")


def test_no_crs_needs_an_explicit_cell_size(tif):
    path = _rewrite(tif, crs=None)
    msg = landscape_error(path)
    assert "re_ls.tif: no CRS" in msg and "--cell-size" in msg
    L = open_landscape(path, cell_size_m=30.0)
    assert L.cell_size_m == 30.0 and L.crs is None


def test_no_crs_with_degree_sized_cells_stated_as_metres_is_refused(tif):
    path = _rewrite(tif, crs=None, transform=Affine(0.00027, 0, -72.0, 0, -0.00027, 44.0))
    assert "contradicts" not in landscape_error(path)  # no CRS: told to state the cell size
    # a statement must be a plausible metre size
    assert "--cell-size must be a cell size in metres" in landscape_error(path, cell_size_m=0.00027)


def test_implausible_cell_size_in_a_projected_crs(tif):
    path = _rewrite(tif, transform=Affine(0.00027, 0, 1000.0, 0, -0.00027, 2000.0))
    msg = landscape_error(path)
    assert "implausible cell size 0.00027 m" in msg and "EPSG:5070" in msg


def test_cell_size_contradicting_the_crs(tif):
    msg = landscape_error(tif, cell_size_m=10.0)
    assert "--cell-size 10 m contradicts the cell size 30 m" in msg
    assert open_landscape(tif, cell_size_m=30.0).cell_size_m == 30.0


def test_no_georeferencing_is_said_as_such(tif):
    path = _rewrite(tif, crs=None, transform=Affine.identity())
    msg = landscape_error(path)
    assert "no georeferencing" in msg and "north-up" not in msg


def test_zero_cell_size_is_said_as_such(tif):
    path = _rewrite(tif, transform=Affine(0.0, 0, 1000.0, 0, 0.0, 2000.0))
    msg = landscape_error(path)
    assert "cell size is 0" in msg and "north-up" not in msg


def test_lcp_header_unit_states_the_cell_size(testmtt_dir):
    assert open_reader(testmtt_dir / "19545.lcp").cell_size_m == 30.0


def test_nine_bands_without_descriptions_are_not_cut_to_eight(tif):
    path = _rewrite(tif, count=9, descriptions=False)
    msg = landscape_error(path)
    assert "9 bands without descriptions" in msg and "mapping=" in msg
    si = {"slope": "fraction", "cc": "fraction", "ch": "m", "cbh": "m", "cbd": "kg/m3"}
    open_landscape(
        path,
        units=si,
        mapping={
            k: i
            for i, k in enumerate(
                [
                    "elevation",
                    "slope",
                    "aspect",
                    "fuel_model",
                    "canopy_cover",
                    "canopy_height",
                    "canopy_base_height",
                    "canopy_bulk_density",
                ],
                start=1,
            )
        },
    )


def test_oversize_sparse_raster_is_refused_before_reading(tmp_path):
    side = 20_000
    assert side * side > MAX_READ_CELLS
    path = tmp_path / "huge.tif"
    names = [
        "Elevation",
        "Slope Degrees",
        "Aspect",
        "Fuel Model",
        "Canopy Cover",
        "Canopy Height",
        "Canopy Base Height",
        "Canopy Bulk Density",
    ]
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=side,
        width=side,
        count=8,
        dtype="int16",
        nodata=-9999,
        crs=CRS.from_epsg(5070),
        transform=Affine(30, 0, 0, 0, -30, 0),
        tiled=True,
        compress="deflate",
        SPARSE_OK="TRUE",
    ) as dst:
        for b, name in enumerate(names, start=1):
            dst.set_band_description(b, name)
    assert path.stat().st_size < 10_000_000
    msg = landscape_error(path)
    assert "20000x20000 cells is too large to read at once" in msg and "GB needed" in msg


def test_oversize_synthetic_spec_is_refused():
    assert "too large" in landscape_error("synthetic:size=20000x20000")


def test_fractional_fuel_code_is_reported_as_given(tmp_path):
    L = generate_landscape(seed=5, shape=(32, 32))
    path = write_landscape(L, tmp_path / "ls.tif")
    with rasterio.open(path, "r+") as ds:
        fm = ds.read(4)
        fm[2, 2] = 101.5
        ds.write(fm, 4)
    assert "101.5" in landscape_error(path)


def test_impossible_tile_size_is_said_as_such():
    from fuelrl.landscape import TileDataset

    with pytest.raises(InputError, match=r"tile_size 64 is larger than every landscape .*32x32"):
        TileDataset(["synthetic:seed=1,size=32"], tile_size=64)
