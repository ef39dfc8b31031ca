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
plans/<name>/<policy>.tif (breaks), maps/<name>/<policy>.png and treatments/<name>/<policy>.gpkg
and .csv (treatment units), one file name per policy (two
runs' last.ckpt are agent:a/last and agent:b/last). See docs/evaluation.md. Several processes
(``torchrun ... -m fuelrl.cli evaluate ...`` or ``srun``) split the fires and write the same
results (docs/scaling.md).
"""

from __future__ import annotations

import argparse
import sys

from fuelrl import distributed
from fuelrl.commands import _options as opt
from fuelrl.commands import _plan_inputs as pi
from fuelrl.commands import _planning_args as pa
from fuelrl.commands._context import planning_context
from fuelrl.errors import InputError
from fuelrl.reports.common import slug
from fuelrl.reports.common import unique_slugs as unique_slugs  # re-exported
from fuelrl.reports.evaluate import landscape_names

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
        help=f"comma-separated: random, burn_probability, dpv, pretrained and/or PATH.ckpt "
        f"(default {DEFAULT_POLICIES})",
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


# file names of the outputs, kept importable here
_slug = slug
_landscape_names = landscape_names


def run(args: argparse.Namespace) -> int:
    from fuelrl.baselines.evaluation import build_planners, plan_and_score
    from fuelrl.landscape import open_landscape
    from fuelrl.reports.evaluate import evaluation_message, evaluation_results, score_units, write_evaluation

    ctx, weather = planning_context(args)
    request = pi.parse(args)
    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    if not policies:
        raise InputError("--policies: give at least one policy")
    planners = build_planners(policies, **pa.agent_options(args, ctx.backend))
    landscapes = [open_landscape(spec, **opt.landscape_kwargs(args)) for spec in args.landscapes]
    names = landscape_names(args.landscapes)
    inputs = [request.for_landscape(landscape) for landscape in landscapes]  # every file read first
    weathers = [pa.landscape_weather(args, landscape, weather) for landscape in landscapes]  # grids too
    if weathers and weathers[0][1] is not None:
        ctx.weather.update(pa.weather_description(args, weathers[0][1]))

    runs = []
    main = distributed.is_main()  # the other ranks grow their fires, then write and print nothing
    log = (lambda msg: print(msg, file=sys.stderr)) if main else None
    for i, (landscape, lname) in enumerate(zip(landscapes, names, strict=True)):
        if main:
            print(f"{lname}: {landscape.shape[0]}x{landscape.shape[1]} cells", file=sys.stderr)
        runs.append(
            plan_and_score(
                landscape,
                planners,
                ctx.backend,
                weathers[i][0],
                **inputs[i],
                scoring_fires=ctx.scoring_fires,
                planning_fires=ctx.planning_fires,
                seed=args.seed,
                landscape_index=i,
                recompute_every=args.recompute_every,
                fresh_fires=args.fresh_fires,
                ignition_guard_cells=args.ignition_guard_cells,
                log=log,
                weather_grids=weathers[i][1],
            )
        )
    if not main:
        return 0
    command = pa.command_line("evaluate", args.landscapes, args, ("policies", "budget"))
    units = score_units(runs, names, ctx.backend, score=not args.no_unit_scores)
    results = evaluation_results(runs, names, planners, ctx, command, units)
    write_evaluation(args.out, results, runs, names, ctx, units)
    print(evaluation_message(results, args.out))
    return 0
