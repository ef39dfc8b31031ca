"""Minimum-travel-time trees of simulated fires and the downstream protection value (DPV) of cells.

A fire grown by minimum travel time (Finney 2002, Can. J. For. Res. 32: 1420-1424) reaches every
burned cell along a fastest path from the ignition; the last step of that path is the cell's
*predecessor*, and the predecessors form a tree rooted at the ignition (the fire's MTT tree). A
cell's subtree is the part of the fire that arrived *through* it: treating the cell (if the fire
could not route around it) would have saved that subtree. The downstream protection value is the
value of that subtree, averaged over a set of fires:

    DPV(c) = (1 / F) sum_f sum_{j in subtree_f(c)} v(j)

with ``v`` the value of a burned cell (its area in ha by default, so DPV is the expected area, ha
per fire, whose fire arrival passes through ``c``). This is the "fire-path" idea of Finney (2007,
"A computational method for optimising fuel treatment locations", Int. J. Wildland Fire 16:
702-711), made into the DPV heuristic by Thompson and colleagues and used as the heuristic baseline
of Murray et al. (2025, "Deep reinforcement learning for firebreak placement").

This module is the simulator-level core, used by the greedy DPV planner
(:class:`fuelrl.baselines.DPVPlanner`) and by FireEnv's optional ``dpv`` observation channel.

The trees are derived from any backend's cell arrival times (no backend has to expose its
internals): for each burned cell ``i`` and each of its 16 neighbours ``j`` (the MTT stencil: axial,
diagonal and knight moves) that burned strictly earlier, the candidate arrival through ``j`` is
``t_j + tau(j -> i)``, where ``tau`` is the travel time between the two cell centres along the
straight segment, integrating 1 / ROS in the segment's direction over the cells it crosses
(spread rates from :func:`fuelrl.simulators.spread.inverse_ros`, the physics every built-in
backend uses). The predecessor is the candidate of least arrival. Requiring ``t_j < t_i`` makes the
result a forest (no cycles) whatever the rounding; a cell with no earlier neighbour (the ignition
cell) is a root.

**Cost follows what burns.** A fire's tree only involves its burned cells and the segments between
them, all inside the bounding box of its burned cells, so each fire's spread rates, travel times,
predecessors and subtree sums are computed on that window alone (:func:`fire_windows`): a DPV map
costs about what the fires burned, not F x H x W x 16, and the answers are those of the same
computation on the whole tile, bit for bit (tests/simulators/test_dpv_windows.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from fuelrl.simulators.base import PreparedFires
from fuelrl.simulators.fields import PhysicsFormat
from fuelrl.simulators.mtt import OFFSETS
from fuelrl.simulators.spread import prepare_spread, weather_groups, window_inverse_ros


def _crossed_cells(dr: int, dc: int) -> tuple[list[tuple[int, int]], float]:
    """Cells (as offsets from the source cell) crossed by the segment between the centres of cell
    (0, 0) and cell (dr, dc), and the length inside each, in cell units.

    Axial and diagonal moves: half the length in the source cell, half in the destination. Knight
    moves ((2, 1) and the like): a quarter in each of four cells, the source, two cells beside the
    segment's middle and the destination.
    """
    length = math.hypot(dr, dc)
    if abs(dr) <= 1 and abs(dc) <= 1:
        return [(0, 0), (dr, dc)], length / 2.0
    sr, sc = int(np.sign(dr)), int(np.sign(dc))
    if abs(dr) == 2:
        mid = [(sr, 0), (sr, dc)]
    else:
        mid = [(0, sc), (dr, sc)]
    return [(0, 0), *mid, (dr, dc)], length / 4.0


CENTRE_CROSSINGS = tuple(_crossed_cells(dr, dc) for dr, dc in OFFSETS)


def _shift(x: torch.Tensor, dr: int, dc: int, fill: float) -> torch.Tensor:
    """``y[..., r, c] = x[..., r + dr, c + dc]`` (``fill`` outside the grid)."""
    h, w = x.shape[-2:]
    y = torch.full_like(x, fill)
    r0, r1 = max(0, -dr), min(h, h - dr)
    c0, c1 = max(0, -dc), min(w, w - dc)
    if r1 > r0 and c1 > c0:
        y[..., r0:r1, c0:c1] = x[..., r0 + dr : r1 + dr, c0 + dc : c1 + dc]
    return y


def centre_travel_times(inv_ros_min_m: torch.Tensor, cell_size_m: float) -> torch.Tensor:
    """Travel time (min) into each cell from each of its 16 stencil neighbours.

    ``inv_ros_min_m``: [N, 16, H, W], 1 / spread rate (min/m) of each cell toward the azimuth of
    each edge of :data:`fuelrl.simulators.mtt.OFFSETS` (``inf`` where fire cannot enter). Returns
    [N, 16, H, W]: entry k at cell i is the time from the centre of ``j = i - OFFSETS[k]`` to the
    centre of ``i`` (a move of ``OFFSETS[k]``), ``inf`` where ``j`` is off the grid or the segment
    crosses a cell fire cannot enter.
    """
    out = []
    for k, (dr, dc) in enumerate(OFFSETS):
        cells, piece = CENTRE_CROSSINGS[k]
        inv_k = inv_ros_min_m[:, k]
        total = torch.zeros_like(inv_k)
        for a, b in cells:
            # cell crossed, relative to the destination i: j + (a, b) = i - (dr, dc) + (a, b)
            total = total + _shift(inv_k, a - dr, b - dc, math.inf)
        out.append(total * (piece * cell_size_m))
    return torch.stack(out, dim=1)


def predecessors(arrival_min: torch.Tensor, travel_min: torch.Tensor) -> torch.Tensor:
    """Flat index (``row * W + col``) of each burned cell's predecessor in its fire's MTT tree.

    ``arrival_min`` [N, H, W] (``inf`` = unburned); ``travel_min`` [N, 16, H, W] from
    :func:`centre_travel_times`. Returns int64 [N, H, W]: -1 for unburned cells and roots (cells
    with no neighbour that burned earlier, e.g. the ignition cell).
    """
    n, h, w = arrival_min.shape
    a = arrival_min.float()
    best = torch.full_like(a, math.inf)
    best_k = torch.full((n, h, w), -1, dtype=torch.long, device=a.device)
    # fallback when every earlier neighbour is unreachable by the centre segments (rare: the corner
    # graph can slip along a cell edge the centre segment cannot): the latest earlier neighbour
    latest = torch.full_like(a, -math.inf)
    latest_k = torch.full_like(best_k, -1)
    for k, (dr, dc) in enumerate(OFFSETS):
        a_j = _shift(a, -dr, -dc, math.inf)  # arrival of j = i - (dr, dc)
        earlier = torch.isfinite(a_j) & (a_j < a)
        cand = torch.where(earlier, a_j + travel_min[:, k].float(), math.inf)
        better = cand < best
        best = torch.where(better, cand, best)
        best_k = torch.where(better, torch.full_like(best_k, k), best_k)
        later = earlier & (a_j > latest)
        latest = torch.where(later, a_j, latest)
        latest_k = torch.where(later, torch.full_like(latest_k, k), latest_k)
    k = torch.where(best_k >= 0, best_k, latest_k)
    dr = torch.tensor([o[0] for o in OFFSETS], device=a.device)
    dc = torch.tensor([o[1] for o in OFFSETS], device=a.device)
    rows = torch.arange(h, device=a.device).view(1, h, 1)
    cols = torch.arange(w, device=a.device).view(1, 1, w)
    kk = k.clamp_min(0)
    pred = (rows - dr[kk]) * w + (cols - dc[kk])
    ok = (k >= 0) & torch.isfinite(a)
    return torch.where(ok, pred, torch.full_like(pred, -1))


def subtree_sums(parent: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """Sum of ``value`` over each node's subtree (itself and all its descendants) in a forest.

    ``parent``: int64 [N, M], the parent of each of the M nodes of each of N independent forests
    (-1 for roots); ``value``: float [N, M]. Depths come from pointer jumping (log2(depth) rounds);
    values are then pushed to parents level by level, deepest first. Returns float64 [N, M].
    """
    n, m = parent.shape
    dev = parent.device
    offset = (torch.arange(n, device=dev) * m).view(n, 1)
    par = torch.where(parent >= 0, parent + offset, torch.full_like(parent, -1)).reshape(-1)
    depth = (par >= 0).long()
    nxt = par.clone()
    while bool((nxt >= 0).any()):
        has = nxt >= 0
        safe = nxt.clamp_min(0)
        depth = depth + torch.where(has, depth[safe], torch.zeros_like(depth))
        nxt = torch.where(has, nxt[safe], nxt)
    total = value.reshape(-1).to(torch.float64).clone()
    order = torch.argsort(depth, descending=True, stable=True)
    counts = torch.bincount(depth, minlength=int(depth.max()) + 1 if depth.numel() else 1).tolist()
    start = 0
    for d in range(len(counts) - 1, 0, -1):
        nodes = order[start : start + counts[d]]
        start += counts[d]
        if nodes.numel():
            total.index_add_(0, par[nodes], total[nodes])
    return total.view(n, m)


#: cells added on each side of a fire's burned bounding box to make its window (the stencil's reach;
#: every segment between two burned cells already lies inside the box, so any margin >= 0 is exact)
WINDOW_MARGIN = 2

#: padded cells a chunk of fire windows may take on whatever its size (about the cost of the fixed
#: per-chunk work of the trees, ~300 array operations, on a CPU)
PAD_CELLS = 16384

#: float64 fields (1 / ROS and travel times, [n, 16, h, w] each) per chunk of fire windows
CHUNK_BYTES = 256 * 2**20


def fire_windows(arrival_min: torch.Tensor, margin: int = WINDOW_MARGIN) -> np.ndarray:
    """int64 [N, 4]: (first row, end row, first column, end column) of each fire's burned cells
    (finite ``arrival_min`` [N, H, W]) widened by ``margin`` and clamped to the grid; an empty
    window (end = first = 0) for a fire that burned nothing. One pass over the grid (the rows that
    burned, from each row's earliest arrival); the columns are read in those rows only."""
    n, h, w = arrival_min.shape
    rows = torch.isfinite(arrival_min.amin(dim=2)).cpu().numpy()  # [N, H]
    # many fires on small tiles: a second pass costs less than a loop over the fires
    cols = torch.isfinite(arrival_min.amin(dim=1)).cpu().numpy() if n * h * w <= 2**22 else None
    out = np.zeros((n, 4), dtype=np.int64)
    for i in np.flatnonzero(rows.any(axis=1)):
        r = np.flatnonzero(rows[i])
        r0, r1 = int(r[0]), int(r[-1]) + 1
        ci = cols[i] if cols is not None else torch.isfinite(arrival_min[i, r0:r1].amin(dim=0)).cpu().numpy()
        c = np.flatnonzero(ci)
        out[i] = (
            max(r0 - margin, 0),
            min(r1 + margin, h),
            max(int(c[0]) - margin, 0),
            min(int(c[-1]) + 1 + margin, w),
        )
    return out


def window_chunks(windows: np.ndarray, fires: np.ndarray, max_cells: int) -> list[np.ndarray]:
    """Fires (indices into ``windows``) in chunks solved on one common window size: largest
    first, a fire joins the chunk while the padded cells stay within twice the chunk's own cells
    (or :data:`PAD_CELLS` more) and ``max_cells``, so a batch of small fires is not padded to a
    large one's window, and many small windows are not solved one by one."""
    hh = windows[fires, 1] - windows[fires, 0]
    ww = windows[fires, 3] - windows[fires, 2]
    chunks: list[np.ndarray] = []
    cur: list[int] = []
    ch = cw = area = 0
    for j in np.argsort(-(hh * ww), kind="stable"):
        nh, nw = max(ch, int(hh[j])), max(cw, int(ww[j]))
        padded = (len(cur) + 1) * nh * nw
        extra = padded - (area + int(hh[j] * ww[j]))
        # padding costs per cell, a chunk costs a fixed ~300 array operations: pad up to twice
        # the chunk's cells, or by a few thousand cells whatever the ratio
        if cur and ((extra > area + int(hh[j] * ww[j]) and extra > PAD_CELLS) or padded > max_cells):
            chunks.append(np.asarray(cur))
            cur, nh, nw, area = [], int(hh[j]), int(ww[j]), 0
        cur.append(int(fires[j]))
        ch, cw, area = nh, nw, area + int(hh[j] * ww[j])
    if cur:
        chunks.append(np.asarray(cur))
    return chunks


def dpv(
    prepared: PreparedFires,
    breaks: torch.Tensor,
    arrival_min: torch.Tensor,
    *,
    value_ha: torch.Tensor | np.ndarray | None = None,
    margin: int = WINDOW_MARGIN,
    without_ignitions: bool = False,
    ignition_guard_cells: int = 0,
) -> torch.Tensor:
    """DPV of every cell of the prepared tiles, ha per fire (see the module docstring): the one
    entry point of the fire-path trees.

    ``prepared``: the tiles and their fires from any backend's ``prepare`` (its optional
    ``spread`` fields are read instead of rerunning the physics); ``breaks`` [B, H, W] the breaks
    already placed and ``arrival_min`` [B, F, H, W] the fires' arrival times with those breaks
    (from any backend). ``value_ha`` [H, W] or [B, H, W]: the value of each cell when it burns
    (default: its area in ha). Returns float64 [B, H, W] on the tiles' device: the mean over each
    tile's F fires of the value of the cells whose fire arrival passes through the cell.

    Each fire's tree is built on its own window, the bounding box of its burned cells plus
    ``margin`` (:func:`fire_windows`): spread rates, travel times, predecessors and subtree sums
    cost what the fire burned, not the landscape's size. Windows of similar size are batched
    (:func:`window_chunks`); the fires' subtree sums are added into the map in the same order as
    a whole-tile computation would, so the sums are the same to the last bit.

    ``without_ignitions``: leave out each fire's subtree sum at its own ignition cell (a break
    there would "stop" that fire; FireEnv's teacher fires, which no observation shows, start at
    random cells, so that value is a spike no input predicts): the cell keeps what the other fires
    route through it.

    ``ignition_guard_cells`` = N > 0: leave out each fire's subtree sums at every cell within N
    cells (Chebyshev: the (2N + 1)^2 square) of its own ignition, not only at it. Near its
    ignition a cell carries nearly a whole fire of the sample (a ring of breaks there fences that
    one fire in), which for the fires to come, starting elsewhere, is noise: a greedy planner on a
    sample's DPV spends a large share of its budget on such rings (docs/evaluation.md, "Ignition
    guard"). The cells keep what the other fires route through them.
    """
    tiles, scenarios, options = prepared.tiles, prepared.scenarios, prepared.options
    b, h, w = tiles.shape
    dev = tiles.device
    f = scenarios.shape[1]
    if value_ha is None:
        value = torch.full((1, 1, 1), tiles.cell_area_ha, dtype=torch.float64, device=dev).expand(b, h, w)
    else:
        value = torch.as_tensor(np.asarray(value_ha) if not torch.is_tensor(value_ha) else value_ha)
        value = value.to(dev, torch.float64).expand(b, h, w)
    arrival = arrival_min.to(dev).reshape(b * f, h, w)
    groups = weather_groups(scenarios)
    group_of_fire = groups.group_of_fire.reshape(-1)  # [B * F], fire n = tile n // F
    windows = fire_windows(arrival, margin)
    lit = np.flatnonzero(windows[:, 1] > windows[:, 0])
    # the simulators' physics (float64; numpy on a CPU): float32 moves crown-fire thresholds, so
    # trees would not match the simulated arrivals
    fmt = PhysicsFormat.for_device(dev)
    spread = prepared.spread  # any backend's; numpy <-> torch float64 converts exactly, not float32
    if spread is not None and spread.format.dtype != torch.float64:
        spread = None
    win_cells = int(((windows[:, 1] - windows[:, 0]) * (windows[:, 3] - windows[:, 2])).sum())
    if spread is None and win_cells > len(groups) * h * w:
        # windows overlapping more than the tiles hold: the whole fields once are cheaper
        spread = prepare_spread(tiles, scenarios, options, fmt)
    breaks = breaks.to(dev)
    sums: dict[int, tuple[int, int, torch.Tensor]] = {}
    max_cells = max(1, CHUNK_BYTES // (16 * 8 * 2))
    for chunk in window_chunks(windows, lit, max_cells):
        wh = int((windows[chunk, 1] - windows[chunk, 0]).max())
        ww = int((windows[chunk, 3] - windows[chunk, 2]).max())
        # a common window size: origins moved back where needed to keep each window in its tile
        r0 = np.minimum(windows[chunk, 0], h - wh)
        c0 = np.minimum(windows[chunk, 2], w - ww)
        # fires of one weather group on the same window (small tiles: the whole tile) share
        # their spread rates and travel times, computed once
        keys, which = np.unique(np.stack([group_of_fire[chunk], r0, c0], axis=1), axis=0, return_inverse=True)
        inv, _ = window_inverse_ros(
            tiles, breaks, groups, keys[:, 0], keys[:, 1:], (wh, ww), options, fmt, spread=spread
        )
        travel = centre_travel_times(torch.as_tensor(inv, device=dev), tiles.cell_size_m)
        which = which.reshape(-1)
        if not np.array_equal(which, np.arange(len(chunk))):  # keys come sorted: back to the fires
            travel = travel.index_select(0, torch.as_tensor(which, device=dev))
        rr = torch.as_tensor(r0[:, None] + np.arange(wh)[None], device=dev)[:, :, None]
        cc = torch.as_tensor(c0[:, None] + np.arange(ww)[None], device=dev)[:, None, :]
        fire_t = torch.as_tensor(chunk, device=dev)[:, None, None]
        arr = arrival[fire_t, rr, cc]
        val = value[torch.as_tensor(chunk // f, device=dev)[:, None, None], rr, cc]
        parent = predecessors(arr, travel).reshape(len(chunk), -1)
        burned_value = torch.where(torch.isfinite(arr), val, 0.0).reshape(len(chunk), -1)
        sub = subtree_sums(parent, burned_value).view(len(chunk), wh, ww)
        guard = int(ignition_guard_cells) if ignition_guard_cells > 0 else (0 if without_ignitions else -1)
        if guard >= 0:  # each fire's own ignition cell (and the cells around it) left out
            ign = scenarios.ignition_cell.reshape(-1)[torch.as_tensor(chunk, device=dev)]
            ir = (ign // w - torch.as_tensor(r0, device=dev)).view(-1, 1, 1)
            ic = (ign % w - torch.as_tensor(c0, device=dev)).view(-1, 1, 1)
            rows = torch.arange(wh, device=dev).view(1, -1, 1)
            cols = torch.arange(ww, device=dev).view(1, 1, -1)
            near = ((rows - ir).abs() <= guard) & ((cols - ic).abs() <= guard)
            sub = sub.masked_fill(near, 0.0)
        for k, n in enumerate(chunk.tolist()):
            sums[n] = (int(r0[k]), int(c0[k]), sub[k])
    dpv = torch.zeros(b, h, w, dtype=torch.float64, device=dev)
    # fires in weather-group order, as the whole-tile computation added them
    for n in np.argsort(group_of_fire, kind="stable").tolist():
        if n in sums:
            a, c, s = sums[n]
            dpv[n // f, a : a + s.shape[0], c : c + s.shape[1]] += s
    return dpv.div_(max(f, 1))
