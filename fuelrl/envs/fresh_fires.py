"""Fresh fires (``EnvConfig.fresh_fires``): new observed fires at every simulation of an episode.

``fuelrl plan`` / ``evaluate`` with ``--fresh-fires`` grow a new set of planning fires at every
recomputation of a greedy planner (new ignition cells, the same weather;
:meth:`fuelrl.baselines.base.PlanningProblem.use_fire_set`). With ``fresh_fires`` FireEnv does the
same at every simulation of a step (every ``simulate_every`` steps and at the episode's end): the
F fires of each simulated tile get new ignition cells, drawn like the episode's first ones (on the
untreated burnable cells, by the episode's ignition weight) from the env's generator, and keep
their weather, so the observation's weather planes do not change. The new ignitions are then the
protected cells (with ``protect_ignitions``; the previous ones become available again), and the
reward is measured on the new set: its expected loss with the breaks of the tile's previous
simulation minus that with the current breaks (one extra simulation per interval). The rewards of
an episode then sum to the fraction saved *in expectation* only: each interval's drop is measured
on its own set, and the sets are drawn where no break stands yet, so the sum does not telescope to
``(E[loss | no breaks] - E[loss | final breaks]) / total`` on any one set.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from fuelrl.envs.expert import prepare_slots


def expected_loss(result: Any, values: torch.Tensor | None, device: torch.device) -> torch.Tensor:
    """float64 [n]: the objective of grown fires, their mean burned area (ha) or, with ``values``
    [n, H, W], their mean value burned."""
    if values is None:
        return result.burned_ha.to(device, torch.float64).mean(dim=1)
    burned = result.burned.to(device, torch.float64)
    return (burned * values[:, None].double()).sum((-2, -1)).mean(1)


class FreshFires:
    """What a :class:`~fuelrl.envs.fire_env.FireEnv` with ``fresh_fires`` keeps per tile besides
    its state (the untreatable cells, the ignition weight, the breaks of the last simulation), and
    :meth:`renew`, which draws the next fire set into the env's state (module docstring)."""

    def __init__(self, cfg: Any, device: torch.device):
        shape = (int(cfg.batch_size), int(cfg.tile_size), int(cfg.tile_size))
        self.untreatable = torch.zeros(shape, dtype=torch.bool, device=device)
        self.weight = torch.zeros(shape, dtype=torch.float64, device=device) if cfg.ignition_density else None
        self.breaks = torch.zeros(shape, dtype=torch.bool, device=device)  # at the last simulation

    def start(self, slots: torch.Tensor, treatable: torch.Tensor | None, weight: np.ndarray | None) -> None:
        """New episodes on ``slots``: their treatable mask [n, H, W] (None: all) and ignition weight
        [n, H, W] (None: uniform); the reset's simulation is without breaks."""
        dev = self.untreatable.device
        self.untreatable[slots] = False if treatable is None else ~treatable.to(dev, torch.bool)
        if self.weight is not None and weight is not None:
            self.weight[slots] = torch.as_tensor(np.asarray(weight, dtype=np.float64), device=dev)
        self.breaks[slots] = False

    def renew(self, env: Any, slots: torch.Tensor) -> torch.Tensor:
        """Give the fires of ``slots`` (sorted int64 [n]) of ``env`` new ignition cells, protect
        them, update the prepared fires, and return the new set's expected loss (float64 [n], as
        :func:`expected_loss`) with the breaks of the slots' previous simulation."""
        dev = env.sim_device
        breaks, burnable = env._breaks[slots], env._burnable[slots]
        ignition = self._draw(env, slots, burnable & ~breaks)
        env._scenarios.ignition_cell[slots] = ignition

        protected = self.untreatable[slots].flatten(1).clone()
        if env.config.protect_ignitions:
            ign = protected.clone().scatter_(1, ignition, True)
            # a tile where the new ignitions would leave fewer cells than the budget left (budgets
            # near 1) keeps them treatable, so that its episode can still end
            left = env._budget_cells[slots] - env._placed[slots]
            fits = (burnable.flatten(1) & ~breaks.flatten(1) & ~ign).sum(1) >= left
            protected = torch.where(fits[:, None], ign, protected)
        env._protected[slots] = protected.view_as(burnable)

        prepared = env._prepared
        if prepared.state is None:  # the spread fields depend on the tiles and weather only
            at = prepared.scenarios.ignition_cell.device
            env._prepared = replace(prepared, scenarios=env._scenarios.to(at))
        else:  # a backend's private per-tile state: prepare those tiles afresh
            env._prepared = prepare_slots(env.backend, prepared, env._tiles, env._scenarios, slots)
        prepared = env._prepared if len(slots) == env.config.batch_size else env._prepared.index(slots)
        result = env.backend.simulate_prepared(prepared, self.breaks[slots])
        values = None if env._values is None else env._values[slots]
        self.breaks[slots] = breaks
        return expected_loss(result, values, dev)

    def _draw(self, env: Any, slots: torch.Tensor, open_cells: torch.Tensor) -> torch.Tensor:
        """int64 [n, F]: new ignition cells on ``open_cells`` [n, H, W] (the untreated burnable
        cells) by the slots' ignition weight, with the env's fire source and generator. A tile
        without such a cell of positive weight draws uniformly on them (or, none left, on all its
        burnable cells)."""
        w = open_cells.double() if self.weight is None else open_cells * self.weight[slots]
        for fallback in (open_cells, env._burnable[slots]):
            empty = w.flatten(1).sum(1) <= 0
            if bool(empty.any()):
                w[empty] = fallback[empty].double()
        weight = None if self.weight is None else w.cpu()
        fires = env.fire_source.draw((w > 0).cpu(), env.rng, weight)
        return fires.ignition_cell.to(env.sim_device)
