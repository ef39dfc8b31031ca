"""Compare an agent and baselines on the same fires: burned area with confidence intervals.

Examples::

    fuelrl evaluate ../shared/data/landscapes/flammap_testmtt_19545/19545.tif \\
        --policies random,burn_probability,dpv --budget 0.05 --fires 200 --seed 0 \\
        --wind-speed 36 --wind-from 299 --moisture 3,4,10,53,131 --duration 400 --out runs/eval
    fuelrl evaluate ../shared/data/landscapes/flammap_testmtt_19545/19545.lcp \\
        "../shared/data/landscapes/worcester_vt#rows=400:528,cols=150:278" --policies random,dpv \\
        --out runs/eval2
    fuelrl evaluate ../shared/data/landscapes/worcester_vt \\
        --policies dpv,runs/a/checkpoints/last.ckpt,runs/b/checkpoints/last.ckpt --out runs/eval3

Every policy plans on the same planning fires and is scored on the same held-out fires (a different
stream of the same --seed), so the differences are paired fire by fire. Outputs: results.json,
results.md (a table with paired differences against the best baseline and their 95% confidence
intervals), fires.csv (every held-out fire and what it burned under each policy), and per landscape
plans/<name>/<policy>.tif (breaks) and maps/<name>/<policy>.png, one file name per policy (two
runs' last.ckpt are agent:a/last and agent:b/last). See docs/evaluation.md. Several processes
(``torchrun ... -m fuelrl.cli evaluate ...`` or ``srun``) split the fires and write the same
results (docs/scaling.md).
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from fuelrl import distributed
from fuelrl.commands import _options as opt
from fuelrl.commands import _planning_args as pa
from fuelrl.commands import _sim_args as sa
from fuelrl.errors import InputError

DEFAULT_POLICIES = "random,burn_probability,dpv"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n", 2)[2]
    parser.add_argument(
        "landscapes", nargs="+", metavar="LANDSCAPE", help="landscapes (as in `fuelrl simulate`)"
    )
    parser.add_argument(
        "--policies",
        default=DEFAULT_POLICIES,
        help=f"comma-separated: random, burn_probability, dpv and/or PATH.ckpt (default {DEFAULT_POLICIES})",
    )
    pa.add_budget_argument(parser)
    pa.add_fire_arguments(parser)
    opt.add_landscape_options(parser)
    opt.add_out_options(parser)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "policy"


def unique_slugs(names: list[str]) -> dict[str, str]:
    """File-name slugs, one per name, never two alike (``agent:a.b`` and ``agent:a_b`` both slug
    to ``agent_a_b``: the second becomes ``agent_a_b-2``)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = slug = _slug(name)
        k = 2
        while slug.lower() in taken:  # case-insensitive file systems too
            slug, k = f"{base}-{k}", k + 1
        taken.add(slug.lower())
        out[name] = slug
    return out


def _landscape_names(specs: list[str]) -> list[str]:
    names = []
    for spec in specs:
        p = Path(spec)
        names.append(_slug(p.stem if p.suffix else p.name or spec))
    if len(set(names)) != len(names):
        names = [f"{i}_{n}" for i, n in enumerate(names)]
    return names


