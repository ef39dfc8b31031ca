"""Plan with several policies on the same landscapes and score them on the same held-out fires.

:func:`evaluate_policies` is the engine of ``fuelrl evaluate`` (and :func:`plan_landscape` of
``fuelrl plan``): for each landscape it draws the planning and the held-out fire sets once
(:func:`fuelrl.baselines.scoring.fire_sets`), grows the held-out fires on the untreated landscape,
then for each policy plans on the planning fires and grows the *same* held-out fires with the plan.
The fingerprint of the held-out set is checked before and after every policy, so the pairing is
verified, not assumed. Results are pooled over landscapes fire by fire.

**Compute-matched heuristics.** A policy that spends more simulations of the planning fires than
the heuristics (an agent with plan-time search, ``--agent-search``) is not compared with them at
their default 20: :func:`build_planners` then adds ``dpv@matched`` and ``burn_probability@matched``
(for those among the policies), which plan on each landscape with ``--recompute-every`` set so
they grow the planning fires at least as often as the most-simulating agent did there (cycling
through the same fresh sets), and they count as heuristics for the best baseline.

Under torch.distributed (:mod:`fuelrl.distributed`) every rank draws both sets whole and grows only
its block of the held-out fires (:func:`simulate_split`); burn counts are summed and burned areas
gathered in fire order, so every rank ends with the arrays one process computes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from fuelrl import distributed
from fuelrl.baselines import (
    HEURISTICS,
    Plan,
    PlanningProblem,
    default_recompute_every,
    make_planner,
)
from fuelrl.baselines.budget import Budget, resolve_budget
from fuelrl.baselines.scoring import (
    burned_ha_of,
    describe_fires,
    fire_sets,
    paired_difference,
    policy_summary,
    scenario_fingerprint,
    simulate_plan,
)
from fuelrl.errors import InputError
from fuelrl.simulators.base import ACRES_PER_HA, TileBatch
from fuelrl.simulators.scenarios import WeatherDistribution


@dataclass
class LandscapeRun:
    """One landscape's evaluation: its fires, the untreated scores and every policy's plan and scores."""

    landscape: Any
    budget_cells: int
    recompute_every: int
    fires_info: dict[str, Any]
    scoring_fires: list[dict[str, Any]]
    untreated_ha: np.ndarray
    untreated_bp: np.ndarray
    plans: dict[str, Plan] = field(default_factory=dict)
    burned_ha: dict[str, np.ndarray] = field(default_factory=dict)
    #: the budget every policy got, and the planner inputs (values, cost, masks), if any
    budget: Budget | None = None
    inputs: Any = None
    #: value burned per held-out fire (the values raster's units), with ``inputs.values``
    untreated_value: np.ndarray | None = None
    value_burned: dict[str, np.ndarray] = field(default_factory=dict)
    burn_probability: dict[str, np.ndarray] = field(default_factory=dict)
    scored_fingerprints: dict[str, str] = field(default_factory=dict)
    #: the landscape's gridded weather (:class:`fuelrl.landscape.weather_grids.GriddedWeather`), if any
    weather_grids: Any = None
    #: the held-out fires [1, F] and the landscape's tiles (treatment units are scored on them)
    scoring: Any = None
    tiles: Any = None


def simulate_split(
    backend: Any, tiles: Any, breaks: np.ndarray, scenarios: Any, values: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(burned ha per fire float64 [F], burn counts int64 [H, W]) of the [1, F] ``scenarios`` grown
    with ``breaks``; this rank grows its block of fires (:func:`fuelrl.distributed.fire_range`),
    and the results of all ranks are combined exactly (one process: all fires). With ``values``
    [H, W], a third array: the value burned per fire (float64 [F])."""
    start, stop = distributed.fire_range(scenarios.shape[1])
    h, w = tiles.shape[1:]
    value = np.zeros(0, np.float64)
    if stop > start:
        result = simulate_plan(backend, tiles, breaks, distributed.fire_slice(scenarios, start, stop))
        burned = burned_ha_of(result)
        counts = result.burned[0].sum(dim=0, dtype=torch.int64).cpu().numpy()
        if values is not None:
            v = torch.as_tensor(np.asarray(values, np.float64), device=result.burned.device)
            value = (result.burned[0].to(torch.float64) * v).sum(dim=(-2, -1)).cpu().numpy()
        del result
    else:
        burned, counts = np.zeros(0, np.float64), np.zeros((h, w), np.int64)
    out = distributed.gather_fires(burned), distributed.sum_counts(counts)
    if values is None:
        return out
    return (*out, distributed.gather_fires(value))


