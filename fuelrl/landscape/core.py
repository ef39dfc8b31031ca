"""The :class:`Landscape`: eight co-registered layers in SI units, a valid-data mask and the grid."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from affine import Affine

from fuelrl.errors import InputError
from fuelrl.landscape.fuel_codes import NONBURNABLE_CODES
from fuelrl.physics.units import ACRES_PER_HA, M2_PER_HA  # one definition (re-exported here)

#: layer key -> (Landscape attribute, SI unit, numpy dtype); the FlamMap / LCP band order
LAYERS: dict[str, tuple[str, str, type]] = {
    "elevation": ("elevation_m", "m", np.float32),
    "slope": ("slope_fraction", "fraction", np.float32),
    "aspect": ("aspect_deg", "degrees", np.float32),
    "fuel_model": ("fuel_model", "code", np.int16),
    "canopy_cover": ("canopy_cover_fraction", "fraction", np.float32),
    "canopy_height": ("canopy_height_m", "m", np.float32),
    "canopy_base_height": ("canopy_base_height_m", "m", np.float32),
    "canopy_bulk_density": ("canopy_bulk_density_kg_m3", "kg/m3", np.float32),
}
#: the Landscape attribute names of the eight layers, in band order
LAYER_ATTRS: tuple[str, ...] = tuple(a for a, _, _ in LAYERS.values())
#: human names used in error messages
LAYER_TITLES: dict[str, str] = {
    "elevation": "elevation",
    "slope": "slope",
    "aspect": "aspect",
    "fuel_model": "fuel model",
    "canopy_cover": "canopy cover",
    "canopy_height": "canopy height",
    "canopy_base_height": "canopy base height",
    "canopy_bulk_density": "canopy bulk density",
}


@dataclass(eq=False)
class Landscape:
    """A landscape (or a tile of one): eight [H, W] layers in SI units on a north-up grid.

    Layers: ``elevation_m``, ``slope_fraction`` (rise/run), ``aspect_deg`` (azimuth the slope faces,
    downslope, clockwise from north; flat cells 0 with slope 0), ``fuel_model`` (int16 codes:
    Scott & Burgan 101-204, Anderson 1-13, non-burnable 91-99; 0 where nodata),
    ``canopy_cover_fraction``, ``canopy_height_m``, ``canopy_base_height_m``,
    ``canopy_bulk_density_kg_m3``. ``valid`` marks cells with data in every layer; every layer holds
    0 outside it. ``transform`` maps (col, row) to map coordinates in ``crs`` (None for a .lcp with
    no .prj); ``offset_rowcol`` is where this grid's cell (0, 0) sits in the raster it was read from.
    """

    elevation_m: np.ndarray
    slope_fraction: np.ndarray
    aspect_deg: np.ndarray
    fuel_model: np.ndarray
    canopy_cover_fraction: np.ndarray
    canopy_height_m: np.ndarray
    canopy_base_height_m: np.ndarray
    canopy_bulk_density_kg_m3: np.ndarray
    valid: np.ndarray
    crs: Any
    transform: Affine
    cell_size_m: float
    source: str
    synthetic: bool = False
    offset_rowcol: tuple[int, int] = field(default=(0, 0))

    def __post_init__(self) -> None:
        shape = np.shape(self.valid)
        for attr in LAYER_ATTRS:
            if np.shape(getattr(self, attr)) != shape:
                raise InputError(
                    f"{self.source}: layer {attr} has shape {np.shape(getattr(self, attr))}, "
                    f"expected {shape} like the valid mask"
                )

    # ----------------------------------------------------------------------------------- grid
    @property
    def shape(self) -> tuple[int, int]:
        h, w = np.shape(self.valid)
        return int(h), int(w)

    @property
    def cell_area_ha(self) -> float:
        """Area of one cell in hectares (the cell size comes from the transform, in metres)."""
        return float(self.cell_size_m) ** 2 / M2_PER_HA

    @property
    def cell_area_acres(self) -> float:
        return self.cell_area_ha * ACRES_PER_HA

    @property
    def area_ha(self) -> float:
        """Area of the valid cells in hectares."""
        return float(np.count_nonzero(self.valid)) * self.cell_area_ha

    @property
    def burnable(self) -> np.ndarray:
        """bool [H, W]: valid cells whose fuel model burns (not 0, not non-burnable 91-99)."""
        fm = np.asarray(self.fuel_model)
        return np.asarray(self.valid) & (fm != 0) & ~np.isin(fm, sorted(NONBURNABLE_CODES))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in map units."""
        h, w = self.shape
        xs, ys = zip(*(self.transform @ (c, r) for c, r in ((0, 0), (w, 0), (0, h), (w, h))), strict=True)
        return min(xs), min(ys), max(xs), max(ys)

    def layers(self) -> dict[str, np.ndarray]:
        """The eight layers by attribute name, in band order."""
        return {attr: getattr(self, attr) for attr in LAYER_ATTRS}

    def window(self, row: int, col: int, height: int, width: int, *, allow_empty: bool = False) -> Landscape:
        """The tile whose top-left cell is (row, col): copies of the layers, its own transform.

        Raises :class:`InputError` when the window leaves the grid or (unless ``allow_empty``)
        holds no valid cell.
        """
        row, col, height, width = window_cells(self.source, self.shape, row, col, height, width)
        sl = (slice(row, row + height), slice(col, col + width))
        valid = np.ascontiguousarray(self.valid[sl])
        if not valid.any() and not allow_empty:
            raise InputError(
                f"{self.source}: tile rows {row}:{row + height}, cols {col}:{col + width} is all nodata"
            )
        kw = {attr: np.ascontiguousarray(getattr(self, attr)[sl]) for attr in LAYER_ATTRS}
        offset = (self.offset_rowcol[0] + row, self.offset_rowcol[1] + col)
        return grid_tile(self, kw, valid, row, col, offset)

    def xy_to_rowcol(self, x: float, y: float) -> tuple[int, int]:
        """The (row, col) of the cell holding map point (x, y) in ``crs``; InputError if outside."""
        col_f, row_f = ~self.transform @ (float(x), float(y))
        row, col = math.floor(row_f), math.floor(col_f)
        h, w = self.shape
        if not (0 <= row < h and 0 <= col < w):
            left, bottom, right, top = self.bounds
            raise InputError(
                f"{self.source}: point ({x}, {y}) is outside the landscape "
                f"(x {left:.1f}..{right:.1f}, y {bottom:.1f}..{top:.1f})"
            )
        return row, col

    def rowcol_to_xy(self, row: float, col: float) -> tuple[float, float]:
        """Map coordinates of the centre of cell (row, col)."""
        x, y = self.transform @ (float(col) + 0.5, float(row) + 0.5)
        return float(x), float(y)

    def describe(self) -> dict[str, Any]:
        """Provenance for summaries (JSON-ready): source, synthetic flag, grid, area."""
        h, w = self.shape
        return {
            "source": self.source,
            "synthetic": bool(self.synthetic),
            "crs": self.crs.to_string() if self.crs is not None else None,
            "transform": list(self.transform)[:6],
            "shape": [h, w],
            "offset_rowcol": list(self.offset_rowcol),
            "cell_size_m": float(self.cell_size_m),
            "cell_area_ha": self.cell_area_ha,
            "valid_ha": self.area_ha,
            "burnable_ha": float(np.count_nonzero(self.burnable)) * self.cell_area_ha,
        }

    def __repr__(self) -> str:
        h, w = self.shape
        return (
            f"Landscape({h}x{w} cells of {self.cell_size_m:g} m, source={self.source!r}, "
            f"synthetic={self.synthetic}, valid={int(np.count_nonzero(self.valid))})"
        )


