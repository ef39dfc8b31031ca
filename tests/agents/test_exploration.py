"""Epsilon-greedy over legal cells: never illegal, uniform when exploring, off when deterministic."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict
from torchrl.envs.utils import ExplorationType, set_exploration_type

from fuelrl.agents.exploration import MaskedEpsilonGreedy, linear_epsilon, random_legal_actions


def _td(n=4000, a=6):
    mask = torch.tensor([True, False, True, True, False, True]).expand(n, a).clone()
    return TensorDict({"action": torch.full((n,), 1), "action_mask": mask}, batch_size=[n])


def test_eps_one_explores_uniformly_over_legal_cells_only():
    td = MaskedEpsilonGreedy(1.0, seed=0)(_td())
    counts = torch.bincount(td["action"], minlength=6)
    assert counts[1] == 0 and counts[4] == 0
    legal = counts[[0, 2, 3, 5]].float()
    # 4000 draws over 4 cells: each near 1000 (binomial sd ~27); 6 sd bounds
    assert ((legal - 1000).abs() < 165).all(), counts.tolist()


def test_eps_zero_and_deterministic_mode_keep_the_greedy_action():
    assert (MaskedEpsilonGreedy(0.0)(_td(50))["action"] == 1).all()
    with set_exploration_type(ExplorationType.DETERMINISTIC):
        assert (MaskedEpsilonGreedy(1.0)(_td(50))["action"] == 1).all()


def test_fraction_explored_matches_eps():
    td = MaskedEpsilonGreedy(0.3, seed=1)(_td(20000))
    # a greedy action of 1 (illegal here) is replaced exactly when exploring
    frac = (td["action"] != 1).float().mean().item()
    assert frac == pytest.approx(0.3, abs=0.02)


def test_same_seed_same_actions():
    a = MaskedEpsilonGreedy(0.5, seed=7)(_td(100))["action"]
    b = MaskedEpsilonGreedy(0.5, seed=7)(_td(100))["action"]
    c = MaskedEpsilonGreedy(0.5, seed=8)(_td(100))["action"]
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_rows_without_legal_cells_get_action_zero():
    mask = torch.zeros(3, 5, dtype=torch.bool)
    mask[1, 3] = True
    assert random_legal_actions(mask, torch.Generator().manual_seed(0)).tolist() == [0, 3, 0]


def test_linear_schedule():
    kw = dict(start=1.0, end=0.1, decay_frames=1000, warmup_frames=200)
    assert linear_epsilon(0, **kw) == 1.0
    assert linear_epsilon(200, **kw) == 1.0
    assert linear_epsilon(700, **kw) == pytest.approx(0.55)
    assert linear_epsilon(1200, **kw) == pytest.approx(0.1)
    assert linear_epsilon(10**7, **kw) == pytest.approx(0.1)
    eps = [linear_epsilon(f, **kw) for f in range(0, 2000, 50)]
    assert all(a >= b for a, b in zip(eps, eps[1:], strict=False))