def burn_probability_from_counts(counts: np.ndarray, fires: int) -> np.ndarray:
    """float32 [H, W]: the fraction of ``fires`` fires that burned each cell."""
    return (np.asarray(counts, dtype=np.float64) / max(int(fires), 1)).astype(np.float32)


class PairingError(RuntimeError):
    """The held-out fires changed between two policies: the comparison would not be paired."""


#: suffix of a heuristic given as many simulations as the most-simulating agent (module docstring)
MATCHED = "@matched"


def is_heuristic(name: str) -> bool:
    """Whether a report name is a heuristic's (``dpv``, or ``dpv@matched``)."""
    return name in HEURISTICS or (name.endswith(MATCHED) and name[: -len(MATCHED)] in HEURISTICS)


def matched_recompute_every(run: LandscapeRun, budget_cells: int, default: int, unit_cells: int) -> int:
    """Breaks between recomputations for a ``@matched`` heuristic on ``run``'s landscape: few
    enough for at least as many simulations as the agent plans there used (the default when none
    used more)."""
    most = max((p.recomputes for n, p in run.plans.items() if not is_heuristic(n)), default=0)
    if most <= -(-budget_cells // default):
        return default
    return max(1, unit_cells, budget_cells // most)


def plan_and_score(
    landscape: Any,
    planners: dict[str, Any],
    backend: Any,
    weather: WeatherDistribution,
    *,
    budget: float,
    scoring_fires: int,
    planning_fires: int,
    seed: int,
    landscape_index: int = 0,
    recompute_every: int | None = None,
    log: Any = None,
    inputs: Any = None,
    min_unit_ha: float | None = None,
    stop_gain: float | None = None,
    weather_grids: Any = None,
    unit_shape: str = "patch",
    fresh_fires: bool = False,
    ignition_guard_cells: int = 0,
) -> LandscapeRun:
    """Plan with every planner on ``landscape`` and score on the shared held-out fires.

    ``budget``: a fraction of the treatable cost (float) or a :class:`Budget` (every policy gets
    the same one). ``inputs``: a :class:`fuelrl.landscape.plan_inputs.PlanInputs` (values, cost,
    treatable mask, ignition density) or None. ``min_unit_ha``: place breaks in compact units of at
    least this area; ``stop_gain``: stop spending when a round saves less than this per unit and
    planning fire; ``unit_shape``: "patch" or "line" (:class:`PlanningProblem`).
    ``weather_grids``: the landscape's gridded weather (planning and held-out fires grow under it;
    ``weather`` is then its distribution). ``fresh_fires``: a fresh set of ``planning_fires`` fires
    for each recomputation of the planners' maps (:class:`PlanningProblem` ``fire_sets``; the sets
    are drawn together from the planning stream, the held-out fires are unchanged).
    ``ignition_guard_cells``: no break within this many cells of a planning ignition
    (:class:`PlanningProblem`)."""
    values = getattr(inputs, "values", None)
    cost = getattr(inputs, "cost", None)
    treatable = getattr(inputs, "treatable", None)
    tiles = TileBatch.stack([landscape], device=backend.device, weather=[weather_grids])
    if not isinstance(budget, Budget):
        budget = resolve_budget(landscape, fraction=budget, cost=cost, treatable=treatable)
    n_budget = budget.cells
    k = int(recompute_every) if recompute_every else default_recompute_every(n_budget)
    unit_cells = 1
    if min_unit_ha is not None:
        unit_cells = max(1, int(np.ceil(float(min_unit_ha) / landscape.cell_area_ha - 1e-9)))
        k = max(k, unit_cells)
    sets = -(-n_budget // k) if fresh_fires else 1  # one set per recomputation
    planning, scoring, info = fire_sets(
        landscape.burnable,
        weather,
        planning_fires=planning_fires * sets,
        scoring_fires=scoring_fires,
        seed=seed,
        landscape_index=landscape_index,
        ignition_weight=getattr(inputs, "ignition_density", None),
    )
    info["planning"]["fires"] = int(planning_fires)
    info["planning"]["fire_sets"] = int(sets)
    info["planning"]["ignition_guard_cells"] = int(ignition_guard_cells)
    planning, scoring = planning.to(backend.device), scoring.to(backend.device)
    sha_scoring = info["scoring"]["sha256"]
    sha_planning = scenario_fingerprint(planning)
    untreated = simulate_split(backend, tiles, np.zeros(landscape.shape, bool), scoring, values)
    untreated_ha, untreated_counts = untreated[0], untreated[1]
    run = LandscapeRun(
        weather_grids=weather_grids,
        landscape=landscape,
        budget_cells=n_budget,
        recompute_every=k,
        fires_info=info,
        scoring_fires=describe_fires(scoring, landscape),
        untreated_ha=untreated_ha,
        untreated_bp=burn_probability_from_counts(untreated_counts, scoring_fires),
        budget=budget,
        inputs=inputs,
        untreated_value=untreated[2] if values is not None else None,
    )
    run.scored_fingerprints["untreated"] = scenario_fingerprint(scoring)
    run.scoring, run.tiles = scoring, tiles
    for name, planner in planners.items():
        k_used = matched_recompute_every(run, n_budget, k, unit_cells) if name.endswith(MATCHED) else k
        problem = PlanningProblem(
            landscape,
            tiles,
            backend,
            planning,
            budget_cells=n_budget,
            recompute_every=k_used,
            seed=seed,
            values=values,
            cost=cost,
            treatable=treatable,
            budget_cost=budget.cost,
            min_unit_cells=unit_cells,
            stop_gain=stop_gain,
            unit_shape=unit_shape,
            fire_sets=sets,
            ignition_guard_cells=ignition_guard_cells,
        )
        t0 = time.perf_counter()
        # every rank computed the plan; all score rank 0's (an agent's plan is not split, and a
        # rank whose threads or device rounded differently must not score another plan)
        plan = distributed.from_rank0(planner.plan(problem))
        if scenario_fingerprint(planning) != sha_planning:
            raise PairingError(f"policy {name} changed the planning fires")
        before = scenario_fingerprint(scoring)
        if before != sha_scoring:
            raise PairingError(f"the held-out fires changed before scoring policy {name}")
        scored = simulate_split(backend, tiles, plan.breaks, scoring, values)
        burned, counts = scored[0], scored[1]
        if values is not None:
            run.value_burned[name] = scored[2]
        run.scored_fingerprints[name] = before
        run.plans[name] = plan
        run.burned_ha[name] = burned
        run.burn_probability[name] = burn_probability_from_counts(counts, scoring_fires)
        if log is not None:
            log(
                f"  {name}: {plan.cells} breaks in {time.perf_counter() - t0:.1f} s, "
                f"{run.burned_ha[name].mean():.1f} ha/fire (untreated {run.untreated_ha.mean():.1f})"
            )
    if len(set(run.scored_fingerprints.values())) != 1:
        raise PairingError("policies were scored on different held-out fires")
    return run


def inputs_summary(run: LandscapeRun, name: str) -> dict[str, Any]:
    """The planner-input part of a policy's summary: budget and what it used (cost, ha, acres), the
    value burned per held-out fire before and after (the values raster's units), the untreatable
    area. Keys are absent when the input they describe was not given."""
    landscape = run.landscape
    plan = run.plans[name]
    cost_used = float(plan.info.get("cost_used", plan.cells))
    out: dict[str, Any] = {
        "cost_used": cost_used,
        "cost_units": "cost raster units" if getattr(run.inputs, "cost", None) is not None else "cells",
        "area_used_ha": plan.cells * landscape.cell_area_ha,
        "area_used_acres": plan.cells * landscape.cell_area_acres,
    }
    if run.budget is not None:
        out.update(run.budget.describe(landscape.cell_area_ha))
        b = run.budget.cost
        out["budget_used_fraction"] = cost_used / b if np.isfinite(b) and b > 0 else None
    if "stopped_no_gain" in plan.info:
        out["stopped_no_gain"] = bool(plan.info["stopped_no_gain"])
    if run.inputs is not None:
        out.update(run.inputs.describe(landscape))
    if run.untreated_value is not None and name in run.value_burned:
        before, after = run.untreated_value, run.value_burned[name]
        out["value_burned_before"] = [float(v) for v in before]
        out["value_burned_after"] = [float(v) for v in after]
        out["value_burned_before_mean"] = float(before.mean())
        out["value_burned_after_mean"] = float(after.mean())
        m = float(before.mean())
        out["value_reduction_pct"] = 100.0 * (m - float(after.mean())) / m if m > 0 else None
    return out


def pooled(runs: list[LandscapeRun], name: str) -> np.ndarray:
    """Burned area per held-out fire of policy ``name`` (or "untreated"), pooled over landscapes."""
    if name == "untreated":
        return np.concatenate([r.untreated_ha for r in runs])
    return np.concatenate([r.burned_ha[name] for r in runs])


def summarize(runs: list[LandscapeRun], names: list[str], *, seed: int = 0) -> dict[str, Any]:
    """The ``policies`` / ``untreated`` / ``best_baseline`` part of results.json."""
    untreated = pooled(runs, "untreated")
    u = policy_summary(untreated, untreated)
    u.pop("reduction_vs_untreated_pct_ci95")
    heuristics = [n for n in names if is_heuristic(n)]
    best = min(heuristics, key=lambda n: float(pooled(runs, n).mean())) if heuristics else None
    policies: dict[str, Any] = {}
    for name in names:
        x = pooled(runs, name)
        s = policy_summary(x, untreated)
        s["kind"] = "heuristic" if is_heuristic(name) else "agent"
        s["breaks_cells"] = int(sum(r.plans[name].cells for r in runs))
        s["breaks_ha"] = float(sum(r.plans[name].cells * r.landscape.cell_area_ha for r in runs))
        s["plan_seconds"] = float(sum(r.plans[name].seconds for r in runs))
        s["recomputes"] = int(sum(r.plans[name].recomputes for r in runs))
        s["cost_used"] = float(sum(r.plans[name].info.get("cost_used", r.plans[name].cells) for r in runs))
        if all(r.untreated_value is not None for r in runs):
            after = np.concatenate([r.value_burned[name] for r in runs])
            before = np.concatenate([r.untreated_value for r in runs])
            s["value_burned_mean"] = float(after.mean())
            s["value_burned_untreated_mean"] = float(before.mean())
            s["value_paired_vs_untreated"] = paired_difference(after, before, seed=seed)
        s["vs_best_baseline"] = (
            {"baseline": best, **paired_difference(x, pooled(runs, best), seed=seed)}
            if best is not None and name != best
            else None
        )
        s["paired"] = {
            other: paired_difference(x, pooled(runs, other), seed=seed) for other in names if other != name
        }
        s["per_landscape"] = [
            {
                "landscape": r.landscape.source,
                "burned_ha_mean": float(r.burned_ha[name].mean()),
                "breaks_cells": r.plans[name].cells,
                **{k: v for k, v in r.plans[name].info.items() if isinstance(v, int | float | str)},
                **(inputs_summary(r, name) if r.inputs is not None or r.budget is not None else {}),
            }
            for r in runs
        ]
        policies[name] = s
    return {"policies": policies, "untreated": u, "best_baseline": best, "acres_per_ha": ACRES_PER_HA}


def build_planners(policies: list[str], **agent_options: Any) -> dict[str, Any]:
    """Planner objects by report name (checkpoints are named ``agent:<stem>``); fails early on an
    unknown name or a missing checkpoint, before any simulation runs."""
    out: dict[str, Any] = {}
    seen: dict[str, str] = {}
    labels = _checkpoint_labels(policies)
    for policy in policies:
        planner = make_planner(policy, **agent_options)
        if policy in labels:  # two runs' last.ckpt: agent:runA/last and agent:runB/last
            planner.label = labels[policy]
        name = getattr(planner, "label", None) or planner.name
        if name in out:
            raise InputError(f"--policies: {seen[name]!r} given twice")
        out[name] = planner
        seen[name] = policy
    if any(getattr(p, "search", 1) > 1 for p in out.values()):  # compute-matched heuristics, last
        for name in [n for n in out if n in HEURISTICS and n != "random"]:
            out[name + MATCHED] = make_planner(name)
    return out


def _checkpoint_labels(policies: list[str]) -> dict[str, str]:
    """``agent:<stem>`` per checkpoint, with as many parent folders (skipping ``checkpoints``) as
    it takes to tell different files with the same name apart."""
    from pathlib import Path

    paths = {p: Path(p).resolve() for p in policies if p.endswith(".ckpt")}
    distinct = set(paths.values())

    def label(path: Path, depth: int) -> str:
        parts = [q for q in path.parent.parts if q not in ("checkpoints", "/")][-depth:] if depth else []
        return "agent:" + "/".join([*parts, path.stem])

    for depth in range(0, 64):
        names = {path: label(path, depth) for path in distinct}
        if len(set(names.values())) == len(distinct):
            return {p: names[path] for p, path in paths.items()}
    return {p: f"agent:{path}" for p, path in paths.items()}
