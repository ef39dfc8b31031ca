"""Landscapes of several cell sizes: one env worker per cell size (fuelrl.envs.cell_groups).

Two generated landscapes, one of 30 m cells and one of 60 m cells (``synthetic:...,cell=60``).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torchrl.envs.utils import check_env_specs

from fuelrl import registry
from fuelrl.agents.data import ReplayDataModule
from fuelrl.agents.evaluation import random_action_fn, run_episodes
from fuelrl.envs import EnvConfig, FireEnv, make_env
from fuelrl.envs.cell_groups import cell_size_groups, group_config
from fuelrl.envs.factory import worker_configs
from fuelrl.envs.sources import TileSource
from fuelrl.errors import InputError
from fuelrl.landscape import TileDataset
from fuelrl.simulators.base import SimulationOptions

L30 = "synthetic:seed=1,size=64x64"
L60 = "synthetic:seed=2,size=64x64,cell=60"
MIXED = EnvConfig(
    landscapes=[L60, L30], tile_size=16, region_size=32, batch_size=2, fires_per_tile=2, budget_fraction=0.03
)
CELL_AREA_HA = {30.0: 0.09, 60.0: 0.36}


def _group_dataset(spec: str, cfg: EnvConfig = MIXED) -> TileDataset:
    return TileDataset(
        [spec], cfg.tile_size, split=cfg.split, region_size=cfg.region_size, seed=cfg.split_seed
    )


def test_groups_by_cell_size_smallest_first():
    groups = cell_size_groups(MIXED.landscapes)
    assert [(g.cell_size_m, g.specs, g.positions) for g in groups] == [
        (30.0, (L30,), (1,)),
        (60.0, (L60,), (0,)),
    ]


@pytest.mark.parametrize("num_workers", [2, 4, 3])
def test_each_worker_takes_one_cell_size_and_the_group_shards_cover_its_split(num_workers):
    sources = [TileSource(MIXED, worker_index=i, num_workers=num_workers) for i in range(num_workers)]
    for spec, size in ((L30, 30.0), (L60, 60.0)):
        mine = [s for s in sources if s.cell_size_m == size]
        assert mine and all(s.dataset.specs == [spec] for s in mine)
        flat = [i for s in mine for i in s.indices]
        assert sorted(flat) == list(range(len(_group_dataset(spec)))) and len(set(flat)) == len(flat)
    # worker i takes group i % 2 (30 m first)
    assert [s.cell_size_m for s in sources] == [30.0, 60.0, 30.0, 60.0][:num_workers]


@pytest.mark.parametrize("num_workers", [0, 1])
def test_fewer_workers_than_cell_sizes_is_a_one_line_input_error(num_workers):
    with pytest.raises(InputError) as err:
        make_env(MIXED, num_workers=num_workers)
    message = str(err.value)
    assert "\n" not in message
    assert "set data.num_workers to a multiple of 2 (one env worker per cell size)" in message
    assert "30 m" in message and "60 m" in message and L30 in message and L60 in message
    with pytest.raises(InputError, match="one env worker per cell size"):
        FireEnv(MIXED)  # a plain FireEnv is worker 0 of 1


def test_one_cell_size_keeps_the_tile_order():
    """Same dataset (specs as given) and shards ``i::n`` as TileSource built them before groups."""
    cfg = replace(MIXED, landscapes=[L30, "synthetic:seed=5,size=64x64"])
    old = TileDataset(list(cfg.landscapes), 16, split="train", region_size=32, seed=0)
    for i in range(3):
        source = TileSource(cfg, worker_index=i, num_workers=3)
        assert source.dataset.specs == old.specs and len(source.dataset) == len(old)
        assert source.indices == list(range(i, len(old), 3))
        assert [source.dataset.footprint(t) for t in source.indices] == [
            old.footprint(t) for t in source.indices
        ]
    assert [(c, i, n) for c, i, n in worker_configs(cfg, 3)] == [(cfg, 0, 3), (cfg, 1, 3), (cfg, 2, 3)]


def test_per_landscape_lists_follow_their_landscape_into_the_group():
    cfg = replace(MIXED, treatable=["sixty.tif", "thirty.tif"], values=["generated"])
    groups = cell_size_groups(cfg.landscapes)
    thirty, sixty = (group_config(cfg, groups, g) for g in groups)
    assert (thirty.landscapes, thirty.treatable, thirty.values) == ([L30], ["thirty.tif"], ["generated"])
    assert (sixty.landscapes, sixty.treatable) == ([L60], ["sixty.tif"])
    with pytest.raises(InputError, match="EnvConfig.treatable has 1 entries for 2 landscape"):
        group_config(replace(cfg, treatable=["one.tif"]), groups, groups[0])
    with pytest.raises(InputError, match="build the env with fuelrl.envs.make_env"):
        TileSource(cfg, worker_index=0, num_workers=2)


def test_serial_env_over_two_cell_sizes_uses_each_workers_cell_area():
    env = make_env(MIXED, num_workers=2, seed=0, serial=True)
    try:
        check_env_specs(env)
        td = env.rollout(6, break_when_any_done=False)
        assert td.batch_size == torch.Size([2, 2, 6])
        workers = env.base_env._envs
        backend = registry.create("numpy", device="cpu", options=SimulationOptions())
        for worker, size in zip(workers, (30.0, 60.0), strict=True):
            tiles = worker.tiles
            assert tiles.cell_size_m == size and worker.source.cell_size_m == size
            assert tiles.cell_area_ha == pytest.approx(CELL_AREA_HA[size])
            burnable = worker._burnable.flatten(1).sum(1).double()
            assert torch.allclose(worker.burnable_ha, burnable * CELL_AREA_HA[size])
            # the burned area comes from the worker's own cell size: a separate backend run agrees
            breaks = torch.zeros_like(worker._breaks)
            none = backend.simulate(tiles, breaks, worker.scenarios).burned_ha.double().mean(1)
            assert torch.allclose(worker.burned_ha_no_breaks, none)
        for w, size in enumerate((30.0, 60.0)):  # first step: the drop over the tile's own burnable ha
            burnable_ha = td["observation"][w, :, 0, 0].sum((-2, -1)).double() * CELL_AREA_HA[size]
            drop = td["burned_ha"][w, :, 0, 0].double() - td["next", "burned_ha"][w, :, 0, 0].double()
            reward = td["next", "reward"][w, :, 0, 0].double()
            torch.testing.assert_close(reward, drop / burnable_ha, atol=1e-5, rtol=1e-4)
        assert (td["next", "reward"] >= -1e-7).all()
    finally:
        env.close()


def test_parallel_env_over_two_cell_sizes():
    env = make_env(MIXED, num_workers=2, seed=0)
    try:
        check_env_specs(env)
        td = env.rollout(6, break_when_any_done=False)
        assert td.batch_size == torch.Size([2, 2, 6])
        assert (td["next", "reward"] >= -1e-7).all()
    finally:
        env.close()


def test_eval_env_has_one_worker_per_cell_size_and_covers_both():
    dm = ReplayDataModule(env=MIXED, num_workers=2, frames_per_collect=4, eval_tiles=3)
    env = dm.eval_env()
    try:
        assert env.batch_size == torch.Size([2, 2])  # ceil(3 / 2) tiles per cell size
        first = run_episodes(env, random_action_fn(0), seed=dm.eval_seed)
        again = run_episodes(env, random_action_fn(0), seed=dm.eval_seed)
        assert first.burned_ha.shape == (4,) and torch.equal(first.burned_ha, again.burned_ha)
        workers = env.base_env._envs
        assert [w.source.cell_size_m for w in workers] == [30.0, 60.0]
        assert all(w.source.config.split == "heldout" for w in workers)
    finally:
        dm.teardown("fit")


def test_single_cell_size_eval_env_is_one_fire_env():
    dm = ReplayDataModule(env=replace(MIXED, landscapes=[L30]), eval_tiles=3)
    env = dm.eval_env()
    try:
        assert isinstance(env.base_env, FireEnv) and env.batch_size == torch.Size([3])
    finally:
        dm.teardown("fit")


def test_fit_on_two_cell_sizes_with_two_workers(tmp_path):
    from tests.agents.cli_helpers import TINY, fit_ok

    landscapes = f'--data.env.landscapes=["{L30}","{L60}"]'
    proc = fit_ok(tmp_path / "run", *TINY, "--data.num_workers=2", landscapes, timeout=300)
    assert "fuelrl fit: finished at step 24" in proc.stdout and "last eval" in proc.stdout
