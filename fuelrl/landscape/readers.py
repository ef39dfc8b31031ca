"""Reading landscapes: LANDFIRE single-layer folders, 8-band GeoTIFFs, FlamMap .lcp, ``synthetic``.

:func:`open_reader` inspects a spec once (which file and band holds each layer, its units and
nodata, the grid) and returns a reader whose :meth:`LandscapeReader.read` reads any window lazily
(rasterio windows), converting to SI and validating as it goes. :func:`open_landscape` reads the
whole grid. Every problem is an :class:`~fuelrl.errors.InputError` of one line naming the file and
the layer; nothing ever falls back to generated data.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import rasterio.errors
from affine import Affine
from rasterio.windows import Window

from fuelrl.errors import InputError
from fuelrl.landscape.bands import (
    ASPECT_FLAT,
    LAYER_KEYS,
    BandSource,
    layer_key,
    open_raster,
)
from fuelrl.landscape.core import LAYERS, GridReader, Landscape, grid_tile
from fuelrl.landscape.fuel_codes import KNOWN_CODES, KNOWN_CODES_TEXT
from fuelrl.landscape.units import SI_RANGES, UNITS, layer_from_name, to_si
from fuelrl.landscape.window import accepts_windows

__all__ = [
    "ASPECT_FLAT",
    "LAYER_KEYS",
    "MAX_READ_CELLS",
    "BandSource",
    "LandscapeReader",
    "SyntheticReader",
    "is_synthetic_spec",
    "layer_from_name",
    "open_landscape",
    "open_reader",
    "parse_synthetic_spec",
]

#: the most cells read into memory at once (about 100 bytes a cell while reading: 10 GB);
#: larger landscapes are read by window (:class:`~fuelrl.landscape.TileDataset`)
MAX_READ_CELLS = 100_000_000
#: bytes a cell takes while a whole landscape is read and converted (raw bands, float64, layers)
BYTES_PER_CELL_READ = 100

_open = open_raster


def check_read_size(shape: tuple[int, int], where: str) -> None:
    """InputError, before anything is read, for a grid too large to hold in memory at once."""
    h, w = int(shape[0]), int(shape[1])
    cells = h * w
    need = cells * BYTES_PER_CELL_READ
    avail = _available_memory_bytes()
    if cells > MAX_READ_CELLS or (avail is not None and need > avail):
        have = f", {avail / 1e9:.1f} GB available" if avail is not None else ""
        raise InputError(
            f"{where}: {h}x{w} cells is too large to read at once (about {need / 1e9:.1f} GB needed"
            f"{have}; at most {MAX_READ_CELLS:,} cells); clip it (gdal_translate -srcwin) or read it "
            "by tiles (TileDataset)"
        )


def check_user_units(units: Mapping[str, str] | None, where: str) -> dict[str, str]:
    """``units=`` with layer names resolved (``cc`` -> ``canopy_cover``); InputError on a bad one."""
    user_units = {layer_key(k, where): v for k, v in (units or {}).items()}
    for key, unit in user_units.items():
        if unit not in UNITS[key]:
            raise InputError(f"{where}: {key} cannot be {unit!r}; expected one of {', '.join(UNITS[key])}")
    return user_units


def _available_memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


class LandscapeReader(GridReader):
    """A landscape on disk, inspected once, read by window.

    ``read(row, col, height, width)`` returns a :class:`Landscape` tile (default: the whole grid).
    Open file handles are cached per process and dropped when pickled, so a reader can be sent to
    DataLoader / ParallelEnv workers.
    """

    synthetic = False

    def __init__(
        self,
        source: str,
        bands: dict[str, BandSource],
        shape: tuple[int, int],
        crs: Any,
        transform: Affine,
        cell_size_m: float,
    ):
        self.source = source
        self.bands = bands
        self.shape = (int(shape[0]), int(shape[1]))
        self.crs = crs
        self.transform = transform
        self.cell_size_m = float(cell_size_m)
        self._handles: dict[Path, Any] = {}
        self._pid = os.getpid()

    # ------------------------------------------------------------------------- handles
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_handles"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._pid = os.getpid()

    def _handle(self, src: BandSource):
        if self._pid != os.getpid():  # forked: never share GDAL handles across processes
            self._handles = {}
            self._pid = os.getpid()
        ds = self._handles.get(src.path)
        if ds is None or ds.closed:
            ds = _open(src.path, src.where())
            self._handles[src.path] = ds
        return ds

    def close(self) -> None:
        for ds in self._handles.values():
            ds.close()
        self._handles = {}

    def __repr__(self) -> str:
        h, w = self.shape
        return f"LandscapeReader({self.source!r}, {h}x{w} cells of {self.cell_size_m:g} m)"

    # ---------------------------------------------------------------------------- read
    def read_raw(self, layer: str, row: int, col: int, height: int, width: int) -> np.ndarray:
        src = self.bands[layer]
        ds = self._handle(src)
        try:
            return ds.read(src.band, window=Window(col, row, width, height))
        except (rasterio.errors.RasterioError, OSError, ValueError) as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                f"{src.where()}: cannot read rows {row}:{row + height}, cols {col}:{col + width}: "
                f"the file is truncated or corrupt ({msg})"
            ) from None

    def _nodata_mask(self, layer: str, raw: np.ndarray) -> np.ndarray:
        mask = np.zeros(raw.shape, dtype=bool)
        for value in self.bands[layer].nodata:
            mask |= np.isnan(raw) if np.isnan(value) else raw == value
        if np.issubdtype(raw.dtype, np.floating):
            mask |= ~np.isfinite(raw)
        return mask

    def _read(self, row: int, col: int, height: int, width: int, *, allow_empty: bool) -> Landscape:
        raw = {key: self.read_raw(key, row, col, height, width) for key in LAYER_KEYS}
        missing = {key: self._nodata_mask(key, raw[key]) for key in LAYER_KEYS}
        missing["fuel_model"] |= raw["fuel_model"] == 0  # code 0 is no fuel model: nodata
        # aspect: LANDFIRE writes -1 on flat cells; FlamMap writes its nodata there (slope 0)
        slope_si = to_si("slope", raw["slope"], self.bands["slope"].unit)
        flat = (raw["aspect"] == ASPECT_FLAT) | (missing["aspect"] & ~missing["slope"] & (slope_si == 0))
        missing["aspect"] &= ~flat
        valid = ~np.logical_or.reduce([missing[key] for key in LAYER_KEYS])
        if not valid.any() and not allow_empty:
            raise InputError(
                f"{self.source}: rows {row}:{row + height}, cols {col}:{col + width} are all nodata "
                f"(no cell has data in every layer)"
            )
        out: dict[str, np.ndarray] = {}
        for key in LAYER_KEYS:
            src = self.bands[key]
            attr, si_unit, dtype = LAYERS[key]
            values = slope_si if key == "slope" else to_si(key, raw[key], src.unit)
            if key == "aspect":
                bad = valid & ~flat & ((raw[key] < 0) | (raw[key] > 360))
                self._reject(src, bad, raw[key], row, col, "outside 0..360 degrees (or -1 for flat)")
            elif key == "fuel_model":
                self._check_codes(src, raw[key], valid, row, col)
            else:
                lo, hi = SI_RANGES[key]
                bad = valid & ~((values >= lo) & (values <= hi))
                self._reject(
                    src,
                    bad,
                    values,
                    row,
                    col,
                    f"outside the physical range {lo:g}..{hi:g} {si_unit} "
                    f"(read as {src.unit}, {src.unit_origin})",
                )
            if key in ("slope", "aspect"):
                values = np.where(flat, 0.0, values)
            values = np.where(valid, values, 0)
            out[attr] = values.astype(dtype)
        return grid_tile(self, out, valid, row, col, (row, col))

    @staticmethod
    def _reject(src: BandSource, bad: np.ndarray, values: np.ndarray, row: int, col: int, why: str) -> None:
        if not bad.any():
            return
        r, c = np.argwhere(bad)[0]
        raise InputError(
            f"{src.where()}: {int(bad.sum())} cells {why}; e.g. {float(values[r, c]):g} at row "
            f"{row + int(r)}, col {col + int(c)}"
        )

    @staticmethod
    def _check_codes(src: BandSource, raw: np.ndarray, valid: np.ndarray, row: int, col: int) -> None:
        codes = np.unique(raw[valid])
        unknown = [c for c in codes if c != int(c) or int(c) not in KNOWN_CODES]
        if unknown:
            shown = ", ".join(f"{float(c):g}" for c in unknown[:8]) + (" ..." if len(unknown) > 8 else "")
            raise InputError(
                f"{src.where()}: unknown fuel model codes {shown} in rows {row}:{row + raw.shape[0]}, "
                f"cols {col}:{col + raw.shape[1]} (expected {KNOWN_CODES_TEXT})"
            )

    # ------------------------------------------------------------------ slope unit check


class SyntheticReader(GridReader):
    """A generated landscape held in memory, with the reader interface (``read`` by window)."""

    synthetic = True

    def __init__(self, landscape: Landscape):
        self.landscape = landscape
        self.source = landscape.source
        self.shape = landscape.shape
        self.crs = landscape.crs
        self.transform = landscape.transform
        self.cell_size_m = landscape.cell_size_m

    def _read(self, row: int, col: int, height: int, width: int, *, allow_empty: bool) -> Landscape:
        return self.landscape.window(row, col, height, width, allow_empty=allow_empty)

    def __repr__(self) -> str:
        return f"SyntheticReader({self.source!r})"


# ------------------------------------------------------------------------------ spec parsing
def parse_synthetic_spec(spec: str) -> dict[str, Any]:
    """``'synthetic'`` or ``'synthetic:seed=7,size=128x96,cell=30'`` -> generate_landscape kwargs.

    ``size`` is ROWSxCOLS (one number for a square); ``cell`` the cell size in metres.
    """
    head, _, rest = spec.partition(":")
    if head.strip().lower() != "synthetic":
        raise InputError(f"not a synthetic spec: {spec!r}")
    kwargs: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        try:
            if not eq:
                raise ValueError
            if key == "seed":
                kwargs["seed"] = int(value)
            elif key == "size":
                parts = value.lower().split("x")
                rows, cols = (
                    (int(parts[0]), int(parts[0])) if len(parts) == 1 else (int(parts[0]), int(parts[1]))
                )
                if len(parts) > 2:
                    raise ValueError
                kwargs["shape"] = (rows, cols)
            elif key in ("cell", "cell_size", "cell_size_m"):
                kwargs["cell_size_m"] = float(value)
            else:
                raise InputError(
                    f"synthetic spec {spec!r}: unknown option {key!r}; "
                    "expected seed=INT, size=ROWSxCOLS, cell=M"
                )
        except ValueError:
            raise InputError(
                f"synthetic spec {spec!r}: cannot read {item!r}; expected e.g. synthetic:seed=7,size=128x96"
            ) from None
    return kwargs


def is_synthetic_spec(spec: Any) -> bool:
    return isinstance(spec, str) and spec.strip().lower().partition(":")[0] == "synthetic"


@accepts_windows  # PATH#rows=R0:R1,cols=C0:C1 (fuelrl.landscape.window)
def open_reader(
    spec: str | Path,
    *,
    mapping: Mapping[str, str | Path | int] | None = None,
    units: Mapping[str, str] | None = None,
    cell_size_m: float | None = None,
) -> LandscapeReader | SyntheticReader:
    """Inspect a landscape without reading its layers; see :func:`open_landscape` for the arguments.

    Reads only metadata and samples for the unit checks (:mod:`fuelrl.landscape.unit_checks`)."""
    if is_synthetic_spec(spec):
        from fuelrl.landscape.synthetic import generate_landscape

        kwargs = parse_synthetic_spec(str(spec))
        if units or cell_size_m is not None or mapping:
            raise InputError(
                f"synthetic spec {spec!r}: generated in SI units on its own grid; units, cell size "
                "and mapping apply to files (give the cell size as synthetic:cell=M)"
            )
        check_read_size(kwargs.get("shape", (128, 128)), f"synthetic spec {spec!r}")
        return SyntheticReader(generate_landscape(**kwargs))
    from fuelrl.landscape.layouts import folder_reader, multiband_reader
    from fuelrl.landscape.unit_checks import check_units

    path = Path(spec).expanduser()
    if not path.exists():
        raise InputError(
            f"landscape not found: {path} (expected a folder of LANDFIRE GeoTIFFs, an 8-band GeoTIFF, "
            "a FlamMap .lcp, or 'synthetic[:seed=N,size=ROWSxCOLS]')"
        )
    user_units = check_user_units(units, f"units for {path}")
    if path.is_dir():
        reader = folder_reader(path, mapping or {}, user_units, cell_size_m)
    else:
        reader = multiband_reader(path, mapping or {}, user_units, cell_size_m)
    try:
        check_units(reader)
    except BaseException:
        reader.close()
        raise
    return reader


def open_landscape(
    spec: str | Path,
    *,
    mapping: Mapping[str, str | Path | int] | None = None,
    units: Mapping[str, str] | None = None,
    cell_size_m: float | None = None,
) -> Landscape:
    """Read a whole landscape in SI units.

    ``spec``: a folder of LANDFIRE single-layer GeoTIFFs, an 8-band GeoTIFF, a FlamMap .lcp, or the
    explicit string ``synthetic`` / ``synthetic:seed=7,size=128x96`` (generated, never a fallback).
    ``mapping``: layer -> file (folders) or layer -> band number (multi-band files), for names the
    reader does not recognise. ``units``: layer -> stored unit (see :data:`~fuelrl.landscape.units.UNITS`),
    overriding the metadata and never second-guessed by the unit checks. ``cell_size_m``: the cell
    size in metres, required for a grid with no CRS (a .lcp's header unit counts as one).
    Raises :class:`InputError` for any bad input, including a grid too large to read at once
    (before reading it).
    """
    reader = open_reader(spec, mapping=mapping, units=units, cell_size_m=cell_size_m)
    try:
        if not reader.synthetic:
            check_read_size(reader.shape, str(spec))
        return reader.read()
    finally:
        reader.close()
