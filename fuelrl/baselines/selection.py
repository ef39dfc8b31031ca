"""Which cells a planner treats next: by score per cost, within the budget, as cells or compact units.

:func:`pick_cells` is the one rule every scoring planner places breaks with (the heuristics'
:class:`fuelrl.baselines.base.GreedyPlanner`; a trained agent can use it too): rank the legal,
untreated cells by score / cost (ties in a seeded random order, :func:`top_k_legal`), take them
while they fit the cell and cost budgets, and with ``min_unit_cells`` > 1 take whole compact units
grown from the best cells (:func:`grow_unit`) instead of single cells.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from fuelrl.baselines.budget import fits

if TYPE_CHECKING:
    from fuelrl.baselines.base import PlanningProblem


def top_k_legal(scores: np.ndarray, available: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Flat indices of the ``k`` available cells of highest score; ties broken by a random order
    from ``rng`` (so equal scores, e.g. cells no fire reaches, are taken in a seeded random order)."""
    flat = np.asarray(scores, dtype=np.float64).reshape(-1)
    cand = np.flatnonzero(np.asarray(available, dtype=bool).reshape(-1))
    if cand.size == 0 or k < 1:
        return np.zeros(0, dtype=np.int64)
    tie = rng.permutation(cand.size)
    vals = flat[cand]
    vals = np.where(np.isfinite(vals), vals, -np.inf)
    # sort by score descending, then by the random tie order
    order = np.lexsort((tie, -vals))
    return cand[order[: min(k, cand.size)]]


def grow_unit(
    seed: int, score: np.ndarray, available: np.ndarray, size: int, cost: np.ndarray | None = None
) -> np.ndarray:
    """Flat indices of a compact unit of ``size`` available cells grown from ``seed``: each step
    adds the 4-neighbour of the unit with the highest score per cost (ties: the lower index), so
    the unit is one 4-connected patch (a polygon of ``rasterio.features.shapes``). Fewer than
    ``size`` cells when the seed's patch of available cells is smaller."""
    import heapq

    h, w = available.shape
    flat_av = available.reshape(-1)
    key = np.asarray(score, dtype=np.float64).reshape(-1)
    if cost is not None:
        key = key / np.asarray(cost, dtype=np.float64).reshape(-1)
    unit = [int(seed)]
    seen = {int(seed)}
    heap: list[tuple[float, int]] = []

    def push(cell: int) -> None:
        r, c = divmod(cell, w)
        for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= rr < h and 0 <= cc < w:
                n = rr * w + cc
                if n not in seen and flat_av[n]:
                    seen.add(n)
                    v = key[n]
                    heapq.heappush(heap, (-(v if np.isfinite(v) else -np.inf), n))

    push(int(seed))
    while len(unit) < size and heap:
        _, n = heapq.heappop(heap)
        unit.append(n)
        push(n)
    return np.asarray(unit, dtype=np.int64)


def pick_cells(
    score: np.ndarray,
    problem: PlanningProblem,
    breaks: np.ndarray,
    k: int,
    rng: np.random.Generator,
    spent: float = 0.0,
) -> tuple[np.ndarray, int]:
    """(flat indices, units): about ``k`` legal cells not yet in ``breaks``, by score per cost,
    that fit the problem's cell and cost budgets with ``spent`` already used; with
    ``min_unit_cells`` > 1, whole compact units (:func:`grow_unit`) seeded at the best cells.

    At unit cost and single cells this is exactly :func:`top_k_legal` (the historical plans). The
    planners' common hook: any planner that scores cells can place them with it."""
    available = problem.legal & ~breaks
    cells_left = problem.budget_cells - int(breaks.sum())
    k = min(int(k), cells_left)
    unit_cost = problem.cost is None
    if problem.min_unit_cells <= 1 and unit_cost:
        k = min(k, int(math.floor(problem.budget_cost - spent + 1e-9)))
        pick = top_k_legal(score, available, k, rng)
        return pick, int(pick.size)
    cost = problem.cell_cost
    with np.errstate(divide="ignore", invalid="ignore"):  # cells that cannot be treated cost inf
        key = np.asarray(score, np.float64) / cost
    ranked = top_k_legal(key, available, int(available.sum()), rng)
    flat_cost = cost.reshape(-1)
    free = available.copy()
    flat_free = free.reshape(-1)
    size = problem.min_unit_cells
    cheapest = float(flat_cost[ranked].min()) if ranked.size else math.inf
    out: list[np.ndarray] = []
    n = units = 0
    for cell in ranked.tolist():
        if n >= k or not fits(spent, cheapest * min(size, cells_left - n), problem.budget_cost):
            break  # the round is full, or nothing fits any more
        if not flat_free[cell] or not fits(spent, flat_cost[cell], problem.budget_cost):
            continue
        want = min(size, cells_left - n)
        if want > 1:
            unit = grow_unit(cell, score, free, want, cost)
            if unit.size < want:
                continue  # the seed's patch is too small for a unit
        else:
            unit = np.asarray([cell], dtype=np.int64)
        c = float(flat_cost[unit].sum())
        if not fits(spent, c, problem.budget_cost):
            continue
        flat_free[unit] = False
        out.append(unit)
        spent += c
        n += unit.size
        units += 1
    return (np.concatenate(out) if out else np.zeros(0, np.int64)), units
