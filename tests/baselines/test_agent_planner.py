"""The agent planner: loads a checkpoint, follows the planner rules, tiles large landscapes exactly,
rescores locally after each break, rebuilds the observation by channel name, ships as ``pretrained``."""

from __future__ import annotations

import lightning
import numpy as np
import pytest
import torch

from fuelrl.agents import DQNAgent
from fuelrl.baselines import make_planner
from fuelrl.baselines.agent import AgentPlanner, receptive_radius
from fuelrl.baselines.agent_maps import windows as _windows
from fuelrl.envs.observation import OBSERVATION_CHANNELS
from fuelrl.errors import InputError
from fuelrl.models import QNetConfig

from .helpers import save_checkpoint, small_problem

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
    planner = AgentPlanner(path, rescore="full")  # sequential by default
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


# --------------------------------------------------------------------------- local rescoring


def _save(tmp_path, stem: str, names, net: QNetConfig, seed: int = 0):
    return save_checkpoint(tmp_path, stem, names, net, seed)


def _nets():
    nets = [QNetConfig(width=8, blocks=3, dilations=[1, 2, 4], norm_groups=2)]
    if "dpv_residual" in QNetConfig.__dataclass_fields__:  # Q = correction + gain x dpv/max
        nets.append(QNetConfig(width=8, blocks=2, norm_groups=2, dpv_residual=True, dpv_gain_init=0.7))
    return nets


@pytest.mark.parametrize("net", _nets())
def test_local_updates_equal_a_whole_pass_with_the_same_statistics(tmp_path, net):
    from fuelrl.baselines.local_q import LocalQ, supports_local_rescoring
    from fuelrl.envs.observation import channel_layout

    names = channel_layout(dpv_channel=True)
    planner = AgentPlanner(_save(tmp_path, "n", names, net))
    qnet = planner.qnet
    assert supports_local_rescoring(qnet) and planner.local
    for p in qnet.parameters():  # non-trivial weights everywhere (the dpv head starts at zero)
        p.data.add_(0.1 * torch.randn_like(p))
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, len(names) + 1, 37, 29, generator=g)
    x[:, -1] = 0.4  # budget-left plane
    with torch.no_grad():
        whole = qnet(x[:, :-1], torch.tensor([[0.4]])).view(37, 29)
        state = LocalQ(qnet, x.clone())
        torch.testing.assert_close(state.q, whole, rtol=1e-5, atol=1e-5)
        brk = names.index("break")
        for r, c in [(0, 0), (18, 14), (36, 28), (5, 27), (19, 14)]:  # corners, centre, neighbours
            box = state.update(brk, np.array([r]), np.array([c]))
            x[0, brk, r, c] = 1.0
            fresh = LocalQ(qnet, x.clone(), norms=state.norms)  # a whole pass, statistics frozen
            torch.testing.assert_close(state.q, fresh.q, rtol=1e-5, atol=1e-5)
            radius = receptive_radius(qnet)
            assert box[0] >= r - radius and box[1] <= r + radius + 1
        # frozen statistics are an approximation of the whole pass, a small one
        now = qnet(x[:, :-1], torch.tensor([[0.4]])).view(37, 29)
        assert (state.q - now).abs().max() < 0.05 * now.abs().max()


def test_many_breaks_per_update_take_the_best_cells_and_refresh_exactly(checkpoint):
    from fuelrl.baselines.agent_maps import ArgmaxMap as _Argmax
    from fuelrl.baselines.agent_maps import change_boxes as _change_boxes
    from fuelrl.baselines.local_q import LocalQ

    # the m best cells, ties to the lowest rank, removed from the map
    score = np.zeros((30, 30))
    score[10, 10], score[10, 12], score[25, 25], score[0, 29] = 5.0, 4.0, 3.0, 2.0
    best = _Argmax(score.copy(), np.arange(900)[::-1].copy())
    assert best.pop_many(3) == [(10, 10), (10, 12), (25, 25)]
    assert best.pop_many(2) == [(0, 29), (29, 29)]  # then the zeros: highest rank value last
    assert best.pop()[:2] == (29, 28)
    # change boxes cover every changed cell; cells in touching blocks share one box
    changed = np.zeros((40, 50), dtype=bool)
    changed[[2, 5, 30, 39], [3, 9, 40, 49]] = True
    boxes = _change_boxes(changed, block=8)
    assert sorted(boxes) == [(2, 6, 3, 10), (30, 40, 40, 50)]
    covered = np.zeros_like(changed)
    for r0, r1, c0, c1 in boxes:
        covered[r0:r1, c0:c1] = True
    assert not (changed & ~covered).any() and _change_boxes(np.zeros((4, 4), bool)) == []
    # several inputs written, then their boxes refreshed one after another: exact
    path, _ = checkpoint
    qnet = AgentPlanner(path).qnet
    x = torch.rand(1, qnet.in_channels + 1, 45, 52, generator=torch.Generator().manual_seed(3))
    x[:, -1] = 0.6
    with torch.no_grad():
        state = LocalQ(qnet, x.clone())
        new = x.clone()
        new[0, BP_CHANNEL, 3:9, 4:7] = 0.9  # a fire that grew
        new[0, 0, 20, 21] = 1.0
        new[0, 0, 22, 23] = 1.0  # two breaks near each other, overlapping reach
        changed = (new[0, :-1] != x[0, :-1]).any(0).numpy()
        state.x_in[0, :-1] = new[0, :-1]
        for box in _change_boxes(changed, block=4):
            state.refresh(box)
        fresh = LocalQ(qnet, new.clone(), norms=state.norms)
        torch.testing.assert_close(state.q, fresh.q, rtol=1e-5, atol=1e-5)


