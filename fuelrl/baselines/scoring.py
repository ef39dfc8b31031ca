"""Fair scoring of plans: planning and held-out fire sets, paired statistics.

Every policy plans on the **planning** fires and is scored on the **held-out** fires: two
independent scenario sets drawn from the same seed (streams :data:`PLANNING_STREAM` and
:data:`SCORING_STREAM` of :class:`fuelrl.simulators.scenarios.ScenarioSampler`, offset by the
landscape's index). The held-out set is drawn once, from the untreated landscape, and every policy
and the untreated landscape are scored on that same set, so the differences between policies are
paired, fire by fire (common random numbers). :func:`scenario_fingerprint` is the check: a SHA-256
of every tensor of a set, recorded before and verified after each policy is scored.

Statistics (over the n fires, pooled over landscapes): the mean burned area with a 95 % Student-t
confidence interval; the paired difference between two policies, mean and 95 % paired-t interval,
its p-value, and a seeded percentile bootstrap interval of the relative difference (%).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import fields
from typing import Any

import numpy as np
import torch

from fuelrl.simulators.base import ACRES_PER_HA, ScenarioSet
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution

PLANNING_STREAM = 0
SCORING_STREAM = 1
#: streams of landscape i are 2 i + PLANNING_STREAM and 2 i + SCORING_STREAM
STREAMS_PER_LANDSCAPE = 2
BOOTSTRAP_SAMPLES = 10_000


def fire_sets(
    burnable: np.ndarray,
    weather: WeatherDistribution,
    *,
    planning_fires: int,
    scoring_fires: int,
    seed: int,
    landscape_index: int = 0,
    ignition_weight: Any = None,
) -> tuple[ScenarioSet, ScenarioSet, dict[str, Any]]:
    """(planning fires [1, Fp], held-out scoring fires [1, Fs], a JSON description of both).

    Both are drawn on the untreated ``burnable`` cells of one landscape from ``seed``, in two
    independent streams, so no plan can move the scoring fires.
    """
    base = STREAMS_PER_LANDSCAPE * int(landscape_index)
    plan_stream, score_stream = base + PLANNING_STREAM, base + SCORING_STREAM
    planning = ScenarioSampler(weather, fires=planning_fires, seed=seed).sample(
        burnable, ignition_weight=ignition_weight, stream=plan_stream
    )
    scoring = ScenarioSampler(weather, fires=scoring_fires, seed=seed).sample(
        burnable, ignition_weight=ignition_weight, stream=score_stream
    )
    info = {
        "planning": {"fires": int(planning_fires), "seed": int(seed), "stream": plan_stream},
        "scoring": {
            "fires": int(scoring_fires),
            "seed": int(seed),
            "stream": score_stream,
            "sha256": scenario_fingerprint(scoring),
        },
    }
    return planning, scoring, info


def scenario_fingerprint(scenarios: ScenarioSet) -> str:
    """SHA-256 of every tensor of ``scenarios`` (names, shapes, dtypes, values)."""
    digest = hashlib.sha256()
    for f in fields(scenarios):
        t = getattr(scenarios, f.name).detach().cpu().contiguous()
        digest.update(f"{f.name}:{tuple(t.shape)}:{t.dtype}".encode())
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()


def describe_fires(scenarios: ScenarioSet, landscape: Any) -> list[dict[str, Any]]:
    """One record per fire of a [1, F] set: ignition cell and map point, weather in user units."""
    from fuelrl.physics.units import M_MIN_PER_MPH

    _, w = landscape.shape
    ign = scenarios.ignition_cell[0].cpu().numpy()
    wind = scenarios.wind_speed_20ft_m_min[0].cpu().double().numpy() / M_MIN_PER_MPH
    wfrom = scenarios.wind_from_deg[0].cpu().double().numpy()
    moist = scenarios.moisture_fraction[0].cpu().double().numpy() * 100.0
    dur = scenarios.duration_min[0].cpu().double().numpy()
    out = []
    for i, cell in enumerate(ign.tolist()):
        row, col = divmod(int(cell), w)
        x, y = landscape.rowcol_to_xy(row, col)
        out.append(
            {
                "fire": i,
                "row": row,
                "col": col,
                "x": x,
                "y": y,
                "wind_speed_20ft_mph": float(wind[i]),
                "wind_from_deg": float(wfrom[i]),
                "moisture_1h_pct": float(moist[i, 0]),
                "duration_min": float(dur[i]),
            }
        )
    return out


def _t_quantile(df: int, confidence: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2.0, df))


def mean_ci(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the mean and its Student-t confidence interval (a point for n = 1)."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    m = float(x.mean())
    if x.size < 2:
        return m, m, m
    half = _t_quantile(x.size - 1, confidence) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return m, m - half, m + half


def paired_difference(
    a: np.ndarray,
    b: np.ndarray,
    *,
    confidence: float = 0.95,
    seed: int = 0,
    bootstrap: int = BOOTSTRAP_SAMPLES,
) -> dict[str, Any]:
    """Paired comparison of burned areas ``a`` (a policy) and ``b`` (a reference) on the same fires.

    Returns the mean difference ``a - b`` (ha; negative: ``a`` burns less) with its paired-t interval
    and two-sided p-value, the relative difference ``100 (mean a - mean b) / mean b`` with a seeded
    percentile bootstrap interval over fires, and the share of fires where ``a`` burned less / more.
    """
    from scipy import stats

    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"paired_difference needs the same fires: {a.shape} vs {b.shape}")
    d = a - b
    m, lo, hi = mean_ci(d, confidence)
    if d.size > 1 and float(d.std(ddof=1)) > 0:
        p = float(stats.ttest_rel(a, b).pvalue)
    else:
        p = 1.0 if m == 0 else 0.0
    mb = float(b.mean())
    pct = 100.0 * m / mb if mb > 0 else math.nan
    rng = np.random.default_rng(seed)
    if d.size > 1 and bootstrap > 0:
        idx = rng.integers(0, d.size, size=(bootstrap, d.size))
        ma, mbs = a[idx].mean(axis=1), b[idx].mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(mbs > 0, 100.0 * (ma - mbs) / mbs, np.nan)
        rel = rel[np.isfinite(rel)]
        q = (50.0 * (1 - confidence), 100.0 - 50.0 * (1 - confidence))
        pct_lo, pct_hi = (float(v) for v in np.percentile(rel, q)) if rel.size else (math.nan, math.nan)
    else:
        pct_lo = pct_hi = pct
    return {
        "diff_ha_mean": m,
        "diff_ha_ci95": [lo, hi],
        "diff_acres_mean": m * ACRES_PER_HA,
        "diff_pct": pct,
        "diff_pct_ci95_bootstrap": [pct_lo, pct_hi],
        "p_value_paired_t": p,
        "fires_less": float(np.mean(d < 0)),
        "fires_more": float(np.mean(d > 0)),
        "n": int(d.size),
    }


def policy_summary(
    burned_ha: np.ndarray, untreated_ha: np.ndarray, *, confidence: float = 0.95
) -> dict[str, Any]:
    """Mean burned area (ha, acres) with its CI, and the reduction against the untreated landscape
    on the same fires (%, with the paired-t CI of the difference turned into percent)."""
    x = np.asarray(burned_ha, dtype=np.float64).reshape(-1)
    u = np.asarray(untreated_ha, dtype=np.float64).reshape(-1)
    m, lo, hi = mean_ci(x, confidence)
    um = float(u.mean())
    dm, dlo, dhi = mean_ci(u - x, confidence)
    red = 100.0 * dm / um if um > 0 else math.nan
    red_ci = [100.0 * dlo / um, 100.0 * dhi / um] if um > 0 else [math.nan, math.nan]
    return {
        "burned_ha_mean": m,
        "burned_ha_ci95": [lo, hi],
        "burned_acres_mean": m * ACRES_PER_HA,
        "burned_acres_ci95": [lo * ACRES_PER_HA, hi * ACRES_PER_HA],
        "burned_ha_sd": float(x.std(ddof=1)) if x.size > 1 else 0.0,
        "reduction_vs_untreated_pct": red,
        "reduction_vs_untreated_pct_ci95": red_ci,
        "fires": int(x.size),
    }


def burned_ha_of(result: Any) -> np.ndarray:
    """float64 [F] burned area per fire of a one-tile :class:`SimulationResult`."""
    return result.burned_ha[0].detach().cpu().double().numpy()


def burn_probability_of(result: Any) -> np.ndarray:
    """float32 [H, W] burn probability of a one-tile :class:`SimulationResult`."""
    return result.burn_probability()[0].detach().cpu().float().numpy()


def simulate_plan(backend: Any, tiles: Any, breaks: np.ndarray, scenarios: ScenarioSet) -> Any:
    """Grow ``scenarios`` on the one tile of ``tiles`` with ``breaks`` (bool [H, W]) treated."""
    b = torch.as_tensor(np.asarray(breaks, dtype=bool)[None], device=backend.device)
    return backend.simulate(tiles, b, scenarios)


def finite(x: Any) -> Any:
    """``x`` with NaN / inf floats (also inside lists and dicts) replaced by None, for JSON."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [finite(v) for v in x]
    return x
