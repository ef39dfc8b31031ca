"""The planner-input options of ``fuelrl plan`` and ``fuelrl evaluate`` (and ``--ignition-density``
of ``fuelrl simulate``): values at risk, treatment cost, where breaks may go, absolute budgets,
treatment units, where fires start. See docs/planning.md.

:func:`add_arguments` declares them; :func:`parse` checks the numbers (before anything is read) and
returns a :class:`PlanRequest` whose :meth:`PlanRequest.for_landscape` reads the files on a
landscape's grid (:mod:`fuelrl.landscape.plan_inputs`) and gives the keyword arguments of
:func:`fuelrl.baselines.evaluation.plan_and_score`.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fuelrl.errors import InputError


def add_ignition_argument(parser: argparse.ArgumentParser | Any) -> None:
    parser.add_argument(
        "--ignition-density",
        type=Path,
        metavar="RASTER",
        help="relative ignition probability per cell (>= 0; e.g. from historical ignitions or distance "
        "to roads): random fires start on burnable cells in proportion to it",
    )


def add_values_argument(parser: argparse.ArgumentParser | Any) -> None:
    parser.add_argument(
        "--values",
        type=Path,
        metavar="RASTER",
        help="value at risk per cell (>= 0, any unit): the value burned by each fire is reported beside "
        "its hectares",
    )


def values(args: argparse.Namespace, landscape: Any) -> Any:
    """``--values`` read on ``landscape``'s grid (float64 [H, W]) or None."""
    path = _existing("--values", getattr(args, "values", None))
    if path is None:
        return None
    from fuelrl.landscape.plan_inputs import read_values

    return read_values(path, landscape)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--values``, ``--cost``, ``--treatable``, ``--untreatable``, ``--budget-ha``,
    ``--budget-cost``, ``--min-unit-ha``, ``--stop-when-no-gain``, ``--ignition-density``."""
    g = parser.add_argument_group(
        "planner inputs (rasters on the landscape's grid or reprojected to it; see docs/planning.md)"
    )
    g.add_argument(
        "--values",
        type=Path,
        metavar="RASTER",
        help="value at risk per cell (>= 0, any unit): the objective becomes the expected value burned "
        "(value x burn probability), reported beside hectares",
    )
    g.add_argument(
        "--cost",
        type=Path,
        metavar="RASTER",
        help="cost of treating each cell (> 0 on burnable cells; default 1 per cell): planners choose by "
        "benefit per cost, and --budget is a fraction of the total cost of the treatable cells",
    )
    g.add_argument(
        "--treatable",
        type=Path,
        metavar="RASTER|VECTOR",
        help="where breaks may go: a raster's non-zero cells or polygons (any OGR format)",
    )
    g.add_argument(
        "--untreatable",
        type=Path,
        metavar="RASTER|VECTOR",
        help="where breaks may not go (wilderness, water, private land): raster or polygons",
    )
    g.add_argument(
        "--budget-ha",
        type=float,
        metavar="HA",
        help="treat at most this area (replaces the --budget fraction)",
    )
    g.add_argument(
        "--budget-cost",
        type=float,
        metavar="COST",
        help="spend at most this much of --cost (replaces the --budget fraction)",
    )
    g.add_argument(
        "--min-unit-ha",
        type=float,
        metavar="HA",
        help="place breaks as compact units of at least this area (4-connected patches grown from the "
        "best cells) instead of single cells",
    )
    g.add_argument(
        "--unit-shape",
        choices=("patch", "line"),
        default="patch",
        help="with --min-unit-ha: compact patches (default) or lines across the paths the planning fires "
        "travel (perpendicular to their mean spread direction)",
    )
    g.add_argument(
        "--stop-when-no-gain",
        type=float,
        metavar="THRESHOLD",
        help="stop spending when the last round of units saved less than this per unit and planning fire "
        "(ha, or the --values unit); the budget actually used is reported",
    )
    add_ignition_argument(g)


def _positive(flag: str, value: float | None, *, zero: bool = False) -> float | None:
    if value is None:
        return None
    ok = math.isfinite(value) and (value >= 0 if zero else value > 0)
    if not ok:
        raise InputError(f"{flag} must be a finite number {'>= 0' if zero else '> 0'}, got {value:g}")
    return float(value)


def _existing(flag: str, path: Path | None) -> Path | None:
    if path is not None and not Path(path).exists():
        raise InputError(f"{flag} {path}: file not found")
    return path


@dataclass
class PlanRequest:
    """The checked planner-input options of one run (files not read yet)."""

    fraction: float | None
    budget_ha: float | None = None
    budget_cost: float | None = None
    min_unit_ha: float | None = None
    stop_gain: float | None = None
    unit_shape: str = "patch"
    values: Path | None = None
    cost: Path | None = None
    treatable: Path | None = None
    untreatable: Path | None = None
    ignition_density: Path | None = None

    def inputs(self, landscape: Any) -> Any:
        """The :class:`fuelrl.landscape.plan_inputs.PlanInputs` on ``landscape``'s grid."""
        from fuelrl.landscape.plan_inputs import load_plan_inputs

        return load_plan_inputs(
            landscape,
            values=self.values,
            cost=self.cost,
            treatable=self.treatable,
            untreatable=self.untreatable,
            ignition_density=self.ignition_density,
        )

    def for_landscape(self, landscape: Any) -> dict[str, Any]:
        """Keyword arguments of :func:`fuelrl.baselines.evaluation.plan_and_score` for ``landscape``:
        ``budget`` (a resolved :class:`fuelrl.baselines.budget.Budget`), ``inputs``,
        ``min_unit_ha``, ``stop_gain``. InputError for a file or budget that does not fit it."""
        from fuelrl.baselines.budget import resolve_budget

        inputs = self.inputs(landscape)
        budget = resolve_budget(
            landscape,
            fraction=self.fraction,
            ha=self.budget_ha,
            cost_budget=self.budget_cost,
            cost=inputs.cost,
            treatable=inputs.treatable,
        )
        return {
            "budget": budget,
            "inputs": inputs,
            "min_unit_ha": self.min_unit_ha,
            "stop_gain": self.stop_gain,
            "unit_shape": self.unit_shape,
        }