def _fmt_ci(ci: list[float], digits: int = 1) -> str:
    lo, hi = ci
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "n/a"
    return f"[{lo:.{digits}f}, {hi:.{digits}f}]"


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
        f"| untreated | {u['burned_ha_mean']:.2f} | {_fmt_ci(u['burned_ha_ci95'], 2)} | "
        f"{u['burned_acres_mean']:.1f} | - |" + (" - | - | - |" if best else ""),
    ]
    for name, s in pol.items():
        red = s["reduction_vs_untreated_pct"]
        row = (
            f"| {name} | {s['burned_ha_mean']:.2f} | {_fmt_ci(s['burned_ha_ci95'], 2)} | "
            f"{s['burned_acres_mean']:.1f} | {red:.1f}% {_fmt_ci(s['reduction_vs_untreated_pct_ci95'])} |"
        )
        if best:
            v = s["vs_best_baseline"]
            if v is None:
                row += " (best baseline) | | |"
            else:
                row += (
                    f" {v['diff_ha_mean']:+.2f} {_fmt_ci(v['diff_ha_ci95'], 2)} | "
                    f"{v['diff_pct']:+.1f}% {_fmt_ci(v['diff_pct_ci95_bootstrap'])} | "
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


def run(args: argparse.Namespace) -> int:
    from fuelrl.baselines.evaluation import build_planners, plan_and_score, summarize
    from fuelrl.baselines.scoring import finite
    from fuelrl.landscape import open_landscape, write_geotiff
    from fuelrl.outputs import atomic_output_dir, write_json
    from fuelrl.viz import save_map

    budget = pa.check_budget(args.budget)
    scoring_fires, planning_fires = pa.fire_counts(args)
    weather = pa.weather_from_args(args)
    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    if not policies:
        raise InputError("--policies: give at least one policy")
    backend = sa.make_backend(args)
    planners = build_planners(policies, **pa.agent_options(args, backend))
    landscapes = [open_landscape(spec, **opt.landscape_kwargs(args)) for spec in args.landscapes]
    names = _landscape_names(args.landscapes)
    cell_sizes = {float(ls.cell_size_m) for ls in landscapes}

    runs = []
    main = distributed.is_main()  # the other ranks grow their fires, then write and print nothing
    for i, (landscape, lname) in enumerate(zip(landscapes, names, strict=True)):
        if main:
            print(f"{lname}: {landscape.shape[0]}x{landscape.shape[1]} cells", file=sys.stderr)
        runs.append(
            plan_and_score(
                landscape,
                planners,
                backend,
                weather,
                budget=budget,
                scoring_fires=scoring_fires,
                planning_fires=planning_fires,
                seed=args.seed,
                landscape_index=i,
                recompute_every=args.recompute_every,
                log=(lambda msg: print(msg, file=sys.stderr)) if main else None,
            )
        )
    if not main:
        return 0
    summary = summarize(runs, list(planners), seed=args.seed)
    command = pa.command_line("evaluate", args.landscapes, args, ("policies", "budget"))
    results = {
        **summary,
        "fires": scoring_fires,
        "fires_total": scoring_fires * len(runs),
        "planning_fires": planning_fires,
        "budget": budget,
        "seed": args.seed,
        "weather": pa.weather_description(args),
        "backend": backend.public_name,
        "device": str(backend.device),
        "processes": distributed.world_size(),
        "options": {
            "conventions": backend.options.conventions,
            "crown_fire": backend.options.crown_fire,
            "treatment_fuel_model": backend.options.treatment_fuel_model,
        },
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
        "cell_sizes_m": sorted(cell_sizes),
        "agent_layouts": {
            name: {lname: p.layout(r.landscape.shape) for r, lname in zip(runs, names, strict=True)}
            for name, p in planners.items()
            if hasattr(p, "layout")
        },
        "command": command,
    }
    with atomic_output_dir(args.out) as tmp:
        write_json(tmp / "results.json", finite(results))
        (tmp / "results.md").write_text(results_markdown(results, command))
        with open(tmp / "fires.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            cols = ["landscape", "fire", "row", "col", "x", "y", "wind_speed_20ft_mph", "wind_from_deg"]
            cols += ["duration_min", "untreated_ha", *[f"{n}_ha" for n in planners]]
            writer.writerow(cols)
            for r, lname in zip(runs, names, strict=True):
                for j, fire in enumerate(r.scoring_fires):
                    writer.writerow(
                        [lname, *(fire[c] for c in cols[1:9]), float(r.untreated_ha[j])]
                        + [float(r.burned_ha[n][j]) for n in planners]
                    )
        for r, lname in zip(runs, names, strict=True):
            ls = r.landscape
            valid = np.asarray(ls.valid, dtype=bool)
            (tmp / "plans" / lname).mkdir(parents=True, exist_ok=True)
            (tmp / "maps" / lname).mkdir(parents=True, exist_ok=True)
            slugs = unique_slugs(list(r.plans))
            for name, plan in r.plans.items():
                slug = slugs[name]
                write_geotiff(
                    tmp / "plans" / lname / f"{slug}.tif",
                    np.where(valid, plan.breaks.astype(np.uint8), np.uint8(255)).astype(np.uint8),
                    ls,
                    nodata=255,
                    description=f"fuel breaks placed by {name} (1 = treated)",
                    tags={"FUELRL_POLICY": name, "FUELRL_BUDGET": budget, "FUELRL_BREAKS": plan.cells},
                )
                before, after = float(r.untreated_ha.mean()), float(r.burned_ha[name].mean())
                save_map(
                    tmp / "maps" / lname / f"{slug}.png",
                    np.where(valid, r.burn_probability[name], math.nan),
                    ls,
                    title=f"{name}: {plan.cells} breaks ({100 * budget:g}% budget)",
                    colorbar_label=f"burn probability with the plan ({scoring_fires} held-out fires)",
                    vmin=0.0,
                    vmax=max(0.05, float(r.untreated_bp.max())),  # one scale for every policy
                    cmap="inferno",
                    overlays=[(plan.breaks, "#00e5ff", "fuel breaks")],
                    note=(
                        f"burned {before:.1f} -> {after:.1f} ha/fire "
                        f"({100 * (after - before) / before:+.1f}%)"
                    )
                    if before > 0
                    else None,
                )
    best = summary["best_baseline"]
    for name, s in summary["policies"].items():
        v = s["vs_best_baseline"]
        extra = f"; vs {best}: {v['diff_pct']:+.1f}% {_fmt_ci(v['diff_pct_ci95_bootstrap'])}" if v else ""
        print(
            f"{name}: {s['burned_ha_mean']:.2f} ha/fire ({s['reduction_vs_untreated_pct']:.1f}% less){extra}"
        )
    print(f"untreated: {summary['untreated']['burned_ha_mean']:.2f} ha/fire -> {args.out}")
    return 0
