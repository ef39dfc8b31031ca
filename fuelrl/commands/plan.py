"""Place fuel breaks on a landscape with a trained agent or a heuristic, and write the plan as a GeoTIFF.

Examples::

    fuelrl plan ../shared/data/landscapes/flammap_testmtt_19545/19545.tif --policy dpv --budget 0.05 \\
        --fires 200 --wind-speed 36 --wind-from 299 --moisture 3,4,10,53,131 --duration 400 --out runs/plan
    fuelrl plan ../shared/data/landscapes/worcester_vt --policy runs/quickstart/checkpoints/last.ckpt \\
        --budget 0.05 --out runs/agent      # after `fuelrl fit --config configs/quickstart.yaml`

The policy places breaks on burnable cells only, never more than --budget (a fraction of the
burnable cells, rounded down), looking at the planning fires; the plan is then scored on a
different, held-out set of fires drawn from the same --seed. Outputs (GeoTIFFs on the input's exact
grid, CRS and transform): breaks.tif (uint8: 1 = treated, 0 = not, 255 = nodata),
burn_probability_before.tif, burn_probability_after.tif (held-out fires), plan.png and
summary.json. See docs/evaluation.md. Several processes (``torchrun ... -m fuelrl.cli plan ...``
or ``srun``) split the fires and write the same plan and maps (docs/scaling.md).
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from fuelrl import distributed
from fuelrl.commands import _options as opt
from fuelrl.commands import _planning_args as pa
from fuelrl.commands import _sim_args as sa


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n", 2)[2]
    parser.add_argument(
        "landscape", help="8-band GeoTIFF, FlamMap .lcp, folder of LANDFIRE layers, or synthetic:…"
    )
    parser.add_argument(
        "--policy",
        required=True,
        metavar="PATH.ckpt|random|burn_probability|dpv",
        help="a `fuelrl fit` checkpoint or a heuristic",
    )
    pa.add_budget_argument(parser)
    pa.add_fire_arguments(parser)
    opt.add_landscape_options(parser)
    opt.add_out_options(parser)


def run(args: argparse.Namespace) -> int:
    from fuelrl.baselines.evaluation import build_planners, plan_and_score
    from fuelrl.baselines.scoring import finite, policy_summary
    from fuelrl.landscape import open_landscape, write_geotiff
    from fuelrl.outputs import atomic_output_dir, write_json
    from fuelrl.simulators.base import ACRES_PER_HA
    from fuelrl.viz import save_map

    budget = pa.check_budget(args.budget)
    scoring_fires, planning_fires = pa.fire_counts(args)
    weather = pa.weather_from_args(args)
    backend = sa.make_backend(args)
    planners = build_planners([args.policy], **pa.agent_options(args, backend))
    name, planner = next(iter(planners.items()))
    landscape = open_landscape(args.landscape, **opt.landscape_kwargs(args))

    run_ = plan_and_score(
        landscape,
        planners,
        backend,
        weather,
        budget=budget,
        scoring_fires=scoring_fires,
        planning_fires=planning_fires,
        seed=args.seed,
        recompute_every=args.recompute_every,
    )
    if not distributed.is_main():
        return 0  # rank 0 writes
    plan = run_.plans[name]
    before, after = run_.untreated_ha, run_.burned_ha[name]
    stats = policy_summary(after, before)
    valid = np.asarray(landscape.valid, dtype=bool)
    n_burnable = int(np.count_nonzero(landscape.burnable))
    summary = {
        "policy": name,
        "checkpoint": str(args.policy) if name.startswith("agent") else None,
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
        "budget": budget,
        "budget_cells": run_.budget_cells,
        "burnable_cells": n_burnable,
        "recompute_every": run_.recompute_every,
        "recomputes": plan.recomputes,
        "plan_seconds": plan.seconds,
        "processes": distributed.world_size(),
        "fires": scoring_fires,
        "planning_fires": planning_fires,
        "seed": args.seed,
        "fire_sets": run_.fires_info,
        "weather": pa.weather_description(args),
        "backend": backend.public_name,
        "device": str(backend.device),
        "options": {
            "conventions": backend.options.conventions,
            "crown_fire": backend.options.crown_fire,
            "treatment_fuel_model": backend.options.treatment_fuel_model,
        },
        "agent_layout": planner.layout(landscape.shape) if hasattr(planner, "layout") else None,
        "landscape": landscape.describe(),
    }
    breaks_u8 = np.where(valid, plan.breaks.astype(np.uint8), np.uint8(255)).astype(np.uint8)
    with atomic_output_dir(args.out) as tmp:
        write_geotiff(
            tmp / "breaks.tif",
            breaks_u8,
            landscape,
            nodata=255,
            description=f"fuel breaks placed by {name} (1 = treated)",
            tags={"FUELRL_POLICY": name, "FUELRL_BUDGET": budget, "FUELRL_BREAKS": plan.cells},
        )
        for label, prob in (("before", run_.untreated_bp), ("after", run_.burn_probability[name])):
            write_geotiff(
                tmp / f"burn_probability_{label}.tif",
                np.where(valid, prob, -1.0).astype(np.float32),
                landscape,
                nodata=-1.0,
                description=f"burn probability {label} the plan ({scoring_fires} held-out fires)",
                units="fraction",
            )
        write_json(tmp / "summary.json", finite(summary))
        save_map(
            tmp / "plan.png",
            np.where(valid, run_.burn_probability[name], math.nan),
            landscape,
            title=f"Fuel-break plan: {name}, budget {100 * budget:g}% ({plan.cells} cells)",
            colorbar_label=f"burn probability after the plan ({scoring_fires} held-out fires)",
            vmin=0.0,
            vmax=max(0.05, float(run_.untreated_bp.max())),  # the untreated map's scale
            cmap="inferno",
            overlays=[(plan.breaks, "#00e5ff", f"fuel breaks ({summary['breaks_ha']:.1f} ha)")],
            note=(
                f"burned {summary['burned_ha_before']:.1f} -> {summary['burned_ha_after']:.1f} ha/fire "
                f"({summary['burned_acres_before']:.0f} -> {summary['burned_acres_after']:.0f} ac), "
                f"{-stats['reduction_vs_untreated_pct']:+.1f}%"
            ),
        )
    print(
        f"{name}: {plan.cells} breaks ({summary['breaks_ha']:.1f} ha) on "
        f"{landscape.shape[0]}x{landscape.shape[1]} cells; held-out fires burn "
        f"{summary['burned_ha_before']:.1f} -> {summary['burned_ha_after']:.1f} ha "
        f"({summary['reduction_pct']:.1f}% less) -> {args.out}"
    )
    return 0