def parse(args: argparse.Namespace) -> PlanRequest:
    """Check the planner-input options (numbers, files exist) before anything is read."""
    absolute = getattr(args, "budget_ha", None) is not None or getattr(args, "budget_cost", None) is not None
    return PlanRequest(
        fraction=None if absolute else getattr(args, "budget", None),
        budget_ha=_positive("--budget-ha", getattr(args, "budget_ha", None)),
        budget_cost=_positive("--budget-cost", getattr(args, "budget_cost", None)),
        min_unit_ha=_positive("--min-unit-ha", getattr(args, "min_unit_ha", None)),
        stop_gain=_positive("--stop-when-no-gain", getattr(args, "stop_when_no_gain", None), zero=True),
        unit_shape=getattr(args, "unit_shape", None) or "patch",
        values=_existing("--values", getattr(args, "values", None)),
        cost=_existing("--cost", getattr(args, "cost", None)),
        treatable=_existing("--treatable", getattr(args, "treatable", None)),
        untreatable=_existing("--untreatable", getattr(args, "untreatable", None)),
        ignition_density=_existing("--ignition-density", getattr(args, "ignition_density", None)),
    )


def ignition_density(args: argparse.Namespace, landscape: Any) -> Any:
    """``--ignition-density`` read on ``landscape``'s grid (float64 [H, W]) or None."""
    path = _existing("--ignition-density", getattr(args, "ignition_density", None))
    if path is None:
        return None
    from fuelrl.landscape.plan_inputs import read_ignition_density

    return read_ignition_density(path, landscape)
