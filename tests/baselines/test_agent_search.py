"""Plan-time search (``AgentPlanner(search=N)``, :mod:`fuelrl.baselines.agent_search`): candidates
are the top-k of blends of the agent's and DPV's rankings, the planning fires decide, every
simulation is counted, and the kept candidate is never grown twice."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fuelrl import registry
from fuelrl.baselines import PlanningProblem, make_planner
from fuelrl.baselines.agent import AgentPlanner
from fuelrl.baselines.agent_search import candidates, choose, percentile_rank
from fuelrl.baselines.selection import top_k_legal
from fuelrl.envs.observation import channel_layout
from fuelrl.errors import InputError
from fuelrl.landscape.synthetic import generate_landscape
from fuelrl.models import QNetConfig
from fuelrl.simulators.base import SimulationOptions, TileBatch
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution

from .helpers import save_checkpoint, small_problem

WEATHER = WeatherDistribution(wind_speed_20ft_mph=20.0, wind_from_deg=240.0, duration_min=240)


@pytest.fixture
def dpv_checkpoint(tmp_path):
    """An (untrained) network of the pretrained layout: DPV and weather channels."""
    names = channel_layout(dpv_channel=True, weather_channels=True)
    return save_checkpoint(tmp_path, "dpv", names, QNetConfig(width=8, blocks=2, norm_groups=2))


class _Counting:
    """Wraps a backend: counts the fire sets it grows."""

    def __init__(self, backend):
        self.backend, self.grown = backend, 0

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def simulate_prepared(self, prepared, breaks):
        self.grown += 1
        return self.backend.simulate_prepared(prepared, breaks)


def _fresh_problem(sets: int = 3, fires: int = 4, budget: int = 30, k: int = 10) -> PlanningProblem:
    landscape = generate_landscape(seed=2, shape=(40, 40))
    backend = registry.create("numpy", options=SimulationOptions())
    pool = ScenarioSampler(WEATHER, fires=fires * sets, seed=0).sample(landscape.burnable)
    return PlanningProblem(
        landscape, TileBatch.stack([landscape]), backend, pool,
        budget_cells=budget, recompute_every=k, seed=0, fire_sets=sets,
    )


def test_percentile_rank_is_monotone_shares_ties_and_masks_unavailable():
    score = np.array([[3.0, 1.0, 1.0], [7.0, -np.inf, 9.0]])
    available = np.array([[True, True, True], [True, True, False]])
    r = percentile_rank(score, available)
    assert r[1, 2] == -np.inf  # not available
    assert r[0, 1] == r[0, 2] == pytest.approx(0.375)  # -inf < 1 = 1 < 3 < 7: ranks 0, 1.5, 1.5, 3, 4 of 4
    assert r[1, 1] == 0.0 and r[1, 0] == 1.0 and r[0, 0] == pytest.approx(0.75)


def test_candidates_run_from_the_agents_interval_to_dpvs_and_drop_repeats():
    rng = np.random.default_rng(0)
    q, d = rng.random((12, 12)), rng.random((12, 12))
    available = rng.random((12, 12)) > 0.2
    got = candidates(q, d, available, 7, 3, np.random.default_rng(1))
    assert [b for b, _ in got] == [0.0, 0.5, 1.0]
    want_agent = set(top_k_legal(q, available, 7, np.random.default_rng(0)))
    want_dpv = set(top_k_legal(d, available, 7, np.random.default_rng(0)))
    assert set(got[0][1]) == want_agent and set(got[-1][1]) == want_dpv
    assert all(available.reshape(-1)[p].all() and p.size == 7 for _, p in got)
    # the same ranking twice (any monotone transform of it): one candidate, grown once
    same = candidates(q, np.exp(3 * q), available, 7, 4, np.random.default_rng(1))
    assert len(same) == 1 and set(same[0][1]) == want_agent


def test_choose_keeps_the_least_burned_proposal_and_caches_its_simulation():
    problem = small_problem(budget=20, recompute_every=5)
    problem.backend = _Counting(problem.backend)
    breaks = np.zeros(problem.shape, dtype=bool)
    legal = np.flatnonzero(problem.legal)
    proposals = [(0.0, legal[:5]), (0.5, legal[100:105]), (1.0, legal[-5:])]
    losses = []
    for _, pick in proposals:  # independently: the objective of each trial plan
        trial = breaks.copy()
        trial.reshape(-1)[pick] = True
        losses.append(problem.expected_loss(trial))
    problem.backend.grown = 0
    blend, pick, used = choose(problem, breaks, proposals)
    best = int(np.argmin(losses))
    assert blend == proposals[best][0] and np.array_equal(pick, proposals[best][1])
    assert used == problem.backend.grown == 3
    kept = breaks.copy()
    kept.reshape(-1)[pick] = True
    problem.simulate(kept)
    assert problem.backend.grown == 3  # the kept candidate's simulation is reused


def test_search_plans_follow_the_rules_and_count_every_simulation(dpv_checkpoint):
    problem = _fresh_problem()
    problem.backend = _Counting(problem.backend)
    plan = AgentPlanner(dpv_checkpoint, search=3).plan(problem)
    assert plan.cells == 30 and not (plan.breaks & ~problem.plannable).any()
    kept = plan.info["search_kept_blend"]
    assert len(kept) == plan.info["intervals"] == 3 and set(kept) <= {0.0, 0.5, 1.0}
    assert plan.recomputes == problem.backend.grown  # what evaluate reports: every fire set grown
    assert 1 + 3 <= plan.recomputes <= 1 + 3 * 3
    again = AgentPlanner(dpv_checkpoint, search=3).plan(_fresh_problem())
    np.testing.assert_array_equal(plan.order, again.order)  # seeded


def test_search_one_is_the_plain_planner(dpv_checkpoint):
    plain = AgentPlanner(dpv_checkpoint).plan(_fresh_problem())
    one = AgentPlanner(dpv_checkpoint, search=1).plan(_fresh_problem())
    np.testing.assert_array_equal(plain.order, one.order)
    assert plain.recomputes == one.recomputes == 3


def test_a_search_never_keeps_a_candidate_the_deciding_fires_burn_more_with(dpv_checkpoint):
    """The first interval, redone by hand: the kept set burns least on the second fire set of
    the candidates the agent and ``dpv`` propose."""
    plan = AgentPlanner(dpv_checkpoint, search=2).plan(_fresh_problem())
    plain = AgentPlanner(dpv_checkpoint).plan(_fresh_problem())
    dpv = make_planner("dpv").plan(_fresh_problem())
    problem = _fresh_problem()
    problem.use_fire_set(1)
    first = np.zeros(problem.shape, dtype=bool)

    def loss(order):
        b = first.copy()
        b.reshape(-1)[order[:10]] = True
        return problem.expected_loss(b)

    assert loss(plan.order) <= min(loss(plain.order), loss(dpv.order)) + 1e-9


def test_search_options_are_checked(dpv_checkpoint):
    with pytest.raises(InputError, match="search must be >= 1"):
        AgentPlanner(dpv_checkpoint, search=0)
    with pytest.raises(InputError, match="search needs sequential placement with local rescoring"):
        AgentPlanner(dpv_checkpoint, search=2, rescore="full").plan(_fresh_problem())


# --------------------------------------------------------------------------- precision


def test_bfloat16_layers_track_the_float32_network_and_update_locally(dpv_checkpoint):
    from fuelrl.baselines.local_q import LocalQ, low_precision_copy

    planner = AgentPlanner(dpv_checkpoint, precision="bfloat16")
    qnet = planner.qnet
    for p in qnet.parameters():  # non-trivial weights everywhere (the dpv head starts at zero)
        p.data.add_(0.1 * torch.randn_like(p, generator=torch.Generator().manual_seed(3)))
    low = planner.layers
    assert low is not qnet and next(low.parameters()).dtype == torch.bfloat16
    assert planner.layers is low  # made once per network
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, qnet.in_channels + 1, 37, 29, generator=g)
    x[:, -1] = 0.4
    with torch.no_grad():
        want = qnet(x[:, :-1], torch.tensor([[0.4]])).view(37, 29)
        state = LocalQ(qnet, x.clone(), layers=low)
        assert state.q.dtype == torch.float32 and state.x_in.dtype == torch.float32
        torch.testing.assert_close(state.q, want, rtol=0, atol=0.02 * float(want.abs().max()))
        brk = planner.channels.index("break")
        for r, c in [(0, 0), (18, 14), (36, 28)]:
            state.update(brk, np.array([r]), np.array([c]))
            x[0, brk, r, c] = 1.0
            fresh = LocalQ(qnet, x.clone(), norms=state.norms, layers=low)
            torch.testing.assert_close(state.q, fresh.q, rtol=0, atol=0.01 * float(fresh.q.abs().max()))
        assert low_precision_copy(qnet, torch.bfloat16) is not low


def test_bfloat16_plans_follow_the_rules_and_pick_nearly_the_float32_cells(dpv_checkpoint):
    full = AgentPlanner(dpv_checkpoint).plan(_fresh_problem(budget=60, k=20))
    low = AgentPlanner(dpv_checkpoint, precision="bfloat16").plan(_fresh_problem(budget=60, k=20))
    problem = _fresh_problem(budget=60, k=20)
    assert low.cells == 60 and not (low.breaks & ~problem.plannable).any()
    assert (low.breaks & full.breaks).sum() >= 0.8 * 60
    with pytest.raises(InputError, match="precision must be one of float32, bfloat16"):
        AgentPlanner(dpv_checkpoint, precision="float16")
    with pytest.raises(InputError, match="precision bfloat16 needs sequential placement"):
        AgentPlanner(dpv_checkpoint, precision="bfloat16", sequential=False).plan(problem)


# --------------------------------------------------------------------------- fuelrl evaluate


def test_evaluate_with_search_also_scores_the_heuristics_at_the_agents_simulations(dpv_checkpoint, tmp_path):
    import json

    from fuelrl.cli import main
    from fuelrl.landscape import write_landscape

    land = tmp_path / "land.tif"
    write_landscape(generate_landscape(seed=2, shape=(40, 40)), land)
    out = tmp_path / "out"
    argv = ["evaluate", str(land), "--policies", f"random,dpv,{dpv_checkpoint}", "--budget", "0.05",
            "--fires", "8", "--planning-fires", "4", "--duration", "120", "--wind-speed", "15",
            "--backend", "numpy", "--recompute-every", "20", "--agent-search", "3", "--no-unit-scores"]
    assert main([*argv, "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    pol = results["policies"]
    agent, dpv, matched = pol["agent:dpv"], pol["dpv"], pol["dpv@matched"]
    assert "random@matched" not in pol and dpv["recomputes"] == 4  # 75 breaks, 20 per recomputation
    assert agent["recomputes"] > dpv["recomputes"]
    assert matched["recomputes"] >= agent["recomputes"] and matched["kind"] == "heuristic"
    assert results["best_baseline"] in ("dpv", "dpv@matched")
    assert min(dpv["burned_ha_mean"], matched["burned_ha_mean"]) == pytest.approx(
        pol[results["best_baseline"]]["burned_ha_mean"]
    )
    assert "--agent-search 3" in (out / "results.json").read_text()  # the command that reproduces it
    assert results["agent_layouts"]["agent:dpv"]["land"]["search"] == 3
    # without search no matched heuristic is added
    plain = tmp_path / "plain"
    assert main([*argv[:-3], "--no-unit-scores", "--out", str(plain)]) == 0
    assert "dpv@matched" not in json.loads((plain / "results.json").read_text())["policies"]


def test_agent_search_flag_is_checked(tmp_path, capsys):
    from fuelrl.cli import main

    argv = ["evaluate", "x.tif", "--policies", "dpv", "--agent-search", "0", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "--agent-search" in err and len(err.splitlines()) == 1 and not (tmp_path / "o").exists()
