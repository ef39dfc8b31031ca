"""The agent that ships with fuelrl (``--policy pretrained``): it loads, its observation layout is
the one FireEnv builds, and it plans legal, budget-respecting plans on real and generated
landscapes of other cell sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from fuelrl import registry
from fuelrl.baselines import PlanningProblem, make_planner
from fuelrl.baselines.agent_checkpoint import load_agent, pretrained_checkpoint_path
from fuelrl.envs.observation import channel_layout
from fuelrl.landscape.synthetic import generate_landscape
from fuelrl.simulators.base import SimulationOptions, TileBatch
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution

REPO = Path(__file__).resolve().parents[2]


def _problem(landscape, *, fires: int = 8, weather: WeatherDistribution | None = None) -> PlanningProblem:
    backend = registry.create("numpy", options=SimulationOptions())
    weather = weather or WeatherDistribution(wind_speed_20ft_mph=20.0, wind_from_deg=240.0, duration_min=240)
    scen = ScenarioSampler(weather, fires=fires, seed=0).sample(landscape.burnable)
    budget = max(1, int(0.05 * int(np.asarray(landscape.burnable).sum())))
    return PlanningProblem(
        landscape,
        TileBatch.stack([landscape]),
        backend,
        scen,
        budget_cells=budget,
        recompute_every=max(1, budget // 4),
        seed=0,
    )


def test_packaged_checkpoint_matches_the_config_that_trains_it():
    path = pretrained_checkpoint_path()
    assert path.is_file(), f"{path} missing from the package"
    assert path.stat().st_size < 5 * 2**20  # a few MB at most
    agent = load_agent(path)
    cfg = yaml.safe_load((REPO / "configs" / "pretrained.yaml").read_text())
    env = cfg["data"]["env"]
    names = channel_layout(dpv_channel=env["dpv_channel"], weather_channels=env["weather_channels"])
    assert tuple(agent.hparams.observation_channels) == names
    assert agent.qnet.in_channels == len(names)
    net = cfg["model"]["net"]
    assert {k: getattr(agent.qnet.config, k) for k in net} == net


def test_pretrained_plans_on_a_generated_landscape_with_60_m_cells():
    landscape = generate_landscape(seed=4, shape=(48, 48), cell_size_m=60.0)
    problem = _problem(landscape)
    plan = make_planner("pretrained").plan(problem)
    assert plan.policy == "pretrained"
    assert plan.cells == problem.budget_cells
    assert not (plan.breaks & ~problem.legal).any()
    again = make_planner("pretrained").plan(_problem(landscape))
    np.testing.assert_array_equal(plan.order, again.order)  # deterministic


@pytest.mark.slow
def test_pretrained_plans_on_testmtt(testmtt_dir):
    from fuelrl.landscape import open_landscape

    landscape = open_landscape(str(testmtt_dir / "19545.tif"))
    weather = WeatherDistribution(
        wind_speed_20ft_mph=36.0, wind_from_deg=299.0, moisture_pct=(3, 4, 10, 53, 131), duration_min=400.0
    )
    problem = _problem(landscape, fires=16, weather=weather)
    plan = make_planner("pretrained").plan(problem)
    assert plan.cells == problem.budget_cells and not (plan.breaks & ~problem.legal).any()


def test_plan_cli_with_the_pretrained_policy_names_its_checkpoint(tmp_path):
    import json

    from fuelrl.cli import main

    out = tmp_path / "plan"
    argv = ["plan", "synthetic:seed=1,size=24", "--policy", "pretrained", "--fires", "2", "--seed", "0"]
    assert main([*argv, "--backend", "numpy", "--no-unit-scores", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["policy"] == "pretrained"
    assert Path(summary["checkpoint"]) == pretrained_checkpoint_path()
