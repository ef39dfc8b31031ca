"""A ParallelEnv worker's user error reaches the user as its one-line InputError (issue 14)."""

from __future__ import annotations

import os

import pytest

from fuelrl.envs import EnvConfig, FireEnv, make_env
from fuelrl.errors import InputError


def small(**kw) -> EnvConfig:
    return EnvConfig(landscapes=["synthetic:seed=0,size=64x64"], batch_size=1, **kw)


def test_parallel_env_worker_user_error_is_the_one_line_input_error(capfd):
    """A worker whose reset raises InputError (here: every burnable cell of a 4x4 tile is an
    ignition) reaches the caller as that InputError, not TorchRL's "worker N dead", the worker
    prints no traceback, and closing the env leaves no error files behind."""
    cfg = small(tile_size=4, fires_per_tile=64, split="all", min_burnable_fraction=1.0)
    with pytest.raises(InputError, match="no cell that can take a break") as info:
        FireEnv(cfg, seed=0).reset()  # the same error in this process
    env = make_env(cfg, num_workers=2, seed=0)
    try:
        with pytest.raises(InputError, match="no cell that can take a break") as raised:
            env.reset()
        assert "\n" not in str(raised.value) and "dead" not in str(raised.value)
        assert str(raised.value).split(" rows ")[0] == str(info.value).split(" rows ")[0]
    finally:
        env.close(raise_if_closed=False)
    assert "Traceback" not in capfd.readouterr().err
    assert not os.path.exists(env.base_env._error_dir)