def test_local_and_full_rescoring_plan_alike(checkpoint):
    path, _ = checkpoint
    plans = {}
    for mode, m, limit in (("local", 1, 0.0), ("local", 8, 0.0), ("local", 1, 1.0), ("full", 1, 0.0)):
        planner = AgentPlanner(path, rescore=mode, breaks_per_update=m, refresh_limit=limit)
        plans[mode, m, limit] = plan = planner.plan(small_problem(size=40, budget=40, recompute_every=10))
        assert plan.cells == 40 and plan.recomputes == 4
        assert plan.info["rescore"] == mode
    full = plans["full", 1, 0.0]
    for key in (("local", 1, 0.0), ("local", 8, 0.0), ("local", 1, 1.0)):
        same = (plans[key].breaks & full.breaks).sum() / 40
        assert same >= 0.75, (key, same)
    assert plans["local", 1, 0.0].info["whole_passes"] == 4  # one per simulation
    assert plans["local", 1, 1.0].info["whole_passes"] == 1  # then refreshed where fires changed
    assert plans["local", 8, 0.0].info["local_updates"] < plans["local", 1, 0.0].info["local_updates"]
    again = AgentPlanner(path, breaks_per_update=1, refresh_limit=0.0).plan(
        small_problem(size=40, budget=40, recompute_every=10)
    )
    np.testing.assert_array_equal(plans["local", 1, 0.0].order, again.order)


def test_local_rescoring_tiled_follows_the_rules(checkpoint):
    path, _ = checkpoint
    problem = small_problem(size=40, budget=30, recompute_every=10)
    plan = AgentPlanner(path, tile_size=16).plan(problem)
    assert plan.cells == 30 and plan.info["rescore"] == "local"
    assert not (plan.breaks & ~problem.legal).any()


def test_unrecognised_network_falls_back_to_full_passes(checkpoint):
    path, _ = checkpoint
    planner = AgentPlanner(path)
    planner.qnet = _BurnProbabilityNet(planner.qnet.config)
    assert not planner.local and planner.layout((32, 32))["rescore"] == "full"
    assert AgentPlanner(path, rescore="full").layout((32, 32))["rescore"] == "full"
    with pytest.raises(InputError, match="rescore"):
        AgentPlanner(path, rescore="windows")


# --------------------------------------------------------------------------- observation layout


@pytest.mark.parametrize("dpv", [False, True])
@pytest.mark.parametrize("weather", [False, True])
def test_every_channel_layout_loads_and_is_rebuilt_by_name(tmp_path, dpv, weather):
    from fuelrl.envs.observation import LANDSCAPE_CHANNELS, WEATHER_CHANNELS, channel_layout, weather_planes

    names = channel_layout(dpv_channel=dpv, weather_channels=weather)
    planner = AgentPlanner(_save(tmp_path, "l", names, QNetConfig(width=8, blocks=1, norm_groups=2)))
    assert planner.channels == names
    assert planner.dpv_channel == dpv and planner.weather_channels == weather
    problem = small_problem(size=24)
    ls = problem.landscape
    rng = np.random.default_rng(0)
    breaks, bp, dpv_map = rng.random(ls.shape) < 0.1, rng.random(ls.shape), rng.random(ls.shape)
    wx = planner.weather_values(problem)
    x = planner.network_input(ls, (0, 24, 0, 24), breaks, bp, 0.25, dpv=dpv_map, weather=wx)[0]
    assert x.shape == (len(names) + 1, 24, 24)
    static = planner._static_channels(ls, 0, 24, 0, 24)[0]
    for i, name in enumerate(LANDSCAPE_CHANNELS):
        torch.testing.assert_close(x[names.index(name)], static[i])
    np.testing.assert_array_equal(x[names.index("break")].numpy(), breaks.astype(np.float32))
    np.testing.assert_allclose(x[names.index("burn_probability")].numpy(), bp, rtol=1e-6)
    np.testing.assert_array_equal(x[-1].numpy(), 0.25)
    if dpv:
        assert names[-1] == "dpv/max"
        np.testing.assert_allclose(x[names.index("dpv/max")].numpy(), dpv_map, rtol=1e-6)
    if weather:
        planes = weather_planes(problem.scenarios, ls.shape)[0]
        for i, name in enumerate(WEATHER_CHANNELS):
            torch.testing.assert_close(x[names.index(name)], planes[i])
        plan = planner.plan(small_problem(size=24, budget=8, recompute_every=4))
        assert plan.cells == 8
    else:
        assert wx is None


