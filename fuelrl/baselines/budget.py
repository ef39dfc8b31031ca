"""Planning budgets: cells, area and cost (``--budget``, ``--budget-ha``, ``--budget-cost``).

A plan may hold at most :attr:`Budget.cells` breaks and spend at most :attr:`Budget.cost` of the cost
raster (1 per cell by default, when the two limits are the same number). ``--budget`` is a fraction
of the total cost of the treatable burnable cells (at unit cost: of those cells, rounded down, the
historical rule of :func:`budget_cells`); ``--budget-ha`` and ``--budget-cost`` are absolute. Every
policy of one run gets the same :class:`Budget`, and none can exceed it (checked by
:meth:`fuelrl.baselines.base.Planner.plan`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from fuelrl.errors import InputError


def budget_cells(burnable_cells: int, fraction: float) -> int:
    """Breaks allowed for ``fraction`` of ``burnable_cells``: rounded down, so it is never exceeded.

    Raises :class:`InputError` when ``fraction`` is outside (0, 1] or gives less than one cell.
    """
    fraction = float(fraction)
    if not (0.0 < fraction <= 1.0) or math.isnan(fraction):
        raise InputError(f"--budget must be a fraction of the burnable cells in (0, 1], got {fraction:g}")
    n = math.floor(fraction * int(burnable_cells) + 1e-9)
    if n < 1:
        raise InputError(
            f"--budget {fraction:g} of {burnable_cells} burnable cells is less than one cell; "
            "raise the budget"
        )
    return int(n)


@dataclass(frozen=True)
class Budget:
    """What a plan may spend: at most ``cells`` breaks and at most ``cost`` (in the cost raster's
    units; at unit cost, cells). ``total_cost``: the cost of every treatable burnable cell."""

    cells: int
    cost: float
    total_cost: float
    mode: str

    def describe(self, cell_area_ha: float) -> dict[str, Any]:
        return {
            "budget_mode": self.mode,
            "budget_cost": self.cost,
            "budget_cells_max": self.cells,
            "budget_ha_max": self.cells * cell_area_ha,
            "budget_fraction_of_cost": self.cost / self.total_cost if self.total_cost > 0 else None,
            "treatable_cost_total": self.total_cost,
        }


def resolve_budget(
    landscape: Any,
    *,
    fraction: float | None = None,
    ha: float | None = None,
    cost_budget: float | None = None,
    cost: np.ndarray | None = None,
    treatable: np.ndarray | None = None,
) -> Budget:
    """The :class:`Budget` of ``--budget FRACTION`` (of the total cost of the treatable burnable
    cells; default 0.05), ``--budget-ha`` (area) and/or ``--budget-cost`` (absolute cost). At unit
    cost a fraction is rounded down to whole cells exactly as :func:`budget_cells` (the historical
    rule). InputError for a budget that buys nothing."""
    open_ = np.asarray(landscape.burnable, dtype=bool)
    if treatable is not None:
        open_ = open_ & np.asarray(treatable, dtype=bool)
    n_open = int(open_.sum())
    if n_open < 1:
        raise InputError(f"{landscape.source}: no burnable cell may be treated")
    unit = cost is None
    c = np.ones(open_.shape) if unit else np.asarray(cost, dtype=np.float64)
    costs = np.sort(c[open_])
    total = float(costs.sum())
    if fraction is not None and (ha is not None or cost_budget is not None):
        raise InputError("give one of --budget (a fraction) or --budget-ha / --budget-cost, not both")
    if ha is None and cost_budget is None:
        fraction = 0.05 if fraction is None else float(fraction)
        if not (0.0 < fraction <= 1.0) or math.isnan(fraction):
            raise InputError(f"--budget must be a fraction of the treatable cost in (0, 1], got {fraction:g}")
        if unit:
            n = budget_cells(n_open, fraction)
            return Budget(n, float(n), total, "fraction")
        limit, mode, cells = fraction * total, "fraction", n_open
    else:
        cells, limit, mode = n_open, math.inf, "absolute"
        if ha is not None:
            ha = float(ha)
            if not (ha > 0 and math.isfinite(ha)):
                raise InputError(f"--budget-ha must be a positive area in hectares, got {ha:g}")
            cells = min(n_open, math.floor(ha / landscape.cell_area_ha + 1e-9))
            if cells < 1:
                raise InputError(
                    f"--budget-ha {ha:g} is less than one {landscape.cell_area_ha:g} ha cell; "
                    "raise the budget"
                )
        if cost_budget is not None:
            limit = float(cost_budget)
            if not (limit > 0 and math.isfinite(limit)):
                raise InputError(f"--budget-cost must be a positive cost, got {limit:g}")
        if unit:
            limit = float(cells if math.isinf(limit) else min(cells, math.floor(limit + 1e-9)))
    if costs[0] > limit * (1 + 1e-12):
        raise InputError(
            f"the budget ({limit:g}) buys nothing: the cheapest treatable cell costs {costs[0]:g}; "
            "raise --budget / --budget-cost"
        )
    # no plan within the cost can hold more cells than the cheapest cells it could buy
    affordable = int(np.searchsorted(np.cumsum(costs), limit * (1 + 1e-12), side="right"))
    return Budget(int(min(cells, max(1, affordable))), float(limit), total, mode)


def fits(spent: float, extra: float, limit: float) -> bool:
    """Whether ``extra`` more cost fits a budget of ``limit`` with ``spent`` used (a relative
    tolerance of 1e-12 for sums of floats)."""
    return spent + extra <= limit * (1 + 1e-12)
