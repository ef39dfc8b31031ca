"""`fuelrl simulate` as a user runs it: outputs on the input's grid, read back with rasterio."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import rasterio
import torch

from fuelrl import cli, registry
from fuelrl.landscape import open_landscape
from fuelrl.simulators.base import SimulationOptions, TileBatch
from fuelrl.simulators.scenarios import make_scenarios

SPEC = "synthetic:seed=3,size=40x48"


@pytest.fixture(scope="module")
def land():
    return open_landscape(SPEC)


def _burnable_xy(land, row, col):
    assert land.burnable[row, col]
    return land.rowcol_to_xy(row, col)


def test_single_fire_outputs(tmp_path, land, capsys):
    x, y = _burnable_xy(land, 20, 24)
    out = tmp_path / "one"
    args = ["simulate", SPEC, "--ignition", str(x), str(y), "--wind-speed", "15", "--wind-from", "250"]
    args += ["--moisture", "4,5,6,40,70", "--duration", "240", "--backend", "numpy", "--out", str(out)]
    assert cli.main(args) == 0
    names = sorted(p.name for p in out.iterdir() if p.name != ".fuelrl-run.json")
    assert names == [
        "arrival_time.png",
        "arrival_time.tif",
        "burn_probability.png",
        "burn_probability.tif",
        "conditional_flame_length.tif",
        "flame_length_probability.tif",
        "summary.json",
    ]
    with rasterio.open(out / "arrival_time.tif") as ds:
        assert ds.crs == land.crs and ds.transform == land.transform and ds.shape == land.shape
        assert ds.dtypes[0] == "float32"
        arrival = ds.read(1, masked=True)
    # the same fire through the API
    sc = make_scenarios(
        [[20 * 48 + 24]],
        wind_speed_20ft_mph=15,
        wind_from_deg=250,
        moisture_pct=[4, 5, 6, 40, 70],
        duration_min=240,
    )
    ref = registry.create("numpy", options=SimulationOptions()).simulate(
        TileBatch.stack([land]), torch.zeros((1, 40, 48), dtype=torch.bool), sc
    )
    ref_arr = ref.arrival_min[0, 0].numpy()
    np.testing.assert_array_equal(~arrival.mask, np.isfinite(ref_arr))
    np.testing.assert_allclose(arrival.compressed(), ref_arr[np.isfinite(ref_arr)], rtol=1e-6)
    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "fires",
        "backend",
        "device",
        "sim_seconds",
        "burned_ha_mean",
        "burned_ha_sd",
        "burned_acres_mean",
    ):
        assert key in summary
    assert summary["fires"] == 1 and summary["backend"] == "numpy" and summary["device"] == "cpu"
    assert summary["burned_ha_mean"] == pytest.approx(float(ref.burned_ha[0, 0]), rel=1e-6)
    assert summary["burned_acres_mean"] == pytest.approx(summary["burned_ha_mean"] * 2.4710538, rel=1e-6)
    assert summary["landscape"]["synthetic"] is True
    import matplotlib.image as mpimg

    png = mpimg.imread(out / "burn_probability.png")
    assert png.ndim == 3 and png.shape[0] > 400 and png.shape[1] > 400
    assert "burned" in capsys.readouterr().out


def test_random_fires_burn_probability_and_breaks(tmp_path, land):
    breaks = np.zeros(land.shape, np.uint8)
    breaks[:, 30] = 1
    from fuelrl.landscape import write_geotiff

    write_geotiff(tmp_path / "breaks.tif", breaks, land)
    out = tmp_path / "many"
    args = ["simulate", SPEC, "--fires", "12", "--seed", "2", "--breaks", str(tmp_path / "breaks.tif")]
    args += ["--duration", "300", "--backend", "torch", "--device", "cpu", "--out", str(out)]
    assert cli.main(args) == 0
    assert not (out / "arrival_time.tif").exists()  # several fires: burn probability only
    with rasterio.open(out / "burn_probability.tif") as ds:
        assert ds.crs == land.crs and ds.transform == land.transform and ds.shape == land.shape
        bp = ds.read(1, masked=True)
    assert bp.min() >= 0.0 and bp.max() <= 1.0
    # fractions of 12 fires
    np.testing.assert_allclose(bp.compressed() * 12, np.round(bp.compressed() * 12), atol=1e-4)
    assert float(bp[:, 30].max()) == 0.0, "a break cell burned"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fires"] == 12 and summary["breaks"]["cells"] == 40
    assert summary["burned_ha_sd"] >= 0.0 and len(summary["burned_ha"]) == 12
    assert summary["burned_ha_mean"] == pytest.approx(np.mean(summary["burned_ha"]))
    # ignitions are those of the sampler, on untreated burnable cells, and the same for any backend
    out2 = tmp_path / "many_numpy"
    assert cli.main([*args[:-6], "--backend", "numpy", "--out", str(out2)]) == 0
    s2 = json.loads((out2 / "summary.json").read_text())
    assert s2["ignitions"] == summary["ignitions"]
    np.testing.assert_allclose(s2["burned_ha"], summary["burned_ha"], rtol=1e-4)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--ignition", "0", "0"], "outside the landscape"),
        (["--fires", "3", "--backend", "nope"], "unknown simulator backend 'nope'"),
        (["--fires", "3", "--moisture", "3,4"], "--moisture"),
        (["--fires", "3", "--ignition", "0", "0"], "not both"),
        ([], "--ignition X Y"),
        (["--fires", "2", "--breaks", "missing.tif"], "--breaks"),
    ],
)
def test_errors_are_one_line_and_leave_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    code = cli.main(["simulate", SPEC, *extra, "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()
    assert not list(tmp_path.glob(".out.tmp-*"))


def test_breaks_on_another_grid_is_refused(tmp_path, land):
    from fuelrl.landscape import write_geotiff

    other = open_landscape("synthetic:seed=3,size=40x47")
    write_geotiff(tmp_path / "b.tif", np.zeros(other.shape, np.uint8), other)
    code = cli.main(
        ["simulate", SPEC, "--fires", "2", "--breaks", str(tmp_path / "b.tif"), "--out", str(tmp_path / "o")]
    )
    assert code == 2


def test_exit_status_from_the_console_script(tmp_path):
    exe = shutil.which("fuelrl")
    cmd = [exe] if exe else [sys.executable, "-m", "fuelrl.cli"]
    proc = subprocess.run(
        [*cmd, "simulate", SPEC, "--ignition", "0", "0", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "outside the landscape" in proc.stderr
