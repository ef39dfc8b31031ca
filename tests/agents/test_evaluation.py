"""Evaluation episodes on the real env: same tiles and fires for every policy, budget spent, areas sane."""

from __future__ import annotations

import torch

from fuelrl.agents import DQNAgent
from fuelrl.agents.evaluation import random_action_fn, run_episodes
from fuelrl.envs import FireEnv, make_env
from fuelrl.models import QNetConfig
from tests.conftest import synthetic_env_config

CFG = synthetic_env_config(seed=0, size=64, tile_size=8, batch_size=4, fires_per_tile=2, budget_fraction=0.1)


def test_same_seed_same_tiles_and_fires_for_every_policy():
    env = make_env(CFG, seed=1)
    a = run_episodes(env, random_action_fn(0), seed=3)
    b = run_episodes(env, random_action_fn(0), seed=3)
    c = run_episodes(env, random_action_fn(99), seed=3)  # other breaks, same fires
    assert torch.equal(a.burned_ha, b.burned_ha)
    assert torch.equal(a.burned_ha_untreated, c.burned_ha_untreated)
    # breaks never make a fire bigger: final area <= untreated area, tile by tile
    assert (a.burned_ha <= a.burned_ha_untreated + 1e-4).all()
    # every episode spends its budget: one break per step on 8x8 tiles, 10% of the burnable cells
    assert ((a.steps >= 1) & (a.steps <= 7)).all()
    breaks = a.final_observation[:, FireEnv.observation_channels.index("break")].flatten(1).sum(1)
    assert torch.equal(breaks.long(), a.steps)


def test_agent_evaluate_reports_greedy_random_and_untreated():
    torch.manual_seed(0)
    agent = DQNAgent(
        in_channels=len(FireEnv.observation_channels), net=QNetConfig(width=8, blocks=1, norm_groups=2)
    )
    env = make_env(CFG, seed=1)
    out = agent.evaluate(env, seed=3)
    assert set(out) == {"burned_ha", "burned_ha_random", "burned_ha_untreated", "breaks_per_tile"}
    assert out["burned_ha"] <= out["burned_ha_untreated"] + 1e-4
    assert out["burned_ha_random"] <= out["burned_ha_untreated"] + 1e-4
    assert agent.evaluate(env, seed=3) == out  # deterministic
