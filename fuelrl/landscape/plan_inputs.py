"""Planner inputs on a landscape's grid: values at risk, treatment cost, treatable land, fire starts.

Every reader returns a float64 or bool [H, W] array on the landscape's exact grid:

* a raster with the landscape's shape and grid is read as is;
* a raster on another grid with a CRS and a transform is reprojected to the landscape's grid
  (``rasterio.warp.reproject``; bilinear for values, cost and ignition density, nearest for masks)
  with a notice saying so;
* a raster of another shape with no CRS or transform cannot be placed: :class:`InputError`;
* a vector file (any format OGR reads: GeoPackage, shapefile, GeoJSON, ...; through pyogrio) is a
  mask: its polygons are rasterized on the grid (``rasterio.features.rasterize``: a cell is inside
  when its centre is), reprojected from the file's CRS first (a file with no CRS is taken to be in
  the landscape's), and it must overlap the landscape.

Rules (one-line :class:`InputError` naming the file and what was expected):

* values (``--values``): finite and >= 0 on valid cells; nodata reads as 0 (nothing at risk);
* cost (``--cost``, per cell, any currency): finite and > 0 on every burnable cell;
* masks (``--treatable`` / ``--untreatable``): a raster's non-zero cells, or the polygons;
* ignition density (``--ignition-density``): finite and >= 0 on burnable cells, some > 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fuelrl.errors import InputError, notice

#: file name endings read as vectors (anything else is opened as a raster first)
VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".kml", ".gml", ".fgb", ".sqlite", ".gdb", ".zip")


def _crs_equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    try:
        from rasterio.crs import CRS

        return CRS.from_user_input(a) == CRS.from_user_input(b)
    except Exception:  # noqa: BLE001 - an unparsable CRS is not equal
        return False


def _crs_name(crs: Any) -> str:
    """A short name of ``crs`` for messages: ``EPSG:n`` when it has one, else its name."""
    try:
        from rasterio.crs import CRS

        c = CRS.from_user_input(crs)
        epsg = c.to_epsg()
        if epsg:
            return f"EPSG:{epsg}"
        name = c.to_dict().get("proj") or ""
        wkt = c.to_wkt()
        title = wkt.split('"')[1] if '"' in wkt else ""
        return title or name or "a custom CRS"
    except Exception:  # noqa: BLE001 - only for a message
        return "an unreadable CRS"


def _open_raster(path: Path, what: str):
    import rasterio

    if not path.exists():
        raise InputError(f"{what} {path}: file not found")
    try:
        return rasterio.open(path)
    except Exception as exc:  # noqa: BLE001 - rasterio raises several kinds
        raise InputError(f"{what} {path}: not a raster GDAL can read ({exc})".splitlines()[0]) from None


def _aligned_window(src: Any, landscape: Any) -> Any:
    """The rasterio Window of ``src`` that is exactly ``landscape``'s grid (same CRS and cell size,
    origin on a cell corner of ``src``), or None."""
    from rasterio.windows import Window

    if src.crs is None or landscape.crs is None or not _crs_equal(src.crs, landscape.crs):
        return None
    a, b = src.transform, landscape.transform
    if not (abs(a.a - b.a) < 1e-9 * abs(a.a) and abs(a.e - b.e) < 1e-9 * abs(a.e) and a.b == b.b == 0):
        return None
    col, row = (b.c - a.c) / a.a, (b.f - a.f) / a.e
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    h, w = landscape.shape
    return Window(round(col), round(row), w, h)


def read_grid(path: str | Path, landscape: Any, what: str, *, categorical: bool = False) -> np.ndarray:
    """Band 1 of the raster ``path`` as float64 [H, W] on ``landscape``'s grid, NaN where nodata
    (or outside the raster after a reprojection). ``what`` names the option in messages."""
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    path = Path(path)
    h, w = landscape.shape
    with _open_raster(path, what) as src:
        same_grid = (src.height, src.width) == (h, w) and (
            src.crs is None
            or landscape.crs is None
            or (_crs_equal(src.crs, landscape.crs) and src.transform.almost_equals(landscape.transform))
        )
        window = None if same_grid else _aligned_window(src, landscape)
        if window is not None:  # a window of the raster's own grid (a tile of its landscape)
            data = src.read(1, window=window, masked=True, boundless=True)
            return np.asarray(data.astype(np.float64).filled(np.nan))
        data = src.read(1, masked=True)
        arr = np.asarray(data.astype(np.float64).filled(np.nan))
        if same_grid:
            return arr
        if src.crs is None or landscape.crs is None or src.transform.is_identity:
            raise InputError(
                f"{what} {path}: shape {src.height}x{src.width} differs from the landscape's {h}x{w} "
                "and the raster has no CRS and transform to reproject it by; give a raster on the "
                "landscape's grid"
            )
        out = np.full((h, w), np.nan, dtype=np.float64)
        reproject(
            arr,
            out,
            src_transform=src.transform,
            src_crs=src.crs,
            src_nodata=np.nan,
            dst_transform=landscape.transform,
            dst_crs=landscape.crs,
            dst_nodata=np.nan,
            resampling=Resampling.nearest if categorical else Resampling.bilinear,
        )
        grid = f"{src.height}x{src.width}, {_crs_name(src.crs) if src.crs else 'no CRS'}"
    if not np.isfinite(out).any():
        raise InputError(f"{what} {path}: the raster does not overlap the landscape ({grid})")
    method = "nearest" if categorical else "bilinear"
    notice(
        f"{what} {path} is on another grid ({grid}); reprojected to the landscape's {h}x{w} grid ({method})"
    )
    return out


def is_vector(path: str | Path) -> bool:
    """Whether ``path`` is read as a vector file (by its ending, or OGR opens it and GDAL does not)."""
    p = Path(path)
    if p.suffix.lower() in VECTOR_SUFFIXES:
        return True
    if p.is_dir():  # a folder of shapefiles or a FileGDB
        return True
    return False


def read_polygons(path: str | Path, landscape: Any, what: str, *, require_overlap: bool = True) -> np.ndarray:
    """bool [H, W]: cells whose centre lies in a polygon of the vector file ``path`` (its first
    layer), reprojected to the landscape's CRS when the file has another (with a notice).
    ``require_overlap``: InputError when no cell is inside (off for tiles of a landscape)."""
    import pyogrio
    import shapely
    from rasterio.features import rasterize
    from rasterio.warp import transform_geom

    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} {path}: file not found")
    try:
        meta, _, wkb, _ = pyogrio.raw.read(path, read_geometry=True, columns=[])
    except Exception as exc:  # noqa: BLE001 - pyogrio raises DataSourceError, DataLayerError, ...
        raise InputError(f"{what} {path}: not a vector file OGR can read ({exc})".splitlines()[0]) from None
    geoms = [g for g in shapely.from_wkb(wkb) if g is not None and not g.is_empty]
    if not geoms:
        raise InputError(f"{what} {path}: no geometry in the file; expected polygons")
    if not any(g.geom_type in ("Polygon", "MultiPolygon", "GeometryCollection") for g in geoms):
        raise InputError(f"{what} {path}: expected polygons, got {geoms[0].geom_type} geometries")
    file_crs = meta.get("crs")
    shapes = [shapely.geometry.mapping(g) for g in geoms]
    left, bottom, right, top = _bounds(shapes)  # in the file's CRS, for the message
    if file_crs and landscape.crs is not None and not _crs_equal(file_crs, landscape.crs):
        shapes = [transform_geom(file_crs, landscape.crs, s) for s in shapes]
        if require_overlap:
            notice(f"{what} {path}: polygons reprojected from {_crs_name(file_crs)} to the landscape's CRS")
    elif not file_crs and landscape.crs is not None:
        file_crs = None  # taken to be in the landscape's CRS
    h, w = landscape.shape
    mask = rasterize(
        [(s, 1) for s in shapes], out_shape=(h, w), transform=landscape.transform, fill=0, dtype="uint8"
    ).astype(bool)
    if require_overlap and not mask.any():
        crs = f" in {_crs_name(file_crs)}" if file_crs else ""
        raise InputError(
            f"{what} {path}: the polygons ({left:g}, {bottom:g}, {right:g}, {top:g}{crs}) do not "
            f"overlap the landscape {landscape.bounds}; check the file's CRS"
        )
    return mask


def _bounds(shapes: list[dict[str, Any]]) -> tuple[float, float, float, float]:
    import shapely

    b = np.array([shapely.geometry.shape(s).bounds for s in shapes])
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def read_mask(path: str | Path, landscape: Any, what: str, *, require_overlap: bool = True) -> np.ndarray:
    """bool [H, W] on the landscape's grid: a raster's non-zero cells (nodata: outside) or a vector
    file's polygons."""
    if is_vector(path):
        return read_polygons(path, landscape, what, require_overlap=require_overlap)
    try:
        arr = read_grid(path, landscape, what, categorical=True)
    except InputError as exc:
        if "not a raster GDAL can read" not in str(exc):
            raise
        # a vector format without a known ending
        return read_polygons(path, landscape, what, require_overlap=require_overlap)
    mask = np.isfinite(arr) & (arr != 0)
    if require_overlap and not np.isfinite(arr).any():
        raise InputError(f"{what} {path}: the raster has no data on the landscape")
    return mask


