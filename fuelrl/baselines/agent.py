"""The trained agent as a planner: a ``fuelrl fit`` checkpoint placing breaks on a whole landscape.

The Q-network is fully convolutional, so it scores every cell of a landscape of any size in one
pass. :class:`AgentPlanner` places breaks greedily: it builds FireEnv's observation for the whole
landscape **by channel name** (the checkpoint's ``observation_channels``, one of the four layouts
of :func:`fuelrl.envs.observation.channel_layout`): the landscape channels
(:func:`fuelrl.envs.observation.landscape_channels`), the break mask, the burn probability of the
planning fires with the breaks so far, for a network trained with weather input the constant
weather planes of the planning fires (:func:`fuelrl.envs.observation.weather_planes` of
``problem.scenarios``), and for a network trained with FireEnv's ``dpv/max`` channel the DPV of
the planning fires with the breaks so far (:func:`fuelrl.envs.observation.dpv_channel`), divided
by its maximum over the landscape. It takes the masked argmax of the Q-values, grows the planning
fires again every ``recompute_every`` = k breaks and repeats until the budget is spent.
``budget_left`` is fed as in the env: the fraction of the budget not yet placed.

Placement (``sequential=True``, the default): between two simulations of the planning fires the
agent places its ``k`` breaks ``breaks_per_update`` = B at a time, the B best cells of the current
Q map, the network's input then updated with them (burn probability, weather and DPV stay those of
the last simulation). B = 1 is strictly one break at a time, each seeing all before it, as FireEnv
presents states with ``simulate_every`` = k; the default (B = k) takes all ``k`` breaks of an
interval from one Q map, which on Worcester's training rows planned as well as B = 1, 32, 64, 128
or better (docs/evaluation.md) at a fraction of the time. The plan costs the same number of
simulations as a heuristic's. ``sequential=False`` takes the ``k`` best cells of a whole pass per
simulation (no local rescoring).

**Local rescoring** (``rescore="local"``, the default). A placed break changes the network's input
in one cell, so (the network being convolutional with receptive radius
:func:`receptive_radius` = R) it can only change Q-values within R cells of it, and each layer's
activations only within that layer's own cumulative radius. After each group of breaks the planner
recomputes, layer by layer, only the activations that can have changed (from a square of side 3
after the stem to 2R + 1 at the output, per cluster of nearby breaks), from cached
whole-landscape activations. The same holds after a **simulation**: burn probability and DPV change
only where the planning fires changed, so a window whose changed inputs cover at most
``refresh_limit`` (default 25 %) of its cells is refreshed there, not run whole. What is held fixed,
and so differs from running the whole network after every break (``rescore="full"``, the former
behaviour, kept as the reference):

* the **GroupNorm statistics**: GroupNorm normalises each group over the whole input, so one
  new break moves the mean and variance of every layer by a few parts in a million on a
  landscape; they are computed in a window's last whole pass and reused, exactly, for its local
  updates until its next whole pass;
* **budget_left**: a constant plane that reaches every cell; it is set at each whole pass
  instead of after every break or simulation.

With those two held, the local updates are exact: the Q map equals a whole pass with the frozen
statistics (tests check it to float32 rounding). docs/evaluation.md gives the measured agreement
with ``rescore="full"`` plans. A network the planner does not recognise layer by layer (spatial
self-attention, which is global; another architecture) falls back to ``rescore="full"``.

Large landscapes: up to ``max_whole_cells`` cells (default 1024 x 1024; 64 x 64 for a network with
spatial self-attention, whose memory grows with the square of the cell count) the landscape is
scored **whole**. Beyond that, or when ``tile_size`` is given, it is scored in **tiles with
overlap**: windows of ``tile_size`` cells whose outer ``margin`` cells (the network's receptive
radius, at most a quarter of the tile) are thrown away, so every kept Q-value saw its full
neighbourhood; each window's landscape channels are computed on the window (elevation relative to
the window's mean, as in training). GroupNorm normalises over the whole input, so a tiled pass is
not bit-identical to a whole one; run both on your landscape if it matters. Local rescoring works
tile by tile (each tile keeps its own cached activations and statistics).

Options of the local placement (:mod:`fuelrl.baselines.agent_local`): ``search`` = N proposes N
candidate sets per interval and lets the planning fires choose (:mod:`fuelrl.baselines.agent_search`);
``precision="bfloat16"`` runs the layers on a bfloat16 copy of the network
(:mod:`fuelrl.baselines.local_q`).

Progress: on a terminal (stderr a TTY) a progress bar counts breaks placed against the budget.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from fuelrl.baselines.agent_checkpoint import (
    load_agent,
    observation_names,
    pretrained_checkpoint_path,
)
from fuelrl.baselines.agent_local import LocalPlacement
from fuelrl.baselines.agent_maps import windows
from fuelrl.baselines.agent_observation import AgentObservation
from fuelrl.baselines.base import GreedyPlanner, PlanningProblem, top_k_legal
from fuelrl.baselines.local_q import PRECISIONS, receptive_radius
from fuelrl.errors import InputError
from fuelrl.progress import Progress

#: landscapes up to this many cells are scored in one pass (networks without attention)
MAX_WHOLE_CELLS = 1024 * 1024
#: the same for networks with spatial self-attention (O(cells^2) memory)
MAX_WHOLE_CELLS_ATTENTION = 64 * 64
#: tile side used when a landscape is too large to score whole
DEFAULT_TILE = 512
DEFAULT_TILE_ATTENTION = 64
#: the packaged agent: ``--policy pretrained``
PRETRAINED_NAME = "pretrained"
RESCORE_MODES = ("local", "full")
#: local rescoring: breaks placed between two local updates (None: all of a simulation interval's)
DEFAULT_BREAKS_PER_UPDATE: int | None = None
#: local rescoring: the largest changed share of a window refreshed locally after a simulation
DEFAULT_REFRESH_LIMIT = 0.25


def pretrained_planner(**agent_options: Any) -> AgentPlanner:
    """The packaged agent (``--policy pretrained``) as an :class:`AgentPlanner` named ``pretrained``;
    :class:`InputError` when this installation does not hold its checkpoint."""
    path = pretrained_checkpoint_path()
    if not path.is_file():
        raise InputError(
            f"policy 'pretrained': the packaged checkpoint {path} is missing from this installation "
            "(reinstall fuelrl, or pass a checkpoint path ending in .ckpt)"
        )
    agent_options.setdefault("name", PRETRAINED_NAME)
    return AgentPlanner(path, **agent_options)


class AgentPlanner(LocalPlacement, GreedyPlanner):
    """Greedy placement by a trained Q-network (see the module docstring).

    Args:
        checkpoint: a ``fuelrl fit`` checkpoint (``*.ckpt``).
        device: where the network runs (default CPU).
        tile_size: score in tiles of this side with overlap; ``None``: whole when it fits.
        max_whole_cells: the largest landscape scored in one pass when ``tile_size`` is None.
        name: the policy's name in reports (default ``agent:<file stem>``).
        sequential: place the breaks between two simulations one at a time, each seeing the ones
            before (see the module docstring); False: the ``k`` best cells of one pass.
        rescore: ``"local"`` (default): after each break recompute only the activations it can
            reach, GroupNorm statistics and ``budget_left`` held from the last simulation;
            ``"full"``: a whole network pass after every break (slow on large landscapes).
        breaks_per_update: with local rescoring, the breaks placed (the best cells of the current Q
            map) between two local updates (1: one update per break, each break seeing all before it;
            None, the default: all the breaks of a simulation interval from one Q map).
        refresh_limit: with local rescoring, after a simulation the windows whose changed inputs
            (burn probability, DPV) cover at most this share of their cells are refreshed locally,
            GroupNorm statistics and budget_left held from their last whole pass; the others get a
            whole pass (0: a whole pass after every simulation).
        search: candidate break sets per simulation interval (1: none, the interval is the Q
            map's best cells): N > 1 proposes N blends of the agent's and DPV's rankings and keeps
            the one the next interval's planning fires burn least with
            (:mod:`fuelrl.baselines.agent_search`; 1 + N x intervals simulations).
        precision: the dtype the network's layers run in with local rescoring, ``"float32"``
            (default) or ``"bfloat16"`` (faster where the hardware has it; the input, the
            DPV-residual sum and the Q map stay float32; see :mod:`fuelrl.baselines.local_q`).
        progress: show a progress bar (None: when stderr is a terminal).
    """

    name: ClassVar[str] = "agent"
    salt: ClassVar[int] = 4

    def __init__(
        self,
        checkpoint: str | Path,
        *,
        device: str | torch.device = "cpu",
        tile_size: int | None = None,
        max_whole_cells: int | None = None,
        name: str | None = None,
        sequential: bool = True,
        rescore: str = "local",
        breaks_per_update: int | None = DEFAULT_BREAKS_PER_UPDATE,
        refresh_limit: float = DEFAULT_REFRESH_LIMIT,
        search: int = 1,
        precision: str = "float32",
        progress: bool | None = None,
    ):
        from fuelrl.envs.observation import DPV_CHANNEL

        if rescore not in RESCORE_MODES:
            raise InputError(f"agent rescore must be one of {', '.join(RESCORE_MODES)}, got {rescore!r}")
        self.checkpoint = Path(checkpoint)
        self.sequential = bool(sequential)
        self.device = torch.device(device)
        self.agent = load_agent(self.checkpoint, self.device)
        self.qnet = self.agent.qnet
        self.channels = observation_names(self.agent)
        self.dpv_channel = DPV_CHANNEL in self.channels
        self.label = name or f"agent:{self.checkpoint.stem}"
        self.observation = AgentObservation(self.channels, self.device, self.label)
        self.weather_channels = self.observation.weather_channels
        attention = bool(self.qnet.config.attention)
        if tile_size is not None and tile_size < 8:
            raise InputError(f"agent tile size must be >= 8 cells, got {tile_size}")
        self.tile_size = tile_size
        self.max_whole_cells = int(
            max_whole_cells or (MAX_WHOLE_CELLS_ATTENTION if attention else MAX_WHOLE_CELLS)
        )
        self.default_tile = DEFAULT_TILE_ATTENTION if attention else DEFAULT_TILE
        self.progress = progress
        self.rescore = rescore
        if breaks_per_update is not None and int(breaks_per_update) < 1:
            raise InputError(f"agent breaks_per_update must be >= 1, got {breaks_per_update}")
        if not 0.0 <= float(refresh_limit) <= 1.0:
            raise InputError(f"agent refresh_limit must be in [0, 1], got {refresh_limit}")
        self.breaks_per_update = None if breaks_per_update is None else int(breaks_per_update)
        self.refresh_limit = float(refresh_limit)
        if int(search) < 1:
            raise InputError(f"agent search must be >= 1 candidate per interval, got {search}")
        self.search = int(search)
        if precision not in PRECISIONS:
            raise InputError(f"agent precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self.precision = precision
        self._layers: tuple[int, Any] | None = None
        self._local_checked: dict[int, bool] = {}
        self._cost: np.ndarray | None = None

    # ------------------------------------------------------------------ layout and observation
    def plan(self, problem: PlanningProblem):
        self.observation.clear()
        self.observation.label = self.label
        self.observation.set_values(problem.values, np.asarray(problem.landscape.valid, dtype=bool))
        try:
            plan = super().plan(problem)
        finally:
            self.observation.clear()
        plan.policy = self.label
        return plan

    def layout(self, shape: tuple[int, int]) -> dict[str, Any]:
        """How a landscape of ``shape`` is scored: whole, or tiles (side, margin, count), how it is
        rescored between simulations (``rescore``: local or full), and the ``search`` and
        ``precision`` of the placement."""
        h, w = shape
        tile = self.tile_size
        how = {"rescore": "local" if self.local else "full", "search": self.search}
        how["precision"] = self.precision
        whole = {"mode": "whole", "tile": None, "margin": 0, "windows": 1, **how}
        if tile is None and h * w <= self.max_whole_cells:
            return whole
        tile = int(tile or self.default_tile)
        if h <= tile and w <= tile:
            return whole
        margin = min(receptive_radius(self.qnet), tile // 4)
        n = len(windows(h, tile, margin)) * len(windows(w, tile, margin))
        return {"mode": "tiled", "tile": tile, "margin": margin, "windows": n, **how}

    def regions(self, shape: tuple[int, int]) -> list[tuple[int, int, int, int, int, int, int, int]]:
        """The scored windows: (r0, r1, c0, c1) of the window, then of the core its Q-values fill."""
        h, w = shape
        lay = self.layout((h, w))
        tile = lay["tile"] or max(h, w)
        rows, cols = windows(h, tile, lay["margin"]), windows(w, tile, lay["margin"])
        return [(r0, r1, c0, c1, a0, a1, b0, b1) for r0, r1, a0, a1 in rows for c0, c1, b0, b1 in cols]

    def _static_channels(self, landscape: Any, r0: int, r1: int, c0: int, c1: int) -> torch.Tensor:
        return self.observation.static_channels(landscape, r0, r1, c0, c1)

    def network_input(self, landscape: Any, window: tuple[int, int, int, int], *args: Any, **kw: Any):
        """The observation of ``window``: :meth:`AgentObservation.network_input`."""
        return self.observation.network_input(landscape, window, *args, **kw)

    def weather_values(self, problem: PlanningProblem) -> torch.Tensor | None:
        """The weather planes' values for ``problem``'s planning fires (None if unused)."""
        return self.observation.weather_values(problem)

    # ------------------------------------------------------------------ scoring
    @torch.no_grad()
    def q_values(
        self,
        landscape: Any,
        breaks: np.ndarray,
        burn_probability: np.ndarray,
        budget_left: float,
        dpv: np.ndarray | None = None,
        weather: torch.Tensor | None = None,
    ):
        """float64 [H, W] Q-values of every cell for the given state: one whole network pass
        (whole or tiled, see :meth:`layout`). ``dpv``, ``weather``: see :meth:`network_input`."""
        h, w = landscape.shape
        q = np.zeros((h, w), dtype=np.float64)
        for r0, r1, c0, c1, a0, a1, b0, b1 in self.regions((h, w)):
            x = self.network_input(
                landscape, (r0, r1, c0, c1), breaks, burn_probability, budget_left, dpv=dpv, weather=weather
            )
            qw = self.qnet(x[:, :-1], x[:, -1, 0, 0].view(1, 1)).view(r1 - r0, c1 - c0)
            q[a0:a1, b0:b1] = qw[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0].double().cpu().numpy()
        return q

    def scores(self, problem: PlanningProblem, breaks: np.ndarray, placed: int) -> np.ndarray:
        bp, dpv = self._simulated_channels(problem, breaks)
        budget_left = (problem.budget_cells - placed) / problem.budget_cells
        return self.q_values(
            problem.landscape, breaks, bp, budget_left, dpv=dpv, weather=self.weather_values(problem)
        )

    # ------------------------------------------------------------------ placement
    def place(self, problem: PlanningProblem) -> tuple[np.ndarray, int, dict[str, Any]]:
        self._cost = None if problem.cost is None else problem.cell_cost  # rank by Q per cost
        for option, on in (("search", self.search > 1), ("precision bfloat16", self.precision != "float32")):
            if on and not (self.sequential and self.local):
                raise InputError(
                    f"{self.label}: {option} needs sequential placement with local rescoring "
                    "(a network local rescoring supports; not rescore='full' or sequential=False)"
                )
        if not self.sequential:
            return super().place(problem)
        progress = Progress(problem.budget_cells, f"{self.label} breaks", "break", self.progress)
        try:
            with torch.no_grad():
                if self.local:
                    return self._place_local(problem, progress)
                return self._place_full(problem, progress)
        finally:
            progress.close()

    def _place_full(self, problem: PlanningProblem, progress: Progress):
        """One whole network pass per break (``rescore="full"``), budget_left updated per break."""
        rng = problem.generator(self.salt)
        h, w = problem.shape
        weather = self.weather_values(problem)
        breaks = np.zeros((h, w), dtype=bool)
        order: list[np.ndarray] = []
        placed = recomputes = 0
        while placed < problem.budget_cells:
            problem.use_fire_set(recomputes)
            bp, dpv = self._simulated_channels(problem, breaks)
            recomputes += 1
            stop = placed + min(problem.recompute_every, problem.budget_cells - placed)
            while placed < stop:
                budget_left = (problem.budget_cells - placed) / problem.budget_cells
                q = self.q_values(problem.landscape, breaks, bp, budget_left, dpv=dpv, weather=weather)
                free = problem.legal & ~breaks
                pick = top_k_legal(self._rank(q, free, 0, h, 0, w), free, 1, rng)
                if pick.size == 0:
                    break
                breaks.reshape(-1)[pick] = True
                order.append(pick)
                placed += 1
                progress.update(1)
            if placed < stop:  # no legal cell left
                break
        info = {"sequential": True, "rescore": "full", "network_passes": placed}
        return (np.concatenate(order) if order else np.zeros(0, np.int64)), recomputes, info

    def _rank(self, q: np.ndarray, available: np.ndarray, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """The placement score of the box (r0:r1, c0:c1) from its Q-values: -inf where no break may
        go, Q per cost of the cell with a cost raster (the heuristics' benefit per cost)."""
        keep = available[r0:r1, c0:c1]
        if self._cost is not None:  # a dearer cell always ranks lower, whatever the sign of Q
            cost = self._cost[r0:r1, c0:c1]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                q = np.where(q > 0, q / cost, q * cost)
        return np.where(keep, q, -np.inf)

    def _simulated_channels(self, problem: PlanningProblem, breaks: np.ndarray):
        """Burn probability and (for a DPV network) the ``dpv/max`` channel of the planning fires
        grown with ``breaks``, float64 [H, W] each (``None`` for an unused DPV channel)."""
        result = problem.simulate(breaks)
        valid = np.asarray(problem.landscape.valid)
        bp = result.burn_probability()[0].detach().cpu().numpy()
        bp = np.where(valid, bp, 0.0)
        dpv = None
        if self.dpv_channel or self.search > 1:  # search ranks by DPV too
            from fuelrl.envs.observation import normalised_dpv

            prepared = problem.prepared_fires()  # the backend's, with what it cached (as dpv's)
            dev = prepared.tiles.device
            treated = torch.as_tensor(breaks[None], device=dev)
            guard = problem.ignition_guard_cells
            dpv = normalised_dpv(prepared, treated, result.arrival_min.to(dev), ignition_guard_cells=guard)[0]
            dpv = np.where(valid, dpv.detach().cpu().numpy(), 0.0)
        return bp, dpv
