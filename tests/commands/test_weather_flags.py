"""The one weather-flag helper shared by simulate, plan and evaluate."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from fuelrl.commands._weather import add_weather_arguments, parse_moisture, parse_weather
from fuelrl.errors import InputError
from fuelrl.landscape import generate_landscape, write_geotiff


def _args(argv, ranges):
    p = argparse.ArgumentParser()
    add_weather_arguments(p, ranges=ranges)
    return p.parse_args(argv)


def test_scalar_defaults_keep_their_meaning():
    a = _args([], ranges=False)
    flags = parse_weather(a, ranges=False)
    assert (a.wind_speed, a.wind_from, a.duration) == (10.0, 225.0, 480.0)
    assert flags.scenario_weather()["moisture_pct"] == [6.0, 7.0, 8.0, 60.0, 90.0]
    b = _args(["--wind-speed", "5:25", "--wind-from", "300:30"], ranges=True)
    dist = parse_weather(b, ranges=True).distribution()
    assert dist.wind_speed_20ft_mph == (5.0, 25.0)
    assert dist.wind_from_deg is None and dist.wind_from_center_deg == 345.0


def test_grids_through_the_flags(tmp_path):
    land = generate_landscape(seed=2, shape=(16, 18))
    rng = np.random.default_rng(0)
    speed = write_geotiff(tmp_path / "s.tif", rng.uniform(5, 30, land.shape).astype(np.float32), land)
    direc = write_geotiff(tmp_path / "d.tif", rng.uniform(180, 270, land.shape).astype(np.float32), land)
    m1 = write_geotiff(tmp_path / "m1.tif", np.full(land.shape, 5.0, np.float32), land)
    a = _args(["--wind-grid", str(speed), str(direc), "--moisture", f"{m1},7,8,30,60"], ranges=False)
    flags = parse_weather(a, ranges=False)
    assert a.wind_speed is None
    with pytest.warns(UserWarning, match="percent"):
        grids = flags.read_grids(land)
    wx = flags.scenario_weather(grids)
    assert wx["wind_speed_20ft_mph"] == pytest.approx(grids.reference_wind_speed_20ft_mph)
    assert wx["moisture_pct"] == pytest.approx([5.0, 7.0, 8.0, 30.0, 60.0])
    assert flags.describe(grids)["wind_grid"] == [str(speed), str(direc)]
    b = _args(["--wind-grid", str(speed), str(direc), "--wind-grid-scale", "0.5:1.5"], ranges=True)
    dist = parse_weather(b, ranges=True).distribution(grids)
    ref = grids.reference_wind_speed_20ft_mph
    assert dist.wind_speed_20ft_mph == pytest.approx((0.5 * ref, 1.5 * ref))


def test_flag_errors(tmp_path):
    with pytest.raises(InputError, match="--wind-grid SPEED.tif DIR.tif or --wind-speed, not both"):
        parse_weather(
            _args(["--wind-grid", __file__, __file__, "--wind-speed", "3"], ranges=False), ranges=False
        )
    with pytest.raises(InputError, match="--wind-grid: file not found"):
        parse_weather(_args(["--wind-grid", "nope.tif", "nope.tif"], ranges=False), ranges=False)
    with pytest.raises(InputError, match="--wind-grid-scale needs --wind-grid"):
        parse_weather(_args(["--wind-grid-scale", "2"], ranges=False), ranges=False)
    with pytest.raises(InputError, match=r"--moisture \(10h\): 'x.tif' is neither a number"):
        parse_moisture("6,x.tif,8,60,90")
    with pytest.raises(InputError, match="5 comma-separated values"):
        parse_moisture("6,7,8")


# ---- through the commands: one line, exit 2, nothing written; uniform grid == scalar -------------
SPEC = "synthetic:seed=3,size=24"


def _grid_files(tmp_path, speed=12.0, direction=200.0, m1=5.0):
    from fuelrl.landscape import open_landscape

    land = open_landscape(SPEC)
    files = {}
    for name, value in (("s", speed), ("d", direction), ("m1", m1)):
        files[name] = write_geotiff(
            tmp_path / f"{name}.tif", np.broadcast_to(np.float32(value), land.shape).astype(np.float32), land
        )
    return land, files


BASES = {
    "simulate": ["simulate", SPEC, "--fires", "2"],
    "plan": ["plan", SPEC, "--policy", "random", "--fires", "2"],
    "evaluate": ["evaluate", SPEC, "--policies", "random", "--fires", "2"],
}


@pytest.mark.parametrize("command", sorted(BASES))
def test_bad_grids_fail_cleanly_in_every_command(command, tmp_path, capsys):
    from fuelrl import cli

    land, f = _grid_files(tmp_path)
    nan = np.full(land.shape, 10.0, np.float32)
    r, c = np.argwhere(land.burnable)[0]
    nan[r, c] = np.nan
    bad = write_geotiff(tmp_path / "nan.tif", nan, land)
    cases = [
        (["--wind-grid", str(f["s"]), str(f["d"]), "--wind-speed", "5"], "not both"),
        (["--wind-grid", str(bad), str(f["d"])], "nan.tif has nodata or NaN in 1 burnable cell"),
        (["--moisture", f"{f['m1']},7,8,60,nope.tif"], "is neither a number nor an existing raster"),
    ]
    for extra, message in cases:
        out = tmp_path / "out"
        assert cli.main([*BASES[command], *extra, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
        assert not out.exists()


def test_simulate_uniform_grid_equals_scalar_weather(tmp_path, capsys):
    """The same burn probability, bit for bit, from a uniform grid and from the same scalars."""
    import rasterio

    from fuelrl import cli

    _, f = _grid_files(tmp_path, speed=12.0, direction=200.0, m1=5.0)
    common = ["simulate", SPEC, "--fires", "3", "--seed", "2", "--backend", "numpy", "--duration", "120"]
    scalar = ["--wind-speed", "12", "--wind-from", "200", "--moisture", "5,7,8,60,90"]
    grid = ["--wind-grid", str(f["s"]), str(f["d"]), "--moisture", f"{f['m1']},7,8,60,90"]
    assert cli.main([*common, *scalar, "--out", str(tmp_path / "a")]) == 0
    assert cli.main([*common, *grid, "--out", str(tmp_path / "b")]) == 0
    assert "read as percent" in capsys.readouterr().err
    with rasterio.open(tmp_path / "a" / "burn_probability.tif") as a:
        want = a.read(1)
    with rasterio.open(tmp_path / "b" / "burn_probability.tif") as b:
        got = b.read(1)
    assert np.array_equal(got, want) and want.max() > 0


@pytest.mark.parametrize("command", ["plan", "evaluate"])
def test_planning_commands_uniform_grid_equals_scalar(command, tmp_path, capsys):
    """plan and evaluate grow their planning and held-out fires under the grid: a uniform grid at
    the scalar wind gives the same summary numbers; the summary records the grid."""
    import json

    from fuelrl import cli

    _, f = _grid_files(tmp_path, speed=12.0, direction=200.0)
    base = [*BASES[command], "--seed", "1", "--backend", "numpy", "--duration", "120"]
    assert cli.main([*base, "--wind-speed", "12", "--wind-from", "200", "--out", str(tmp_path / "a")]) == 0
    assert cli.main([*base, "--wind-grid", str(f["s"]), str(f["d"]), "--out", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    name = "summary.json" if command == "plan" else "results.json"
    a = json.loads((tmp_path / "a" / name).read_text())
    b = json.loads((tmp_path / "b" / name).read_text())
    assert b["weather"]["wind_grid"] == [str(f["s"]), str(f["d"])]
    assert b["weather"]["grids"]["wind_speed_20ft_mph"]["reference"] == pytest.approx(12.0)

    def numbers(d, key=""):
        """Every number of the results but timings and the weather description."""
        if isinstance(d, dict):
            out = {}
            for k, v in d.items():
                if k != "weather" and "second" not in k and "time" not in k:
                    out.update(numbers(v, f"{key}/{k}"))
            return out
        return {key: d} if isinstance(d, int | float) and not isinstance(d, bool) else {}

    na, nb = numbers(a), numbers(b)
    assert na == nb and len(na) > 5