def _first_bad(arr: np.ndarray, bad: np.ndarray) -> str:
    r, c = (int(v[0]) for v in np.nonzero(bad))
    return f"{np.count_nonzero(bad)} cell(s), e.g. row {r} col {c}: {arr[r, c]:g}"


def read_values(path: str | Path, landscape: Any) -> np.ndarray:
    """Values at risk (float64 [H, W], the raster's units per cell; 0 where nodata or invalid)."""
    arr = read_grid(path, landscape, "--values")
    valid = np.asarray(landscape.valid, dtype=bool)
    bad = valid & np.isfinite(arr) & (arr < 0)
    if bad.any():
        raise InputError(
            f"--values {path}: values must be >= 0 (value at risk per cell), got {_first_bad(arr, bad)}"
        )
    if np.isinf(arr[valid]).any():
        raise InputError(f"--values {path}: values must be finite")
    out = np.where(valid & np.isfinite(arr), arr, 0.0)
    if not (out > 0).any():
        raise InputError(f"--values {path}: every value on the landscape is 0 or nodata; nothing is at risk")
    return out


def read_cost(path: str | Path, landscape: Any) -> np.ndarray:
    """Cost of treating each cell (float64 [H, W], > 0 on burnable cells; NaN elsewhere)."""
    arr = read_grid(path, landscape, "--cost")
    burnable = np.asarray(landscape.burnable, dtype=bool)
    bad = burnable & ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        raise InputError(
            f"--cost {path}: the cost of treating a burnable cell must be a finite number > 0 "
            f"(no nodata), got {_first_bad(arr, bad)}"
        )
    return np.where(burnable, arr, np.nan)


