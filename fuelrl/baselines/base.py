"""The planner interface shared by the heuristics, the trained agent, ``fuelrl plan`` and ``fuelrl evaluate``.

A planner turns a :class:`PlanningProblem` (one landscape, a budget of cells, the *planning* fire
set and a simulator backend) into a :class:`Plan`: a bool break mask on the landscape's grid.

Every planner follows the same rules, enforced here and not by each policy:

* breaks go only on **legal** cells: valid, burnable (not a non-burnable fuel model) and not the
  ignition cell of a planning fire (treating an ignition cell of the planning set would "stop" that
  fire at no cost and tell nothing about other fires; FireEnv keeps them out of its action mask for
  the same reason);
* never more than ``budget_cells`` breaks: the budget is a fraction of the burnable cells, rounded
  down (:func:`budget_cells`);
* greedy planners place breaks **sequentially**: score the legal cells, take the ``k`` best, grow the
  planning fires again with the breaks so far, rescore, ... (``k = recompute_every``). Ties are
  broken by a seeded random order, so a plan depends on its inputs and seed only.

Under torch.distributed (:mod:`fuelrl.distributed`) every rank holds the whole planning set (the
legal cells depend on all of it) but a greedy heuristic grows only the rank's block of it
(:meth:`PlanningProblem.simulate_local`) and combines the score maps exactly
(:meth:`PlanningProblem.burn_counts`, :func:`fuelrl.baselines.heuristics.split_dpv`), so every
rank places the same breaks one process would. :meth:`PlanningProblem.simulate` stays the whole set.
"""

from __future__ import annotations

import abc
import math
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from fuelrl import distributed
from fuelrl.errors import InputError
from fuelrl.simulators.base import PreparedFires, ScenarioSet, SimulationResult, SimulatorBackend, TileBatch
from fuelrl.simulators.fields import SpreadFields

#: recomputations of the score map a greedy planner makes over its budget by default
DEFAULT_RECOMPUTES = 20


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


def default_recompute_every(budget: int, recomputes: int = DEFAULT_RECOMPUTES) -> int:
    """Breaks placed between two score recomputations when the user does not say: about
    ``recomputes`` recomputations over the budget."""
    return max(1, math.ceil(int(budget) / max(1, int(recomputes))))


@dataclass
class PlanningProblem:
    """Everything a planner may look at.

    Attributes:
        landscape: the :class:`fuelrl.landscape.Landscape` (layers in SI units, grid, ``burnable``).
        tiles: the landscape as a one-tile :class:`TileBatch` on ``backend.device``.
        backend: the simulator that grows the planning fires.
        scenarios: the planning fire set, [1, F] (never the fires the plan is scored on).
        budget_cells: the most breaks the plan may hold.
        recompute_every: breaks placed between two recomputations of a greedy planner's scores.
        seed: seed of the planner's own randomness (random order, tie breaks).
        legal: bool [H, W], cells a break may go on (see the module docstring).
    """

    landscape: Any
    tiles: TileBatch
    backend: SimulatorBackend
    scenarios: ScenarioSet
    budget_cells: int
    recompute_every: int
    seed: int
    legal: np.ndarray = field(init=False)
    _prepared: PreparedFires | None = field(init=False, default=None, repr=False)
    _local_prepared: PreparedFires | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        h, w = self.landscape.shape
        legal = np.asarray(self.landscape.burnable, dtype=bool).copy()
        ign = self.scenarios.ignition_cell.detach().cpu().numpy().reshape(-1)
        legal.reshape(-1)[ign] = False
        self.legal = legal
        n_legal = int(legal.sum())
        if n_legal < 1:
            raise InputError(f"{self.landscape.source}: no burnable cell can take a break")
        if self.budget_cells < 1:
            raise InputError(f"budget_cells must be >= 1, got {self.budget_cells}")
        # the few burnable cells that are planning ignitions cannot be treated
        self.budget_cells = min(int(self.budget_cells), n_legal)
        if self.recompute_every < 1:
            raise InputError(f"--recompute-every must be >= 1 break, got {self.recompute_every}")
        if tuple(self.tiles.shape) != (1, h, w):
            raise InputError(f"tiles must hold the one landscape of shape {(h, w)}, got {self.tiles.shape}")

    @property
    def shape(self) -> tuple[int, int]:
        return self.landscape.shape

    @property
    def prepared(self) -> PreparedFires | None:
        """The planning fires prepared by the backend once (:meth:`SimulatorBackend.prepare`: the
        spread fields without breaks), reused by every :meth:`simulate` of a greedy planner;
        ``None`` for a duck-typed backend that only has ``simulate``."""
        if self._prepared is None and hasattr(self.backend, "prepare"):
            self._prepared = self.backend.prepare(self.tiles, self.scenarios)
        return self._prepared

    def simulate(self, breaks: np.ndarray) -> SimulationResult:
        """Grow the planning fires with ``breaks`` (bool [H, W]) treated (the same result as
        ``backend.simulate``, reusing the prepared spread fields)."""
        b = torch.as_tensor(np.asarray(breaks, dtype=bool)[None], device=self.backend.device)
        prepared = self.prepared
        if prepared is None:
            return self.backend.simulate(self.tiles, b, self.scenarios)
        return self.backend.simulate_prepared(prepared, b)

    def local_range(self) -> tuple[int, int]:
        """[start, stop) of the planning fires this rank grows (all of them in one process)."""
        return distributed.fire_range(self.scenarios.shape[1])

    def simulate_local(self, breaks: np.ndarray) -> SimulationResult | None:
        """Grow this rank's block of the planning fires (:meth:`local_range`) with ``breaks``;
        :meth:`simulate` in one process, ``None`` for a rank with no fire."""
        if not distributed.active():
            return self.simulate(breaks)
        start, stop = self.local_range()
        if stop <= start:
            return None
        scenarios = distributed.fire_slice(self.scenarios, start, stop)
        b = torch.as_tensor(np.asarray(breaks, dtype=bool)[None], device=self.backend.device)
        if not hasattr(self.backend, "prepare"):
            return self.backend.simulate(self.tiles, b, scenarios)
        if self._local_prepared is None:
            self._local_prepared = self.backend.prepare(self.tiles, scenarios)
        return self.backend.simulate_prepared(self._local_prepared, b)

    def local_spread_fields(self) -> SpreadFields | None:
        """The spread fields the backend prepared for this rank's planning fires (after a
        :meth:`simulate_local`), or ``None``; :meth:`spread_fields` in one process."""
        if not distributed.active():
            return self.spread_fields()
        prepared = self._local_prepared
        return None if prepared is None else prepared.spread

    def burn_counts(self, breaks: np.ndarray) -> np.ndarray:
        """int64 [H, W]: how many planning fires burn each cell with ``breaks``, summed exactly over
        the ranks (each grows its block of fires)."""
        result = self.simulate_local(breaks)
        if result is None:
            counts = np.zeros(self.shape, dtype=np.int64)
        else:
            counts = result.burned[0].sum(dim=0, dtype=torch.int64).cpu().numpy()
        return distributed.sum_counts(counts)

    def spread_fields(self) -> SpreadFields | None:
        """The spread fields (no breaks) the backend prepared for the planning fires
        (``PreparedFires.spread``), or ``None`` when it provided none (DPV then computes them)."""
        prepared = self.prepared
        return None if prepared is None else prepared.spread

    def prepared_fires(self) -> PreparedFires:
        """The planning fires as a :class:`PreparedFires` on the tiles' device: the backend's
        (with whatever it precomputed) or, for a backend without ``prepare``, a bare one."""
        dev = self.tiles.device
        prepared = self.prepared
        if prepared is None:
            return PreparedFires(self.tiles, self.scenarios.to(dev), self.backend.options)
        return prepared

    def generator(self, salt: int) -> np.random.Generator:
        """A numpy generator derived from the problem's seed and ``salt`` (one per use)."""
        return np.random.default_rng([int(self.seed), int(salt)])


