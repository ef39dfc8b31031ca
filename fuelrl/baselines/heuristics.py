"""The heuristic planners a trained agent has to beat: random, burn probability, DPV.

* :class:`RandomPlanner` (``random``): ``budget`` cells drawn uniformly, without replacement, from
  the legal cells. What a plan is worth with no information at all.
* :class:`BurnProbabilityPlanner` (``burn_probability``): grow the planning fires, treat the ``k``
  legal cells that burned most often (with ``values``: of highest value x burn probability), grow
  them again with those breaks, ... (the "treat where it burns" rule, and the expert used to
  prefill FireEnv's replay buffer).
* :class:`DPVPlanner` (``dpv``): the same loop on the downstream protection value
  (:mod:`fuelrl.baselines.dpv`): the area whose fire arrival passes through the cell, summed over
  the planning fires' minimum-travel-time trees. Finney (2007); the heuristic the deep-RL firebreak
  work of Murray et al. (2025) compares against, and the one to beat.

``k`` is ``PlanningProblem.recompute_every``; ties (e.g. cells no planning fire reaches) are taken
in a seeded random order.

Under torch.distributed the greedy heuristics grow each rank's block of the planning fires and
combine the score maps exactly (integer burn counts; DPV fire by fire, :func:`split_dpv`), so the
plan does not depend on the number of processes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from fuelrl import distributed
from fuelrl.baselines.base import GreedyPlanner, Planner, PlanningProblem, pick_cells
from fuelrl.simulators.base import PreparedFires, ScenarioSet
from fuelrl.simulators.fields import SpreadFields
from fuelrl.simulators.trees import dpv

#: bytes of tiles, breaks, arrival and DPV maps per fire of one :func:`dpv_blocks` call
DPV_BLOCK_BYTES = 256 * 2**20


class RandomPlanner(Planner):
    """Uniformly random legal cells (no simulation)."""

    name: ClassVar[str] = "random"

    def place(self, problem: PlanningProblem) -> tuple[np.ndarray, int, dict[str, Any]]:
        rng = problem.generator(0)
        if problem.cost is None and problem.min_unit_cells <= 1:  # the historical draw
            cand = np.flatnonzero(problem.legal.reshape(-1))
            return rng.choice(cand, size=problem.budget_cells, replace=False), 0, {}
        # random cells (or unit seeds) taken while they fit the budget: random order, not per cost
        score = rng.random(problem.shape) * problem.cell_cost
        breaks = np.zeros(problem.shape, dtype=bool)
        pick, _ = pick_cells(score, problem, breaks, problem.budget_cells, rng)
        return pick, 0, {}


class BurnProbabilityPlanner(GreedyPlanner):
    """Greedy on the planning fires' burn probability, recomputed every ``recompute_every`` breaks."""

    name: ClassVar[str] = "burn_probability"
    salt: ClassVar[int] = 2

    def scores(self, problem: PlanningProblem, breaks: np.ndarray, placed: int) -> np.ndarray:
        fires = max(1, problem.scenarios.shape[1])
        # float32 like SimulationResult.burn_probability (the same ranking as the counts)
        bp = (problem.burn_counts(breaks) / fires).astype(np.float32).astype(np.float64)
        if problem.values is not None:  # expected value burned in the cell
            return bp * np.asarray(problem.values, dtype=np.float64)
        return bp


class DPVPlanner(GreedyPlanner):
    """Greedy on the downstream protection value (ha per fire), recomputed every ``recompute_every``
    breaks. ``value_ha`` [H, W] weights the cells protected (default: their area); the problem's
    ``values`` (``--values``), when given, take its place: DPV is then value protected per fire."""

    name: ClassVar[str] = "dpv"
    salt: ClassVar[int] = 3

    def __init__(self, value_ha: np.ndarray | None = None):
        self.value_ha = value_ha

    def scores(self, problem: PlanningProblem, breaks: np.ndarray, placed: int) -> np.ndarray:
        value_ha = self.value_ha if problem.values is None else problem.values
        if distributed.active():
            return split_dpv(problem, breaks, value_ha=value_ha)
        result = problem.simulate(breaks)
        prepared = problem.prepared_fires()
        dev = prepared.tiles.device
        value = dpv(
            prepared,
            torch.as_tensor(breaks[None], device=dev),
            result.arrival_min.to(dev),
            value_ha=value_ha,
            ignition_guard_cells=problem.ignition_guard_cells,
        )
        return value[0].detach().cpu().numpy()


