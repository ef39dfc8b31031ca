"""``fuelrl evaluate``'s outputs: results.json, results.md, fires.csv, plans/<landscape>/<policy>.tif
and maps/<landscape>/<policy>.png."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from fuelrl.reports.common import PlanningContext, backend_options, fmt_ci, planner_layers, slug, unique_slugs
from fuelrl.reports.rasters import breaks_raster, write_raster


def landscape_names(specs: list[str]) -> list[str]:
    """One output folder name per landscape argument (numbered when two would be alike)."""
    names = []
    for spec in specs:
        p = Path(spec)
        names.append(slug(p.stem if p.suffix else p.name or spec))
    if len(set(names)) != len(names):
        names = [f"{i}_{n}" for i, n in enumerate(names)]
    return names


def score_units(
    runs: list[Any], names: list[str], backend: Any, *, score: bool = True
) -> dict[str, dict[str, Any]]:
    """Treatment units of every policy's plan on every landscape (``{landscape: {policy: units}}``),
    scored on each landscape's held-out fires (:func:`fuelrl.reports.treatments.score_plan_units`)."""
    from fuelrl.reports.treatments import score_plan_units

    return {
        lname: {
            name: score_plan_units(r, name, backend, f"{lname}: {name} units", score=score)
            for name in r.plans
        }
        for r, lname in zip(runs, names, strict=True)
    }


def units_files(lname: str, slug_: str) -> dict[str, str]:
    """Where a policy's treatment units go in the evaluate folder."""
    return {"gpkg": f"treatments/{lname}/{slug_}.gpkg", "csv": f"treatments/{lname}/{slug_}.csv"}


