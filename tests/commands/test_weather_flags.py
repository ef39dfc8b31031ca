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
