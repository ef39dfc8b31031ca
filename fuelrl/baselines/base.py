"""The planner interface shared by the heuristics, the trained agent, ``fuelrl plan`` and ``fuelrl evaluate``.

A planner turns a :class:`PlanningProblem` (one landscape, a budget of cells, the *planning* fire
set and a simulator backend) into a :class:`Plan`: a bool break mask on the landscape's grid.

Every planner follows the same rules, enforced here and not by each policy:

* breaks go only on **legal** cells: valid, burnable (not a non-burnable fuel model), treatable
  (``treatable``: ``--treatable`` / ``--untreatable``) and not the ignition cell of a planning fire
  (treating an ignition cell of the planning set would "stop" that fire at no cost and tell nothing
  about other fires; FireEnv keeps them out of its action mask for the same reason);
* never more than ``budget_cells`` breaks and never more than ``budget_cost`` of ``cost`` (default 1
  per cell, so the two agree): :func:`resolve_budget` turns ``--budget`` (a fraction of the total
  cost of the treatable burnable cells, rounded down to whole cells at unit cost), ``--budget-ha``
  or ``--budget-cost`` into both; a planner that does not look at costs is cut at the first break
  that no longer fits (:meth:`Planner.plan`);
* planners choose by **benefit per cost** (:func:`pick_cells`), optionally in compact units of
  ``min_unit_cells`` cells (``--min-unit-ha``), and with ``stop_gain`` stop spending when the last
  round of units saved less than that per unit on the planning fires (``--stop-when-no-gain``);
* the objective is the expected burned area, or with ``values`` the expected value burned (value x
  burn probability): :meth:`PlanningProblem.expected_loss`;
* greedy planners place breaks **sequentially**: score the legal cells, take the ``k`` best, grow the
  planning fires again with the breaks so far, rescore, ... (``k = recompute_every``). Ties are
  broken by a seeded random order, so a plan depends on its inputs and seed only;
* with ``fire_sets`` = S > 1 (``--fresh-fires``) the planning fires come in S sets of F fires and
  recomputation r grows set ``r % S`` (:meth:`PlanningProblem.use_fire_set`): the same number of
  simulations of F fires, but no plan can spend its budget fencing in the few ignitions of one
  sample (which a fixed set invites: the plan then stops those fires almost entirely and new fires
  much less). A break is then kept off the ignitions of the set being grown (``legal`` follows the
  set); a later set's fire that starts on an earlier break simply does not burn.

A planner of its own (the trained agent) gets every input from the problem: ``legal`` (burnable,
treatable, not a planning ignition), ``cell_cost`` and ``budget_cost``, ``values`` (None: area),
:meth:`PlanningProblem.expected_loss` (the objective), and can place the cells it scores with
:func:`fuelrl.baselines.selection.pick_cells` (benefit per cost, units, budgets).

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
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import torch

from fuelrl import distributed
from fuelrl.baselines.budget import Budget, budget_cells, fits, resolve_budget  # noqa: F401 (re-exported)
from fuelrl.baselines.selection import grow_unit, pick_cells, top_k_legal  # noqa: F401 (re-exported)
from fuelrl.errors import InputError
from fuelrl.progress import Progress
from fuelrl.simulators.base import PreparedFires, ScenarioSet, SimulationResult, SimulatorBackend, TileBatch
from fuelrl.simulators.fields import SpreadFields
from fuelrl.simulators.spread import same_weather_groups

#: recomputations of the score map a greedy planner makes over its budget by default
DEFAULT_RECOMPUTES = 20


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
        values: float [H, W] value at risk per cell (None: every cell counts its area in ha).
        cost: float [H, W] cost of treating each cell (None: 1 per cell).
        treatable: bool [H, W] cells a break may go on (None: all).
        budget_cost: the most the plan may spend (None: ``budget_cells`` at unit cost).
        min_unit_cells: breaks are placed in units of this many cells (1: single cells).
        unit_shape: "patch" (compact 4-connected units) or "line" (lines across the fire paths).
        stop_gain: stop when the last round saved less than this per unit and planning fire (in ha,
            or in the values' units with ``values``); None: spend the whole budget.
        ignition_guard_cells: DPV (the ``dpv`` policy's map, an agent's ``dpv/max`` input) leaves out
            what each planning fire would save within this many cells (Chebyshev) of its own
            ignition (``--ignition-guard-cells``; 0: nothing left out; docs/evaluation.md).
        fire_sets: the planning fires ``scenarios`` [1, S x F] hold S sets of F fires, one per
            recomputation in turn (:meth:`use_fire_set`); ``scenarios`` is then the current set.
        legal: bool [H, W], the cells a break may go on now: :attr:`plannable` less the current
            planning fires' ignitions (with several fire sets it changes with the set).
        plannable: bool [H, W], the cells a plan may hold: valid, burnable, treatable, of finite
            positive cost (with one fire set: also not a planning ignition, as ``legal``).
    """

    landscape: Any
    tiles: TileBatch
    backend: SimulatorBackend
    scenarios: ScenarioSet
    budget_cells: int
    recompute_every: int
    seed: int
    values: np.ndarray | None = None
    cost: np.ndarray | None = None
    treatable: np.ndarray | None = None
    budget_cost: float | None = None
    min_unit_cells: int = 1
    stop_gain: float | None = None
    unit_shape: str = "patch"
    fire_sets: int = 1
    ignition_guard_cells: int = 0
    legal: np.ndarray = field(init=False)
    plannable: np.ndarray = field(init=False)
    _pool: ScenarioSet | None = field(init=False, default=None, repr=False)
    _fire_set: int = field(init=False, default=0, repr=False)
    _prepared: PreparedFires | None = field(init=False, default=None, repr=False)
    _last: tuple[bytes, SimulationResult] | None = field(init=False, default=None, repr=False)
    _local_prepared: PreparedFires | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        h, w = self.landscape.shape
        legal = np.asarray(self.landscape.burnable, dtype=bool).copy()
        if self.treatable is not None:
            legal &= np.asarray(self.treatable, dtype=bool)
        if self.cost is not None:
            legal &= np.isfinite(self.cost) & (np.asarray(self.cost) > 0)
        if int(self.fire_sets) < 1 or self.scenarios.shape[1] % int(self.fire_sets):
            raise InputError(
                f"fire_sets must divide the {self.scenarios.shape[1]} planning fires, got {self.fire_sets}"
            )
        guard = self.ignition_guard_cells
        if int(guard) != guard or guard < 0:
            raise InputError(f"--ignition-guard-cells must be a whole number of cells >= 0, got {guard}")
        self.plannable = legal.copy()
        if self.fire_sets > 1:
            self._pool = self.scenarios
            self.scenarios = self._set(0)
        self.legal = self._without_ignitions()
        if self.fire_sets == 1:  # one fixed set: its ignitions are never treated
            self.plannable = self.legal.copy()
        n_legal = int(self.legal.sum())
        if n_legal < 1:
            raise InputError(f"{self.landscape.source}: no burnable, treatable cell can take a break")
        if self.budget_cells < 1:
            raise InputError(f"budget_cells must be >= 1, got {self.budget_cells}")
        # the few burnable cells that are planning ignitions cannot be treated
        self.budget_cells = min(int(self.budget_cells), n_legal)
        if self.budget_cost is None:
            self.budget_cost = float(self.budget_cells) if self.cost is None else math.inf
        if self.unit_shape not in ("patch", "line"):
            raise InputError(f"--unit-shape must be 'patch' or 'line', got {self.unit_shape!r}")
        if self.min_unit_cells < 1:
            raise InputError(f"--min-unit-ha must give units of >= 1 cell, got {self.min_unit_cells}")
        if self.recompute_every < 1:
            raise InputError(f"--recompute-every must be >= 1 break, got {self.recompute_every}")
        if tuple(self.tiles.shape) != (1, h, w):
            raise InputError(f"tiles must hold the one landscape of shape {(h, w)}, got {self.tiles.shape}")

    @property
    def shape(self) -> tuple[int, int]:
        return self.landscape.shape

    def _set(self, i: int) -> ScenarioSet:
        from dataclasses import fields

        f, pool = self._pool.shape[1] // self.fire_sets, self._pool
        return replace(pool, **{x.name: getattr(pool, x.name)[:, i * f : (i + 1) * f] for x in fields(pool)})

    def _without_ignitions(self) -> np.ndarray:
        """:attr:`plannable` less the ignition cells of the current planning fires (a break there
        would stop that fire at no cost and tell nothing about other fires)."""
        legal = self.plannable.copy()
        legal.reshape(-1)[self.scenarios.ignition_cell.detach().cpu().numpy().reshape(-1)] = False
        return legal

    def use_fire_set(self, recomputation: int) -> None:
        """Make set ``recomputation % fire_sets`` the planning fires (:attr:`scenarios`) that
        :meth:`simulate` and the other methods grow; a no-op with one set. Greedy planners call it
        before each recomputation of their map."""
        i = int(recomputation) % int(self.fire_sets)
        if self._pool is None or i == self._fire_set:
            return
        self._fire_set = i
        before, self.scenarios = self._prepared, self._set(i)
        self.legal = self._without_ignitions()
        self._prepared = self._last = self._local_prepared = None  # those of the previous set
        same = before is not None and same_weather_groups(before.scenarios, self.scenarios)
        if same and before.state is None:
            # the spread fields depend on the tiles and the weather groups only (the contract of
            # PreparedFires.spread); with no private backend state the new set reuses them
            dev = before.scenarios.ignition_cell.device
            self._prepared = replace(before, scenarios=self.scenarios.to(dev))

    @property
    def cell_cost(self) -> np.ndarray:
        """float64 [H, W]: the cost of treating each cell (1 per cell without a cost raster)."""
        if self.cost is None:
            return np.ones(self.shape, dtype=np.float64)
        return np.where(self.legal, np.asarray(self.cost, dtype=np.float64), np.inf)

    def spent(self, breaks: np.ndarray) -> float:
        """The cost of the treated cells of ``breaks``."""
        b = np.asarray(breaks, dtype=bool)
        return float(b.sum()) if self.cost is None else float(np.asarray(self.cost, np.float64)[b].sum())

    def expected_loss(self, breaks: np.ndarray) -> float:
        """The objective on the planning fires with ``breaks``: expected burned area per fire (ha)
        or, with ``values``, expected value burned per fire (value x burn probability, summed)."""
        return self._loss(self.burn_counts(breaks))

    def loss_of(self, result: SimulationResult) -> float:
        """:meth:`expected_loss` of a simulation of the whole planning set (one process)."""
        return self._loss(result.burned[0].sum(dim=0, dtype=torch.int64).cpu().numpy())

    def _loss(self, counts: np.ndarray) -> float:
        counts = np.asarray(counts).astype(np.float64)
        fires = max(1, self.scenarios.shape[1])
        if self.values is None:
            return float(counts.sum()) * self.landscape.cell_area_ha / fires
        return float((counts * np.asarray(self.values, np.float64)).sum()) / fires

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
        key = np.packbits(np.asarray(breaks, dtype=bool)).tobytes()
        if self._last is not None and self._last[0] == key:  # a greedy round's score and its gain
            return self._last[1]
        b = torch.as_tensor(np.asarray(breaks, dtype=bool)[None], device=self.backend.device)
        prepared = self.prepared
        if prepared is None:
            result = self.backend.simulate(self.tiles, b, self.scenarios)
        else:
            result = self.backend.simulate_prepared(prepared, b)
        self._last = (key, result)
        return result

    def keep(self, breaks: np.ndarray, result: SimulationResult) -> None:
        """Make ``result`` (a simulation of the current planning fires with ``breaks``) the one
        :meth:`simulate` returns for ``breaks`` without growing them again."""
        self._last = (np.packbits(np.asarray(breaks, dtype=bool)).tobytes(), result)

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
        problem._last = None  # the cached simulation of the planning fires: not needed any more
        order = np.asarray(order, dtype=np.int64).reshape(-1)
        h, w = problem.shape
        if problem.cost is not None or problem.budget_cost < order.size:
            # a planner that does not look at costs (the agent) is cut at the first break that no
            # longer fits the cost budget
            c = problem.cell_cost.reshape(-1)[order]
            fit = np.cumsum(c) <= problem.budget_cost * (1 + 1e-12)
            cut = int(np.argmin(fit)) if not fit.all() else order.size
            order = order[:cut]
        breaks = np.zeros(h * w, dtype=bool)
        breaks[order] = True
        breaks = breaks.reshape(h, w)
        if np.unique(order).size != order.size:
            raise RuntimeError(f"planner {self.name} placed a break twice")
        if order.size > problem.budget_cells:
            raise RuntimeError(
                f"planner {self.name} placed {order.size} breaks, budget {problem.budget_cells}"
            )
        if (breaks & ~problem.plannable).any():
            raise RuntimeError(f"planner {self.name} placed a break on a cell that cannot take one")
        info = dict(info)
        info["cost_used"] = problem.spent(breaks)
        return Plan(
            self.name or type(self).__name__,
            breaks,
            order,
            int(recomputes),
            time.perf_counter() - start,
            info,
        )


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
        spent = 0.0
        info: dict[str, Any] = {}
        loss = problem.expected_loss(breaks) if problem.stop_gain is not None else None
        show = None if distributed.is_main() else False  # on a terminal, rank 0 only
        bar = Progress(problem.budget_cells, f"{self.name} breaks", "break", show, leave=False)
        while placed < problem.budget_cells:
            problem.use_fire_set(recomputes)
            if loss is not None and problem.fire_sets > 1:  # the gain is measured on this set
                loss = problem.expected_loss(breaks)
            score = self.scores(problem, breaks, placed)
            recomputes += 1
            bar.set_postfix(recomputations=recomputes)
            k = min(problem.recompute_every, problem.budget_cells - placed)
            pick, units = pick_cells(score, problem, breaks, k, rng, spent)
            if pick.size == 0:
                break
            breaks.reshape(-1)[pick] = True
            if loss is not None:
                after = problem.expected_loss(breaks)
                gain = (loss - after) / max(units, 1)
                if gain < problem.stop_gain:  # this round saved too little: undo it and stop
                    breaks.reshape(-1)[pick] = False
                    info["stopped_no_gain"] = True
                    info["last_gain_per_unit"] = float(gain)
                    break
                loss = after
            order.append(pick)
            info["units"] = info.get("units", 0) + units
            placed += pick.size
            spent += float(problem.cell_cost.reshape(-1)[pick].sum())
            bar.update(pick.size)
        bar.close()
        return (np.concatenate(order) if order else np.zeros(0, np.int64)), recomputes, info
