"""``fuelrl plan``'s outputs: summary.json, breaks.tif, burn_probability_{before,after}.tif, plan.png."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from fuelrl.reports.common import PlanningContext, backend_options, planner_layers
from fuelrl.reports.rasters import Raster, breaks_raster, probability_raster, write_rasters


def plan_summary(run: Any, name: str, planner: Any, ctx: PlanningContext, *, checkpoint: str | None) -> dict:
    """summary.json of one policy's plan on ``run`` (a :class:`fuelrl.baselines.evaluation.LandscapeRun`)."""
    from fuelrl.baselines.scoring import policy_summary
    from fuelrl.simulators.base import ACRES_PER_HA

    landscape = run.landscape
    plan = run.plans[name]
    before, after = run.untreated_ha, run.burned_ha[name]
    stats = policy_summary(after, before)
    summary = {
        "policy": name,
        "checkpoint": checkpoint,
        "burned_ha_before": float(before.mean()),
        "burned_ha_after": float(after.mean()),
        "burned_acres_before": float(before.mean() * ACRES_PER_HA),
        "burned_acres_after": float(after.mean() * ACRES_PER_HA),
        "reduction_pct": stats["reduction_vs_untreated_pct"],
        "reduction_pct_ci95": stats["reduction_vs_untreated_pct_ci95"],
        "burned_ha_after_ci95": stats["burned_ha_ci95"],
        "breaks": plan.cells,
        "breaks_ha": plan.cells * landscape.cell_area_ha,
        "breaks_acres": plan.cells * landscape.cell_area_acres,
        "budget": ctx.budget,
        "budget_cells": run.budget_cells,
        "burnable_cells": int(np.count_nonzero(landscape.burnable)),
        "recompute_every": run.recompute_every,
        "recomputes": plan.recomputes,
        "plan_seconds": plan.seconds,
        "processes": ctx.processes,
        "fires": ctx.scoring_fires,
        "planning_fires": ctx.planning_fires,
        "seed": ctx.seed,
        "fire_sets": run.fires_info,
        "weather": ctx.weather,
        "backend": ctx.backend.public_name,
        "device": str(ctx.backend.device),
        "options": backend_options(ctx.backend),
        "agent_layout": planner.layout(landscape.shape) if hasattr(planner, "layout") else None,
        **(ctx.extra or {}),
        "landscape": landscape.describe(),
    }
    return summary


def plan_rasters(run: Any, name: str, ctx: PlanningContext) -> list[Raster]:
    """The GeoTIFFs of a plan: breaks.tif and the held-out burn probability before and after."""
    plan = run.plans[name]
    n = ctx.scoring_fires
    return [
        breaks_raster("breaks", plan.breaks, name, ctx.budget, plan.cells),
        *(
            probability_raster(
                f"burn_probability_{label}", prob, f"burn probability {label} the plan ({n} held-out fires)"
            )
            for label, prob in (("before", run.untreated_bp), ("after", run.burn_probability[name]))
        ),
    ]


def save_plan_map(
    path: Path, run: Any, name: str, ctx: PlanningContext, summary: dict, units: Any = None
) -> None:
    """plan.png: burn probability after the plan, on the untreated map's scale, with the breaks,
    the untreatable land and values when given, and the ranks of the units that save the most."""
    from fuelrl.viz import BURN_PROBABILITY_CMAP, SCHEME, save_map

    landscape, plan = run.landscape, run.plans[name]
    valid = np.asarray(landscape.valid, dtype=bool)
    save_map(
        path,
        np.where(valid, run.burn_probability[name], math.nan),
        landscape,
        title=f"Fuel-break plan: {name}, budget {100 * ctx.budget:g}% ({plan.cells} cells)",
        colorbar_label=f"burn probability after the plan ({ctx.scoring_fires} held-out fires)",
        vmin=0.0,
        vmax=max(0.05, float(run.untreated_bp.max())),  # the untreated map's scale
        cmap=BURN_PROBABILITY_CMAP,
        overlays=[(plan.breaks, SCHEME["breaks"], f"fuel breaks ({summary['breaks_ha']:.1f} ha)")],
        **planner_layers(run, units),
        note=(
            f"burned {summary['burned_ha_before']:.1f} -> {summary['burned_ha_after']:.1f} ha/fire "
            f"({summary['burned_acres_before']:.0f} -> {summary['burned_acres_after']:.0f} ac), "
            f"{-summary['reduction_pct']:+.1f}%"
        ),
    )


def write_plan(
    out: str | Path, run: Any, name: str, ctx: PlanningContext, summary: dict, units: Any = None
) -> None:
    """Write ``fuelrl plan``'s folder atomically (:func:`fuelrl.outputs.atomic_output_dir`);
    with ``units`` (:class:`fuelrl.reports.treatments.TreatmentUnits`) also treatments.gpkg and
    treatments.csv, recorded in the summary under ``treatments``."""
    from fuelrl.baselines.scoring import finite
    from fuelrl.outputs import atomic_output_dir, write_json
    from fuelrl.reports.treatments import units_summary, write_treatments

    with atomic_output_dir(out) as tmp:
        write_rasters(tmp, plan_rasters(run, name, ctx), run.landscape)
        if units is not None:
            write_treatments(tmp, "treatments", units, run.landscape.crs)
            files = {"gpkg": "treatments.gpkg", "csv": "treatments.csv"}
            summary = {**summary, "treatments": units_summary(units, files)}
        write_json(tmp / "summary.json", finite(summary))
        save_plan_map(tmp / "plan.png", run, name, ctx, summary, units)


def plan_message(summary: dict, shape: tuple[int, int], out: Any) -> str:
    """The line ``fuelrl plan`` prints at the end."""
    return (
        f"{summary['policy']}: {summary['breaks']} breaks ({summary['breaks_ha']:.1f} ha) on "
        f"{shape[0]}x{shape[1]} cells; held-out fires burn "
        f"{summary['burned_ha_before']:.1f} -> {summary['burned_ha_after']:.1f} ha "
        f"({summary['reduction_pct']:.1f}% less) -> {out}"
    )
