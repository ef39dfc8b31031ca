"""The data module's pieces that do not need a Trainer: options, the prefill heuristic, per-rank seeds."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict

from fuelrl.agents.data import BurnProbabilityHeuristic, ChannelGreedyHeuristic, ReplayDataModule
from fuelrl.envs import EnvConfig, FireEnv
from fuelrl.errors import InputError
from tests.conftest import synthetic_env_config


def test_heuristic_breaks_on_the_most_likely_legal_cell_only_while_active():
    c = len(FireEnv.observation_channels)
    bp = FireEnv.observation_channels.index("burn_probability")
    obs = torch.zeros(2, c, 3, 3)
    obs[:, bp] = torch.tensor([[0.9, 0.1, 0.2], [0.3, 0.8, 0.0], [0.0, 0.0, 0.5]])
    mask = torch.ones(2, 9, dtype=torch.bool)
    mask[1, 0] = False  # tile 1: the most likely cell is illegal -> next best (cell 4, 0.8)
    td = TensorDict({"observation": obs, "action_mask": mask, "action": torch.tensor([7, 7])}, batch_size=[2])
    h = BurnProbabilityHeuristic(bp)
    assert h(td.clone())["action"].tolist() == [7, 7]
    h.active = True
    assert h(td.clone())["action"].tolist() == [0, 4]


def test_options_are_checked():
    with pytest.raises(InputError, match="frames_per_collect"):
        ReplayDataModule(env=EnvConfig(batch_size=4), frames_per_collect=10)
    with pytest.raises(InputError, match="prefill_frames"):
        ReplayDataModule(warmup_frames=10, prefill_frames=20)
    with pytest.raises(InputError, match="batch_size"):
        ReplayDataModule(batch_size=0)


def test_ranks_get_distinct_seeds_and_channels_match_the_env():
    dm = ReplayDataModule(seed=5)
    seeds = set()
    for rank in range(4):
        dm._rank = rank
        seeds.add(dm.rank_seed)
    assert len(seeds) == 4
    assert dm.num_observation_channels == len(FireEnv.observation_channels)
    assert dm.fires_per_frame == EnvConfig().fires_per_tile / EnvConfig().simulate_every


def test_resuming_without_a_stored_buffer_refills_before_learning():
    dm = ReplayDataModule(warmup_frames=100)
    dm.setup("fit")  # no trainer: an in-memory buffer
    dm.load_state_dict(
        {"stats": {"frames": 5000, "episodes": 40, "fires": 9, "collect_seconds": 1.0}, "replay": {}}
    )
    assert dm.stats.frames == 5000 and len(dm.replay) == 0
    assert dm.learning_starts == 5100  # learning waits for a fresh warm-up
    assert dm.warmup_frames == 100  # ... while epsilon keeps its schedule (it reads warmup_frames)


def test_dpv_prefill_needs_the_dpv_channel_and_names_the_option():
    with pytest.raises(InputError, match="dpv_channel"):
        ReplayDataModule(prefill_policy="dpv")
    with pytest.raises(InputError, match="prefill_policy"):
        ReplayDataModule(prefill_policy="oracle")
    dm = ReplayDataModule(env=EnvConfig(dpv_channel=True), prefill_policy="dpv")
    assert dm.observation_channels[-1] == "dpv/max"
    assert dm.num_observation_channels == len(FireEnv.observation_channels) + 1


def test_dpv_prefill_episodes_are_dpv_greedy_legal_and_within_budget():
    cfg = synthetic_env_config(
        seed=1,
        size=96,
        batch_size=4,
        wind_speed_20ft_mph_min=30.0,
        wind_speed_20ft_mph_max=30.0,
        duration_min=400.0,
        dpv_channel=True,
    )
    env = FireEnv(cfg, seed=7)
    dpv = env.observation_channels.index("dpv/max")
    expert = ChannelGreedyHeuristic(dpv, seed=0)
    expert.active = True
    td = env.reset()
    budget = env._budget_cells.clone()
    untreated = env.burned_ha_no_breaks.clone()
    done = torch.zeros(4, dtype=torch.bool)
    steps = 0
    while not bool(done.all()):
        td.set("action", torch.zeros(4, dtype=torch.int64))
        td["_step"] = ~done
        td = expert(td)
        action, mask, score = td["action"], td["action_mask"], td["observation"][:, dpv].flatten(1)
        for i in (~done).nonzero().flatten().tolist():
            assert bool(mask[i, action[i]])  # a legal cell ...
            # ... of (nearly: the tie-break jitter is 1e-3) the highest DPV among the legal cells
            assert float(score[i, action[i]]) >= float(score[i][mask[i]].max()) - 1e-3
        td = env.step(td)["next"]
        done = td["done"].flatten()
        steps += 1
    assert torch.equal(env.breaks.flatten(1).sum(1), budget)  # exactly the budget, never more
    assert steps == int(budget.max())
    greedy = env._burned_ha.clone()
    # the same tiles and fires, random legal breaks: DPV-greedy saves more in total
    env.set_seed(7)
    td = env.reset()
    torch.testing.assert_close(env.burned_ha_no_breaks, untreated)
    gen = torch.Generator().manual_seed(0)
    done = torch.zeros(4, dtype=torch.bool)
    while not bool(done.all()):
        action = torch.multinomial(td["action_mask"].float().clamp_min(1e-9), 1, generator=gen).squeeze(1)
        td.set("action", action)
        td["_step"] = ~done
        td = env.step(td)["next"]
        done = td["done"].flatten()
    assert float(greedy.sum()) < float(env._burned_ha.sum())
    assert bool((greedy <= untreated + 1e-9).all())
