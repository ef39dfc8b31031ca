"""The ignition guard (``--ignition-guard-cells N``, ``PlanningProblem.ignition_guard_cells``,
``trees.dpv(..., ignition_guard_cells=N)``): DPV leaves out what each planning fire would save
within N cells (Chebyshev) of its own ignition; the legal cells do not change; N = 0 is plain DPV."""

from __future__ import annotations

import json
from dataclasses import fields, replace

import numpy as np
import pytest
import torch

from fuelrl import registry
from fuelrl.baselines import PlanningProblem, make_planner
from fuelrl.envs.observation import normalised_dpv
from fuelrl.errors import InputError
from fuelrl.landscape.synthetic import generate_landscape
from fuelrl.simulators.base import PreparedFires, TileBatch
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution
from fuelrl.simulators.trees import dpv

WEATHER = WeatherDistribution(wind_speed_20ft_mph=25.0, wind_from_deg=240.0, duration_min=240)


def _problem(guard: int, sets: int = 1, fires: int = 6, budget: int = 60, k: int = 10):
    landscape = generate_landscape(seed=4, shape=(48, 48))
    pool = ScenarioSampler(WEATHER, fires=fires * sets, seed=1).sample(landscape.burnable)
    return PlanningProblem(
        landscape, TileBatch.stack([landscape]), registry.create("numpy"), pool,
        budget_cells=budget, recompute_every=k, seed=0, fire_sets=sets, ignition_guard_cells=guard,
    )


def _maps(guard: int):
    """(DPV of the problem's fires with the guard, by trees.dpv; the same composed by hand: each
    fire's own map, zeroed within ``guard`` cells of its ignition, averaged over the fires)."""
    problem = _problem(guard)
    breaks = np.zeros(problem.shape, dtype=bool)
    breaks[20:22, 5:30] = True
    result = problem.simulate(breaks)
    prepared = problem.prepared_fires()
    b = torch.as_tensor(breaks[None])
    got = dpv(prepared, b, result.arrival_min, ignition_guard_cells=guard)[0].numpy()
    h, w = problem.shape
    rows, cols = np.mgrid[0:h, 0:w]
    sc = problem.scenarios
    want = np.zeros((h, w))
    for n in range(sc.shape[1]):
        one = replace(sc, **{x.name: getattr(sc, x.name)[:, n : n + 1] for x in fields(sc)})
        p = PreparedFires(tiles=prepared.tiles, scenarios=one, options=prepared.options)
        own = dpv(p, b, result.arrival_min[:, n : n + 1])[0].numpy()
        cell = int(sc.ignition_cell[0, n])
        near = np.maximum(abs(rows - cell // w), abs(cols - cell % w)) <= guard
        want += np.where(near, 0.0, own) if guard > 0 else own
    return got, want / sc.shape[1]


@pytest.mark.parametrize("guard", [0, 1, 4])
def test_the_guarded_map_is_the_fires_own_maps_less_their_ignition_squares(guard):
    got, want = _maps(guard)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_the_guard_only_takes_value_away_and_more_the_wider_it_is():
    plain, g1, g4 = (_maps(n)[0] for n in (0, 1, 4))
    assert (g1 <= plain + 1e-12).all() and (g4 <= g1 + 1e-12).all()
    assert g1.sum() < plain.sum() and g4.sum() < g1.sum()
    assert g4.max() > 0  # the fires still route value through cells away from their ignitions


def test_the_dpv_plan_changes_but_not_the_legal_cells():
    plain_problem, guarded_problem = _problem(0), _problem(4)
    np.testing.assert_array_equal(plain_problem.legal, guarded_problem.legal)
    plain = make_planner("dpv").plan(plain_problem)
    guarded = make_planner("dpv").plan(guarded_problem)
    assert plain.cells == guarded.cells == 60 and (plain.breaks != guarded.breaks).any()
    assert not (guarded.breaks & ~guarded_problem.legal).any()


def test_the_agent_sees_the_guarded_dpv():
    problem = _problem(4)
    breaks = np.zeros(problem.shape, dtype=bool)
    _, seen = make_planner("pretrained")._simulated_channels(problem, breaks)
    result = problem.simulate(breaks)
    args = (problem.prepared_fires(), torch.as_tensor(breaks[None]), result.arrival_min)
    want = normalised_dpv(*args, ignition_guard_cells=4)[0].numpy()
    plain = normalised_dpv(*args)[0].numpy()
    valid = np.asarray(problem.landscape.valid)
    np.testing.assert_allclose(seen, np.where(valid, want, 0.0), rtol=1e-6, atol=1e-7)
    assert not np.allclose(seen, np.where(valid, plain, 0.0))


def test_a_negative_guard_is_an_input_error():
    with pytest.raises(InputError, match="--ignition-guard-cells must be a whole number of cells >= 0"):
        _problem(-1)


def test_the_cli_records_the_guard_and_refuses_a_bad_one(tmp_path, capsys):
    from fuelrl.cli import main

    out = tmp_path / "plan"
    args = ["plan", "synthetic:seed=3,size=32x32", "--policy", "dpv", "--budget", "0.05", "--fires", "3",
            "--no-unit-scores"]
    assert main([*args, "--ignition-guard-cells", "2", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fire_sets"]["planning"]["ignition_guard_cells"] == 2
    capsys.readouterr()
    bad = tmp_path / "bad"
    assert main([*args, "--ignition-guard-cells", "-1", "--out", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--ignition-guard-cells must be an integer in 0" in err[0]
    assert not bad.exists()
