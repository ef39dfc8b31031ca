"""Reading LANDFIRE folders, 8-band GeoTIFFs and .lcp files into SI units."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import rasterio

from fuelrl.landscape import LAYER_ATTRS, generate_landscape, open_landscape, open_reader, write_landscape
from fuelrl.landscape.fuel_codes import KNOWN_CODES
from fuelrl.landscape.terrain import slope_aspect
from fuelrl.simulators.base import TileBatch

from .conftest import write_int16


def _read(path):
    with rasterio.open(path) as ds:
        return ds.read(1), ds.nodata


# ------------------------------------------------------------------------- worcester (LANDFIRE)
def test_worcester_grid_and_area(worcester_dir):
    L = open_landscape(worcester_dir)
    assert L.shape == (613, 549)
    assert L.crs.to_epsg() == 5070
    assert L.cell_size_m == 30.0
    assert L.cell_area_ha == pytest.approx(0.09)
    assert L.cell_area_acres == pytest.approx(0.09 * 2.4710538146716536)
    elev, nodata = _read(worcester_dir / "LC20_Elev_220.tif")
    assert nodata == 32767
    assert L.valid.sum() == (elev != 32767).sum()  # every layer shares the same nodata footprint here
    for attr in LAYER_ATTRS:
        assert np.all(getattr(L, attr)[~L.valid] == 0), attr
    assert L.fuel_model.dtype == np.int16 and L.slope_fraction.dtype == np.float32


def test_worcester_units_against_raw_files(worcester_dir):
    """Each layer equals the raw LANDFIRE value converted by hand (percent, m x 10, kg/m3 x 100)."""
    L = open_landscape(worcester_dir)
    v = L.valid
    raw = {name: _read(worcester_dir / f)[0] for name, f in {
        "elev": "LC20_Elev_220.tif", "slp": "LC20_SlpP_220.tif", "asp": "LC20_Asp_220.tif",
        "f40": "LC22_F40_230.tif", "cc": "LC22_CC_230.tif", "ch": "LC22_CH_230.tif",
        "cbh": "LC22_CBH_230.tif", "cbd": "LC22_CBD_230.tif"}.items()}  # fmt: skip
    flat = raw["asp"] == -1
    np.testing.assert_array_equal(L.elevation_m[v], raw["elev"][v].astype(np.float32))
    np.testing.assert_allclose(L.slope_fraction[v & ~flat], raw["slp"][v & ~flat] / 100.0, rtol=1e-6)
    np.testing.assert_array_equal(L.aspect_deg[v & ~flat], raw["asp"][v & ~flat].astype(np.float32))
    assert np.all(L.aspect_deg[v & flat] == 0) and np.all(L.slope_fraction[v & flat] == 0)
    assert flat[v].sum() > 1000  # the clip has many LANDFIRE flat cells (-1)
    np.testing.assert_array_equal(L.fuel_model[v], raw["f40"][v])  # F40 preferred over F13
    np.testing.assert_allclose(L.canopy_cover_fraction[v], raw["cc"][v] / 100.0, rtol=1e-6)
    np.testing.assert_allclose(L.canopy_height_m[v], raw["ch"][v] / 10.0, rtol=1e-6)
    np.testing.assert_allclose(L.canopy_base_height_m[v], raw["cbh"][v] / 10.0, rtol=1e-6)
    np.testing.assert_allclose(L.canopy_bulk_density_kg_m3[v], raw["cbd"][v] / 100.0, rtol=1e-6)
    # known values of this clip (LANDFIRE 2020/2022): CH up to 27 m, CBD up to 0.45 kg/m3
    assert L.canopy_height_m.max() == pytest.approx(27.0)
    assert L.canopy_bulk_density_kg_m3.max() == pytest.approx(0.45)
    assert set(np.unique(L.fuel_model[v]).tolist()) <= KNOWN_CODES
    assert L.burnable.sum() < v.sum()  # NB1 / NB8 cells present


def test_worcester_slope_and_aspect_agree_with_elevation(worcester_dir):
    """Independent check of the slope (percent) and aspect conventions: derive both from the DEM."""
    L = open_landscape(worcester_dir)
    s, a = slope_aspect(L.elevation_m, L.cell_size_m)
    from scipy.ndimage import binary_erosion

    inner = binary_erosion(L.valid, iterations=2)
    assert np.median(np.abs(s - L.slope_fraction)[inner]) < 0.03
    steep = inner & (L.slope_fraction > 0.15)
    diff = (a - L.aspect_deg + 180.0) % 360.0 - 180.0
    assert np.median(np.abs(diff[steep])) < 20.0  # downslope azimuth, clockwise from north


def test_worcester_stacks_into_tile_batch(worcester_dir):
    L = open_landscape(worcester_dir)
    batch = TileBatch.stack([L.window(100, 100, 32, 32), L.window(200, 200, 32, 32)])
    assert batch.shape == (2, 32, 32)
    assert batch.cell_area_ha == pytest.approx(L.cell_area_ha)


# ------------------------------------------------------------------------- TestMTT 19545 (.tif / .lcp)
def test_19545_tif_and_lcp_load_identically(testmtt_dir):
    with pytest.warns(UserWarning, match=r"19545.tif band 2 \(slope\).*percent.*degrees"):
        tif = open_landscape(testmtt_dir / "19545.tif")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the .lcp header says degrees: no correction needed
        lcp = open_landscape(testmtt_dir / "19545.lcp")
    assert tif.shape == lcp.shape == (94, 84)
    for attr in (*LAYER_ATTRS, "valid"):
        np.testing.assert_array_equal(getattr(tif, attr), getattr(lcp, attr), err_msg=attr)
    assert tif.transform == lcp.transform
    assert tif.valid.all()  # FlamMap's -9999 aspect sits on flat (slope 0) cells: flat, not nodata
    with rasterio.open(testmtt_dir / "19545.lcp") as ds:
        raw_slope_deg = ds.read(2).astype(np.float64)
        raw_cbd = ds.read(8)
        raw_ch = ds.read(6)
    np.testing.assert_allclose(lcp.slope_fraction, np.tan(np.radians(raw_slope_deg)), rtol=1e-6)
    assert lcp.slope_fraction.max() == pytest.approx(np.tan(np.radians(44.0)), rel=1e-6)
    np.testing.assert_allclose(lcp.canopy_bulk_density_kg_m3, raw_cbd / 100.0, rtol=1e-6)
    np.testing.assert_allclose(lcp.canopy_height_m, raw_ch / 10.0, rtol=1e-6)
    assert sorted(np.unique(lcp.fuel_model).tolist()) == [99, 101, 102, 121, 122, 146, 147, 165, 183, 188]


def test_19545_slope_in_degrees_matches_dem(testmtt_dir):
    """The reason the .tif's 'Percent' tag is overruled: its slope fits the DEM as degrees."""
    lcp = open_landscape(testmtt_dir / "19545.lcp")
    s, _ = slope_aspect(lcp.elevation_m, lcp.cell_size_m)
    inner = (slice(2, -2), slice(2, -2))
    err_deg = np.median(np.abs(np.degrees(np.arctan(s)) - np.degrees(np.arctan(lcp.slope_fraction)))[inner])
    assert err_deg < 2.0


