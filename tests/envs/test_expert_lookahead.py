"""FireEnv's ``expert_lookahead``: at the states right after a simulation, ``expert_set`` holds the
cells the every-break DPV teacher treats over the next interval (fuelrl.envs.expert.lookahead_set).

The independent reference is the env itself with ``simulate_every: 1`` (one simulation per break,
the teacher's own schedule), driven by its ``expert_action``: its next k breaks are the set."""

from __future__ import annotations

import pytest
import torch
from torchrl.envs.utils import check_env_specs, step_mdp

from fuelrl.envs import FireEnv
from fuelrl.errors import InputError
from tests.conftest import synthetic_env_config

K = 3


def _env(simulate_every: int = K, lookahead: bool = True, **kw) -> FireEnv:
    cfg = synthetic_env_config(seed=2, size=96, wind_speed_20ft_mph_min=10.0, wind_speed_20ft_mph_max=30.0)
    return FireEnv(
        cfg, seed=3, dpv_channel=True, expert="dpv", simulate_every=simulate_every,
        expert_lookahead=lookahead, **kw,
    )


def _teacher_breaks(td, steps: int) -> list[torch.Tensor]:
    """The cells an every-break env following its own expert_action treats in ``steps`` steps."""
    env = _env(simulate_every=1, lookahead=False)
    t = env.reset()
    torch.testing.assert_close(t["observation"][:, :-1], td["observation"][:, :-1])  # same tiles, fires
    cells = []
    for _ in range(steps):
        cells.append(t["expert_action"].clone())
        t = step_mdp(env.step(t.set("action", t["expert_action"])))
    return cells


def test_the_set_at_reset_is_the_every_break_teachers_next_interval():
    env = _env()
    td = env.reset()
    cells = torch.stack(_teacher_breaks(td, K), dim=1)  # [B, K]
    assert (cells >= 0).all()
    want = torch.zeros_like(td["expert_set"]).scatter_(1, cells, True)
    assert torch.equal(td["expert_set"], want)
    assert torch.equal(td["expert_set"].sum(1), torch.full((env.batch_size[0],), K))
    # its first cell is the label of this state; the others are not DPV's top k here
    assert torch.equal(td["expert_set"].gather(1, td["expert_action"][:, None]).squeeze(1),
                       torch.ones(env.batch_size[0], dtype=torch.bool))
    assert (td["expert_set"] & ~td["action_mask"]).sum() == 0


def test_only_the_states_after_a_simulation_carry_a_set_and_it_follows_the_episode():
    env = _env()
    td = env.reset()
    check_env_specs(env)
    td = env.reset()
    for step in range(1, 2 * K + 1):
        td = step_mdp(env.step(td.set("action", td["expert_action"])))
        sizes = td["expert_set"].sum(1)
        left = (td["budget_left"].flatten() > 0)
        if step % K == 0:  # right after a simulation: the next interval (or the budget left)
            assert bool((sizes[left] > 0).all())
            assert bool((sizes <= K).all())
            assert (td["expert_set"] & ~td["action_mask"]).sum() == 0
        else:
            assert int(sizes.sum()) == 0


def test_lookahead_needs_the_dpv_teacher_and_one_break_per_step():
    cfg = synthetic_env_config(seed=2, size=96)
    with pytest.raises(InputError, match="EnvConfig.expert_lookahead"):
        FireEnv(cfg, expert_lookahead=True)
    with pytest.raises(InputError, match="breaks_per_step"):
        FireEnv(cfg, expert="dpv", expert_lookahead=True, breaks_per_step=2)
    assert "expert_set" not in _env(lookahead=False).reset().keys()
