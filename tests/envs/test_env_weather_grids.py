"""FireEnv with gridded weather (EnvConfig.wind_grids / moisture_grids): tile windows of the grids."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torchrl.envs.utils import check_env_specs

from fuelrl.envs import EnvConfig, FireEnv
from fuelrl.errors import InputError
from fuelrl.landscape import open_landscape, write_geotiff
from fuelrl.landscape.weather_grids import read_weather_grids

SPEC = "synthetic:seed=3,size=64x64"


def _grids(tmp_path, speed, direction, m1=None):
    land = open_landscape(SPEC)
    s = write_geotiff(tmp_path / "s.tif", np.broadcast_to(speed, land.shape).astype(np.float32), land)
    d = write_geotiff(tmp_path / "d.tif", np.broadcast_to(direction, land.shape).astype(np.float32), land)
    moist = ""
    if m1 is not None:
        m = write_geotiff(tmp_path / "m1.tif", np.broadcast_to(m1, land.shape).astype(np.float32), land)
        moist = f"{m},,,,"
    return land, f"{s},{d}", moist


def _cfg(**kw):
    return EnvConfig(landscapes=[SPEC], tile_size=16, fires_per_tile=3, split="all", **kw)


def test_tiles_get_windows_of_the_grids(tmp_path):
    land, wind, moist = _grids(
        tmp_path,
        np.linspace(5, 30, 64)[None, :],
        np.linspace(180, 300, 64)[:, None],
        m1=np.linspace(4, 9, 64)[:, None],
    )
    env = FireEnv(_cfg(wind_grids=[wind], moisture_grids=[moist]), batch_size=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env_specs(env)
        env.reset()
        grids = read_weather_grids(land, wind=tuple(wind.split(",")), moisture={"1h": moist.split(",")[0]})
    tiles = env.tiles
    assert tiles.gridded
    for b, tile_id in enumerate(env.tile_ids.tolist()):
        _, r0, c0, r1, c1 = env.source.dataset.footprint(tile_id)
        win = grids.window(r0, c0, r1 - r0, c1 - c0)
        np.testing.assert_array_equal(tiles.grid_wind_speed_ratio[b].numpy(), win.wind_speed_ratio())
        np.testing.assert_array_equal(tiles.grid_moisture_1h_fraction[b].numpy(), win.moisture_fraction["1h"])
    assert tiles.grid_moisture_10h_fraction is None


def test_uniform_grid_env_matches_scalar_env(tmp_path):
    """A uniform grid: ratio 1 and turn 0 everywhere, so every fire burns exactly as without it."""
    _, wind, _ = _grids(tmp_path, 12.0, 200.0)
    plain = FireEnv(_cfg(), batch_size=2, seed=4)
    gridded = FireEnv(_cfg(wind_grids=[wind]), batch_size=2, seed=4)
    a, b = plain.reset(), gridded.reset()
    assert torch.equal(a["burned_ha"], b["burned_ha"])
    assert torch.equal(plain.tile_ids, gridded.tile_ids)


def test_bad_entries(tmp_path):
    with pytest.raises(InputError, match="wind_grids has 2 entries for 1 landscape"):
        FireEnv(_cfg(wind_grids=["a.tif,b.tif", ""]))
    with pytest.raises(InputError, match=r"moisture_grids\[0\] must be 5"):
        FireEnv(_cfg(moisture_grids=["a.tif"]))
