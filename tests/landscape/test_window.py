"""Windowed landscape specs ``PATH#rows=R0:R1,cols=C0:C1``: data, georeferencing, tiles, errors."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import rasterio
from affine import Affine

from fuelrl.cli import main
from fuelrl.errors import InputError
from fuelrl.landscape import (
    LAYER_ATTRS,
    TileDataset,
    generate_landscape,
    open_landscape,
    open_reader,
    write_landscape,
)
from fuelrl.landscape.window import split_window

FAST = ["--fires", "8", "--duration", "60", "--wind-speed", "15", "--backend", "numpy"]


@pytest.fixture(scope="module")
def land_tif(tmp_path_factory):
    """A generated landscape written as an 8-band GeoTIFF (a real CRS and transform)."""
    path = tmp_path_factory.mktemp("win") / "land.tif"
    write_landscape(generate_landscape(seed=5, shape=(48, 40)), path)
    return path


def assert_is_slice(win, full, r0, c0):
    h, w = win.shape
    for attr in (*LAYER_ATTRS, "valid"):
        np.testing.assert_array_equal(getattr(win, attr), getattr(full, attr)[r0 : r0 + h, c0 : c0 + w], attr)
    assert win.crs == full.crs
    assert win.cell_size_m == full.cell_size_m
    assert win.transform @ (0, 0) == pytest.approx(full.transform @ (c0, r0))
    assert win.transform.almost_equals(full.transform @ Affine.translation(c0, r0))
    assert win.rowcol_to_xy(0, 0) == pytest.approx(full.rowcol_to_xy(r0, c0))


# ------------------------------------------------------------------------------ generated file
@pytest.mark.parametrize(
    "suffix, r0, c0, shape",
    [
        ("rows=10:30,cols=5:25", 10, 5, (20, 20)),
        ("rows=0:20", 0, 0, (20, 40)),
        ("cols=12:40", 0, 12, (48, 28)),
        ("rows=30:", 30, 0, (18, 40)),
        (" cols = 3:7 , rows = :9 ", 0, 3, (9, 4)),
    ],
)
def test_windowed_read_is_a_slice_of_the_full_read(land_tif, suffix, r0, c0, shape):
    full = open_landscape(land_tif)
    spec = f"{land_tif}#{suffix}"
    win = open_landscape(spec)
    assert win.shape == shape
    assert win.source == spec
    assert win.offset_rowcol == (0, 0)
    assert_is_slice(win, full, r0, c0)


def test_reader_windows_are_relative_to_the_window(land_tif):
    full = open_landscape(land_tif)
    reader = open_reader(f"{land_tif}#rows=10:30,cols=5:25")
    assert reader.shape == (20, 20) and not reader.synthetic
    assert reader.transform.almost_equals(full.transform @ Affine.translation(5, 10))
    part = reader.read(2, 3, 6, 7)
    assert part.offset_rowcol == (2, 3)
    assert_is_slice(part, full, 12, 8)
    with pytest.raises(InputError, match="outside the 20x20 grid"):
        reader.read(15, 0, 6, 6)  # inside the file, outside the window
    reader.close()


def test_tiles_of_a_windowed_source_lie_inside_the_window(land_tif):
    full = open_landscape(land_tif)
    spec = f"{land_tif}#rows=8:40,cols=4:36"
    ds = TileDataset([spec], 8, 4, max_nodata_fraction=1.0, min_burnable_fraction=0.0)
    assert ds.specs == [spec] and len(ds) == 7 * 7
    left, bottom, right, top = open_landscape(spec).bounds
    for i, ref in enumerate(ds.tiles):
        assert 0 <= ref.row <= 32 - 8 and 0 <= ref.col <= 32 - 8
        assert ds.footprint(i) == (spec, ref.row, ref.col, ref.row + 8, ref.col + 8)
        tile = ds.tile(i)
        assert tile.source == spec and tile.offset_rowcol == (ref.row, ref.col)
        assert_is_slice(tile, full, 8 + ref.row, 4 + ref.col)
        tl, tb, tr, tt = tile.bounds
        assert left <= tl < tr <= right and bottom <= tb < tt <= top


def test_paths_that_contain_a_hash_still_open(land_tif, tmp_path):
    folder = tmp_path / "run#2"
    folder.mkdir()
    path = folder / "land#v1.tif"
    shutil.copy(land_tif, path)
    full = open_landscape(path)
    assert full.shape == (48, 40)
    assert split_window(str(path)) is None
    assert_is_slice(open_landscape(f"{path}#rows=1:5"), full, 1, 0)
    odd = tmp_path / "odd.tif#rows=0:4"  # a file really named like a window: the file wins
    shutil.copy(land_tif, odd)
    assert open_landscape(odd).shape == (48, 40)
    assert TileDataset([str(folder)], 16, max_nodata_fraction=1.0, min_burnable_fraction=0.0).specs == [
        str(path)
    ]


@pytest.mark.parametrize(
    "suffix, message",
    [
        ("rows=0:49", r"rows 0:49 is outside the 48x40 grid .*expected 0 <= START < STOP <= 48"),
        ("cols=40:", r"cols 40:40 is outside the 48x40 grid"),
        ("rows=5:5", r"rows=5:5 is empty; expected START < STOP"),
        ("cols=9:3", r"cols=9:3 is empty"),
        ("rows=-2:4", r"negative index"),
        ("rows=a:b", r"cannot read 'rows=a:b'; expected PATH#rows=R0:R1,cols=C0:C1"),
        ("rows=4", r"cannot read 'rows=4'"),
        ("rows=0:4,cols", r"cannot read 'cols'"),
        ("rows=0:4,rows=1:2", r"rows= given twice"),
        ("row=0:4", r"cannot read 'row=0:4' \(keys are rows= and cols=\)"),
    ],
)
def test_bad_windows_are_one_line_input_errors(land_tif, suffix, message):
    spec = f"{land_tif}#{suffix}"
    with pytest.raises(InputError, match=message) as info:
        open_landscape(spec)
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"landscape window {spec!r}")
    with pytest.raises(InputError, match=message):
        TileDataset([spec], 4)


@pytest.mark.parametrize("spec", ["synthetic#rows=0:4", "synthetic:seed=1,size=32#cols=0:8"])
def test_windows_on_synthetic_specs_are_rejected(spec):
    with pytest.raises(InputError, match=r"not to synthetic landscapes.*synthetic:size=ROWSxCOLS"):
        open_reader(spec)
    with pytest.raises(InputError, match="not to synthetic landscapes"):
        TileDataset([spec], 8)


def test_a_window_on_a_missing_file_says_not_found(tmp_path):
    with pytest.raises(InputError, match="landscape not found"):
        open_landscape(f"{tmp_path / 'nope.tif'}#rows=0:4")


def test_plan_outputs_are_on_the_window_grid(land_tif, tmp_path):
    spec = f"{land_tif}#rows=8:40,cols=4:36"
    out = tmp_path / "out"
    assert main(["plan", spec, "--policy", "random", "--budget", "0.05", *FAST, "--out", str(out)]) == 0
    with rasterio.open(land_tif) as src:
        crs, transform = src.crs, src.transform
    with rasterio.open(out / "breaks.tif") as ds:
        assert (ds.height, ds.width) == (32, 32) and ds.crs == crs
        assert ds.transform.almost_equals(transform @ Affine.translation(4, 8))
        assert ds.tags()["FUELRL_SOURCE"] == spec


# ------------------------------------------------------------------------- worcester (LANDFIRE)
def test_worcester_training_and_evaluation_windows(worcester_dir):
    full = open_landscape(worcester_dir)
    train = open_landscape(f"{worcester_dir}#rows=0:400")
    assert train.shape == (400, full.shape[1])
    assert_is_slice(train, full, 0, 0)
    evaluation = open_landscape(f"{worcester_dir}#rows=400:600,cols=150:350")
    assert evaluation.shape == (200, 200)
    assert_is_slice(evaluation, full, 400, 150)
    assert evaluation.source == f"{worcester_dir}#rows=400:600,cols=150:350"


def test_worcester_training_tiles_stay_above_row_400(worcester_dir):
    full = open_landscape(worcester_dir)
    ds = TileDataset([f"{worcester_dir}#rows=0:400"], 64, 32, min_burnable_fraction=0.3)
    assert len(ds) > 0
    for ref in ds.tiles:
        assert ref.row + 64 <= 400
    tile = ds.tile(len(ds) - 1)
    ref = ds.tiles[-1]
    assert_is_slice(tile, full, ref.row, ref.col)
    bottom_of_window = (full.transform @ (0, 400))[1]
    assert tile.bounds[1] >= bottom_of_window - 1e-6


def test_worcester_window_out_of_range(worcester_dir):
    spec = f"{worcester_dir}#rows=400:700"
    with pytest.raises(InputError, match=r"rows 400:700 is outside the 613x549 grid"):
        open_landscape(spec)