def evaluation_results(
    runs: list[Any],
    names: list[str],
    planners: dict[str, Any],
    ctx: PlanningContext,
    command: str,
    units: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """results.json: :func:`fuelrl.baselines.evaluation.summarize` and the run's settings (and
    with ``units``, what :func:`score_units` found, under ``treatments``)."""
    from fuelrl.baselines.evaluation import summarize
    from fuelrl.reports.treatments import units_summary

    summary = summarize(runs, list(planners), seed=ctx.seed)
    return {
        **summary,
        "fires": ctx.scoring_fires,
        "fires_total": ctx.scoring_fires * len(runs),
        "planning_fires": ctx.planning_fires,
        "budget": ctx.budget,
        "seed": ctx.seed,
        "weather": ctx.weather,
        "backend": ctx.backend.public_name,
        "device": str(ctx.backend.device),
        "processes": ctx.processes,
        "options": backend_options(ctx.backend),
        "paired_design": {
            "scoring_fires_identical_for_all_policies": all(
                len(set(r.scored_fingerprints.values())) == 1 for r in runs
            ),
            "scoring_fires_sha256": [r.fires_info["scoring"]["sha256"] for r in runs],
        },
        "landscapes": [
            {
                **r.landscape.describe(),
                "name": lname,
                "burnable_cells": int(np.count_nonzero(r.landscape.burnable)),
                "budget_cells": r.budget_cells,
                "recompute_every": r.recompute_every,
                "fire_sets": r.fires_info,
                "untreated_burned_ha_mean": float(r.untreated_ha.mean()),
            }
            for r, lname in zip(runs, names, strict=True)
        ],
        "cell_sizes_m": sorted({float(r.landscape.cell_size_m) for r in runs}),
        "agent_layouts": {
            name: {lname: p.layout(r.landscape.shape) for r, lname in zip(runs, names, strict=True)}
            for name, p in planners.items()
            if hasattr(p, "layout")
        },
        **(ctx.extra or {}),
        **(
            {
                "treatments": {
                    lname: {
                        name: units_summary(u, units_files(lname, unique_slugs(list(per))[name]))
                        for name, u in per.items()
                    }
                    for lname, per in units.items()
                }
            }
            if units is not None
            else {}
        ),
        "command": command,
    }


def results_markdown(results: dict[str, Any], command: str) -> str:
    """The human-readable table of results.md."""
    pol = results["policies"]
    best = results["best_baseline"]
    u = results["untreated"]
    lines = [
        "# fuelrl evaluate",
        "",
        f"{results['fires']} held-out fires per landscape x {len(results['landscapes'])} landscape(s) "
        f"= {results['fires_total']} fires; budget {100 * results['budget']:g}% of burnable cells; "
        f"planning fires: {results['planning_fires']} per landscape (a different draw); "
        f"seed {results['seed']}.",
        "",
        "Burned area per fire (mean over the held-out fires, 95% t confidence interval). Every policy is "
        "scored on the same fires, so the differences are paired.",
        "",
        "| policy | burned ha/fire | 95% CI | acres/fire | reduction vs untreated | "
        + (
            f"vs best baseline ({best}): paired diff ha [95% CI] | diff % [bootstrap 95% CI] | p |"
            if best
            else "|"
        ),
        "|---|---:|---:|---:|---:|" + ("---:|---:|---:|" if best else ""),
        f"| untreated | {u['burned_ha_mean']:.2f} | {fmt_ci(u['burned_ha_ci95'], 2)} | "
        f"{u['burned_acres_mean']:.1f} | - |" + (" - | - | - |" if best else ""),
    ]
    for name, s in pol.items():
        red = s["reduction_vs_untreated_pct"]
        row = (
            f"| {name} | {s['burned_ha_mean']:.2f} | {fmt_ci(s['burned_ha_ci95'], 2)} | "
            f"{s['burned_acres_mean']:.1f} | {red:.1f}% {fmt_ci(s['reduction_vs_untreated_pct_ci95'])} |"
        )
        if best:
            v = s["vs_best_baseline"]
            if v is None:
                row += " (best baseline) | | |"
            else:
                row += (
                    f" {v['diff_ha_mean']:+.2f} {fmt_ci(v['diff_ha_ci95'], 2)} | "
                    f"{v['diff_pct']:+.1f}% {fmt_ci(v['diff_pct_ci95_bootstrap'])} | "
                    f"{v['p_value_paired_t']:.3g} |"
                )
        lines.append(row)
    lines += [
        "",
        "Negative differences: the policy burns less than the best baseline. Paired differences of every "
        "pair of policies are in results.json (`policies.NAME.paired`).",
        "",
        "| policy | breaks (cells) | breaks (ha) | planning time (s) | map recomputations |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, s in pol.items():
        lines.append(
            f"| {name} | {s['breaks_cells']} | {s['breaks_ha']:.1f} | {s['plan_seconds']:.1f} | "
            f"{s['recomputes']} |"
        )
    lines += ["", "Landscapes:", ""]
    for ls in results["landscapes"]:
        lines.append(
            f"- {ls['source']}: {ls['shape'][0]}x{ls['shape'][1]} cells of {ls['cell_size_m']:g} m, "
            f"{ls['burnable_cells']} burnable, budget {ls['budget_cells']} cells"
            + (" (SYNTHETIC)" if ls["synthetic"] else "")
        )
    lines += ["", "Command:", "", "```", command, "```", ""]
    return "\n".join(lines)


def write_fires_csv(path: Path, runs: list[Any], names: list[str], policies: list[str]) -> None:
    """fires.csv: every held-out fire, its ignition and weather, and what it burned under each policy."""
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        cols = ["landscape", "fire", "row", "col", "x", "y", "wind_speed_20ft_mph", "wind_from_deg"]
        cols += ["duration_min", "untreated_ha", *[f"{n}_ha" for n in policies]]
        writer.writerow(cols)
        for r, lname in zip(runs, names, strict=True):
            for j, fire in enumerate(r.scoring_fires):
                writer.writerow(
                    [lname, *(fire[c] for c in cols[1:9]), float(r.untreated_ha[j])]
                    + [float(r.burned_ha[n][j]) for n in policies]
                )


def save_policy_map(path: Path, r: Any, name: str, ctx: PlanningContext, units: Any = None) -> None:
    """maps/<landscape>/<policy>.png: burn probability with the plan, one scale for every policy."""
    from fuelrl.viz import BURN_PROBABILITY_CMAP, SCHEME, save_map

    plan = r.plans[name]
    valid = np.asarray(r.landscape.valid, dtype=bool)
    before, after = float(r.untreated_ha.mean()), float(r.burned_ha[name].mean())
    save_map(
        path,
        np.where(valid, r.burn_probability[name], math.nan),
        r.landscape,
        title=f"{name}: {plan.cells} breaks ({100 * ctx.budget:g}% budget)",
        colorbar_label=f"burn probability with the plan ({ctx.scoring_fires} held-out fires)",
        vmin=0.0,
        vmax=max(0.05, float(r.untreated_bp.max())),  # one scale for every policy
        cmap=BURN_PROBABILITY_CMAP,
        overlays=[(plan.breaks, SCHEME["breaks"], "fuel breaks")],
        **planner_layers(r, units),
        note=(f"burned {before:.1f} -> {after:.1f} ha/fire ({100 * (after - before) / before:+.1f}%)")
        if before > 0
        else None,
    )


def write_evaluation(
    out: str | Path,
    results: dict[str, Any],
    runs: list[Any],
    names: list[str],
    ctx: PlanningContext,
    units: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Write ``fuelrl evaluate``'s folder atomically (:func:`fuelrl.outputs.atomic_output_dir`);
    with ``units`` also treatments/<landscape>/<policy>.gpkg and .csv."""
    from fuelrl.baselines.scoring import finite
    from fuelrl.outputs import atomic_output_dir, write_json
    from fuelrl.reports.treatments import write_treatments

    policies = list(results["policies"])
    with atomic_output_dir(out) as tmp:
        write_json(tmp / "results.json", finite(results))
        (tmp / "results.md").write_text(results_markdown(results, results["command"]))
        write_fires_csv(tmp / "fires.csv", runs, names, policies)
        for r, lname in zip(runs, names, strict=True):
            (tmp / "plans" / lname).mkdir(parents=True, exist_ok=True)
            (tmp / "maps" / lname).mkdir(parents=True, exist_ok=True)
            slugs = unique_slugs(list(r.plans))
            for name, plan in r.plans.items():
                raster = breaks_raster(slugs[name], plan.breaks, name, ctx.budget, plan.cells)
                write_raster(tmp / "plans" / lname, raster, r.landscape)
                u = units[lname][name] if units is not None else None
                save_policy_map(tmp / "maps" / lname / f"{slugs[name]}.png", r, name, ctx, u)
                if u is not None:
                    (tmp / "treatments" / lname).mkdir(parents=True, exist_ok=True)
                    write_treatments(tmp / "treatments" / lname, slugs[name], u, r.landscape.crs)


def evaluation_message(results: dict[str, Any], out: Any) -> str:
    """The lines ``fuelrl evaluate`` prints at the end."""
    best = results["best_baseline"]
    lines = []
    for name, s in results["policies"].items():
        v = s["vs_best_baseline"]
        extra = f"; vs {best}: {v['diff_pct']:+.1f}% {fmt_ci(v['diff_pct_ci95_bootstrap'])}" if v else ""
        lines.append(
            f"{name}: {s['burned_ha_mean']:.2f} ha/fire ({s['reduction_vs_untreated_pct']:.1f}% less){extra}"
        )
    lines.append(f"untreated: {results['untreated']['burned_ha_mean']:.2f} ha/fire -> {out}")
    return "\n".join(lines)
