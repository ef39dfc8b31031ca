"""The planners: legality, budget, reproducibility, greedy order; DPV beats random on a real landscape."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fuelrl import registry
from fuelrl.baselines import (
    BurnProbabilityPlanner,
    DPVPlanner,
    Planner,
    PlanningProblem,
    RandomPlanner,
    budget_cells,
    make_planner,
    top_k_legal,
)
from fuelrl.errors import InputError

from .helpers import score_at_5pct, small_problem

HEURISTICS = [RandomPlanner, BurnProbabilityPlanner, DPVPlanner]


def test_budget_is_rounded_down_and_checked():
    assert budget_cells(1000, 0.05) == 50
    assert budget_cells(999, 0.05) == 49  # 49.95: never more than the fraction
    assert budget_cells(10, 1.0) == 10
    for bad in (0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(InputError, match="--budget"):
            budget_cells(1000, bad)
    with pytest.raises(InputError, match="less than one cell"):
        budget_cells(10, 0.05)


def test_top_k_breaks_ties_in_a_seeded_random_order():
    scores = np.array([[0.0, 5.0, 0.0], [0.0, 3.0, 0.0]])
    avail = np.ones_like(scores, bool)
    avail[0, 1] = False
    pick = top_k_legal(scores, avail, 3, np.random.default_rng(0))
    assert pick[0] == 4  # the best available cell first
    assert set(pick[1:]) <= {0, 2, 3, 5}
    again = top_k_legal(scores, avail, 3, np.random.default_rng(0))
    np.testing.assert_array_equal(pick, again)
    draws = {tuple(top_k_legal(scores, avail, 3, np.random.default_rng(s))[1:]) for s in range(20)}
    assert len(draws) > 1, "ties must not always go to the same cells"


@pytest.mark.parametrize("cls", HEURISTICS)
def test_plans_are_legal_and_spend_exactly_the_budget(cls):
    problem = small_problem(budget=17, recompute_every=5)
    plan = cls().plan(problem)
    assert plan.breaks.shape == problem.landscape.shape and plan.breaks.dtype == bool
    assert plan.cells == 17 == len(plan.order)
    assert not (plan.breaks & ~problem.landscape.burnable).any(), "breaks only on burnable cells"
    ign = problem.scenarios.ignition_cell.reshape(-1).numpy()
    assert not plan.breaks.reshape(-1)[ign].any(), "never on a planning fire's ignition cell"
    if cls is not RandomPlanner:
        assert plan.recomputes == 4  # 5 + 5 + 5 + 2


@pytest.mark.parametrize("cls", HEURISTICS)
def test_same_inputs_same_plan(cls):
    a = cls().plan(small_problem(seed=3))
    b = cls().plan(small_problem(seed=3))
    np.testing.assert_array_equal(a.order, b.order)


def test_random_plans_differ_between_seeds_and_cover_the_legal_cells_uniformly():
    problem = small_problem(budget=40)
    counts = np.zeros(problem.landscape.shape)
    for seed in range(60):
        problem.seed = seed
        counts += RandomPlanner().plan(problem).breaks
    legal = problem.legal
    assert counts[~legal].sum() == 0
    # uniform over legal cells: each half of them (by position) gets its share of the 2400 draws
    cells = np.flatnonzero(legal.reshape(-1))
    first = cells[: cells.size // 2]
    share = counts.reshape(-1)[first].sum() / counts.sum()
    assert share == pytest.approx(first.size / cells.size, abs=0.05)  # 5 standard deviations
    assert (counts[legal] > 0).mean() > 0.6


def test_burn_probability_planner_takes_the_most_burned_cells_first():
    problem = small_problem(budget=6, recompute_every=6)
    bp = problem.simulate(np.zeros(problem.landscape.shape, bool)).burn_probability()[0].numpy()
    plan = BurnProbabilityPlanner().plan(problem)
    chosen = bp.reshape(-1)[plan.order]
    rest = bp[problem.legal & ~plan.breaks]
    assert chosen.min() >= rest.max()


def test_dpv_planner_takes_the_highest_dpv_cells_first():
    from fuelrl.baselines.dpv import downstream_protection_value

    problem = small_problem(budget=6, recompute_every=6)
    none = np.zeros(problem.landscape.shape, bool)
    res = problem.simulate(none)
    dpv = downstream_protection_value(
        problem.tiles,
        torch.as_tensor(none[None]),
        problem.scenarios,
        res.arrival_min,
        problem.backend.options,
    ).numpy()
    plan = DPVPlanner().plan(problem)
    assert dpv.reshape(-1)[plan.order].min() >= dpv[problem.legal & ~plan.breaks].max()


def test_the_interface_rejects_an_illegal_plan():
    class Cheater(Planner):
        name = "cheater"

        def place(self, problem):
            return np.flatnonzero(~problem.legal.reshape(-1))[:1], 0, {}

    problem = small_problem()
    with pytest.raises(RuntimeError, match="cannot take one"):
        Cheater().plan(problem)


def test_make_planner_errors_name_the_policy(tmp_path):
    with pytest.raises(InputError, match="unknown policy 'greedy'"):
        make_planner("greedy")
    with pytest.raises(InputError, match="checkpoint not found"):
        make_planner(str(tmp_path / "missing.ckpt"))
    bad = tmp_path / "bad.ckpt"
    bad.write_text("not a checkpoint")
    with pytest.raises(InputError, match="not a fuelrl DQN checkpoint"):
        make_planner(str(bad))


@pytest.mark.slow
def test_dpv_beats_random_on_the_testmtt_landscape(testmtt_dir):
    """On the 19545 landscape (held-out fires, paired): dpv burns significantly less than random."""
    from fuelrl.baselines.scoring import paired_difference
    from fuelrl.landscape import open_landscape
    from fuelrl.simulators.scenarios import WeatherDistribution

    with pytest.warns(UserWarning, match="slope"):
        landscape = open_landscape(str(testmtt_dir / "19545.tif"))
    weather = WeatherDistribution(
        wind_speed_20ft_mph=36.0, wind_from_deg=299.0, moisture_pct=(3, 4, 10, 53, 131), duration_min=400.0
    )
    planners = {"random": RandomPlanner(), "dpv": DPVPlanner()}
    run = score_at_5pct(landscape, planners, registry.create("threaded"), weather, 100)
    d = paired_difference(run.burned_ha["dpv"], run.burned_ha["random"])
    assert d["diff_ha_ci95"][1] < 0, d
    assert d["diff_pct"] < -15.0, d


def test_planning_problem_checks_its_inputs():
    problem = small_problem()
    with pytest.raises(InputError, match="recompute-every"):
        PlanningProblem(
            problem.landscape,
            problem.tiles,
            problem.backend,
            problem.scenarios,
            budget_cells=5,
            recompute_every=0,
            seed=0,
        )
