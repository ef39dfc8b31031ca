"""Local rescoring for the agent planner (:class:`fuelrl.baselines.agent.AgentPlanner`): the
placement loop that keeps each window's :class:`fuelrl.baselines.local_q.LocalQ` between
simulations, refreshes only the cells whose inputs changed, and places an interval's breaks from
one Q map (or, with ``search``, by :mod:`fuelrl.baselines.agent_search`). See the agent module's
docstring for what is held fixed and why the updates are exact."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from fuelrl.baselines import agent_search
from fuelrl.baselines.agent_maps import ArgmaxMap, change_boxes
from fuelrl.baselines.base import PlanningProblem
from fuelrl.baselines.local_q import (
    PRECISIONS,
    LocalQ,
    _one_thread,
    low_precision_copy,
    receptive_radius,
    supports_local_rescoring,
)
from fuelrl.progress import Progress


class LocalPlacement:
    """The local-rescoring half of :class:`fuelrl.baselines.agent.AgentPlanner` (a mixin: it
    reads the planner's network, options and observation methods)."""

    @property
    def layers(self) -> Any:
        """The network whose layers local rescoring runs: the Q-network, or its bfloat16 copy
        (made once per network) with ``precision="bfloat16"``."""
        if self.precision == "float32":
            return self.qnet
        if self._layers is None or self._layers[0] != id(self.qnet):
            self._layers = (id(self.qnet), low_precision_copy(self.qnet, PRECISIONS[self.precision]))
        return self._layers[1]

    @property
    def _block(self) -> int:
        """Changed cells this close (a block side) share one local update."""
        return max(4, (receptive_radius(self.qnet) + 1) // 2)

    @property
    def local(self) -> bool:
        """Whether placement uses local rescoring: asked for, and the network is one :class:`LocalQ`
        replays exactly (checked once per network on a small random input)."""
        if self.rescore != "local":
            return False
        key = id(self.qnet)
        if key not in self._local_checked:
            self._local_checked[key] = supports_local_rescoring(self.qnet) and self._local_matches()
        return self._local_checked[key]

    @torch.no_grad()
    def _local_matches(self) -> bool:
        """Whether :class:`LocalQ` reproduces this network's forward pass (a small random input)."""
        g = torch.Generator().manual_seed(0)
        x = torch.rand(1, self.qnet.in_channels + 1, 20, 23, generator=g).to(self.device)
        x[:, -1] = 0.5  # the budget-left plane is constant
        want = self.qnet(x[:, :-1], x[:, -1, 0, 0].view(1, 1)).view(20, 23)
        got = LocalQ(self.qnet, x.clone()).q
        return bool(torch.allclose(got, want, rtol=1e-4, atol=1e-4 * float(want.abs().max()) + 1e-6))

    def _place_local(self, problem: PlanningProblem, progress: Progress):
        """Local rescoring (``rescore="local"``, see the module docstring)."""
        rng = problem.generator(self.salt)
        h, w = problem.shape
        landscape = problem.landscape
        weather = self.weather_values(problem)
        regions = self.regions((h, w))
        breaks = np.zeros((h, w), dtype=bool)
        available = problem.legal.copy()
        order: list[int] = []
        placed = recomputes = simulations = 0
        kept: list[float] = []  # with search: the blend of each interval's kept candidate
        states: list[tuple[tuple, LocalQ]] = []
        seconds = {"simulation_seconds": 0.0, "whole_pass_seconds": 0.0}
        seconds["search_seconds" if self.search > 1 else "local_update_seconds"] = 0.0
        counts = {"whole_passes": 0, "local_updates": 0, "refreshed_cells": 0}
        while placed < problem.budget_cells:
            t0 = time.perf_counter()
            problem.use_fire_set(recomputes)
            available[...] = problem.legal & ~breaks  # this set's ignitions stay untreated
            bp, dpv = self._simulated_channels(problem, breaks)
            t1 = time.perf_counter()
            simulations += 1 if recomputes == 0 or self.search == 1 else 0  # else: the kept candidate's
            recomputes += 1
            budget_left = (problem.budget_cells - placed) / problem.budget_cells
            score = np.full((h, w), -np.inf)
            fresh = []
            for n, region in enumerate(regions):
                r0, r1, c0, c1, a0, a1, b0, b1 = region
                x = self.network_input(
                    landscape, (r0, r1, c0, c1), breaks, bp, budget_left, dpv=dpv, weather=weather
                )
                state = states[n][1] if states else None
                if state is None or not self._refresh_changed(state, x, counts):
                    state = LocalQ(self.qnet, x, layers=self.layers)
                    counts["whole_passes"] += 1
                fresh.append((region, state))
                q = state.q[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0].double().cpu().numpy()
                score[a0:a1, b0:b1] = self._rank(q, available, a0, a1, b0, b1)
            states = fresh
            stop = placed + min(problem.recompute_every, problem.budget_cells - placed)
            t2 = time.perf_counter()
            if self.search > 1:
                found = agent_search.search_interval(
                    problem, score, self._rank(dpv, available, 0, h, 0, w), breaks, available,
                    stop - placed, self.search, recomputes, rng,
                )
                if found is None:  # no legal cell left
                    break
                blend, pick, used = found
                simulations += used
                kept.append(round(blend, 3))
                order.extend(int(i) for i in pick)
                progress.update(len(pick))
                placed += len(pick)
            else:
                best = ArgmaxMap(score, rng.permutation(h * w))
                with _one_thread(self.device):
                    placed = self._local_interval(
                        states, best, breaks, available, order, placed, stop, progress, counts
                    )
            seconds["simulation_seconds"] += t1 - t0
            seconds["whole_pass_seconds"] += t2 - t1
            placing = "search_seconds" if self.search > 1 else "local_update_seconds"
            seconds[placing] += time.perf_counter() - t2
            if placed < stop:  # no legal cell left
                break
        info = {
            "sequential": True,
            "rescore": "local",
            "breaks_per_update": self.breaks_per_update,
            "network_passes": counts["whole_passes"],
            "intervals": recomputes,
            **counts,
            **{k: round(v, 3) for k, v in seconds.items()},
        }
        if self.search > 1:
            info.update(search=self.search, search_kept_blend=kept, search_kept_agent=kept.count(0.0))
        return np.asarray(order, dtype=np.int64), simulations, info

    def _refresh_changed(self, state: LocalQ, x: torch.Tensor, counts: dict[str, int]) -> bool:
        """Bring ``state`` to the new observation ``x`` of its window by refreshing only the cells
        whose inputs changed (GroupNorm statistics and budget_left held from its whole pass); False
        (nothing done) when they cover more than ``refresh_limit`` of the window: a whole pass is due."""
        changed = (x[0, :-1] != state.x_in[0, :-1]).any(0).cpu().numpy()
        boxes = change_boxes(changed, self._block)
        area = sum((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in boxes)
        if area > self.refresh_limit * changed.size:
            return False
        state.x_in[0, :-1] = x[0, :-1]
        with _one_thread(self.device):
            for box in boxes:
                state.refresh(box)
        counts["local_updates"] += len(boxes)
        counts["refreshed_cells"] += int(area)
        return True

    def _local_interval(self, states, best, breaks, available, order, placed, stop, progress, counts) -> int:
        """Place breaks until ``stop`` (or no legal cell is left), ``breaks_per_update`` at a time:
        the best cells of the current Q map, then the local update of every window holding them (one
        refresh per cluster of nearby breaks). Returns the count of breaks placed so far."""
        w = breaks.shape[1]
        break_ch = self.channels.index("break")
        m = self.breaks_per_update or (stop - placed)
        while placed < stop:
            picks = best.pop_many(min(m, stop - placed))
            if not picks:
                break
            for r, c in picks:
                breaks[r, c] = True
                available[r, c] = False
                order.append(r * w + c)
            placed += len(picks)
            progress.update(len(picks))
            if placed == stop:
                break  # the next simulation rescores everything
            for (r0, r1, c0, c1, a0, a1, b0, b1), state in states:
                mine = [(r - r0, c - c0) for r, c in picks if r0 <= r < r1 and c0 <= c < c1]
                if not mine:
                    continue
                rows, cols = np.array([p[0] for p in mine]), np.array([p[1] for p in mine])
                state.x_in[0, break_ch, rows, cols] = 1.0
                mask = np.zeros((r1 - r0, c1 - c0), dtype=bool)
                mask[rows, cols] = True
                for box in change_boxes(mask, self._block):
                    q0, q1, p0, p1 = state.refresh(box)
                    counts["local_updates"] += 1
                    # the changed box, in landscape coordinates, within this window's core
                    g0, g1 = max(q0 + r0, a0), min(q1 + r0, a1)
                    e0, e1 = max(p0 + c0, b0), min(p1 + c0, b1)
                    if g0 < g1 and e0 < e1:
                        q = state.q[g0 - r0 : g1 - r0, e0 - c0 : e1 - c0].double().cpu().numpy()
                        best.set(g0, g1, e0, e1, self._rank(q, available, g0, g1, e0, e1))
        return placed
