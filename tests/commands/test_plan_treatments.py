"""`fuelrl plan` / `evaluate` treatment units, read back by OGR (pyogrio) and checked against the
break raster they come from."""

from __future__ import annotations

import csv
import json

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import rasterio
import shapely
from rasterio import features
from rasterio.crs import CRS

from fuelrl.cli import main
from fuelrl.landscape import generate_landscape, write_landscape

FAST = ["--fires", "8", "--planning-fires", "6", "--duration", "90", "--wind-speed", "15"]
FAST += ["--backend", "numpy"]
COLUMNS = ["rank", "cells", "area_ha", "area_acres", "cost", "burned_ha_saved", "value_saved"]


@pytest.fixture(scope="module")
def plan_out(tmp_path_factory):
    ls = generate_landscape(seed=5, shape=(34, 40))
    path = tmp_path_factory.mktemp("ls") / "land.tif"
    write_landscape(ls, path)
    out = tmp_path_factory.mktemp("plan") / "out"
    assert main(["plan", str(path), "--policy", "random", "--budget", "0.08", *FAST, "--out", str(out)]) == 0
    return out, path


def _read(gpkg):
    meta, _, wkb, data = pyogrio.raw.read(gpkg)
    geoms = shapely.from_wkb(wkb)
    return meta, geoms, dict(zip(meta["fields"], data, strict=True))


def test_ogr_reads_valid_polygons_in_the_landscape_crs(plan_out):
    out, path = plan_out
    info = pyogrio.read_info(out / "treatments.gpkg")
    assert info["driver"] == "GPKG" and info["geometry_type"] == "Polygon"
    with rasterio.open(path) as src:
        crs, transform, shape = src.crs, src.transform, (src.height, src.width)
    assert CRS.from_user_input(info["crs"]) == crs
    _, geoms, cols = _read(out / "treatments.gpkg")
    assert len(geoms) == info["features"] > 1
    assert all(shapely.is_valid(geoms)) and set(shapely.get_type_id(geoms)) == {3}  # Polygon
    # the polygons cover exactly the treated cells of breaks.tif
    with rasterio.open(out / "breaks.tif") as ds:
        breaks = ds.read(1) == 1
    burned_in = features.rasterize([(g, 1) for g in geoms], out_shape=shape, transform=transform, fill=0)
    assert (burned_in.astype(bool) == breaks).all()
    # areas sum to the plan's treated area; units do not overlap
    s = json.loads((out / "summary.json").read_text())
    assert float(shapely.area(geoms).sum()) / 1e4 == pytest.approx(s["breaks_ha"])
    assert cols["area_ha"].sum() == pytest.approx(s["breaks_ha"])
    assert cols["cells"].sum() == s["breaks"] == breaks.sum()
    assert shapely.area(shapely.union_all(geoms)) == pytest.approx(shapely.area(geoms).sum())
    assert sorted(cols["rank"]) == list(range(1, len(geoms) + 1))
    assert (cols["cost"] == cols["cells"]).all()  # 1 per cell without a cost raster
    assert s["treatments"]["units"] == len(geoms) and s["treatments"]["gpkg"] == "treatments.gpkg"


def test_csv_matches_the_geopackage(plan_out):
    out, _ = plan_out
    _, _, cols = _read(out / "treatments.gpkg")
    with open(out / "treatments.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == COLUMNS and len(rows) == len(cols["rank"])
    for c in COLUMNS:
        assert np.array([float(r[c]) for r in rows]) == pytest.approx(cols[c].astype(float), rel=0, abs=0), c


def test_evaluate_writes_units_per_policy(tmp_path):
    ls = generate_landscape(seed=6, shape=(28, 30))
    path = tmp_path / "land6.tif"
    write_landscape(ls, path)
    out = tmp_path / "eval"
    argv = ["evaluate", str(path), "--policies", "random,dpv", "--budget", "0.05", *FAST, "--out", str(out)]
    assert main(argv) == 0
    r = json.loads((out / "results.json").read_text())
    for policy in ("random", "dpv"):
        info = r["treatments"]["land6"][policy]
        _, geoms, cols = _read(out / info["gpkg"])
        assert len(geoms) == info["units"] and all(shapely.is_valid(geoms))
        assert cols["cells"].sum() == r["landscapes"][0]["budget_cells"]
        assert (out / info["csv"]).exists()


def test_no_unit_scores_writes_units_with_empty_savings(plan_out, tmp_path):
    _, path = plan_out
    out = tmp_path / "quick"
    argv = ["plan", str(path), "--policy", "random", "--budget", "0.08", *FAST, "--no-unit-scores"]
    assert main([*argv, "--out", str(out)]) == 0
    info = pyogrio.read_info(out / "treatments.gpkg")
    table = pyogrio.raw.read(out / "treatments.gpkg", read_geometry=False)[3]
    cols = dict(zip(info["fields"], table, strict=True))
    assert np.isnan(cols["burned_ha_saved"]).all() and np.isnan(cols["value_saved"]).all()  # OGR nulls
    with open(out / "treatments.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["burned_ha_saved"] == "" and r["value_saved"] == "" for r in rows)
    assert sum(int(r["cells"]) for r in rows) == json.loads((out / "summary.json").read_text())["breaks"]
    assert "not scored" in json.loads((out / "summary.json").read_text())["treatments"]["marginal"]


def test_a_landscape_without_crs_gives_units_without_one_and_no_warning(tmp_path):
    import warnings

    from fuelrl.reports.treatments import TreatmentUnits, write_treatments

    labels = np.zeros((4, 4), np.int32)
    labels[1, 1:3] = 1
    table = {c: np.array([1.0]) for c in COLUMNS}
    units = TreatmentUnits(labels, table, [shapely.box(0, 0, 60, 30)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_treatments(tmp_path, "t", units, None)
    assert pyogrio.read_info(tmp_path / "t.gpkg")["crs"] is None