@dataclass
class Plan:
    """A planner's output: ``breaks`` bool [H, W], the flat cell indices in the order they were
    placed, how many times the scores were recomputed (simulations of the planning fires) and the
    wall time it took."""

    policy: str
    breaks: np.ndarray
    order: np.ndarray
    recomputes: int
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def cells(self) -> int:
        return int(self.breaks.sum())


class Planner(abc.ABC):
    """A fuel-break placement policy. Subclasses set ``name`` and implement :meth:`place`.

    :meth:`plan` checks the result against the problem's rules (legal cells, budget), so a policy
    can never hand back an illegal plan.
    """

    name: ClassVar[str] = ""

    @abc.abstractmethod
    def place(self, problem: PlanningProblem) -> tuple[np.ndarray, int, dict[str, Any]]:
        """Return (flat cell indices in placement order, recomputations, extra info)."""

    def plan(self, problem: PlanningProblem) -> Plan:
        start = time.perf_counter()
        order, recomputes, info = self.place(problem)
        order = np.asarray(order, dtype=np.int64).reshape(-1)
        h, w = problem.shape
        breaks = np.zeros(h * w, dtype=bool)
        breaks[order] = True
        breaks = breaks.reshape(h, w)
        if np.unique(order).size != order.size:
            raise RuntimeError(f"planner {self.name} placed a break twice")
        if order.size > problem.budget_cells:
            raise RuntimeError(
                f"planner {self.name} placed {order.size} breaks, budget {problem.budget_cells}"
            )
        if (breaks & ~problem.legal).any():
            raise RuntimeError(f"planner {self.name} placed a break on a cell that cannot take one")
        return Plan(
            self.name or type(self).__name__,
            breaks,
            order,
            int(recomputes),
            time.perf_counter() - start,
            info,
        )


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


class GreedyPlanner(Planner):
    """Sequential greedy placement on a score map recomputed every ``recompute_every`` breaks.

    Subclasses implement :meth:`scores` (higher = treat first), given the breaks placed so far.
    """

    #: salt of the tie-break generator (differs per policy so two policies do not share draws)
    salt: ClassVar[int] = 1

    @abc.abstractmethod
    def scores(self, problem: PlanningProblem, breaks: np.ndarray, placed: int) -> np.ndarray:
        """float [H, W] score of every cell with ``breaks`` (bool [H, W], ``placed`` cells) in place."""

    def place(self, problem: PlanningProblem) -> tuple[np.ndarray, int, dict[str, Any]]:
        rng = problem.generator(self.salt)
        h, w = problem.shape
        breaks = np.zeros((h, w), dtype=bool)
        order: list[np.ndarray] = []
        placed = recomputes = 0
        while placed < problem.budget_cells:
            score = self.scores(problem, breaks, placed)
            recomputes += 1
            k = min(problem.recompute_every, problem.budget_cells - placed)
            pick = top_k_legal(score, problem.legal & ~breaks, k, rng)
            if pick.size == 0:
                break
            breaks.reshape(-1)[pick] = True
            order.append(pick)
            placed += pick.size
        return (np.concatenate(order) if order else np.zeros(0, np.int64)), recomputes, {}