def read_ignition_density(path: str | Path, landscape: Any) -> np.ndarray:
    """Relative ignition probability (float64 [H, W], >= 0; 0 where nodata or not burnable)."""
    arr = read_grid(path, landscape, "--ignition-density")
    burnable = np.asarray(landscape.burnable, dtype=bool)
    bad = burnable & np.isfinite(arr) & ((arr < 0) | np.isinf(arr))
    if bad.any():
        raise InputError(
            f"--ignition-density {path}: a relative ignition density must be finite and >= 0, "
            f"got {_first_bad(arr, bad)}"
        )
    out = np.where(burnable & np.isfinite(arr), arr, 0.0)
    if not (out > 0).any():
        raise InputError(f"--ignition-density {path}: no burnable cell has a density > 0; no fire can start")
    return out


@dataclass
class PlanInputs:
    """What a planner takes besides the landscape and the fires, all on the landscape's grid.

    ``values``: value at risk per cell (None: every cell is worth its area); ``cost``: cost of
    treating each cell (None: 1 per cell); ``treatable``: bool, cells a break may go on (None: every
    cell); ``ignition_density``: relative ignition probability (None: uniform on burnable cells);
    ``sources``: the files they came from (for reports).
    """

    values: np.ndarray | None = None
    cost: np.ndarray | None = None
    treatable: np.ndarray | None = None
    ignition_density: np.ndarray | None = None
    sources: dict[str, Any] | None = None

    def describe(self, landscape: Any) -> dict[str, Any]:
        """JSON-ready: the files, the untreatable area (ha, acres) and the total value at risk."""
        out: dict[str, Any] = dict(self.sources or {})
        valid = np.asarray(landscape.valid, dtype=bool)
        untreatable = valid & ~self.treatable if self.treatable is not None else np.zeros_like(valid)
        cells = int(np.count_nonzero(untreatable))
        out["untreatable_cells"] = cells
        out["untreatable_ha"] = cells * landscape.cell_area_ha
        out["untreatable_acres"] = cells * landscape.cell_area_acres
        if self.values is not None:
            out["value_total"] = float(self.values.sum())
        return out


def load_plan_inputs(
    landscape: Any,
    *,
    values: str | Path | None = None,
    cost: str | Path | None = None,
    treatable: str | Path | None = None,
    untreatable: str | Path | None = None,
    ignition_density: str | Path | None = None,
) -> PlanInputs:
    """Read the given files onto ``landscape``'s grid (see the module docstring for the rules).
    ``treatable`` and ``untreatable`` combine: a break may go inside the first and outside the second."""
    mask = None
    if treatable is not None:
        mask = read_mask(treatable, landscape, "--treatable")
    if untreatable is not None:
        out = read_mask(untreatable, landscape, "--untreatable")
        mask = ~out if mask is None else mask & ~out
    if mask is not None and not (mask & np.asarray(landscape.burnable, dtype=bool)).any():
        raise InputError(
            f"--treatable/--untreatable ({treatable or untreatable}): no burnable cell may be treated"
        )
    sources = {
        k: str(v)
        for k, v in (
            ("values", values),
            ("cost", cost),
            ("treatable", treatable),
            ("untreatable", untreatable),
            ("ignition_density", ignition_density),
        )
        if v is not None
    }
    return PlanInputs(
        values=read_values(values, landscape) if values is not None else None,
        cost=read_cost(cost, landscape) if cost is not None else None,
        treatable=mask,
        ignition_density=read_ignition_density(ignition_density, landscape) if ignition_density else None,
        sources=sources,
    )
