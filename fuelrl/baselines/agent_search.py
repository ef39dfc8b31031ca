"""Plan-time search for the agent planner: the agent proposes, the planning fires decide.

With ``search`` = N > 1, :class:`fuelrl.baselines.agent.AgentPlanner` does not simply take each
simulation interval's ``k`` breaks from its Q map. It proposes N candidate sets of ``k`` breaks and
keeps the one the planning fires burn least with:

* **candidates** are the ``k`` best available cells of N blends of two rankings of the cells, the
  agent's (its Q-values, per cost with a cost raster) and DPV's (the DPV of the planning fires
  with the breaks so far, per cost: what ``dpv`` ranks by), each turned into a percentile rank
  over the available cells (ties share their mean rank):
  ``score_l = (1 - l) rank(Q) + l rank(DPV)`` for ``l = 0, 1 / (N - 1), ..., 1``. ``l = 0`` is the
  agent's own interval, ``l = 1`` is ``dpv``'s; equal candidates are grown once;
* **the decision** grows each candidate, with the breaks so far, on the planning fires of the
  *next* interval (with fresh fires, ``--fresh-fires``, a set that did not propose: the choice is
  scored on fires that neither ranking saw) and keeps the candidate of least expected loss
  (:meth:`PlanningProblem.loss_of`: burned area per fire, or value burned with ``values``).
  The kept candidate's simulation is the next interval's state, so nothing is grown twice.

A plan then costs ``1 + N x intervals`` simulations (the plain planner: ``intervals``), reported
as the plan's ``recomputes`` (``simulations`` in ``fuelrl evaluate``): a fair comparison gives
``dpv`` as many (``--recompute-every``), see docs/evaluation.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fuelrl.baselines.base import PlanningProblem, top_k_legal


def percentile_rank(score: np.ndarray, available: np.ndarray) -> np.ndarray:
    """float64 [H, W]: each available cell's rank among the available cells, 0 (lowest) to 1
    (highest), ties sharing their mean rank; -inf where no break may go."""
    out = np.full(score.shape, -np.inf)
    vals = np.asarray(score, dtype=np.float64)[available]
    if vals.size == 0:
        return out
    vals = np.where(np.isfinite(vals), vals, -np.inf)
    ordered = np.sort(vals)
    lo = np.searchsorted(ordered, vals, side="left")
    hi = np.searchsorted(ordered, vals, side="right")
    out[available] = (lo + hi - 1) / 2.0 / max(vals.size - 1, 1)
    return out


def candidates(
    agent_score: np.ndarray,
    dpv_score: np.ndarray,
    available: np.ndarray,
    k: int,
    count: int,
    rng: np.random.Generator,
) -> list[tuple[float, np.ndarray]]:
    """The interval's candidate break sets: (blend, flat indices of the ``k`` best available cells)
    for each of ``count`` blends of the two rankings (the module docstring), a set equal to an
    earlier one dropped, the agent's own (blend 0) first."""
    a, d = percentile_rank(agent_score, available), percentile_rank(dpv_score, available)
    out: list[tuple[float, np.ndarray]] = []
    seen: set[bytes] = set()
    tie = rng.integers(0, 2**32 - 1)
    a0, d0 = np.where(available, a, 0.0), np.where(available, d, 0.0)  # no 0 x -inf
    for blend in np.linspace(0.0, 1.0, int(count)):
        score = np.where(available, (1.0 - blend) * a0 + blend * d0, -np.inf) if blend > 0 else a
        pick = top_k_legal(score, available, k, np.random.default_rng(tie))
        key = np.sort(pick).tobytes()
        if pick.size and key not in seen:
            seen.add(key)
            out.append((float(blend), pick))
    return out


def choose(
    problem: PlanningProblem, breaks: np.ndarray, proposals: list[tuple[float, np.ndarray]]
) -> tuple[float, np.ndarray, int]:
    """Grow each proposal (:func:`candidates`) with ``breaks`` on ``problem``'s current planning
    fires; returns the blend and cells of the one of least expected loss (the first of equals) and
    the simulations it took. The kept candidate's simulation is left as ``problem``'s cached one,
    so the next :meth:`PlanningProblem.simulate` of those breaks grows nothing."""
    best: tuple[float, int, np.ndarray, Any] | None = None
    for i, (_, pick) in enumerate(proposals):
        trial = breaks.copy()
        trial.reshape(-1)[pick] = True
        result = problem.simulate(trial)
        loss = problem.loss_of(result)
        if best is None or loss < best[0]:
            best = (loss, i, trial, result)
    if best is None:
        raise ValueError("choose needs at least one proposal")
    problem.keep(best[2], best[3])
    blend, pick = proposals[best[1]]
    return blend, pick, len(proposals)


def search_interval(
    problem: PlanningProblem,
    agent_score: np.ndarray,
    dpv_score: np.ndarray,
    breaks: np.ndarray,
    available: np.ndarray,
    k: int,
    count: int,
    next_interval: int,
    rng: np.random.Generator,
) -> tuple[float, np.ndarray, int] | None:
    """One interval of the search: the ``count`` :func:`candidates` of ``k`` cells, decided by
    the planning fires of interval ``next_interval`` (:meth:`PlanningProblem.use_fire_set`); the
    kept cells are set in ``breaks`` and cleared in ``available``. Returns (blend, cells,
    simulations) as :func:`choose`, or None when no cell is available."""
    proposals = candidates(agent_score, dpv_score, available, k, count, rng)
    if not proposals:
        return None
    problem.use_fire_set(next_interval)
    blend, pick, used = choose(problem, breaks, proposals)
    breaks.reshape(-1)[pick] = True
    available.reshape(-1)[pick] = False
    return blend, pick, used