def dpv_blocks(
    problem: PlanningProblem,
    breaks: np.ndarray,
    arrival_min: torch.Tensor,
    start: int,
    *,
    value_ha: np.ndarray | None = None,
    spread: SpreadFields | None = None,
) -> list[tuple[int, int, int, np.ndarray]]:
    """Each fire's own DPV map for planning fires ``start .. start + f`` (``arrival_min`` [f, H, W]
    with ``breaks``), as (fire index, first row, first column, float64 block) around the cells it
    reaches. Every fire is solved as a tile of its own (one fire per tile, so the tree's map is its
    subtree sums, unscaled), by :func:`fuelrl.simulators.trees.dpv`. ``spread``: the landscape's
    prepared spread fields (one tile) holding these fires' weathers, shared by every fire's tile
    (not copied); without it each fire's window physics is recomputed."""
    from dataclasses import fields, replace

    h, w = problem.shape
    f = int(arrival_min.shape[0])
    tiles = problem.tiles
    dev = tiles.device
    scen = distributed.fire_slice(problem.scenarios, start, start + f).to(dev)
    per_fire = h * w * (8 * 4 + 1 + 8 + 8)  # layers, breaks, arrival, map
    step = max(1, DPV_BLOCK_BYTES // max(per_fire, 1))
    out: list[tuple[int, int, int, np.ndarray]] = []
    b = torch.as_tensor(np.asarray(breaks, dtype=bool), device=dev)
    for lo in range(0, f, step):
        hi = min(f, lo + step)
        m = hi - lo
        one_each: ScenarioSet = replace(
            scen,
            **{
                fl.name: getattr(scen, fl.name)[0, lo:hi].reshape(m, 1, *getattr(scen, fl.name).shape[2:])
                for fl in fields(scen)
            },
        )
        shared = None
        if spread is not None and len(spread.tiles) == 1:
            shared = SpreadFields([spread.tiles[0]] * m, spread.format)
        prepared = PreparedFires(
            tiles.index(torch.zeros(m, dtype=torch.long, device=dev)),
            one_each,
            problem.backend.options,
            spread=shared,
        )
        maps = dpv(
            prepared,
            b[None].repeat(m, 1, 1),
            arrival_min[lo:hi].to(dev).reshape(m, 1, h, w),
            value_ha=value_ha,
            ignition_guard_cells=problem.ignition_guard_cells,
        )
        maps = maps.detach().cpu().numpy()
        for k in range(m):
            nz = maps[k] != 0
            if not nz.any():
                continue
            rows, cols = np.flatnonzero(nz.any(axis=1)), np.flatnonzero(nz.any(axis=0))
            r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
            out.append((start + lo + k, int(r0), int(c0), maps[k, r0:r1, c0:c1].copy()))
    return out


def combine_dpv_blocks(
    blocks: list[tuple[int, int, int, np.ndarray]], scenarios: ScenarioSet, shape: tuple[int, int]
) -> np.ndarray:
    """float64 [H, W]: the fires' maps (:func:`dpv_blocks`, all F fires of the [1, F] planning
    set) added in the order :func:`fuelrl.simulators.trees.dpv` adds them for the whole set (by
    weather group, then fire index) and divided by F: the same map to the last bit."""
    from fuelrl.simulators.spread import weather_groups

    f = scenarios.shape[1]
    by_fire = {n: (r, c, blk) for n, r, c, blk in blocks}
    total = np.zeros(shape, dtype=np.float64)
    for n in np.argsort(weather_groups(scenarios).group_of_fire.reshape(-1), kind="stable").tolist():
        if n in by_fire:
            r, c, blk = by_fire[n]
            total[r : r + blk.shape[0], c : c + blk.shape[1]] += blk
    return total / max(f, 1)


def split_dpv(
    problem: PlanningProblem, breaks: np.ndarray, *, value_ha: np.ndarray | None = None
) -> np.ndarray:
    """The DPV map of the planning fires with ``breaks`` (float64 [H, W]) when each rank grows its
    block of them: every rank's fire maps are gathered and added in one process's order."""
    start, _ = problem.local_range()
    result = problem.simulate_local(breaks)
    blocks = []
    if result is not None:
        blocks = dpv_blocks(
            problem,
            breaks,
            result.arrival_min[0],
            start,
            value_ha=value_ha,
            spread=problem.local_spread_fields(),
        )
    gathered = [blk for part in distributed.all_gather(blocks) for blk in part]
    return combine_dpv_blocks(gathered, problem.scenarios, problem.shape)