def test_19545_map_point_lookup(testmtt_dir):
    """DESIGN.md: the ignition point (-1144.7, 4869.4) is cell row 38, col 31."""
    lcp = open_landscape(testmtt_dir / "19545.lcp")
    assert lcp.xy_to_rowcol(-1144.7, 4869.4) == (38, 31)
    x, y = lcp.rowcol_to_xy(38, 31)
    assert lcp.xy_to_rowcol(x, y) == (38, 31)


def test_units_override_disables_the_elevation_check(testmtt_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L = open_landscape(testmtt_dir / "19545.tif", units={"slope": "percent"})
    assert L.slope_fraction.max() == pytest.approx(0.44, rel=1e-6)


# ------------------------------------------------------------------------- generated folders / files
def test_landfire_folder_roundtrip(landfire_folder, small_landscape):
    L = open_landscape(landfire_folder)
    G = small_landscape
    assert not L.valid[0, 0] and not L.valid[5, 7] and L.valid.sum() == L.valid.size - 2
    assert L.crs == G.crs and L.transform == G.transform
    v = L.valid.copy()
    v[10, 10] = v[20, 3] = False
    np.testing.assert_allclose(L.slope_fraction[v], np.rint(G.slope_fraction * 100)[v] / 100, atol=1e-6)
    np.testing.assert_allclose(L.canopy_height_m[v], np.rint(G.canopy_height_m * 10)[v] / 10, atol=1e-5)
    np.testing.assert_array_equal(L.fuel_model[v], G.fuel_model[v])
    for r, c in ((10, 10), (20, 3)):  # LANDFIRE flat (-1): aspect 0, slope 0
        assert L.valid[r, c] and L.aspect_deg[r, c] == 0 and L.slope_fraction[r, c] == 0


def test_folder_mapping_for_unrecognised_names(landfire_folder, small_landscape):
    (landfire_folder / "LC22_CBH_230.tif").rename(landfire_folder / "base_of_crowns.tif")
    L = open_landscape(landfire_folder, mapping={"canopy_base_height": "base_of_crowns.tif"})
    np.testing.assert_allclose(
        L.canopy_base_height_m[L.valid],
        np.rint(small_landscape.canopy_base_height_m * 10)[L.valid] / 10,
        atol=1e-5,
    )


def test_folder_prefers_f40_and_reads_f13_alone(landfire_folder, small_landscape):
    f13 = np.where(small_landscape.fuel_model >= 161, 8, np.where(small_landscape.fuel_model > 99, 2, 91))
    write_int16(landfire_folder / "LC22_F13_230.tif", f13, small_landscape)
    assert open_landscape(landfire_folder).fuel_model.max() > 100
    (landfire_folder / "LC22_F40_230.tif").unlink()
    L = open_landscape(landfire_folder)
    assert set(np.unique(L.fuel_model[L.valid]).tolist()) <= {2, 8, 91}


def test_multiband_without_descriptions_uses_lcp_order(tmp_path, small_landscape):
    """An 8-band int16 file with no descriptions or units: LCP band order and LANDFIRE units."""
    G = small_landscape
    raw = np.stack([
        np.rint(G.elevation_m), np.rint(np.degrees(np.arctan(G.slope_fraction))), np.rint(G.aspect_deg) % 360,
        G.fuel_model, np.rint(G.canopy_cover_fraction * 100), np.rint(G.canopy_height_m * 10),
        np.rint(G.canopy_base_height_m * 10), np.rint(G.canopy_bulk_density_kg_m3 * 100),
    ]).astype(np.int16)  # fmt: skip
    path = tmp_path / "plain.tif"
    with rasterio.open(path, "w", driver="GTiff", height=48, width=40, count=8, dtype="int16",
                       crs=G.crs, transform=G.transform) as dst:  # fmt: skip
        dst.write(raw)
    L = open_landscape(path)
    np.testing.assert_allclose(L.slope_fraction, np.tan(np.radians(raw[1].astype(float))), rtol=1e-5)
    np.testing.assert_allclose(L.canopy_bulk_density_kg_m3, raw[7] / 100.0, rtol=1e-6)
    reader = open_reader(path)
    assert reader.bands["slope"].unit == "degrees" and reader.bands["slope"].unit_origin == "default"


def test_write_landscape_reads_back_identically(tmp_path):
    G = generate_landscape(seed=4, shape=(40, 56))
    G.valid[3:5, 7:9] = False
    for attr in LAYER_ATTRS:
        getattr(G, attr)[~G.valid] = 0
    path = write_landscape(G, tmp_path / "gen.tif")
    L = open_landscape(path)
    for attr in (*LAYER_ATTRS, "valid"):
        np.testing.assert_array_equal(getattr(L, attr), getattr(G, attr), err_msg=attr)
        assert getattr(L, attr).dtype == getattr(G, attr).dtype
    assert L.crs == G.crs and L.transform == G.transform and L.cell_size_m == G.cell_size_m
    with rasterio.open(path) as ds:  # what GDAL / QGIS see
        assert ds.descriptions[0] == "elevation_m" and ds.descriptions[7] == "canopy_bulk_density_kg_m3"
        assert ds.tags()["FUELRL_SYNTHETIC"] == "yes"
        assert ds.compression.name.lower() == "deflate"
        assert ds.crs.to_epsg() == 5070


def test_synthetic_spec_is_explicit():
    L = open_landscape("synthetic:seed=7,size=30x20")
    assert L.synthetic and L.shape == (30, 20) and "seed=7" in L.source
    ref = generate_landscape(seed=7, shape=(30, 20))
    np.testing.assert_array_equal(L.fuel_model, ref.fuel_model)
    assert open_landscape("synthetic").shape == (128, 128)


def test_window_and_coordinates(small_landscape):
    L = small_landscape
    t = L.window(10, 5, 16, 12)
    assert t.shape == (16, 12) and t.offset_rowcol == (10, 5)
    np.testing.assert_array_equal(t.elevation_m, L.elevation_m[10:26, 5:17])
    assert t.rowcol_to_xy(0, 0) == L.rowcol_to_xy(10, 5)
    x, y = L.rowcol_to_xy(47, 39)
    assert L.xy_to_rowcol(x, y) == (47, 39)
    assert L.area_ha == pytest.approx(48 * 40 * 0.09)
