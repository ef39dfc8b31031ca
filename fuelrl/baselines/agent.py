"""The trained agent as a planner: a ``fuelrl fit`` checkpoint placing breaks on a whole landscape.

The Q-network is fully convolutional, so it scores every cell of a landscape of any size in one
pass. :class:`AgentPlanner` places breaks greedily: it builds FireEnv's observation for the whole
landscape (the same channels, by :func:`fuelrl.envs.observation.landscape_channels`, plus the break
mask and the burn probability of the planning fires with the breaks so far), takes the masked
argmax of the Q-values (the ``k`` best cells when ``recompute_every`` = k > 1), grows the planning
fires again and repeats until the budget is spent. ``budget_left`` is fed as in the env: the
fraction of the budget not yet placed. A network trained with FireEnv's ``dpv/max`` channel
(``EnvConfig.dpv_channel``; the checkpoint records its channels) gets that channel too: the DPV of
the planning fires with the breaks so far (:func:`fuelrl.envs.observation.dpv_channel`), divided
by its maximum over the whole landscape.

Sequential placement (``sequential=True``, the default): between two simulations of the planning
fires the agent still places its ``k`` breaks **one at a time**, re-running the network after each
with the break mask and ``budget_left`` updated (burn probability and DPV stay those of the last
simulation), exactly as FireEnv presents states with ``simulate_every`` = k. Network passes are
cheap next to fire simulations, so the plan costs the same number of simulations as a heuristic's
(``recompute_every``), but the agent sees its own new breaks and can avoid redundant neighbours.
``sequential=False`` takes the ``k`` best cells of one pass, like the greedy heuristics.

Large landscapes: up to ``max_whole_cells`` cells (default 1024 x 1024; 64 x 64 for a network with
spatial self-attention, whose memory grows with the square of the cell count) the landscape is
scored **whole**. Beyond that, or when ``tile_size`` is given, it is scored in **tiles with
overlap**: windows of ``tile_size`` cells whose outer ``margin`` cells (the network's receptive
radius, at most a quarter of the tile) are thrown away, so every kept Q-value saw its full
neighbourhood; each window's landscape channels are computed on the window (elevation relative to
the window's mean, as in training). GroupNorm normalises over the whole input, so a tiled pass is
not bit-identical to a whole one; run both on your landscape if it matters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from fuelrl.baselines.base import GreedyPlanner, PlanningProblem, top_k_legal
from fuelrl.errors import InputError

#: landscapes up to this many cells are scored in one pass (networks without attention)
MAX_WHOLE_CELLS = 1024 * 1024
#: the same for networks with spatial self-attention (O(cells^2) memory)
MAX_WHOLE_CELLS_ATTENTION = 64 * 64
#: tile side used when a landscape is too large to score whole
DEFAULT_TILE = 512
DEFAULT_TILE_ATTENTION = 64


def load_agent(checkpoint: str | Path, device: str | torch.device = "cpu") -> Any:
    """The :class:`fuelrl.agents.DQNAgent` of a ``fuelrl fit`` checkpoint, in eval mode on ``device``.

    Raises :class:`InputError` when the file is missing or is not a fuelrl DQN checkpoint.
    """
    from fuelrl.agents import DQNAgent
    from fuelrl.envs.observation import observation_channels

    path = Path(checkpoint)
    if not path.is_file():
        raise InputError(f"checkpoint not found: {path}")
    try:
        agent = DQNAgent.load_from_checkpoint(
            str(path), map_location=torch.device(device), weights_only=False
        )
    except Exception as exc:  # noqa: BLE001 - any failure means "not a checkpoint we can use"
        raise InputError(
            f"{path}: not a fuelrl DQN checkpoint (from `fuelrl fit`): {type(exc).__name__}: {exc}"
        ) from exc
    names = tuple(agent.hparams.get("observation_channels") or ())
    known = {observation_channels(False): False, observation_channels(True): True}
    if names not in known or agent.qnet.in_channels != len(names):
        raise InputError(
            f"{path}: the network reads {agent.qnet.in_channels} observation channels {list(names)}, "
            f"this fuelrl's FireEnv has {list(observation_channels(False))} (+ optional "
            f"{observation_channels(True)[-1]!r}); retrain with this version"
        )
    return agent.eval().to(device)


def uses_dpv_channel(agent: Any) -> bool:
    """Whether the agent's network reads FireEnv's ``dpv/max`` channel (last)."""
    from fuelrl.envs.observation import DPV_CHANNEL

    names = agent.hparams.get("observation_channels") or ()
    return len(names) > 0 and names[-1] == DPV_CHANNEL


def receptive_radius(qnet: Any) -> int:
    """Cells from a cell whose inputs can reach its Q-value: 1 (stem) + 2 x dilation per block."""
    cfg = qnet.config
    return 1 + sum(2 * cfg.dilations[i % len(cfg.dilations)] for i in range(cfg.blocks))


def _windows(n: int, tile: int, margin: int) -> list[tuple[int, int, int, int]]:
    """Along one axis of ``n`` cells: (window start, window end, core start, core end)."""
    if n <= tile:
        return [(0, n, 0, n)]
    core = tile - 2 * margin
    out = []
    for c0 in range(0, n, core):
        c1 = min(n, c0 + core)
        w0 = min(max(c0 - margin, 0), n - tile)
        out.append((w0, w0 + tile, c0, c1))
    return out


class AgentPlanner(GreedyPlanner):
    """Greedy placement by a trained Q-network (see the module docstring).

    Args:
        checkpoint: a ``fuelrl fit`` checkpoint (``*.ckpt``).
        device: where the network runs (default CPU).
        tile_size: score in tiles of this side with overlap; ``None``: whole when it fits.
        max_whole_cells: the largest landscape scored in one pass when ``tile_size`` is None.
        name: the policy's name in reports (default ``agent:<file stem>``).
        sequential: place the breaks between two simulations one network pass at a time (see the
            module docstring); False: the ``k`` best cells of one pass.
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
    ):
        self.checkpoint = Path(checkpoint)
        self.sequential = bool(sequential)
        self.device = torch.device(device)
        self.agent = load_agent(self.checkpoint, self.device)
        self.qnet = self.agent.qnet
        self.dpv_channel = uses_dpv_channel(self.agent)
        attention = bool(self.qnet.config.attention)
        if tile_size is not None and tile_size < 8:
            raise InputError(f"agent tile size must be >= 8 cells, got {tile_size}")
        self.tile_size = tile_size
        self.max_whole_cells = int(
            max_whole_cells or (MAX_WHOLE_CELLS_ATTENTION if attention else MAX_WHOLE_CELLS)
        )
        self.default_tile = DEFAULT_TILE_ATTENTION if attention else DEFAULT_TILE
        self.label = name or f"agent:{self.checkpoint.stem}"

    def plan(self, problem: PlanningProblem):
        plan = super().plan(problem)
        plan.policy = self.label
        return plan

    def layout(self, shape: tuple[int, int]) -> dict[str, Any]:
        """How a landscape of ``shape`` is scored: whole, or tiles (side, margin, count)."""
        h, w = shape
        tile = self.tile_size
        if tile is None and h * w <= self.max_whole_cells:
            return {"mode": "whole", "tile": None, "margin": 0, "windows": 1}
        tile = int(tile or self.default_tile)
        if h <= tile and w <= tile:
            return {"mode": "whole", "tile": None, "margin": 0, "windows": 1}
        margin = min(receptive_radius(self.qnet), tile // 4)
        n = len(_windows(h, tile, margin)) * len(_windows(w, tile, margin))
        return {"mode": "tiled", "tile": tile, "margin": margin, "windows": n}

    def _static_channels(self, landscape: Any, r0: int, r1: int, c0: int, c1: int) -> torch.Tensor:
        from fuelrl.envs.observation import landscape_channels

        def t(name: str, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            arr = np.asarray(getattr(landscape, name))[r0:r1, c0:c1]
            return torch.as_tensor(np.ascontiguousarray(arr)).to(self.device, dtype).unsqueeze(0)

        return landscape_channels(
            burnable=t("burnable", torch.bool),
            valid=t("valid", torch.bool),
            fuel_model=t("fuel_model", torch.int32),
            elevation_m=t("elevation_m"),
            slope_fraction=t("slope_fraction"),
            aspect_deg=t("aspect_deg"),
            canopy_cover_fraction=t("canopy_cover_fraction"),
            canopy_height_m=t("canopy_height_m"),
            canopy_base_height_m=t("canopy_base_height_m"),
            canopy_bulk_density_kg_m3=t("canopy_bulk_density_kg_m3"),
        )

    @torch.no_grad()
    def q_values(
        self,
        landscape: Any,
        breaks: np.ndarray,
        burn_probability: np.ndarray,
        budget_left: float,
        dpv: np.ndarray | None = None,
    ):
        """float64 [H, W] Q-values of every cell for the given state (whole or tiled, see layout).

        ``dpv``: the ``dpv/max`` channel [H, W], required when the network reads it."""
        h, w = landscape.shape
        lay = self.layout((h, w))
        tile = lay["tile"] or max(h, w)
        rows, cols = _windows(h, tile, lay["margin"]), _windows(w, tile, lay["margin"])
        layers = [breaks, burn_probability]
        if self.dpv_channel:
            if dpv is None:
                raise ValueError(f"{self.label} reads the dpv/max channel: pass dpv")
            layers.append(dpv)
        dynamic = torch.stack([torch.as_tensor(np.asarray(x), dtype=torch.float32) for x in layers]).to(
            self.device
        )
        budget = torch.tensor([[float(budget_left)]], device=self.device)
        q = np.zeros((h, w), dtype=np.float64)
        for r0, r1, cr0, cr1 in rows:
            for c0, c1, cc0, cc1 in cols:
                static = self._static_channels(landscape, r0, r1, c0, c1)
                obs = torch.cat([static, dynamic[None, :, r0:r1, c0:c1]], dim=1)
                qw = self.qnet(obs, budget).view(r1 - r0, c1 - c0).double().cpu().numpy()
                q[cr0:cr1, cc0:cc1] = qw[cr0 - r0 : cr1 - r0, cc0 - c0 : cc1 - c0]
        return q

    def scores(self, problem: PlanningProblem, breaks: np.ndarray, placed: int) -> np.ndarray:
        bp, dpv = self._simulated_channels(problem, breaks)
        budget_left = (problem.budget_cells - placed) / problem.budget_cells
        return self.q_values(problem.landscape, breaks, bp, budget_left, dpv=dpv)

    def place(self, problem: PlanningProblem) -> tuple[np.ndarray, int, dict[str, Any]]:
        if not self.sequential:
            return super().place(problem)
        rng = problem.generator(self.salt)
        h, w = problem.shape
        breaks = np.zeros((h, w), dtype=bool)
        order: list[np.ndarray] = []
        placed = recomputes = 0
        while placed < problem.budget_cells:
            bp, dpv = self._simulated_channels(problem, breaks)
            recomputes += 1
            stop = placed + min(problem.recompute_every, problem.budget_cells - placed)
            while placed < stop:
                budget_left = (problem.budget_cells - placed) / problem.budget_cells
                q = self.q_values(problem.landscape, breaks, bp, budget_left, dpv=dpv)
                pick = top_k_legal(q, problem.legal & ~breaks, 1, rng)
                if pick.size == 0:
                    break
                breaks.reshape(-1)[pick] = True
                order.append(pick)
                placed += 1
            if placed < stop:  # no legal cell left
                break
        return (np.concatenate(order) if order else np.zeros(0, np.int64)), recomputes, {"sequential": True}

    def _simulated_channels(self, problem: PlanningProblem, breaks: np.ndarray):
        """Burn probability and (for a DPV network) the ``dpv/max`` channel of the planning fires
        grown with ``breaks``, float64 [H, W] each (``None`` for an unused DPV channel)."""
        result = problem.simulate(breaks)
        valid = np.asarray(problem.landscape.valid)
        bp = result.burn_probability()[0].detach().cpu().numpy()
        bp = np.where(valid, bp, 0.0)
        dpv = None
        if self.dpv_channel:
            from fuelrl.envs.observation import dpv_channel

            dev = problem.tiles.device
            dpv = dpv_channel(
                problem.tiles,
                torch.as_tensor(breaks[None], device=dev),
                problem.scenarios.to(dev),
                result.arrival_min.to(dev),
                problem.backend.options,
                spread=problem.spread_fields(),
            )[0]
            dpv = np.where(valid, dpv.detach().cpu().numpy(), 0.0)
        return bp, dpv
