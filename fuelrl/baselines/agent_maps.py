"""Array helpers of the agent planner: the windows a large landscape is scored in, the masked
argmax of a Q map under box updates, and the boxes covering changed input cells."""

from __future__ import annotations

import numpy as np


def change_boxes(changed: np.ndarray, block: int = 16) -> list[tuple[int, int, int, int]]:
    """Boxes (r0, r1, c0, c1) covering the ``True`` cells of ``changed`` [h, w]: cells whose
    ``block`` x ``block`` blocks touch (8-connected) share one box, the bounding box of their cells."""
    if not changed.any():
        return []
    from scipy import ndimage

    h, w = changed.shape
    nb_r, nb_c = -(-h // block), -(-w // block)
    pad = np.zeros((nb_r * block, nb_c * block), dtype=bool)
    pad[:h, :w] = changed
    blocks = pad.reshape(nb_r, block, nb_c, block).any(axis=(1, 3))
    labels, n = ndimage.label(blocks, structure=np.ones((3, 3), dtype=int))
    cells = np.where(changed, np.repeat(np.repeat(labels, block, 0), block, 1)[:h, :w], 0)
    return [(s.start, s.stop, t.start, t.stop) for s, t in filter(None, ndimage.find_objects(cells, n))]


def windows(n: int, tile: int, margin: int) -> list[tuple[int, int, int, int]]:
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


class ArgmaxMap:
    """The masked argmax of a float64 [H, W] score map under point updates, with per-row maxima
    so a pick costs O(H + W) and a box update O(box); ties go to the lowest ``rank`` (a seeded
    random order, as :func:`fuelrl.baselines.base.top_k_legal` breaks them)."""

    def __init__(self, score: np.ndarray, rank: np.ndarray):
        self.score = score
        self.rank = rank.reshape(score.shape)
        self.row_max = score.max(axis=1)

    def set(self, r0: int, r1: int, c0: int, c1: int, values: np.ndarray) -> None:
        self.score[r0:r1, c0:c1] = values
        self.row_max[r0:r1] = self.score[r0:r1].max(axis=1)

    def pop_many(self, m: int) -> list[tuple[int, int]]:
        """The ``m`` best cells (score order, ties to the lowest ``rank``), removed from the map;
        fewer when fewer finite scores are left."""
        if m <= 1:
            first = self.pop()
            return [] if first is None else [first[:2]]
        flat = self.score.reshape(-1)
        k = min(m, flat.size)
        cand = np.argpartition(-flat, k - 1)[:k] if k < flat.size else np.arange(flat.size)
        # the k-th best score may be tied beyond the partition: take all cells at that score
        cut = flat[cand].min()
        cand = np.flatnonzero(flat >= cut) if np.isfinite(cut) else cand[np.isfinite(flat[cand])]
        cand = cand[np.lexsort((self.rank.reshape(-1)[cand], -flat[cand]))][:k]
        w = self.score.shape[1]
        picks = [divmod(int(i), w) for i in cand]
        for r, c in picks:
            self.score[r, c] = -np.inf
        for r in {r for r, _ in picks}:
            self.row_max[r] = self.score[r].max()
        return picks

    def pop(self) -> tuple[int, int, float] | None:
        """The best cell (row, col, score), removed from the map (None: no finite score left)."""
        top = self.row_max.max()
        if not np.isfinite(top):
            return None
        rows = np.flatnonzero(self.row_max == top)
        best = None
        for r in rows:
            cols = np.flatnonzero(self.score[r] == top)
            c = cols[np.argmin(self.rank[r, cols])]
            if best is None or self.rank[r, c] < self.rank[best]:
                best = (int(r), int(c))
        r, c = best
        self.score[r, c] = -np.inf
        self.row_max[r] = self.score[r].max()
        return r, c, float(top)
