"""FireEnv with planner inputs: values at risk (reward, value/max channel), treatable masks in the
action mask (rand_action honours them, check_env_specs passes), ignition density."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import torch
from torchrl.envs.utils import check_env_specs

from fuelrl.envs import FireEnv
from fuelrl.errors import InputError
from fuelrl.landscape import open_landscape

SPEC = "synthetic:seed=3,size=48x48"


def _raster(path, array, landscape):
    h, w = array.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=h,
        width=w,
        count=1,
        dtype=array.dtype.name,
        crs=landscape.crs,
        transform=landscape.transform,
    ) as dst:
        dst.write(array, 1)
    return str(path)


@pytest.fixture
def landscape():
    return open_landscape(SPEC)


def _spec_env(**options):
    """A FireEnv on the test landscape, every tile in play (split "all", any burnable share)."""
    return FireEnv(landscapes=[SPEC], split="all", min_burnable_fraction=0.0, **options)


def test_untreatable_cells_never_in_the_action_mask(landscape, tmp_path):
    h, w = landscape.shape
    treatable = np.ones((h, w), np.uint8)
    treatable[:, : w // 2] = 0  # the west half cannot be treated
    mask = _raster(tmp_path / "treatable.tif", treatable, landscape)
    env = _spec_env(treatable=[mask], tile_size=16, fires_per_tile=2, batch_size=2)
    check_env_specs(env)
    td = env.reset()
    for _ in range(6):  # random actions drawn from the action spec follow the mask
        mask_now = td["action_mask"].clone()
        td = env.rand_action(td)
        assert mask_now.gather(1, td["action"][:, None]).all()
        td = env.step(td)["next"]
        if td["done"].any():
            break
    # every tile's mask: no available cell west of the landscape's column w/2
    for b in range(2):
        _, r0, c0, _, _ = env.source.dataset.footprint(int(env.tile_ids[b]))
        cols = c0 + torch.arange(16)
        am = td["action_mask"][b].view(16, 16)
        assert not am[:, cols < w // 2].any()
        assert not env.breaks[b][:, cols < w // 2].any()


def test_values_reward_sums_to_share_of_value_saved(landscape, tmp_path):
    h, w = landscape.shape
    values = np.zeros((h, w), np.float32)
    values[10:30, 10:30] = 5.0
    values[30:, 30:] = 1.0
    path = _raster(tmp_path / "values.tif", values, landscape)
    env = _spec_env(values=[path], tile_size=16, fires_per_tile=4, batch_size=2, budget_fraction=0.05)
    assert env.observation_channels[-1] == "value/max"
    check_env_specs(env)
    td = env.rollout(200, break_when_any_done=False, break_when_all_done=True)
    total = td["next", "reward"].sum(dim=1).squeeze(-1).double()
    # independently: the tile's values (read back with rasterio), its fires grown with and without
    # the final breaks through the backend
    for b in range(2):
        _, r0, c0, r1, c1 = env.source.dataset.footprint(int(env.tile_ids[b]))
        v = torch.as_tensor(values[r0:r1, c0:c1], dtype=torch.float64)
        tiles, scen = env.tiles.index(torch.tensor([b])), env.scenarios.index(torch.tensor([b]))
        before = env.backend.simulate(tiles, torch.zeros(1, 16, 16, dtype=torch.bool), scen)
        after = env.backend.simulate(tiles, env.breaks[b : b + 1], scen)
        vb = (before.burned[0].double() * v).sum((-2, -1)).mean()
        va = (after.burned[0].double() * v).sum((-2, -1)).mean()
        if v.sum() > 0:
            assert float(total[b]) == pytest.approx(float((vb - va) / v.sum()), rel=1e-4, abs=1e-6)
        obs = td["next", "observation"][b, -1, -1]
        if v.max() > 0:
            torch.testing.assert_close(obs.double(), v / v.max(), rtol=1e-6, atol=1e-6)


def test_generated_values_and_ignition_density(landscape, tmp_path):
    env = FireEnv(values=["generated"], tile_size=16, fires_per_tile=4, batch_size=2)
    check_env_specs(env)
    td = env.reset()
    assert (td["observation"][:, -1] > 0).all() and td["observation"][:, -1].amax() <= 1.0
    h, w = landscape.shape
    density = np.zeros((h, w), np.float32)
    density[:, -8:] = 1.0  # fires start only in the 8 easternmost columns
    path = _raster(tmp_path / "density.tif", density, landscape)
    env = _spec_env(ignition_density=[path], tile_size=48, fires_per_tile=16, batch_size=1)
    env.reset()
    cols = env.scenarios.ignition_cell[0] % 48
    assert (cols >= 40).all()


def test_bad_env_inputs_are_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="EnvConfig.values: .*not found"):
        FireEnv(values=[str(tmp_path / "missing.tif")], tile_size=16)
    with pytest.raises(InputError, match="'generated' must be the only entry"):
        FireEnv(values=["generated", "generated"], tile_size=16)
    with pytest.raises(InputError, match="one per landscape"):
        p = tmp_path / "a.tif"
        p.write_bytes(b"")
        FireEnv(treatable=[str(p), str(p)], tile_size=16)
