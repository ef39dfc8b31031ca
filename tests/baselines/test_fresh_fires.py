"""Fresh planning fires (``--fresh-fires``, ``PlanningProblem.fire_sets``): each recomputation of a
planner's map grows the next set of planning fires, the number of simulations stays the same, no
break goes on the ignitions of the set being grown, and the held-out fires do not move."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fuelrl import registry
from fuelrl.baselines import PlanningProblem, make_planner
from fuelrl.baselines.evaluation import plan_and_score
from fuelrl.baselines.scoring import scenario_fingerprint
from fuelrl.errors import InputError
from fuelrl.landscape.synthetic import generate_landscape
from fuelrl.simulators.base import SimulationOptions, TileBatch
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution

WEATHER = WeatherDistribution(wind_speed_20ft_mph=20.0, wind_from_deg=240.0, duration_min=240)


def _problem(sets: int, fires: int = 4, budget: int = 40, k: int = 10):
    landscape = generate_landscape(seed=2, shape=(40, 40))
    backend = registry.create("numpy", options=SimulationOptions())
    pool = ScenarioSampler(WEATHER, fires=fires * sets, seed=0).sample(landscape.burnable)
    problem = PlanningProblem(
        landscape, TileBatch.stack([landscape]), backend, pool,
        budget_cells=budget, recompute_every=k, seed=0, fire_sets=sets,
    )
    return problem, pool


class _Recorder:
    """Wraps a backend: the fingerprint of every fire set it grows."""

    def __init__(self, backend):
        self.backend, self.grown = backend, []

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def simulate_prepared(self, prepared, breaks):
        self.grown.append(scenario_fingerprint(prepared.scenarios))
        return self.backend.simulate_prepared(prepared, breaks)


def test_the_sets_take_turns_and_no_break_goes_on_any_ignition():
    problem, pool = _problem(sets=3)
    assert problem.scenarios.shape == (1, 4)
    first = scenario_fingerprint(problem.scenarios)
    problem.use_fire_set(1)
    second = scenario_fingerprint(problem.scenarios)
    problem.use_fire_set(3)  # 3 % 3 = set 0 again
    assert scenario_fingerprint(problem.scenarios) == first != second
    ign = pool.ignition_cell.numpy().reshape(-1)
    assert problem.plannable.reshape(-1)[ign].all()  # a plan may hold any ignition cell ...
    for r in range(3):  # ... but not while that fire's set is grown
        problem.use_fire_set(r)
        mine = ign[4 * r : 4 * r + 4]
        others = np.setdiff1d(ign, mine)
        assert not problem.legal.reshape(-1)[mine].any()
        assert problem.legal.reshape(-1)[others].all()


def test_fire_sets_must_divide_the_planning_fires():
    landscape = generate_landscape(seed=2, shape=(24, 24))
    scen = ScenarioSampler(WEATHER, fires=5, seed=0).sample(landscape.burnable)
    with pytest.raises(InputError, match="fire_sets must divide the 5 planning fires"):
        PlanningProblem(
            landscape, TileBatch.stack([landscape]), registry.create("numpy"), scen,
            budget_cells=5, recompute_every=1, seed=0, fire_sets=2,
        )


@pytest.mark.parametrize("policy", ["dpv", "burn_probability", "pretrained"])
def test_each_recomputation_grows_the_next_set_once(policy):
    problem, pool = _problem(sets=4)
    problem.backend = _Recorder(problem.backend)
    plan = make_planner(policy).plan(problem)
    assert plan.recomputes == 4 and plan.cells == 40
    assert not (plan.breaks & ~problem.plannable).any()
    grown = list(dict.fromkeys(problem.backend.grown))  # in order, repeats (cached rounds) dropped
    problem.backend = problem.backend.backend
    want = []
    for r in range(4):
        problem.use_fire_set(r)
        want.append(scenario_fingerprint(problem.scenarios))
    assert grown == want  # four different sets, in turn


def test_plan_and_score_keeps_the_held_out_fires_and_the_simulation_count():
    landscape = generate_landscape(seed=5, shape=(32, 32))
    backend = registry.create("numpy")
    kw = dict(budget=0.05, scoring_fires=6, planning_fires=3, seed=0)
    fixed = plan_and_score(landscape, {"dpv": make_planner("dpv")}, backend, WEATHER, **kw)
    fresh = plan_and_score(landscape, {"dpv": make_planner("dpv")}, backend, WEATHER, fresh_fires=True, **kw)
    assert fixed.fires_info["scoring"] == fresh.fires_info["scoring"]  # the same held-out fires
    sets = -(-fresh.budget_cells // fresh.recompute_every)
    assert fresh.fires_info["planning"] == {**fixed.fires_info["planning"], "fire_sets": sets}
    assert fixed.fires_info["planning"]["fire_sets"] == 1
    assert fresh.plans["dpv"].recomputes == fixed.plans["dpv"].recomputes == sets


def test_plan_cli_records_fresh_fires(tmp_path):
    from fuelrl.cli import main

    out = tmp_path / "plan"
    code = main([
        "plan", "synthetic:seed=3,size=32x32", "--policy", "dpv", "--budget", "0.05", "--fires", "3",
        "--fresh-fires", "--no-unit-scores", "--out", str(out),
    ])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    planning = summary["fire_sets"]["planning"]  # the fires' description (fire_sets: their sets)
    assert planning["fires"] == 3 and planning["fire_sets"] == summary["recomputes"] > 1
    assert np.isfinite(summary["burned_ha_after"])


def test_a_new_set_of_the_same_weather_reuses_the_spread_fields_exactly():
    import torch

    problem, _ = _problem(sets=2)
    spread = problem.prepared.spread
    assert spread is not None
    problem.use_fire_set(1)
    assert problem.prepared.spread is spread  # one weather for every fire: nothing recomputed
    breaks = np.zeros(problem.shape, dtype=bool)
    breaks[10:12, 5:30] = True
    got = problem.simulate(breaks).arrival_min
    want = problem.backend.simulate(problem.tiles, torch.as_tensor(breaks[None]), problem.scenarios)
    want = want.arrival_min
    assert torch.equal(got, want)


def test_sets_of_other_weathers_are_prepared_anew():
    landscape = generate_landscape(seed=2, shape=(32, 32))
    weather = WeatherDistribution(wind_speed_20ft_mph=(5.0, 25.0), wind_from_deg=240.0, duration_min=200)
    pool = ScenarioSampler(weather, fires=6, seed=0).sample(landscape.burnable)
    problem = PlanningProblem(
        landscape, TileBatch.stack([landscape]), registry.create("numpy"), pool,
        budget_cells=10, recompute_every=5, seed=0, fire_sets=2,
    )
    spread = problem.prepared.spread
    problem.use_fire_set(1)
    assert problem.prepared.spread is not spread
