"""Minimum travel time (MTT) fire growth on a raster: the graph every built-in backend solves.

Finney (2002), "Fire growth using minimum travel time methods", Can. J. For. Res. 32: 1420-1424,
as implemented in FlamMap's MTT. The choices below are the layout that matched FlamMap 6's MTT
best on the TestMTT sample (see docs/simulation.md for the numbers):

* **Nodes at cell corners**: an H x W tile has (H+1) x (W+1) nodes; corner ``(r, c)`` is the
  top-left corner of cell ``(r, c)``. Rows grow southward, columns eastward.
* **16-neighbour edges**: offsets (dr, dc) in :data:`OFFSETS` (4 axial, 4 diagonal, 8 knight moves).
  Their map azimuth (clockwise from north) is ``atan2(dc, -dr)``.
* **Edge travel time** integrates 1/ROS along the straight segment through the cells it crosses:
  each piece's length divided by that cell's spread rate in the edge's azimuth. A diagonal crosses
  one cell (length sqrt(2) cells); a knight move crosses two cells, half of its length sqrt(5) in
  each. An axial edge lies on the boundary between two cells: it takes the *faster* of the two
  (fire runs along the edge of the burnable cell; a break only blocks when both sides are
  non-burnable). A non-burnable cell crossed makes the edge impassable (infinite time).
* **Ignition**: the 4 corners of the ignition cell at t = 0. A non-burnable (e.g. treated)
  ignition cell gives a fire that does not spread.
* **Cell arrival** = mean of its 4 corners (the min instead lowers early overlap with FlamMap);
  non-burnable cells never burn; arrival > duration -> ``inf``.
* **Horizon**: corners are solved up to ``HORIZON_FACTOR x duration`` so that a cell whose corner
  mean is within the duration but one of whose corners is later still counts (see
  :func:`corner_limit_min`).

Arrays here are numpy or torch alike (only slicing, arithmetic and min; the format of the input, see
:class:`~fuelrl.simulators.fields.PhysicsFormat`); shapes carry leading batch axes ``[..., K, H, W]``
where K = 16 directions.
"""

from __future__ import annotations

import math
from typing import Any

from fuelrl.simulators.fields import PhysicsFormat

#: (drow, dcol) of the 16 edges, in corner units. Rows grow southward, columns eastward.
OFFSETS: tuple[tuple[int, int], ...] = (
    (-1, 0),
    (-2, 1),
    (-1, 1),
    (-1, 2),
    (0, 1),
    (1, 2),
    (1, 1),
    (2, 1),
    (1, 0),
    (2, -1),
    (1, -1),
    (1, -2),
    (0, -1),
    (-1, -2),
    (-1, -1),
    (-2, -1),
)

#: map azimuth of each edge, degrees clockwise from north (0 = N, 90 = E)
AZIMUTHS_DEG: tuple[float, ...] = tuple(math.degrees(math.atan2(dc, -dr)) % 360.0 for dr, dc in OFFSETS)

#: corners are solved up to this multiple of the duration (see corner_limit_min)
HORIZON_FACTOR = 1.5

#: border of inf cells / corners added around a tile so every offset stays inside the array
PAD = 2


def _crossings(dr: int, dc: int) -> tuple[str, list[tuple[int, int]], float]:
    """How edge (dr, dc) from corner (r, c) crosses cells: (mode, cell offsets (a, b) meaning
    cell (r + a, c + b), length of the segment inside each cell in cell units)."""
    if dr == 0:  # along a row line: the cells above and below it
        b = 0 if dc > 0 else -1
        return "min", [(-1, b), (0, b)], 1.0
    if dc == 0:  # along a column line: the cells left and right of it
        a = 0 if dr > 0 else -1
        return "min", [(a, -1), (a, 0)], 1.0
    rows = range(0, dr) if dr > 0 else range(dr, 0)
    cols = range(0, dc) if dc > 0 else range(dc, 0)
    cells = [(a, b) for a in rows for b in cols]
    return "sum", cells, math.hypot(dr, dc) / len(cells)


CROSSINGS = tuple(_crossings(dr, dc) for dr, dc in OFFSETS)


def edge_times(inv_ros_min_m: Any, cell_size_m: float) -> Any:
    """Travel time (min) of every edge, indexed by its source corner.

    ``inv_ros_min_m``: [..., 16, H, W], 1 / (spread rate in m/min) of each cell in the azimuth of
    each edge (:data:`AZIMUTHS_DEG`); ``inf`` for cells fire cannot enter. Returns
    [..., 16, H+1, W+1]: the time to travel edge k from corner (r, c) to (r + dr_k, c + dc_k),
    ``inf`` where the edge leaves the tile or crosses a non-burnable cell.
    """
    h, w = inv_ros_min_m.shape[-2:]
    fmt = PhysicsFormat.of(inv_ros_min_m)
    padded = fmt.pad(inv_ros_min_m, (PAD, PAD), (PAD, PAD), math.inf)
    out = fmt.full((*inv_ros_min_m.shape[:-3], len(OFFSETS), h + 1, w + 1), math.inf)
    for k, (dr, dc) in enumerate(OFFSETS):
        mode, cells, length = CROSSINGS[k]
        src = padded[..., k, :, :]
        pieces = [src[..., PAD + a : PAD + a + h + 1, PAD + b : PAD + b + w + 1] for a, b in cells]
        t = out[..., k, :, :]
        if mode == "min":
            t[...] = fmt.xp.minimum(pieces[0], pieces[1])
        else:
            t[...] = pieces[0]
            for p in pieces[1:]:
                t += p
        t *= length * cell_size_m
        # edges whose far end is off the corner grid: inf (those crossing the padding already are,
        # but an axial edge along the border would otherwise leave the grid at its end)
        if dr > 0:
            t[..., h + 1 - dr :, :] = math.inf
        elif dr < 0:
            t[..., :-dr, :] = math.inf
        if dc > 0:
            t[..., :, w + 1 - dc :] = math.inf
        elif dc < 0:
            t[..., :, :-dc] = math.inf
    return out


def corner_limit_min(duration_min: float) -> float:
    """How far (min) corners are solved for a fire of ``duration_min``.

    A cell burns when the mean of its corners is within the duration; one of its corners may be
    later than that, so corners are solved somewhat beyond the duration (``HORIZON_FACTOR``)."""
    return float(duration_min) * HORIZON_FACTOR


def cell_arrival(corner_min: Any, burnable: Any, duration_min: Any) -> Any:
    """Cell arrival times from corner arrival times: the mean of each cell's 4 corners.

    ``corner_min`` [..., H+1, W+1]; ``burnable`` bool [..., H, W] (cells fire can enter);
    ``duration_min`` a scalar or an array broadcastable to [..., 1, 1]. Returns [..., H, W] with
    ``inf`` where the cell is not burnable or burns after the duration.
    """
    c = corner_min
    mean = (c[..., :-1, :-1] + c[..., :-1, 1:] + c[..., 1:, :-1] + c[..., 1:, 1:]) * 0.25
    fmt = PhysicsFormat.of(mean)
    keep = burnable & (mean <= fmt.asarray(duration_min))
    return fmt.xp.where(keep, mean, fmt.full((), math.inf))


def ignition_corners(cell: int, w: int) -> tuple[int, int, int, int]:
    """Flat corner-grid indices ((W+1) per row) of the 4 corners of flat cell index ``cell``."""
    r, c = divmod(int(cell), w)
    top = r * (w + 1) + c
    return top, top + 1, top + w + 1, top + w + 2
