"""The agent planner: loads a checkpoint, follows the planner rules, tiles large landscapes exactly."""

from __future__ import annotations

import lightning
import numpy as np
import pytest
import torch

from fuelrl.agents import DQNAgent
from fuelrl.baselines import make_planner
from fuelrl.baselines.agent import AgentPlanner, _windows, receptive_radius
from fuelrl.envs.observation import OBSERVATION_CHANNELS
from fuelrl.models import QNetConfig

from .helpers import small_problem

BP_CHANNEL = OBSERVATION_CHANNELS.index("burn_probability")


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint written the way Lightning writes one (state dict + hyper-parameters)."""
    torch.manual_seed(0)
    agent = DQNAgent(in_channels=len(OBSERVATION_CHANNELS), net=QNetConfig(width=8, blocks=2, norm_groups=2))
    path = tmp_path / "tiny.ckpt"
    torch.save(
        {
            "state_dict": agent.state_dict(),
            "hyper_parameters": dict(agent.hparams),
            "pytorch-lightning_version": lightning.__version__,
        },
        path,
    )
    return path, agent


class _BurnProbabilityNet(torch.nn.Module):
    """A stand-in Q-network that returns the burn-probability channel: a purely local function."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.in_channels = len(OBSERVATION_CHANNELS)

    def forward(self, observation, budget_left=None):
        return observation[:, BP_CHANNEL].flatten(1)


def test_checkpoint_plans_follow_the_rules_and_are_reproducible(checkpoint):
    path, agent = checkpoint
    planner = make_planner(str(path))
    assert isinstance(planner, AgentPlanner) and planner.label == "agent:tiny"
    for p_loaded, p_saved in zip(planner.qnet.parameters(), agent.qnet.parameters(), strict=True):
        torch.testing.assert_close(p_loaded, p_saved)
    problem = small_problem(budget=12, recompute_every=4)
    plan = planner.plan(problem)
    assert plan.policy == "agent:tiny" and plan.cells == 12 and plan.recomputes == 3
    assert not (plan.breaks & ~problem.legal).any()
    again = make_planner(str(path)).plan(small_problem(budget=12, recompute_every=4))
    np.testing.assert_array_equal(plan.order, again.order)


def test_greedy_masked_argmax_on_the_observation(checkpoint):
    """With a Q-network equal to the burn-probability channel the agent is the burn-probability rule."""
    path, _ = checkpoint
    planner = AgentPlanner(path)
    planner.qnet = _BurnProbabilityNet(planner.qnet.config)
    problem = small_problem(budget=6, recompute_every=6)
    bp = problem.simulate(np.zeros(problem.landscape.shape, bool)).burn_probability()[0].numpy()
    plan = planner.plan(problem)
    assert bp.reshape(-1)[plan.order].min() >= bp[problem.legal & ~plan.breaks].max()


def test_tiled_scoring_stitches_exactly(checkpoint):
    path, _ = checkpoint
    problem = small_problem(size=40)
    ls = problem.landscape
    rng = np.random.default_rng(0)
    bp = rng.random(ls.shape).astype(np.float32)
    breaks = rng.random(ls.shape) < 0.1
    whole = AgentPlanner(path)
    tiled = AgentPlanner(path, tile_size=16)
    assert whole.layout(ls.shape)["mode"] == "whole"
    lay = tiled.layout(ls.shape)
    assert lay["mode"] == "tiled" and lay["margin"] == 4 and lay["windows"] == 25
    # a per-cell network: the tiled pass must equal the whole pass exactly
    for p in (whole, tiled):
        p.qnet = _BurnProbabilityNet(p.qnet.config)
    np.testing.assert_array_equal(whole.q_values(ls, breaks, bp, 0.5), tiled.q_values(ls, breaks, bp, 0.5))
    # the real network runs tiled too, with every cell scored
    real = AgentPlanner(path, tile_size=16)
    q = real.q_values(ls, breaks, bp, 0.5)
    assert q.shape == ls.shape and np.isfinite(q).all()


