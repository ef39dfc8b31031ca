"""The heuristic planners a trained agent has to beat: random, burn probability, DPV.

* :class:`RandomPlanner` (``random``): ``budget`` cells drawn uniformly, without replacement, from
  the legal cells. What a plan is worth with no information at all.
* :class:`BurnProbabilityPlanner` (``burn_probability``): grow the planning fires, treat the ``k``
  legal cells that burned most often, grow them again with those breaks, ... (the "treat where it
  burns" rule, and the expert used to prefill FireEnv's replay buffer).
* :class:`DPVPlanner` (``dpv``): the same loop on the downstream protection value
  (:mod:`fuelrl.baselines.dpv`): the area whose fire arrival passes through the cell, summed over
  the planning fires' minimum-travel-time trees. Finney (2007); the heuristic the deep-RL firebreak
  work of Murray et al. (2025) compares against, and the one to beat.

``k`` is ``PlanningProblem.recompute_every``; ties (e.g. cells no planning fire reaches) are taken
in a seeded random order.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from fuelrl.baselines.base import GreedyPlanner, Planner, PlanningProblem
from fuelrl.simulators.trees import dpv


class RandomPlanner(Planner):
    """Uniformly random legal cells (no simulation)."""

    name: ClassVar[str] = "random"

    def place(self, problem: PlanningProblem) -> tuple[np.ndarray, int, dict[str, Any]]:
        rng = problem.generator(0)
        cand = np.flatnonzero(problem.legal.reshape(-1))
        return rng.choice(cand, size=problem.budget_cells, replace=False), 0, {}


class BurnProbabilityPlanner(GreedyPlanner):
    """Greedy on the planning fires' burn probability, recomputed every ``recompute_every`` breaks."""

    name: ClassVar[str] = "burn_probability"
    salt: ClassVar[int] = 2

    def scores(self, problem: PlanningProblem, breaks: np.ndarray, placed: int) -> np.ndarray:
        result = problem.simulate(breaks)
        return result.burn_probability()[0].detach().cpu().double().numpy()


class DPVPlanner(GreedyPlanner):
    """Greedy on the downstream protection value (ha per fire), recomputed every ``recompute_every``
    breaks. ``value_ha`` [H, W] weights the cells protected (default: their area)."""

    name: ClassVar[str] = "dpv"
    salt: ClassVar[int] = 3

    def __init__(self, value_ha: np.ndarray | None = None):
        self.value_ha = value_ha

    def scores(self, problem: PlanningProblem, breaks: np.ndarray, placed: int) -> np.ndarray:
        result = problem.simulate(breaks)
        prepared = problem.prepared_fires()
        dev = prepared.tiles.device
        value = dpv(
            prepared,
            torch.as_tensor(breaks[None], device=dev),
            result.arrival_min.to(dev),
            value_ha=self.value_ha,
        )
        return value[0].detach().cpu().numpy()
