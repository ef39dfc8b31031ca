"""The pipeline the built-in backends share: weather groups -> spread rates -> edge times -> solve.

A backend differs only in how it solves the corner graph and where it runs:

* :func:`solve_fires_dijkstra` (numpy backend): scipy Dijkstra per fire, float64.
* :func:`solve_fires_relax` (threaded and torch backends): batched min-plus relaxation of a chunk
  of fires, numpy (threads) or torch (any device), float32 by default.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from fuelrl.simulators.base import (
    PreparedFires,
    ScenarioSet,
    SimulationOptions,
    SimulationResult,
    SimulatorBackend,
    TileBatch,
)
from fuelrl.simulators.fields import PhysicsFormat, SpreadFields
from fuelrl.simulators.mtt import PAD, cell_arrival, corner_limit_min, edge_times, ignition_corners
from fuelrl.simulators.solvers import corner_graph, pull_weights, relax_min_plus, solve_dijkstra
from fuelrl.simulators.spread import (
    PREPARE_MAX_MB,
    WeatherGroups,
    group_inverse_ros,
    prepare_spread,
    weather_groups,
)

#: the owner of the built-in backends' PreparedFires: they reuse ``spread`` only from each other
BUILTIN_OWNER = "fuelrl.builtin"

#: the numpy solvers' format (the relaxation and edge times in float32)
NUMPY_F32 = PhysicsFormat(np, torch.float32)

#: edge times per relaxation batch on a CPU: fires with their own weather are batched so that
#: their edge times stay about this size (beyond the L2 cache the relaxation is memory-bound)
CPU_CACHE_BYTES = 4 * 2**20


@dataclass
class FirePlan:
    """The fires of one ``simulate`` call, flattened to N = B * F, with their weather groups."""

    groups: WeatherGroups
    ignition_cell: np.ndarray  # [N] flat cell index in its tile
    duration_min: np.ndarray  # [N] float64
    shape: tuple[int, int, int, int]  # B, F, H, W

    @classmethod
    def build(cls, tiles: TileBatch, scenarios: ScenarioSet) -> FirePlan:
        b, h, w = tiles.shape
        _, f = scenarios.shape
        return cls(
            groups=weather_groups(scenarios),
            ignition_cell=scenarios.ignition_cell.detach().cpu().numpy().reshape(-1).astype(np.int64),
            duration_min=scenarios.duration_min.detach().cpu().double().numpy().reshape(-1),
            shape=(b, f, h, w),
        )

    @property
    def n_fires(self) -> int:
        return self.shape[0] * self.shape[1]

    def chunks(self, max_fires: int) -> list[np.ndarray]:
        """Flat fire indices in chunks of at most ``max_fires``: fires of one group kept together
        as far as the size allows (so their spread field is computed once), and within a group
        ordered by ignition row then column (so a chunk's fires are near each other and its
        solution window small)."""
        w = self.shape[3]
        rows, cols = self.ignition_cell // w, self.ignition_cell % w
        order = np.lexsort((cols, rows, self.groups.group_of_fire.reshape(-1)))
        max_fires = max(1, int(max_fires))
        return [order[i : i + max_fires] for i in range(0, order.size, max_fires)]


def _start_corners(
    plan: FirePlan, fire_idx: np.ndarray, burnable: np.ndarray, local: np.ndarray
) -> np.ndarray:
    """[n, H+1, W+1] float32: 0 at the 4 corners of each fire's ignition cell, inf elsewhere; a fire
    whose ignition cell cannot burn (non-burnable or treated) gets no start corners."""
    _, _, h, w = plan.shape
    start = np.full((fire_idx.size, (h + 1) * (w + 1)), np.inf, dtype=np.float32)
    for i, fire in enumerate(fire_idx):
        cell = int(plan.ignition_cell[fire])
        r, c = divmod(cell, w)
        if burnable[local[i], r, c]:
            start[i, list(ignition_corners(cell, w))] = 0.0
    return start.reshape(fire_idx.size, h + 1, w + 1)


def solve_fires_dijkstra(
    tiles: TileBatch,
    breaks: torch.Tensor,
    plan: FirePlan,
    fire_idx: np.ndarray,
    options: SimulationOptions,
    spread: SpreadFields | None = None,
) -> np.ndarray:
    """Cell arrival times [n, H, W] (float32, min) of the fires ``fire_idx`` with scipy's Dijkstra.

    ``spread``: the tiles' prepared spread fields (:func:`~fuelrl.simulators.spread.prepare_spread`),
    or ``None`` to run the physics here."""
    _, _, h, w = plan.shape
    gids = plan.groups.group_of_fire.reshape(-1)[fire_idx]
    unique, local = np.unique(gids, return_inverse=True)
    physics = PhysicsFormat.for_device("cpu")
    inv, burn = group_inverse_ros(tiles, breaks, plan.groups, unique, options, physics, spread=spread)
    times = edge_times(inv, tiles.cell_size_m)
    graph = corner_graph(h, w)
    out = np.full((fire_idx.size, h, w), np.inf, dtype=np.float32)
    matrices: dict[int, Any] = {}
    for i, fire in enumerate(fire_idx):
        g = int(local[i])
        cell = int(plan.ignition_cell[fire])
        if not burn[g, cell // w, cell % w]:
            continue
        if g not in matrices:
            matrices[g] = graph.matrix(times[g])
        duration = float(plan.duration_min[fire])
        corners = solve_dijkstra(matrices[g], ignition_corners(cell, w), corner_limit_min(duration), (h, w))
        out[i] = cell_arrival(corners, burn[g], duration)
    return out


def spread_fields(
    tiles: TileBatch,
    breaks: torch.Tensor,
    plan: FirePlan,
    group_ids: np.ndarray,
    options: SimulationOptions,
    solver: PhysicsFormat,
    *,
    physics_dtype: torch.dtype = torch.float64,
    spread: SpreadFields | None = None,
) -> tuple[Any, Any]:
    """Edge times [G', 16, H+1, W+1] and burnable cells [G', H, W] of the weather groups ``group_ids``,
    in the ``solver``'s format (numpy float32 for the CPU solvers; torch tensors on the tiles'
    device in the relaxation's dtype for the torch backend).

    The physics runs in :meth:`PhysicsFormat.for_device` of the solver's device (numpy float64 on
    a CPU, torch ``physics_dtype`` elsewhere). It stays in float64 by default: its thresholds
    (crown fire initiation, the wind limit) turn a float32 rounding into a spread rate several
    times larger in a few cells, which would break the agreement between backends. Edge times and
    the relaxation are safe in float32. ``spread``: the tiles' prepared spread fields; only the
    break cells are then recomputed.
    """
    physics = PhysicsFormat.for_device(solver.device, physics_dtype)
    inv, burn = group_inverse_ros(tiles, breaks, plan.groups, group_ids, options, physics, spread=spread)
    times = edge_times(inv, tiles.cell_size_m)
    return solver.asarray(times), solver.asarray(burn, bool)


def solve_fires_relax(
    tiles: TileBatch,
    breaks: torch.Tensor,
    plan: FirePlan,
    fire_idx: np.ndarray,
    options: SimulationOptions,
    solver: PhysicsFormat,
    *,
    physics_dtype: torch.dtype = torch.float64,
    window_margin: int = 32,
    fields: tuple[Any, Any, np.ndarray] | None = None,
) -> Any:
    """Cell arrival times [n, H, W] of the fires ``fire_idx`` by batched min-plus relaxation, an
    array of the ``solver`` format (numpy float32, or tensors on the tiles' device). The spread
    fields come from :func:`spread_fields` (computed here, or given as ``fields = (times, burn,
    group_ids)`` when the caller shares them between calls).

    Each fire is solved on its own window around its ignition (``window_margin`` cells each side),
    grown until exact (see :func:`_solve_fire_windows`); fires of one weather group are batched
    on edge times that are broadcast rather than copied.
    """
    _, _, h, w = plan.shape
    gids = plan.groups.group_of_fire.reshape(-1)[fire_idx]
    if fields is None:
        unique, local = np.unique(gids, return_inverse=True)
        times, burn = spread_fields(tiles, breaks, plan, unique, options, solver, physics_dtype=physics_dtype)
    else:
        times, burn, group_ids = fields
        unique = np.asarray(group_ids)
        local = np.searchsorted(unique, gids)
        if not np.array_equal(unique[local], gids):
            raise ValueError("fields do not cover the weather groups of these fires")
    start_full = _start_corners(plan, fire_idx, solver.to_numpy(burn), local)  # [n, H+1, W+1] numpy
    out = solver.full((fire_idx.size, h, w), math.inf, dtype=None if solver.is_numpy else torch.float32)
    lit = np.flatnonzero(np.isfinite(start_full).any(axis=(1, 2)))
    if lit.size == 0:
        return out
    # fires sharing a weather group are solved together, on edge times that can be broadcast
    present = np.unique(local[lit])
    key = local[lit] if lit.size >= 4 * present.size else np.zeros(lit.size, np.int64)
    batches = [lit[key == k] for k in np.unique(key)]
    if solver.device.type == "cpu":
        # fires with their own edge times: sub-batches whose edge times fit in a CPU cache (the
        # relaxation is memory-bound once they do not)
        per_fire = 16 * (h + 1) * (w + 1 + 2 * PAD) * 4
        most = max(1, CPU_CACHE_BYTES // per_fire)
        split: list[np.ndarray] = []
        for sel in batches:
            if np.unique(local[sel]).size > 1:
                split += [sel[i : i + most] for i in range(0, sel.size, most)]
            else:
                split.append(sel)
        batches = split
    for sel in batches:
        groups_here = np.unique(local[sel])
        one = groups_here.size == 1
        g0 = int(groups_here[0])
        _solve_fire_windows(
            times[g0 : g0 + 1] if one else times,
            burn[g0 : g0 + 1] if one else burn,
            start_full[sel],
            np.zeros(sel.size, np.int64) if one else local[sel],
            plan.ignition_cell[fire_idx[sel]],
            plan.duration_min[fire_idx[sel]],
            out,
            sel,
            solver,
            margin=max(1, int(window_margin)),
        )
    return out


def _solve_fire_windows(
    times: Any,
    burn: Any,
    start_full: np.ndarray,
    local: np.ndarray,
    cells: np.ndarray,
    duration: np.ndarray,
    out: Any,
    out_rows: np.ndarray,
    fmt: PhysicsFormat,
    *,
    margin: int,
) -> None:
    """Relax fires each on its own window around its ignition, growing the windows of the fires
    that reach their border until none does; writes cell arrival times into ``out[out_rows]``.

    A window is a square of 2 x margin + 1 cells (clamped to the tile). A fire none of whose reached
    corners lies on an inner border of its window (one that is not the tile's border) has its exact
    answer: no path within the horizon leaves the window. The others are redone on windows of
    twice the margin, warm-started from the smaller window's times (lengths of real paths, hence
    upper bounds, from which the relaxation converges to the same fixed point). When the window is
    the whole tile and the fires share one weather group, the edge times are broadcast, not copied.
    Arrays are of ``fmt`` (the solver's format), relaxed in its dtype.
    """
    h, w = burn.shape[-2:]
    rows, cols = cells // w, cells % w
    limit = duration * corner_limit_min(1.0)
    todo = np.arange(cells.size)
    warm: tuple[np.ndarray, np.ndarray, Any] | None = None
    while todo.size:
        sh, sw = min(h, 2 * margin + 1), min(w, 2 * margin + 1)
        full = sh == h and sw == w
        r0 = np.clip(rows[todo] - margin, 0, h - sh)
        c0 = np.clip(cols[todo] - margin, 0, w - sw)
        grp = local[todo]
        if full and times.shape[0] == 1:
            pulled = pull_weights(times)
        else:
            crops = [times[g, :, a : a + sh + 1, b : b + sw + 1] for g, a, b in zip(grp, r0, c0, strict=True)]
            pulled = pull_weights(fmt.stack(crops))
        start = np.stack(
            [start_full[f, a : a + sh + 1, b : b + sw + 1] for f, a, b in zip(todo, r0, c0, strict=True)]
        )
        start = fmt.asarray(start)
        if warm is not None:
            pr0, pc0, prev = warm
            ph, pw = prev.shape[-2:]
            for j in range(todo.size):
                dr, dc = pr0[j] - r0[j], pc0[j] - c0[j]
                start[j, dr : dr + ph, dc : dc + pw] = prev[j]
        corners, _ = relax_min_plus(pulled, start, fmt.asarray(limit[todo]))
        if full:
            touched = np.zeros(todo.size, bool)
        else:
            fin = fmt.xp.isfinite(corners)
            touched = (
                (fmt.any_along(fin[:, 0, :], 1) & (r0 > 0))
                | (fmt.any_along(fin[:, -1, :], 1) & (r0 + sh < h))
                | (fmt.any_along(fin[:, :, 0], 1) & (c0 > 0))
                | (fmt.any_along(fin[:, :, -1], 1) & (c0 + sw < w))
            )
        done = np.flatnonzero(~touched)
        if done.size:
            burn_w = fmt.stack([burn[grp[j], r0[j] : r0[j] + sh, c0[j] : c0[j] + sw] for j in done])
            dur = fmt.asarray(duration[todo[done]]).reshape(-1, 1, 1)
            arr = cell_arrival(corners[fmt.asarray(done, int)], burn_w, dur)
            for k, j in enumerate(done):
                out[int(out_rows[todo[j]]), r0[j] : r0[j] + sh, c0[j] : c0[j] + sw] = arr[k]
        again = np.flatnonzero(touched)
        if again.size == 0:
            break
        warm = (r0[again], c0[again], corners[fmt.asarray(again, int)])
        todo = todo[again]
        margin *= 2


def result_from_arrival(arrival_min: Any, cell_area_ha: float) -> SimulationResult:
    """Wrap arrival times [B, F, H, W] (numpy or torch) with their burned area in ha."""
    arrival = torch.as_tensor(arrival_min)
    if arrival.dtype != torch.float32:
        arrival = arrival.float()
    burned_ha = (arrival < math.inf).sum(dim=(-2, -1)).to(torch.float64) * cell_area_ha
    return SimulationResult(arrival_min=arrival, burned_ha=burned_ha.float())


def empty_result(plan: FirePlan, device: torch.device) -> SimulationResult:
    b, f, h, w = plan.shape
    return SimulationResult(
        arrival_min=torch.full((b, f, h, w), math.inf, device=device),
        burned_ha=torch.zeros((b, f), device=device),
    )


def prepare_fires(
    backend: SimulatorBackend,
    tiles: TileBatch,
    scenarios: ScenarioSet,
    physics: PhysicsFormat,
    *,
    max_mb: float = PREPARE_MAX_MB,
) -> PreparedFires:
    """:meth:`SimulatorBackend.prepare` of the built-in backends: ``tiles`` and ``scenarios`` (on
    the backend's device) with the spread fields of their weather groups without breaks, in the
    ``physics`` format, as :attr:`PreparedFires.spread` (``None`` beyond ``max_mb``)."""
    sb, _ = scenarios.shape
    if sb != tiles.shape[0]:
        from fuelrl.errors import InputError

        raise InputError(f"scenarios are for {sb} tiles but the batch holds {tiles.shape[0]}")
    tiles, scenarios = tiles.to(backend.device), scenarios.to(backend.device)
    spread = prepare_spread(tiles, scenarios, backend.options, physics, max_mb=max_mb)
    return PreparedFires(
        tiles=tiles, scenarios=scenarios, options=backend.options, owner=BUILTIN_OWNER, spread=spread
    )


def reusable_spread(prepared: PreparedFires, physics: PhysicsFormat) -> SpreadFields | None:
    """The spread fields a built-in backend whose physics runs in ``physics`` reuses: those a
    built-in backend prepared in that format (fields in another dtype or device are ignored, not
    converted: float32 fields would move crown-fire thresholds)."""
    spread = prepared.spread
    if prepared.owner != BUILTIN_OWNER or spread is None or spread.format != physics:
        return None
    return spread


class BuiltinBackend(SimulatorBackend):
    """What the built-in backends share: ``simulate``, ``prepare`` and ``simulate_prepared`` all
    check and move the inputs to the device, plan the fires and wrap the arrival times the same
    way (:meth:`_run`); a subclass implements only :meth:`_solve`, given the spread fields to
    reuse (prepared) or ``None`` (compute them). The physics runs in :meth:`physics_format`
    (numpy float64 on a CPU; the torch backend overrides it on a GPU). They take gridded weather
    (per-cell fields of the tiles, read by :func:`~fuelrl.simulators.spread.inverse_ros`)."""

    gridded_weather = True

    def physics_format(self) -> PhysicsFormat:
        return PhysicsFormat.for_device(self.device)

    def simulate(self, tiles: TileBatch, breaks: torch.Tensor, scenarios: ScenarioSet) -> SimulationResult:
        return self._run(tiles, breaks, scenarios, None)

    def prepare(self, tiles: TileBatch, scenarios: ScenarioSet) -> PreparedFires:
        """Compute the spread fields without breaks once (see :class:`PreparedFires`)."""
        with torch.no_grad():
            return prepare_fires(self, tiles, scenarios, self.physics_format())

    def simulate_prepared(self, prepared: PreparedFires, breaks: torch.Tensor) -> SimulationResult:
        self.check_prepared(prepared)
        spread = reusable_spread(prepared, self.physics_format())
        return self._run(prepared.tiles, breaks, prepared.scenarios, spread)

    def _run(
        self, tiles: TileBatch, breaks: torch.Tensor, scenarios: ScenarioSet, spread: SpreadFields | None
    ) -> SimulationResult:
        self.check_inputs(tiles, breaks, scenarios)
        tiles, breaks, scenarios = tiles.to(self.device), breaks.to(self.device), scenarios.to(self.device)
        plan = FirePlan.build(tiles, scenarios)
        if plan.n_fires == 0:
            return empty_result(plan, self.device)
        b, f, h, w = plan.shape
        with torch.no_grad():
            arrival = self._solve(tiles, breaks, plan, spread)
        return result_from_arrival(arrival.reshape(b, f, h, w), tiles.cell_area_ha)

    @abc.abstractmethod
    def _solve(
        self, tiles: TileBatch, breaks: torch.Tensor, plan: FirePlan, spread: SpreadFields | None
    ) -> Any:
        """Arrival times [B * F, H, W] (numpy float32 or a float32 tensor on the device) of the
        fires of ``plan``, reusing ``spread`` (per tile, without breaks) when it is given."""