def test_an_unknown_layout_is_a_one_line_error(tmp_path):
    names = [*OBSERVATION_CHANNELS[::-1]]  # the right names in the wrong order
    path = _save(tmp_path, "bad", names, QNetConfig(width=8, blocks=1, norm_groups=2))
    with pytest.raises(InputError, match="observation channels") as err:
        AgentPlanner(path)
    assert "\n" not in str(err.value) and "channel_layout" in str(err.value)


# --------------------------------------------------------------------------- pretrained, progress


def test_pretrained_policy_resolves_to_the_packaged_checkpoint(checkpoint, tmp_path, monkeypatch):
    import shutil

    from fuelrl.baselines import agent as agent_module
    from fuelrl.baselines.evaluation import build_planners

    path, _ = checkpoint
    packaged = tmp_path / "pkg" / "fuelrl_pretrained.ckpt"
    packaged.parent.mkdir()
    shutil.copy(path, packaged)
    monkeypatch.setattr(agent_module, "pretrained_checkpoint_path", lambda: packaged)
    planner = make_planner("pretrained")
    assert isinstance(planner, AgentPlanner) and planner.label == "pretrained"
    assert planner.checkpoint == packaged
    assert list(build_planners(["dpv", "pretrained"])) == ["dpv", "pretrained"]
    plan = planner.plan(small_problem(budget=6, recompute_every=3))
    assert plan.policy == "pretrained" and plan.cells == 6
    monkeypatch.setattr(agent_module, "pretrained_checkpoint_path", lambda: tmp_path / "none.ckpt")
    with pytest.raises(InputError, match="pretrained") as err:
        make_planner("pretrained")
    assert "\n" not in str(err.value)


def test_the_packaged_checkpoint_path_is_package_data():
    from fuelrl.baselines.agent import pretrained_checkpoint_path

    path = pretrained_checkpoint_path()
    assert path.name == "fuelrl_pretrained.ckpt" and path.parent.name == "pretrained"
    assert path.parent.parent.name == "fuelrl"


def test_progress_bar_only_when_asked_or_on_a_terminal(checkpoint, capsys):
    path, _ = checkpoint
    AgentPlanner(path, progress=True).plan(small_problem(budget=6, recompute_every=3))
    err = capsys.readouterr().err
    assert "breaks" in err and "6/6" in err
    AgentPlanner(path).plan(small_problem(budget=6, recompute_every=3))  # stderr is not a TTY here
    assert capsys.readouterr().err == ""


def test_a_network_trained_with_values_reads_them_and_needs_them(tmp_path):
    """A checkpoint trained with ``EnvConfig.values`` gets the run's ``--values`` as ``value/max``
    (divided by the landscape's maximum, as FireEnv divides by the tile's); without values it is a
    one-line error naming the option."""
    import dataclasses

    from fuelrl.envs.observation import channel_layout

    names = channel_layout(dpv_channel=True, value_channel=True)
    assert names[-1] == "value/max"
    planner = AgentPlanner(_save(tmp_path, "v", names, QNetConfig(width=8, blocks=1, norm_groups=2)))
    problem = small_problem(size=24, budget=10, recompute_every=5)
    with pytest.raises(InputError, match="--values"):
        planner.plan(problem)
    values = np.zeros(problem.landscape.shape)
    values[5:9, 5:9] = 40.0
    values[20, 20] = 80.0
    problem = dataclasses.replace(small_problem(size=24, budget=10, recompute_every=5), values=values)
    planner.observation.set_values(problem.values, np.ones(values.shape, bool))
    x = planner.network_input(
        problem.landscape,
        (0, 24, 0, 24),
        np.zeros(values.shape, bool),
        np.zeros(values.shape),
        0.5,
        dpv=np.zeros(values.shape),
    )[0]
    np.testing.assert_allclose(x[names.index("value/max")].numpy(), values / 80.0)
    plan = planner.plan(problem)
    assert plan.cells == 10 and not (plan.breaks & ~problem.legal).any()


def test_with_a_cost_raster_the_agent_ranks_by_q_per_cost_within_the_cost_budget(checkpoint):
    """Dearer cells rank lower (Q per cost, whatever Q's sign), and the plan never spends more
    than the cost budget."""
    import dataclasses

    path, _ = checkpoint
    free = AgentPlanner(path).plan(small_problem(size=32, budget=20, recompute_every=10))
    west, east = free.breaks[:, :16].sum(), free.breaks[:, 16:].sum()
    dear = slice(16, None) if east >= west else slice(0, 16)  # the half the free plan likes more
    assert free.breaks[:, dear].sum() > 0
    cost = np.ones(free.breaks.shape)
    cost[:, dear] = 50.0
    problem = dataclasses.replace(
        small_problem(size=32, budget=20, recompute_every=10), cost=cost, budget_cost=200.0
    )
    plan = AgentPlanner(path).plan(problem)
    assert plan.info["rescore"] == "local"
    assert problem.spent(plan.breaks) <= 200.0
    assert plan.breaks[:, dear].sum() < free.breaks[:, dear].sum()
