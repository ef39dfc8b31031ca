"""`fuelrl evaluate`: results.json / results.md / fires.csv / plans / maps, paired and reproducible."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import rasterio

from fuelrl.cli import main
from fuelrl.landscape import generate_landscape, write_landscape

FAST = [
    "--fires",
    "10",
    "--planning-fires",
    "6",
    "--duration",
    "90",
    "--wind-speed",
    "15",
    "--backend",
    "numpy",
]


@pytest.fixture(scope="module")
def landscapes(tmp_path_factory):
    d = tmp_path_factory.mktemp("ls")
    paths = []
    for seed, shape in ((1, (30, 34)), (2, (28, 28))):
        p = d / f"land{seed}.tif"
        write_landscape(generate_landscape(seed=seed, shape=shape), p)
        paths.append(str(p))
    return paths


@pytest.fixture(scope="module")
def evaluation(landscapes, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "out"
    argv = ["evaluate", *landscapes, "--policies", "random,burn_probability,dpv", "--budget", "0.05", *FAST]
    assert main([*argv, "--out", str(out)]) == 0
    return out


def test_results_json_has_the_documented_keys(evaluation):
    r = json.loads((evaluation / "results.json").read_text())
    assert r["fires"] == 10 and r["fires_total"] == 20 and r["budget"] == 0.05
    assert set(r["policies"]) == {"random", "burn_probability", "dpv"}
    for s in r["policies"].values():
        for key in ("burned_ha_mean", "burned_ha_ci95", "burned_acres_mean", "reduction_vs_untreated_pct"):
            assert key in s
        lo, hi = s["burned_ha_ci95"]
        assert lo <= s["burned_ha_mean"] <= hi
    assert "burned_ha_mean" in r["untreated"]
    best = r["best_baseline"]
    assert r["policies"][best]["burned_ha_mean"] == min(s["burned_ha_mean"] for s in r["policies"].values())
    assert r["policies"][best]["vs_best_baseline"] is None
    for name, s in r["policies"].items():
        if name != best:
            assert s["vs_best_baseline"]["baseline"] == best and s["vs_best_baseline"]["diff_ha_mean"] >= 0
    assert r["paired_design"]["scoring_fires_identical_for_all_policies"] is True
    assert "fuelrl evaluate" in r["command"] and "--seed 0" in r["command"]


def test_fires_csv_reproduces_the_means(evaluation):
    r = json.loads((evaluation / "results.json").read_text())
    with open(evaluation / "fires.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 20
    for name, s in r["policies"].items():
        assert np.mean([float(row[f"{name}_ha"]) for row in rows]) == pytest.approx(s["burned_ha_mean"])
    assert np.mean([float(row["untreated_ha"]) for row in rows]) == pytest.approx(
        r["untreated"]["burned_ha_mean"]
    )


def test_plans_and_maps_for_every_policy_and_landscape(evaluation, landscapes):
    r = json.loads((evaluation / "results.json").read_text())
    for path, info in zip(landscapes, r["landscapes"], strict=True):
        with rasterio.open(path) as src:
            grid = (src.crs, src.transform, src.height, src.width)
        for name in r["policies"]:
            with rasterio.open(evaluation / "plans" / info["name"] / f"{name}.tif") as ds:
                assert (ds.crs, ds.transform, ds.height, ds.width) == grid
                assert int((ds.read(1) == 1).sum()) == info["budget_cells"]
            assert (evaluation / "maps" / info["name"] / f"{name}.png").stat().st_size > 1000
    md = (evaluation / "results.md").read_text()
    assert "| untreated |" in md and "vs best baseline" in md and "fuelrl evaluate" in md


def test_other_policies_do_not_move_the_fires_or_the_scores(evaluation, landscapes, tmp_path):
    out = tmp_path / "only_random"
    assert main(["evaluate", *landscapes, "--policies", "random", *FAST, "--out", str(out)]) == 0
    full = json.loads((evaluation / "results.json").read_text())
    alone = json.loads((out / "results.json").read_text())
    assert alone["paired_design"]["scoring_fires_sha256"] == full["paired_design"]["scoring_fires_sha256"]
    assert alone["untreated"] == full["untreated"]
    assert alone["policies"]["random"]["burned_ha_mean"] == full["policies"]["random"]["burned_ha_mean"]


def test_bad_policy_list_fails_before_any_output(landscapes, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["evaluate", *landscapes, "--policies", "random,nope", *FAST, "--out", str(out)]) == 2
    assert "unknown policy 'nope'" in capsys.readouterr().err
    assert main(["evaluate", *landscapes, "--policies", "random,random", *FAST, "--out", str(out)]) == 2
    assert "given twice" in capsys.readouterr().err
    assert not out.exists()
