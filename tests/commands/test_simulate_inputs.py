"""``fuelrl simulate --values`` (value burned per fire) and ``--ignition-density`` (where fires start)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import rasterio

from fuelrl.cli import main
from fuelrl.landscape import open_landscape

SPEC = "synthetic:seed=2,size=40x40"


def _raster(path, array, landscape):
    h, w = array.shape
    profile = dict(driver="GTiff", height=h, width=w, count=1, dtype=array.dtype.name)
    with rasterio.open(path, "w", crs=landscape.crs, transform=landscape.transform, **profile) as dst:
        dst.write(array, 1)
    return str(path)


def test_values_and_ignition_density(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        landscape = open_landscape(SPEC)
    h, w = landscape.shape
    values = _raster(tmp_path / "v.tif", np.full((h, w), 2.5, np.float32), landscape)
    density = np.zeros((h, w), np.float32)
    density[30:, 30:] = 1.0  # fires start only in the south-east corner
    density = _raster(tmp_path / "d.tif", density, landscape)
    out = tmp_path / "out"
    argv = ["simulate", SPEC, "--fires", "4", "--values", values, "--ignition-density", density]
    assert main([*argv, "--duration", "60", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    # a constant value: value burned = 2.5 per burned cell, whatever burned
    cells = np.asarray(s["burned_ha"]) / landscape.cell_area_ha
    np.testing.assert_allclose(s["value_burned"], 2.5 * cells, rtol=1e-5)
    assert all(i["row"] >= 30 and i["col"] >= 30 for i in s["ignitions"])
