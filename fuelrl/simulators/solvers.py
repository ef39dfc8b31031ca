"""Shortest-path solvers for the MTT corner graph (:mod:`fuelrl.simulators.mtt`).

* :class:`CornerGraph` + :func:`solve_dijkstra`: the reference, scipy's compiled Dijkstra over a
  sparse graph whose structure is built once per tile shape (only edge times change per weather).
* :func:`relax_min_plus`: batched Bellman-Ford on torch tensors: every fire's corner times are
  relaxed over the 16 shifted edges at once (min-plus), in place, until nothing changes. Torch
  kernels release the GIL, so this also runs in parallel from several Python threads.

Both return the exact shortest-path times (the fixed point of the relaxation is the Dijkstra
solution); they differ only by float rounding.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from fuelrl.simulators.fields import PhysicsFormat
from fuelrl.simulators.mtt import OFFSETS, PAD


class CornerGraph:
    """The sparse structure of the 16-neighbour corner graph of an H x W tile (built once)."""

    def __init__(self, h: int, w: int):
        self.h, self.w = h, w
        self.n_nodes = (h + 1) * (w + 1)
        node = np.arange(self.n_nodes, dtype=np.int64).reshape(h + 1, w + 1)
        src, dst, flat = [], [], []
        for k, (dr, dc) in enumerate(OFFSETS):
            r0, r1 = max(0, -dr), h + 1 - max(0, dr)
            c0, c1 = max(0, -dc), w + 1 - max(0, dc)
            s = node[r0:r1, c0:c1].ravel()
            src.append(s)
            dst.append(node[r0 + dr : r1 + dr, c0 + dc : c1 + dc].ravel())
            flat.append(k * self.n_nodes + s)  # where edge k from s sits in edge_times.ravel()
        src_a, dst_a, flat_a = np.concatenate(src), np.concatenate(dst), np.concatenate(flat)
        order = np.lexsort((dst_a, src_a))  # CSR order: by source, then destination
        self.indices = dst_a[order].astype(np.int32)
        self.take = flat_a[order]
        counts = np.bincount(src_a, minlength=self.n_nodes)
        self.indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)

    @property
    def n_edges(self) -> int:
        return int(self.indices.size)

    def matrix(self, edge_times_min: np.ndarray) -> sp.csr_matrix:
        """The graph with ``edge_times_min`` [16, H+1, W+1] (from :func:`mtt.edge_times`) as weights."""
        data = np.asarray(edge_times_min, dtype=np.float64).reshape(-1)[self.take]
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n_nodes, self.n_nodes))


@lru_cache(maxsize=16)
def corner_graph(h: int, w: int) -> CornerGraph:
    return CornerGraph(h, w)


def solve_dijkstra(graph: sp.csr_matrix, sources: list[int], limit_min: float, shape: tuple[int, int]):
    """Corner arrival times [H+1, W+1] (float64, inf beyond ``limit_min``) from ``sources`` at t=0."""
    t = dijkstra(graph, directed=True, indices=list(sources), min_only=True, limit=limit_min)
    return t.reshape(shape[0] + 1, shape[1] + 1)


def _flat_layout(hp: int, wp: int) -> tuple[int, int, list[int]]:
    """The flat layout the relaxation works in: corners padded by PAD columns on both sides and
    PAD rows above and below, rows of width ``wp + 2 PAD``; every stencil shift is then one
    contiguous slice (a shift never wraps into another row's interior because |dc| <= PAD). One
    more padding row above and below keeps the slices of the first and last rows in the array."""
    row = wp + 2 * PAD
    start = (PAD + 1) * row
    return row, start, [dr * row + dc for dr, dc in OFFSETS]


def pull_weights(edge_times_min: Any) -> Any:
    """Edge times re-indexed by destination, in the flat padded layout of the relaxation.

    ``edge_times_min`` [N, 16, H+1, W+1] (numpy or torch) -> [N, 16, (H+1) * (W+1+2 PAD)]:
    entry k at corner (r, c) is the time of edge k *arriving* at (r, c) from (r - dr_k, c - dc_k);
    ``inf`` where that source is off the grid and in the padding columns.
    """
    hp, wp = edge_times_min.shape[-2:]
    fmt = PhysicsFormat.of(edge_times_min)
    padded = fmt.pad(edge_times_min, (PAD, PAD), (PAD, PAD), math.inf)
    out = []
    for k, (dr, dc) in enumerate(OFFSETS):
        src = padded[..., k, PAD - dr : PAD - dr + hp, PAD - dc : PAD - dc + wp]  # source of arrival at r, c
        src = fmt.pad(src, (0, 0), (PAD, PAD), math.inf)
        out.append(src.reshape(*src.shape[:-2], -1))
    return fmt.stack(out, axis=-2)


#: the most rows one Gauss-Seidel sweep can carry a value north or south (sum of |dr| over the
#: directions that move that way, since each direction sees the updates of the ones before it)
ROWS_PER_SWEEP = max(sum(-dr for dr, _ in OFFSETS if dr < 0), sum(dr for dr, _ in OFFSETS if dr > 0))


def relax_min_plus(
    pulled: Any,
    start_min: Any,
    limit_min: Any,
    *,
    check_every: int = 4,
    max_iterations: int | None = None,
) -> tuple[Any, int]:
    """Solve the corner graph for a batch of fires by min-plus relaxation to convergence.

    numpy or torch alike (both release the GIL in their kernels). ``pulled``: [N or 1, 16, L] edge
    times by destination (:func:`pull_weights`), one set per fire or one shared by all.
    ``start_min``: [N, H+1, W+1], 0 at the ignition corners and ``inf`` elsewhere. ``limit_min``:
    [N], corners later than this are left ``inf``. Returns (corner times [N, H+1, W+1], sweeps run).

    Each sweep relaxes the 16 directions one after another in place (Gauss-Seidel: a direction
    sees the updates of the ones before it), which needs fewer sweeps than Jacobi and has the same
    fixed point: the shortest-path times. Convergence (no change in a whole sweep) is checked every
    ``check_every`` sweeps. Sweeps only touch the band of rows that can change before the next
    check (rows holding a finite time, +/- ``check_every * ROWS_PER_SWEEP``), so a small fire on a
    large landscape costs little more than on a tile of its own size.
    """
    n, hp, wp = start_min.shape
    row, start, shifts = _flat_layout(hp, wp)
    length = hp * row
    fmt = PhysicsFormat.of(start_min)
    xp = fmt.xp
    grid = fmt.pad(start_min, (PAD + 1, PAD + 1), (PAD, PAD), math.inf).reshape(n, -1)
    limit = fmt.asarray(limit_min).reshape(n, 1)
    inner = grid[:, start : start + length]
    prev = fmt.copy(inner)
    margin = check_every * ROWS_PER_SWEEP

    def band() -> tuple[int, int] | None:
        hit = np.flatnonzero(fmt.any_along(xp.isfinite(inner.reshape(n, hp, row)), 2).any(axis=0))
        if hit.size == 0:
            return None
        return max(0, int(hit[0]) - margin), min(hp, int(hit[-1]) + 1 + margin)

    cap = max_iterations or 16 * (hp + wp) + 64  # far above any shortest path's hop count
    it = 0
    rows_band = band()
    while rows_band is not None and it < cap:
        a, b = rows_band[0] * row, rows_band[1] * row
        part = inner[:, a:b]
        views = [grid[:, start + a - sh : start + b - sh] for sh in shifts]
        weights = [pulled[:, k, a:b] for k in range(len(OFFSETS))]
        cand = fmt.empty_like(part)
        for _ in range(check_every):
            for view, wk in zip(views, weights, strict=True):
                xp.add(view, wk, out=cand)
                xp.minimum(part, cand, out=part)
            it += 1
        part[part > limit] = math.inf
        if fmt.equal(part, prev[:, a:b]):
            break
        prev[:, a:b] = part
        rows_band = band()
    return fmt.copy(inner.reshape(n, hp, row)[:, :, PAD : PAD + wp]), it
