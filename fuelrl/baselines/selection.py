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


def line_unit(seed: int, direction: np.ndarray, available: np.ndarray, size: int) -> np.ndarray:
    """Flat indices of a line of up to ``size`` available cells through ``seed`` **across** the
    fire path there: perpendicular to ``direction`` [2, H, W] (the mean spread direction, row and
    column components), extended on both sides in turn until it meets an unavailable cell or the
    edge; diagonal steps get a corner cell, so the line is 4-connected (no gap a fire could cross
    between two cells touching at a corner). Empty when no fire's direction is known at ``seed``."""
    h, w = available.shape
    r0, c0 = divmod(int(seed), w)
    sy, sx = float(direction[0, r0, c0]), float(direction[1, r0, c0])
    norm = math.hypot(sy, sx)
    if norm == 0 or not math.isfinite(norm):
        return np.zeros(0, dtype=np.int64)
    py, px = -sx / norm, sy / norm  # perpendicular to the spread direction (row, col)
    unit = [r0 * w + c0]
    seen = {unit[0]}
    ends = {1: (r0, c0), -1: (r0, c0)}
    step = {1: 0, -1: 0}
    open_sides = [1, -1]
    while len(unit) < size and open_sides:
        for side in list(open_sides):
            if len(unit) >= size:
                break
            step[side] += 1
            r = int(round(r0 + side * step[side] * py))
            c = int(round(c0 + side * step[side] * px))
            pr, pc = ends[side]
            if (r, c) == (pr, pc):
                continue
            path = [(r, c)] if (r == pr or c == pc) else [(pr, c), (r, c)]  # 4-connected
            ok = True
            for rr, cc in path:
                if len(unit) >= size:
                    break
                n = rr * w + cc
                if not (0 <= rr < h and 0 <= cc < w) or not available[rr, cc]:
                    ok = False
                    break
                if n not in seen:
                    seen.add(n)
                    unit.append(n)
            if not ok:
                open_sides.remove(side)
            else:
                ends[side] = (r, c)
    return np.asarray(unit, dtype=np.int64)


def spread_direction(problem: PlanningProblem, breaks: np.ndarray, window: int = 1) -> np.ndarray:
    """float64 [2, H, W]: the mean over the planning fires (grown with ``breaks``) of the unit
    vector of the arrival-time gradient (row, column components), averaged over a ``window`` x
    ``window`` square of cells (a fire front is oblique on its flanks; a line of a unit's length
    should cross the path the fire travels, not its local front): the direction fires travel
    through each cell; 0 where no fire burns."""
    from scipy import ndimage

    result = problem.simulate(breaks)
    t = result.arrival_min[0].detach().cpu().numpy().astype(np.float64)
    burned = result.burned[0].detach().cpu().numpy()
    t = np.where(burned, t, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        gy, gx = np.gradient(t, axis=(1, 2))
        norm = np.hypot(gy, gx)
        uy, ux = np.where(norm > 0, gy / norm, 0.0), np.where(norm > 0, gx / norm, 0.0)
    uy, ux = np.nan_to_num(uy), np.nan_to_num(ux)
    out = np.stack([uy.mean(axis=0), ux.mean(axis=0)])
    if window > 1:
        out = np.stack([ndimage.uniform_filter(x, size=window, mode="constant") for x in out])
    return out


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
    ``min_unit_cells`` > 1, whole units seeded at the best cells: compact patches
    (:func:`grow_unit`) or, with ``unit_shape = "line"``, lines across the fire paths
    (:func:`line_unit`).

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
    line = getattr(problem, "unit_shape", "patch") == "line"
    direction = None
    cheapest = float(flat_cost[ranked].min()) if ranked.size else math.inf
    out: list[np.ndarray] = []
    n = units = 0
    for cell in ranked.tolist():
        if n >= k or not fits(spent, cheapest * size, problem.budget_cost):
            break  # the round is full, or nothing fits any more
        if not flat_free[cell] or not fits(spent, flat_cost[cell], problem.budget_cost):
            continue
        want = size
        if n + want > cells_left:
            break  # a unit smaller than the minimum is never placed: the rest of the budget stays
        if want > 1 and line:
            if direction is None:
                direction = spread_direction(problem, breaks, window=2 * size + 1)
            unit = line_unit(cell, direction, free, want)
            if unit.size < want:  # no fire travels here, or no room for the line: a patch
                unit = grow_unit(cell, score, free, want, cost)
        elif want > 1:
            unit = grow_unit(cell, score, free, want, cost)
        else:
            unit = np.asarray([cell], dtype=np.int64)
        if unit.size < want:
            continue  # the seed's patch is too small for a unit
        c = float(flat_cost[unit].sum())
        if not fits(spent, c, problem.budget_cost):
            continue
        flat_free[unit] = False
        out.append(unit)
        spent += c
        n += unit.size
        units += 1
    return (np.concatenate(out) if out else np.zeros(0, np.int64)), units