#: cell sizes accepted, in metres (LANDFIRE delivers 30 m; FlamMap samples use 30-60 m)
CELL_SIZE_RANGE_M: tuple[float, float] = (1.0, 1000.0)
_FEET_UNITS = ("f", "us survey f")


def grid_cell_size_m(
    transform: Affine,
    crs: Any,
    where: str,
    *,
    linear_unit: str | None = None,
    cell_size_m: float | None = None,
) -> float:
    """The square cell size in metres, from the CRS, an explicit statement, or the user.

    ``linear_unit``: the grid unit a file header states without a CRS (``LINEAR_UNIT`` of a .lcp:
    ``Meters`` or ``Feet``). ``cell_size_m``: the user's statement (CLI ``--cell-size``), required
    when neither a CRS nor the header says what the transform's unit is. InputError for a missing
    geotransform, zero, rotated, south-up or non-square cells, geographic CRSs, a statement that
    contradicts the CRS, and cell sizes outside :data:`CELL_SIZE_RANGE_M`.
    """
    lo, hi = CELL_SIZE_RANGE_M
    if cell_size_m is not None:
        if not (
            isinstance(cell_size_m, int | float) and math.isfinite(cell_size_m) and lo <= cell_size_m <= hi
        ):
            raise InputError(
                f"--cell-size must be a cell size in metres in {lo:g}..{hi:g}, got {cell_size_m!r}"
            )
    if crs is None and tuple(transform)[:6] == tuple(Affine.identity())[:6]:
        raise InputError(
            f"{where}: the file has no georeferencing (no CRS and no geotransform); write it with its "
            "CRS and transform (e.g. gdal_edit.py -a_srs EPSG:5070 -a_ullr ...)"
        )
    if transform.a == 0 or transform.e == 0:
        raise InputError(
            f"{where}: the cell size is 0 (transform {tuple(transform)[:6]}); the header is corrupt"
        )
    if transform.b != 0 or transform.d != 0:
        raise InputError(f"{where}: rotated grids are not supported (transform {tuple(transform)[:6]})")
    if transform.e > 0:
        raise InputError(f"{where}: the grid must be north-up (negative y pixel size); got {transform.e}")
    a, e = abs(transform.a), abs(transform.e)
    if not math.isclose(a, e, rel_tol=1e-6):
        raise InputError(f"{where}: cells must be square; got {a} x {e}")
    if crs is not None:
        if crs.is_geographic:
            raise InputError(
                f"{where}: CRS {crs.to_string()} is geographic (degrees); reproject to a projected "
                "CRS in metres (LANDFIRE delivers EPSG:5070)"
            )
        try:
            factor = float(crs.linear_units_factor[1])
        except Exception:  # noqa: BLE001 - CRS without linear units: assume metres
            factor = 1.0
        size, said = a * factor, f"from its CRS {crs.to_string()}"
    elif linear_unit:
        factor = 0.3048 if linear_unit.strip().lower().startswith(_FEET_UNITS) else 1.0
        size, said = a * factor, f"from its header (grid unit {linear_unit})"
    elif cell_size_m is not None:
        return float(cell_size_m)
    else:
        raise InputError(
            f"{where}: no CRS, so the cell size {a:g} has no unit; state it in metres with "
            "--cell-size M (Python: cell_size_m=M) or give the file a CRS (.prj)"
        )
    if cell_size_m is not None and not math.isclose(size, cell_size_m, rel_tol=1e-3):
        raise InputError(
            f"{where}: --cell-size {cell_size_m:g} m contradicts the cell size {size:g} m {said}"
        )
    if not lo <= size <= hi:
        raise InputError(
            f"{where}: implausible cell size {size:g} m {said}; expected {lo:g}..{hi:g} m "
            "(LANDFIRE: 30 m); is the CRS right?"
        )
    return float(size)