def test_windows_cover_every_cell_once_with_context():
    for n, tile, margin in [(40, 16, 4), (17, 16, 4), (100, 32, 8), (16, 16, 4)]:
        seen = np.zeros(n, int)
        for w0, w1, c0, c1 in _windows(n, tile, margin):
            assert 0 <= w0 <= c0 < c1 <= w1 <= n and w1 - w0 == min(tile, n)
            assert c0 - w0 >= margin or w0 == 0
            assert w1 - c1 >= margin or w1 == n
            seen[c0:c1] += 1
        assert (seen == 1).all()


def test_receptive_radius_counts_the_stem_and_the_dilated_blocks(checkpoint):
    path, _ = checkpoint
    planner = AgentPlanner(path)
    assert receptive_radius(planner.qnet) == 1 + 2 * (1 + 2)  # blocks with dilations 1, 2


class _ChannelNet(torch.nn.Module):
    """A stand-in Q-network returning one observation channel; counts its forward passes."""

    def __init__(self, config, in_channels: int, channel: int):
        super().__init__()
        self.config = config
        self.in_channels = in_channels
        self.channel = channel
        self.calls = 0

    def forward(self, observation, budget_left=None):
        self.calls += 1
        return observation[:, self.channel].flatten(1)


@pytest.fixture
def dpv_checkpoint(tmp_path):
    """A checkpoint of a network trained with FireEnv's dpv/max channel."""
    from fuelrl.envs.observation import observation_channels

    names = list(observation_channels(True))
    agent = DQNAgent(
        in_channels=len(names), observation_channels=names, net=QNetConfig(width=8, blocks=2, norm_groups=2)
    )
    path = tmp_path / "dpv.ckpt"
    torch.save(
        {
            "state_dict": agent.state_dict(),
            "hyper_parameters": dict(agent.hparams),
            "pytorch-lightning_version": lightning.__version__,
        },
        path,
    )
    return path, names


def test_dpv_network_gets_the_dpv_baseline_signal_and_follows_the_rules(dpv_checkpoint):
    path, names = dpv_checkpoint
    planner = AgentPlanner(path)
    assert planner.dpv_channel and planner.qnet.in_channels == len(OBSERVATION_CHANNELS) + 1
    plan = planner.plan(small_problem(budget=12, recompute_every=4))  # the real (untrained) network
    assert plan.cells == 12 and not (plan.breaks & ~small_problem().legal).any()
    # a network that returns the dpv/max channel, one pass per simulation: exactly the dpv planner
    stand_in = AgentPlanner(path, sequential=False)
    stand_in.qnet = _ChannelNet(planner.qnet.config, len(names), names.index("dpv/max"))
    ours = stand_in.plan(small_problem(budget=12, recompute_every=4))
    theirs = make_planner("dpv").plan(small_problem(budget=12, recompute_every=4))
    np.testing.assert_array_equal(ours.breaks, theirs.breaks)
    assert ours.recomputes == theirs.recomputes == 3


def test_sequential_placement_reruns_the_network_per_break_but_simulates_as_often(dpv_checkpoint):
    path, names = dpv_checkpoint
    planner = AgentPlanner(path)  # sequential by default
    planner.qnet = _ChannelNet(planner.qnet.config, len(names), names.index("dpv/max"))
    problem = small_problem(budget=10, recompute_every=4)
    simulations = 0
    simulate = problem.simulate

    def counting(breaks):
        nonlocal simulations
        simulations += 1
        return simulate(breaks)

    problem.simulate = counting
    plan = planner.plan(problem)
    assert plan.cells == 10 and not (plan.breaks & ~problem.legal).any()
    assert plan.recomputes == simulations == 3  # 4 + 4 + 2 breaks
    assert planner.qnet.calls == 10  # one network pass per break
