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
burn_probability_before.tif, burn_probability_after.tif (held-out fires), treatments.gpkg and
treatments.csv (the treatment units: rank, area, cost, ha and value each saves on the held-out
fires), plan.png and summary.json. See docs/evaluation.md. Several processes (``torchrun ... -m
fuelrl.cli plan ...`` or ``srun``) split the fires and write the same plan and maps
(docs/scaling.md).
"""

from __future__ import annotations

import argparse

from fuelrl import distributed
from fuelrl.commands import _options as opt
from fuelrl.commands import _plan_inputs as pi
from fuelrl.commands import _planning_args as pa
from fuelrl.commands._context import planning_context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n", 2)[2]
    parser.add_argument(
        "landscape", help="8-band GeoTIFF, FlamMap .lcp, folder of LANDFIRE layers, or synthetic:…"
    )
    parser.add_argument(
        "--policy",
        required=True,
        metavar="PATH.ckpt|pretrained|random|burn_probability|dpv",
        help="a `fuelrl fit` checkpoint, the agent shipped with fuelrl (pretrained) or a heuristic",
    )
    pa.add_budget_argument(parser)
    pa.add_fire_arguments(parser)
    pi.add_arguments(parser)
    opt.add_landscape_options(parser)
    opt.add_out_options(parser)
    parser.add_argument(
        "--no-unit-scores",
        action="store_true",
        help="write the treatment units without their leave-one-out savings (which grow the held-out "
        "fires again for every unit they reach)",
    )


def run(args: argparse.Namespace) -> int:
    from fuelrl.baselines.evaluation import build_planners, inputs_summary, plan_and_score
    from fuelrl.landscape import open_landscape
    from fuelrl.reports.plan import plan_message, plan_summary, write_plan
    from fuelrl.reports.treatments import score_plan_units

    ctx, weather = planning_context(args)
    request = pi.parse(args)
    backend = ctx.backend
    planners = build_planners([args.policy], **pa.agent_options(args, backend))
    name, planner = next(iter(planners.items()))
    landscape = open_landscape(args.landscape, **opt.landscape_kwargs(args))
    weather, grids = pa.landscape_weather(args, landscape, weather)  # gridded weather read here
    if grids is not None:
        ctx.weather.update(pa.weather_description(args, grids))

    run_ = plan_and_score(
        landscape,
        planners,
        backend,
        weather,
        **request.for_landscape(landscape),
        scoring_fires=ctx.scoring_fires,
        planning_fires=ctx.planning_fires,
        seed=args.seed,
        recompute_every=args.recompute_every,
        fresh_fires=args.fresh_fires,
        ignition_guard_cells=args.ignition_guard_cells,
        weather_grids=grids,
    )
    if not distributed.is_main():
        return 0  # rank 0 writes
    checkpoint = str(getattr(planner, "checkpoint", None) or "") or None  # the file an agent read
    summary = plan_summary(run_, name, planner, ctx, checkpoint=checkpoint)
    summary.update(inputs_summary(run_, name))
    units = score_plan_units(run_, name, backend, score=not args.no_unit_scores)
    write_plan(args.out, run_, name, ctx, summary, units)
    print(plan_message(summary, landscape.shape, args.out))
    return 0
