"""The checked settings of a ``plan`` / ``evaluate`` run, in the order the options are validated."""

from __future__ import annotations

import argparse
from typing import Any

from fuelrl import distributed
from fuelrl.commands import _planning_args as pa
from fuelrl.commands import _sim_args as sa


def planning_context(args: argparse.Namespace) -> tuple[Any, Any]:
    """(:class:`fuelrl.reports.PlanningContext`, :class:`WeatherDistribution`) of the flags:
    budget, fire counts, weather, then the backend (each InputError names its option)."""
    from fuelrl.reports import PlanningContext

    budget = pa.check_budget(args.budget)
    scoring_fires, planning_fires = pa.fire_counts(args)
    weather = pa.weather_from_args(args)  # None with a wind grid: pa.landscape_weather per landscape
    backend = sa.make_backend(args, gridded_weather=pa.weather_flags(args).gridded)
    ctx = PlanningContext(
        budget=budget,
        scoring_fires=scoring_fires,
        planning_fires=planning_fires,
        seed=args.seed,
        weather=pa.weather_description(args),
        backend=backend,
        processes=distributed.world_size(),
    )
    return ctx, weather
