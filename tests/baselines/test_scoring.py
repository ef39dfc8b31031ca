"""Fire sets and statistics of the evaluation, against scipy and by construction."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fuelrl import registry
from fuelrl.baselines import RandomPlanner
from fuelrl.baselines.evaluation import PairingError
from fuelrl.baselines.scoring import (
    fire_sets,
    mean_ci,
    paired_difference,
    policy_summary,
    scenario_fingerprint,
)
from fuelrl.landscape import generate_landscape
from fuelrl.simulators.scenarios import WeatherDistribution

from .helpers import score_at_5pct

WEATHER = WeatherDistribution(wind_speed_20ft_mph=(5.0, 20.0), duration_min=90.0)


def test_mean_ci_matches_scipy():
    x = np.random.default_rng(0).gamma(2.0, 10.0, size=37)
    m, lo, hi = mean_ci(x)
    slo, shi = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
    assert m == pytest.approx(x.mean())
    assert (lo, hi) == pytest.approx((slo, shi))


def test_paired_difference_matches_scipy_and_is_seeded():
    rng = np.random.default_rng(1)
    b = rng.gamma(2.0, 10.0, size=50)
    a = b * 0.8 + rng.normal(0, 1, size=50)
    d = paired_difference(a, b, seed=3)
    res = stats.ttest_rel(a, b)
    ci = res.confidence_interval(0.95)
    assert d["diff_ha_mean"] == pytest.approx(float(np.mean(a - b)))
    assert d["diff_ha_ci95"] == pytest.approx([ci.low, ci.high])
    assert d["p_value_paired_t"] == pytest.approx(res.pvalue)
    lo, hi = d["diff_pct_ci95_bootstrap"]
    assert lo < d["diff_pct"] < hi < 0
    assert paired_difference(a, b, seed=3) == d
    with pytest.raises(ValueError, match="same fires"):
        paired_difference(a, b[:-1])


def test_policy_summary_reduction_is_relative_to_the_same_fires():
    untreated = np.array([10.0, 20.0, 30.0, 40.0])
    treated = untreated * 0.75
    s = policy_summary(treated, untreated)
    assert s["reduction_vs_untreated_pct"] == pytest.approx(25.0)
    assert s["burned_acres_mean"] == pytest.approx(s["burned_ha_mean"] * 2.4710538146716536)
    lo, hi = s["reduction_vs_untreated_pct_ci95"]
    assert lo < 25.0 < hi


def test_planning_and_scoring_fires_differ_and_are_reproducible():
    ls = generate_landscape(seed=0, shape=(32, 32))
    p1, s1, info = fire_sets(ls.burnable, WEATHER, planning_fires=20, scoring_fires=20, seed=5)
    p2, s2, _ = fire_sets(ls.burnable, WEATHER, planning_fires=20, scoring_fires=20, seed=5)
    assert scenario_fingerprint(s1) == scenario_fingerprint(s2) == info["scoring"]["sha256"]
    assert scenario_fingerprint(p1) == scenario_fingerprint(p2)
    assert not np.array_equal(p1.ignition_cell.numpy(), s1.ignition_cell.numpy())
    _, s3, _ = fire_sets(ls.burnable, WEATHER, planning_fires=20, scoring_fires=20, seed=6)
    assert scenario_fingerprint(s3) != scenario_fingerprint(s1)
    # the held-out fires do not depend on how many planning fires there are
    _, s4, _ = fire_sets(ls.burnable, WEATHER, planning_fires=7, scoring_fires=20, seed=5)
    assert scenario_fingerprint(s4) == scenario_fingerprint(s1)
    # a second landscape gets other fires
    _, s5, _ = fire_sets(ls.burnable, WEATHER, planning_fires=20, scoring_fires=20, seed=5, landscape_index=1)
    assert scenario_fingerprint(s5) != scenario_fingerprint(s1)


def test_fingerprint_sees_a_single_changed_value():
    ls = generate_landscape(seed=0, shape=(16, 16))
    _, s, _ = fire_sets(ls.burnable, WEATHER, planning_fires=3, scoring_fires=3, seed=0)
    before = scenario_fingerprint(s)
    s.wind_from_deg[0, 2] += 1e-3
    assert scenario_fingerprint(s) != before


class _RecordingNumpy:
    """A backend wrapper that records the fingerprint of every fire set it grows."""

    def __init__(self, mutate_on_call: int | None = None):
        self.inner = registry.create("numpy")
        self.device, self.options = self.inner.device, self.inner.options
        self.seen: list[tuple[int, str]] = []
        self.mutate_on_call = mutate_on_call

    def simulate(self, tiles, breaks, scenarios):
        self.seen.append((scenarios.shape[1], scenario_fingerprint(scenarios)))
        result = self.inner.simulate(tiles, breaks, scenarios)
        if self.mutate_on_call == len(self.seen):
            scenarios.duration_min += 1.0  # a misbehaving backend changing its inputs in place
        return result


def test_every_policy_and_the_untreated_landscape_are_scored_on_identical_fires():
    from fuelrl.baselines import BurnProbabilityPlanner, DPVPlanner

    ls = generate_landscape(seed=2, shape=(24, 24))
    backend = _RecordingNumpy()
    planners = {"random": RandomPlanner(), "burn_probability": BurnProbabilityPlanner(), "dpv": DPVPlanner()}
    run = score_at_5pct(ls, planners, backend, WEATHER, 9, 4, recompute_every=10)
    scoring_calls = [sha for f, sha in backend.seen if f == 9]
    planning_calls = {sha for f, sha in backend.seen if f == 4}
    assert len(scoring_calls) == 4  # untreated + 3 policies
    assert len(set(scoring_calls)) == 1 and scoring_calls[0] == run.fires_info["scoring"]["sha256"]
    assert len(planning_calls) == 1 and planning_calls.isdisjoint(scoring_calls)
    assert set(run.scored_fingerprints) == {"untreated", *planners}

    # dropping policies changes neither the fires nor the untreated or random results
    alone = score_at_5pct(
        ls, {"random": RandomPlanner()}, registry.create("numpy"), WEATHER, 9, 4, recompute_every=10
    )
    assert alone.fires_info == run.fires_info
    np.testing.assert_array_equal(alone.untreated_ha, run.untreated_ha)
    np.testing.assert_array_equal(alone.burned_ha["random"], run.burned_ha["random"])


def test_a_changed_fire_set_is_caught_not_scored():
    ls = generate_landscape(seed=2, shape=(24, 24))
    backend = _RecordingNumpy(mutate_on_call=1)  # the untreated scoring run alters the held-out fires
    with pytest.raises(PairingError, match="held-out fires changed"):
        score_at_5pct(ls, {"random": RandomPlanner()}, backend, WEATHER, 5)
