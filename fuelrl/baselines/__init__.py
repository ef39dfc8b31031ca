"""Fuel-break planners (the heuristics and the trained agent behind one interface) and fair scoring.

    from fuelrl.baselines import PlanningProblem, make_planner, budget_cells

    problem = PlanningProblem(landscape, tiles, backend, planning_fires, budget_cells=388,
                              recompute_every=20, seed=0)
    plan = make_planner("dpv").plan(problem)          # or "random", "burn_probability", "run/last.ckpt"
    plan.breaks                                       # bool [H, W], legal cells only, <= budget

Policies: ``random``, ``burn_probability``, ``dpv`` (downstream protection value, Finney 2007;
the heuristic of Murray et al. 2025), ``pretrained`` (the agent packaged with fuelrl) and a
``fuelrl fit`` checkpoint (``*.ckpt``). Scoring on
held-out fires with paired statistics: :mod:`fuelrl.baselines.scoring`. See docs/evaluation.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fuelrl.baselines.base import (
    GreedyPlanner,
    Plan,
    Planner,
    PlanningProblem,
    budget_cells,
    default_recompute_every,
    top_k_legal,
)
from fuelrl.baselines.heuristics import BurnProbabilityPlanner, DPVPlanner, RandomPlanner
from fuelrl.errors import InputError

#: the heuristic policies by name
HEURISTICS: dict[str, type[Planner]] = {
    "random": RandomPlanner,
    "burn_probability": BurnProbabilityPlanner,
    "dpv": DPVPlanner,
}


def is_checkpoint(policy: str) -> bool:
    """Whether a policy name is a checkpoint path (ends with .ckpt)."""
    return str(policy).endswith(".ckpt")


#: the packaged agent's policy name (fuelrl/pretrained/fuelrl_pretrained.ckpt)
PRETRAINED = "pretrained"


def make_planner(policy: str, **agent_options: Any) -> Planner:
    """The planner named ``policy``: a heuristic name, ``pretrained`` (the packaged agent) or a
    ``*.ckpt`` path (options go to :class:`fuelrl.baselines.agent.AgentPlanner`: ``device``,
    ``tile_size``, ``max_whole_cells``)."""
    if policy in HEURISTICS:
        return HEURISTICS[policy]()
    if policy == PRETRAINED:
        from fuelrl.baselines.agent import pretrained_planner

        return pretrained_planner(**agent_options)
    if is_checkpoint(policy):
        from fuelrl.baselines.agent import AgentPlanner

        if not Path(policy).is_file():
            raise InputError(f"policy {policy!r}: checkpoint not found")
        return AgentPlanner(policy, **agent_options)
    raise InputError(
        f"unknown policy {policy!r}; expected one of {', '.join(HEURISTICS)}, {PRETRAINED} "
        "or a checkpoint path ending in .ckpt"
    )


__all__ = [
    "HEURISTICS",
    "PRETRAINED",
    "BurnProbabilityPlanner",
    "DPVPlanner",
    "GreedyPlanner",
    "Plan",
    "Planner",
    "PlanningProblem",
    "RandomPlanner",
    "budget_cells",
    "default_recompute_every",
    "is_checkpoint",
    "make_planner",
    "top_k_legal",
]
