"""FireEnv's optional "dpv/max" channel equals the baselines' DPV of the episode's fires."""

from __future__ import annotations

import torch
from torchrl.envs.utils import check_env_specs

from fuelrl.baselines.dpv import downstream_protection_value
from fuelrl.envs import OBSERVATION_CHANNELS, EnvConfig, FireEnv
from fuelrl.envs.observation import DPV_CHANNEL


def _env(**kw) -> FireEnv:
    cfg = EnvConfig(
        landscapes=["synthetic:seed=2,size=96x96"], tile_size=16, fires_per_tile=4, batch_size=3, **kw
    )
    return FireEnv(cfg, seed=3)


def test_channel_is_optional_and_last():
    assert _env().observation_channels == OBSERVATION_CHANNELS
    env = _env(dpv_channel=True)
    assert env.observation_channels == (*OBSERVATION_CHANNELS, DPV_CHANNEL)
    check_env_specs(env)
    assert env.reset()["observation"].shape[1] == len(OBSERVATION_CHANNELS) + 1


def test_channel_equals_the_dpv_baseline_on_the_same_fires_after_every_step():
    env = _env(dpv_channel=True)
    plain = _env()
    td, td_plain = env.reset(), plain.reset()
    gen = torch.Generator().manual_seed(0)
    for step in range(4):
        obs = td["observation"]
        # the other channels are exactly those of an env without the DPV channel
        torch.testing.assert_close(obs[:, :-1], td_plain["observation"])
        result = env.backend.simulate(env.tiles, env.breaks, env.scenarios)
        for i in range(3):
            idx = torch.tensor([i])
            dpv = downstream_protection_value(
                env.tiles.index(idx),
                env.breaks[i : i + 1],
                env.scenarios.index(idx),
                result.arrival_min[i : i + 1],
                env.backend.options,
            )
            assert float(dpv.max()) > 0  # the fires burn something on these tiles
            torch.testing.assert_close(obs[i, -1], (dpv / dpv.max()).float())
            assert float(obs[i, -1][env.breaks[i]].abs().sum()) == 0.0  # treated cells protect nothing
        mask = td["action_mask"]
        action = torch.multinomial(mask.float(), 1, generator=gen).squeeze(1)
        td = env.step(td.set("action", action))["next"]
        td_plain = plain.step(td_plain.set("action", action))["next"]
        if step == 0:
            assert bool((td["observation"][:, -1] != obs[:, -1]).any())  # recomputed after a break
