"""FireEnv reuses the spread fields its backend prepared at reset: the same rollouts as recomputing
every step, across partial resets (tiles whose episodes end at different steps)."""

from __future__ import annotations

import types

import pytest
import torch

from fuelrl.envs import FireEnv
from fuelrl.simulators.base import SimulatorBackend
from fuelrl.testing.simulators import assert_same_fires
from tests.conftest import synthetic_env_config

CFG = synthetic_env_config(seed=3, size=128, budget_fraction=0.02)


def unprepared(env: FireEnv) -> FireEnv:
    """``env`` whose backend precomputes nothing (what a plugin without ``prepare`` does)."""
    env.backend.prepare = types.MethodType(SimulatorBackend.prepare, env.backend)
    return env


def collect(env: FireEnv, steps: int) -> tuple[list[torch.Tensor], int]:
    gen = torch.Generator().manual_seed(5)
    td = env.reset()
    rewards, partial_resets = [], 0
    for _ in range(steps):
        td["action"] = torch.multinomial(td["action_mask"].float(), 1, generator=gen).squeeze(1)
        out, td = env.step_and_maybe_reset(td)
        done = out["next", "done"].reshape(-1)
        partial_resets += int(bool(done.any()) and not bool(done.all()))
        rewards.append(out["next", "reward"].clone())
        rewards.append(out["next", "observation"].clone())
    return rewards, partial_resets


@pytest.mark.parametrize("backend", ["numpy", "threaded", "torch"])
@pytest.mark.parametrize("treatment_fuel_model", [91, 101], ids=["NB1", "GR1"])
def test_prepared_env_matches_recomputing_every_step(backend, treatment_fuel_model):
    cfg = CFG.with_overrides(backend=backend, treatment_fuel_model=treatment_fuel_model)
    fast = FireEnv(cfg, seed=1)
    slow = unprepared(FireEnv(cfg, seed=1))
    got, partial = collect(fast, 30)
    want, _ = collect(slow, 30)
    assert partial > 0, "the rollout should exercise partial resets"
    assert fast._prepared.spread is not None and slow._prepared.spread is None
    # the same to float32 rounding (identical in practice; see fuelrl.testing.assert_same_fires)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-6, atol=1e-6)


def test_prepared_fields_follow_the_tiles_after_partial_resets():
    """After partial resets the prepared batch describes exactly the env's current tiles."""
    env = FireEnv(CFG, seed=2)
    collect(env, 25)
    fresh = env.backend.prepare(env.tiles, env.scenarios)
    breaks = env.breaks.clone()
    torch.testing.assert_close(
        env.backend.simulate_prepared(env._prepared, breaks).arrival_min,
        env.backend.simulate_prepared(fresh, breaks).arrival_min,
        rtol=0,
        atol=0,
    )
    assert_same_fires(
        env.backend.simulate_prepared(env._prepared, breaks),
        env.backend.simulate(env.tiles, breaks, env.scenarios),
    )
