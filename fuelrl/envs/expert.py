"""Expert labels for imitation: the cell a DPV-greedy planner that regrows the fires after every
break would treat next (``EnvConfig.expert: "dpv"``), and the DPV map behind it.

That planner (``fuelrl plan --policy dpv --recompute-every 1``) is a stronger teacher than the
default ``dpv`` policy, which regrows the fires only about 20 times per plan: on TestMTT 19545 it
burns about 10% less (docs/evaluation.md). A network trained to pick its cell from the *stale*
observation an agent sees between two simulations (``simulate_every`` > 1) can capture part of
that gain at the cost of the cheap schedule: the idea of expert iteration and of DQfD's
large-margin loss on demonstrations (Hester et al. 2018, "Deep Q-learning from demonstrations",
AAAI; :func:`fuelrl.agents.losses.large_margin_loss`).

**The teacher's own fires** (``EnvConfig.expert_fires`` = N > 0, :class:`TeacherFires`). By
default the teacher grows the episode's own F fires, the ones the observation shows; right after
a simulation its DPV map is then the ``dpv/max`` input itself, so a DPV-residual network learns
no correction at the states where a planner takes a whole interval's breaks. With N > 0 the
teacher grows N fires of its own, drawn per episode from the same ignition and weather
distributions (with ``weather_per_tile``: the tile's weather) and never observed: the target is
the DPV of fires the agent does not see, as plans are scored on held-out fires, so the network
learns where the fires it has not seen would go from the landscape, the weather and the DPV of
the few it has.

**The teacher's next interval** (``EnvConfig.expert_lookahead``, :func:`lookahead_set`). A planner
that takes all k breaks of a simulation interval from one Q map (fuelrl's agent planner, by
default) decides at the states right after a simulation, where the fresh DPV map is the input.
There the target is the *set* of k cells the every-break teacher would treat over the interval,
each chosen after regrowing the fires with the ones before it: cells that complete a barrier
rather than DPV's top k, which cluster on one fire path (docs/pretrained.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

import torch

from fuelrl.simulators.base import ScenarioSet
from fuelrl.simulators.trees import dpv


def greedy_labels(score: torch.Tensor, available: torch.Tensor) -> torch.Tensor:
    """int64 [B]: per tile, the available cell of highest ``score`` (float [B, H, W] or [B, N]).

    ``available``: bool [B, N]. Ties go to the lowest cell index (deterministic). -1 where no
    available cell has a positive score (no fire reaches one: there is nothing to imitate).
    """
    flat = score.reshape(score.shape[0], -1).double()
    masked = torch.where(available, flat, -torch.inf)
    best, idx = masked.max(dim=1)
    return torch.where(best > 0, idx, torch.full_like(idx, -1))


def lookahead_set(
    score: torch.Tensor,
    available: torch.Tensor,
    breaks: torch.Tensor,
    count: torch.Tensor,
    regrow: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """bool [n, A]: the cells the every-break DPV teacher treats next, ``count`` [n] per tile.

    ``score`` [n, H, W]: the teacher's DPV map with the current ``breaks`` (bool [n, H, W]);
    ``available`` bool [n, A]. Each pick is the available cell of highest score
    (:func:`greedy_labels`); then ``regrow(breaks with the picks so far)`` gives the next map
    (a simulation and DPV trees). A tile stops early where no fire reaches an available cell.
    """
    n = score.shape[0]
    chosen = torch.zeros_like(available)
    breaks = breaks.clone().reshape(n, -1)
    available = available.clone()
    rows = torch.arange(n, device=available.device)
    steps = int(count.max()) if n else 0
    for j in range(steps):
        pick = greedy_labels(score, available)
        ok = (pick >= 0) & (count > j)
        if not bool(ok.any()):
            break
        r, c = rows[ok], pick[ok]
        chosen[r, c] = True
        breaks[r, c] = True
        available[r, c] = False
        if j + 1 < steps:
            score = regrow(breaks.view_as(score))
    return chosen


def prepare_slots(backend: Any, prepared: Any, tiles: Any, scenarios: ScenarioSet, slots: torch.Tensor):
    """``backend.prepare`` of the fires ``scenarios`` [B, F] on ``tiles`` for the slots ``slots``
    (sorted int64 [n]): the whole batch when all B are new (or nothing was prepared yet), else
    ``prepared`` with those slots replaced (the other tiles keep their precomputation)."""
    if prepared is None or len(slots) == tiles.shape[0]:
        return backend.prepare(tiles, scenarios)
    return prepared.update(slots, backend.prepare(tiles.index(slots), scenarios.index(slots)))


class TeacherFires:
    """The teacher's own N fires per tile (``EnvConfig.expert_fires``; module docstring): drawn
    at each episode's reset with their own scenario sampler (seed 1, a stream from the env's
    generator), prepared once per episode, grown with the current breaks for every label."""

    def __init__(self, cfg: Any, backend: Any, batch_size: int, device: torch.device):
        from fuelrl.envs.sources import FireSource

        self.source = FireSource(cfg, fires=cfg.expert_fires, seed=1)
        self.backend = backend
        self.scenarios = ScenarioSet.zeros(batch_size, cfg.expert_fires, device)
        self.prepared = None
        self.guard_cells = int(cfg.expert_ignition_guard_cells)

    def draw(
        self,
        slots: torch.Tensor,
        tiles: Any,
        burnable: torch.Tensor,
        observed: ScenarioSet,
        generator: torch.Generator,
        ignition_weight: Any = None,
    ) -> None:
        """New teacher fires for ``slots`` on their (already written) ``tiles`` [B]: ignitions on
        ``burnable`` [n, H, W] by ``ignition_weight``; with ``weather_per_tile`` the weather of the
        slots' ``observed`` fires [n, F] (the tile's weather), else drawn as theirs are."""
        from fuelrl.envs.sources import share_weather

        fires = self.source.draw(burnable.cpu(), generator, ignition_weight)
        if self.source.weather_per_tile:
            share_weather(fires, observed)
        dev = self.scenarios.ignition_cell.device
        for f in fields(ScenarioSet):
            getattr(self.scenarios, f.name)[slots] = getattr(fires, f.name).to(dev)
        self.prepared = prepare_slots(self.backend, self.prepared, tiles, self.scenarios, slots)

    def dpv_ha(self, slots: torch.Tensor, breaks: torch.Tensor) -> torch.Tensor:
        """float64 [n, H, W]: the DPV (ha per fire) of the teacher fires of ``slots`` grown with
        ``breaks`` [n, H, W], each fire's value at its own ignition cell left out (there a break
        would "stop" a fire that starts wherever it likes: a spike at N random cells that no input
        predicts; the cell keeps what the other fires route through it), and with
        ``expert_ignition_guard_cells`` = N its value within N cells of it."""
        b = self.scenarios.ignition_cell.shape[0]
        prepared = self.prepared if len(slots) == b else self.prepared.index(slots)
        result = self.backend.simulate_prepared(prepared, breaks)
        arrival = result.arrival_min.to(breaks.device)
        value = dpv(prepared, breaks, arrival, without_ignitions=True, ignition_guard_cells=self.guard_cells)
        return value.to(breaks.device)
