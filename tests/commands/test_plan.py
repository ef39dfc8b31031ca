"""`fuelrl plan`: GeoTIFFs on the input grid (read back by rasterio), budget and legality, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio

from fuelrl.cli import main
from fuelrl.landscape import generate_landscape, write_landscape

FAST = ["--fires", "12", "--duration", "90", "--wind-speed", "15", "--backend", "numpy"]


@pytest.fixture(scope="module")
def landscape_tif(tmp_path_factory):
    """A generated landscape written as an 8-band GeoTIFF (a real file, with a CRS and transform)."""
    ls = generate_landscape(seed=4, shape=(36, 44))
    path = tmp_path_factory.mktemp("ls") / "land.tif"
    write_landscape(ls, path)
    return path, ls


@pytest.fixture(scope="module")
def dpv_plan(landscape_tif, tmp_path_factory):
    path, ls = landscape_tif
    out = tmp_path_factory.mktemp("plan") / "out"
    assert main(["plan", str(path), "--policy", "dpv", "--budget", "0.05", *FAST, "--out", str(out)]) == 0
    return out, ls


def test_outputs_are_on_the_input_grid(dpv_plan, landscape_tif):
    out, _ = dpv_plan
    with rasterio.open(landscape_tif[0]) as src:
        crs, transform, shape = src.crs, src.transform, (src.height, src.width)
    for name in ("breaks.tif", "burn_probability_before.tif", "burn_probability_after.tif"):
        with rasterio.open(out / name) as ds:
            assert ds.crs == crs and ds.transform == transform and (ds.height, ds.width) == shape, name
    with rasterio.open(out / "breaks.tif") as ds:
        assert ds.dtypes[0] == "uint8"
    assert (out / "plan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_breaks_respect_budget_and_burnable_cells(dpv_plan):
    out, ls = dpv_plan
    with rasterio.open(out / "breaks.tif") as ds:
        breaks = ds.read(1, masked=True).filled(0) == 1
    summary = json.loads((out / "summary.json").read_text())
    n_burnable = int(ls.burnable.sum())
    assert breaks.sum() == summary["breaks"] == summary["budget_cells"] == int(np.floor(0.05 * n_burnable))
    assert not (breaks & ~ls.burnable).any()
    assert summary["breaks_ha"] == pytest.approx(breaks.sum() * ls.cell_area_ha)


def test_summary_numbers_agree_with_the_rasters(dpv_plan):
    out, ls = dpv_plan
    s = json.loads((out / "summary.json").read_text())
    for key in (
        "burned_ha_before",
        "burned_ha_after",
        "burned_acres_before",
        "burned_acres_after",
        "reduction_pct",
        "breaks",
        "budget",
    ):
        assert key in s, key
    assert s["burned_acres_after"] == pytest.approx(s["burned_ha_after"] * 2.4710538146716536)
    assert s["reduction_pct"] == pytest.approx(100 * (1 - s["burned_ha_after"] / s["burned_ha_before"]))
    # burned area per fire = sum of the burn probability x cell area
    for label in ("before", "after"):
        with rasterio.open(out / f"burn_probability_{label}.tif") as ds:
            bp = ds.read(1, masked=True).filled(0)
        assert bp.sum() * ls.cell_area_ha == pytest.approx(s[f"burned_ha_{label}"], rel=1e-5)
    assert s["fire_sets"]["planning"]["stream"] != s["fire_sets"]["scoring"]["stream"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--policy", "dpv", "--budget", "0"], "--budget"),
        (["--policy", "dpv", "--budget", "1.5"], "--budget"),
        (["--policy", "greedy"], "unknown policy 'greedy'"),
        (["--policy", "missing/run.ckpt"], "checkpoint not found"),
        (["--policy", "random", "--wind-speed", "fast"], "--wind-speed"),
        (["--policy", "random", "--moisture", "6,7"], "--moisture"),
        (["--policy", "random", "--fires", "0"], "--fires"),
    ],
)
def test_bad_options_fail_cleanly_without_output(landscape_tif, tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    assert main(["plan", str(landscape_tif[0]), *FAST, *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()
    assert not list(tmp_path.glob(".out.tmp-*"))


def test_a_missing_landscape_is_a_clear_error(tmp_path, capsys):
    assert main(["plan", str(tmp_path / "nope.tif"), "--policy", "random", "--out", str(tmp_path / "o")]) == 2
    assert "nope.tif" in capsys.readouterr().err
