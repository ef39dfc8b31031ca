"""What the report writers of ``plan`` and ``evaluate`` share: the run's context and file names."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any


def backend_options(backend: Any) -> dict[str, Any]:
    """The simulator options a summary records."""
    options = backend.options
    return {
        "conventions": options.conventions,
        "crown_fire": options.crown_fire,
        "treatment_fuel_model": options.treatment_fuel_model,
    }


@dataclass
class PlanningContext:
    """The settings of one ``plan`` / ``evaluate`` run that every report repeats.

    ``weather`` is the description recorded in the summary (see
    :func:`fuelrl.commands._planning_args.weather_description`); ``extra`` holds further summary
    entries (planning inputs such as values, costs or untreatable land), written as given.
    """

    budget: float
    scoring_fires: int
    planning_fires: int
    seed: int
    weather: dict[str, Any]
    backend: Any
    processes: int = 1
    extra: dict[str, Any] | None = None


def slug(text: str) -> str:
    """A file-name-safe form of ``text``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "policy"


def unique_slugs(names: list[str]) -> dict[str, str]:
    """File-name slugs, one per name, never two alike (``agent:a.b`` and ``agent:a_b`` both slug
    to ``agent_a_b``: the second becomes ``agent_a_b-2``)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = s = slug(name)
        k = 2
        while s.lower() in taken:  # case-insensitive file systems too
            s, k = f"{base}-{k}", k + 1
        taken.add(s.lower())
        out[name] = s
    return out


def fmt_ci(ci: list[float], digits: int = 1) -> str:
    """``[lo, hi]`` with ``digits`` decimals, or ``n/a`` when a bound is missing or not finite."""
    lo, hi = ci
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "n/a"
    return f"[{lo:.{digits}f}, {hi:.{digits}f}]"


def planner_layers(run: Any, units: Any = None) -> dict[str, Any]:
    """The keyword arguments of :func:`fuelrl.viz.save_map` that draw a run's planner inputs
    (untreatable land, values at risk) and its treatment units (ranks of the best ones)."""
    import numpy as np

    inputs = getattr(run, "inputs", None)
    treatable = getattr(inputs, "treatable", None)
    out: dict[str, Any] = {}
    if treatable is not None:
        out["untreatable"] = np.asarray(run.landscape.valid, bool) & ~np.asarray(treatable, bool)
    if getattr(inputs, "values", None) is not None:
        out["values_at_risk"] = inputs.values
    if units is not None and len(units):
        t = units.table
        out["units"] = (
            units.labels,
            dict(zip(t["rank"].tolist(), t["burned_ha_saved"].tolist(), strict=True)),
        )
    return out