def cell_size_from_transform(transform: Affine, crs: Any, where: str) -> float:
    """The square cell size in metres (see :func:`grid_cell_size_m`)."""
    return grid_cell_size_m(transform, crs, where)


def window_cells(
    source: str, shape: tuple[int, int], row: int, col: int, height: int | None, width: int | None
) -> tuple[int, int, int, int]:
    """``(row, col, height, width)`` of a window of a ``shape`` grid, as ints (``None``: to the
    grid's edge); InputError naming ``source`` when the window leaves the grid."""
    h, w = shape
    row, col = int(row), int(col)
    height = h - row if height is None else int(height)
    width = w - col if width is None else int(width)
    if height < 1 or width < 1 or row < 0 or col < 0 or row + height > h or col + width > w:
        raise InputError(
            f"{source}: window rows {row}:{row + height}, cols {col}:{col + width} "
            f"is outside the {h}x{w} grid"
        )
    return row, col, height, width


def grid_tile(
    grid: Any, layers: dict[str, np.ndarray], valid: np.ndarray, row: int, col: int, offset_rowcol
) -> Landscape:
    """The :class:`Landscape` of ``layers`` (by attribute name) and ``valid`` at the window whose
    top-left cell is (row, col) of ``grid`` (a Landscape or a reader: its CRS, transform shifted to
    the window, cell size, source and ``synthetic``)."""
    return Landscape(
        **layers,
        valid=valid,
        crs=grid.crs,
        transform=grid.transform @ Affine.translation(col, row),
        cell_size_m=grid.cell_size_m,
        source=grid.source,
        synthetic=grid.synthetic,
        offset_rowcol=(int(offset_rowcol[0]), int(offset_rowcol[1])),
    )


class GridReader:
    """The reader interface: ``source``, ``shape``, ``crs``, ``transform``, ``cell_size_m``,
    ``synthetic``, :meth:`read` by window and :meth:`close`. Subclasses set the grid attributes
    and read a window already checked to lie on the grid (``_read``)."""

    synthetic = False
    source: str
    shape: tuple[int, int]

    def read(
        self,
        row: int = 0,
        col: int = 0,
        height: int | None = None,
        width: int | None = None,
        *,
        allow_empty: bool = False,
    ) -> Landscape:
        """The window whose top-left cell is (row, col), to the grid's edge where ``height`` /
        ``width`` is None (default: the whole grid), in SI units, validated.

        Raises :class:`InputError` when the window leaves the grid or (unless ``allow_empty``)
        holds no valid cell.
        """
        row, col, height, width = window_cells(self.source, self.shape, row, col, height, width)
        return self._read(row, col, height, width, allow_empty=allow_empty)

    def _read(self, row: int, col: int, height: int, width: int, *, allow_empty: bool) -> Landscape:
        raise NotImplementedError

    def close(self) -> None:
        pass
