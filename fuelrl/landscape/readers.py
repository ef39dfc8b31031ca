"""Reading landscapes: LANDFIRE single-layer folders, 8-band GeoTIFFs, FlamMap .lcp, ``synthetic``.

:func:`open_reader` inspects a spec once (which file and band holds each layer, its units and
nodata, the grid) and returns a reader whose :meth:`LandscapeReader.read` reads any window lazily
(rasterio windows), converting to SI and validating as it goes. :func:`open_landscape` reads the
whole grid. Every problem is an :class:`~fuelrl.errors.InputError` of one line naming the file and
the layer; nothing ever falls back to generated data.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.errors
from affine import Affine
from rasterio.windows import Window

from fuelrl.errors import InputError
from fuelrl.landscape.core import LAYER_TITLES, LAYERS, Landscape, cell_size_from_transform
from fuelrl.landscape.fuel_codes import KNOWN_CODES, KNOWN_CODES_TEXT
from fuelrl.landscape.units import (
    LANDFIRE_DEFAULT_UNITS,
    SI_RANGES,
    UNITS,
    fuel_family,
    layer_from_name,
    parse_unit,
    to_si,
)
from fuelrl.landscape.window import accepts_windows

LAYER_KEYS: tuple[str, ...] = tuple(LAYERS)
#: the band order assumed for multi-band files whose bands carry no descriptions (FlamMap / LCP order)
DEFAULT_BAND_ORDER: tuple[str, ...] = LAYER_KEYS
#: FlamMap's nodata value, used in .lcp files (which declare none)
FLAMMAP_NODATA = -9999.0
#: LANDFIRE's aspect value for flat cells
ASPECT_FLAT = -1.0

_TIF_SUFFIXES = (".tif", ".tiff")
_ALIASES = {attr: key for key, (attr, _, _) in LAYERS.items()} | {
    "fuel": "fuel_model",
    "elev": "elevation",
    "cc": "canopy_cover",
    "ch": "canopy_height",
    "cbh": "canopy_base_height",
    "cbd": "canopy_bulk_density",
}


def _layer_key(name: str, what: str) -> str:
    key = name if name in LAYERS else _ALIASES.get(name)
    if key is None:
        raise InputError(f"{what}: unknown layer {name!r}; expected one of {', '.join(LAYER_KEYS)}")
    return key


@dataclass(frozen=True)
class BandSource:
    """Where one layer is stored: file, band (1-based), unit, values meaning nodata."""

    layer: str
    path: Path
    band: int
    unit: str
    unit_origin: str  # "user", "metadata", "name", "default" or "elevation check"
    nodata: tuple[float, ...]
    label: str  # how error messages name it, e.g. "LC22_CBD_230.tif" or "19545.tif band 8"

    def where(self) -> str:
        return f"{self.label} ({LAYER_TITLES[self.layer]})"


def _open(path: Path, what: str):
    try:
        return rasterio.open(path)
    except (rasterio.errors.RasterioError, OSError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{what}: cannot open {path}: truncated or not a raster ({msg})") from None


class LandscapeReader:
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

    def read(
        self,
        row: int = 0,
        col: int = 0,
        height: int | None = None,
        width: int | None = None,
        *,
        allow_empty: bool = False,
    ) -> Landscape:
        """The window whose top-left cell is (row, col), in SI units, validated.

        Raises :class:`InputError` when the window holds no valid cell, unless ``allow_empty``.
        """
        h, w = self.shape
        height = h - row if height is None else int(height)
        width = w - col if width is None else int(width)
        if height < 1 or width < 1 or row < 0 or col < 0 or row + height > h or col + width > w:
            raise InputError(
                f"{self.source}: window rows {row}:{row + height}, cols {col}:{col + width} "
                f"is outside the {h}x{w} grid"
            )
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
        return Landscape(
            **out,
            valid=valid,
            crs=self.crs,
            transform=self.transform @ Affine.translation(col, row),
            cell_size_m=self.cell_size_m,
            source=self.source,
            synthetic=False,
            offset_rowcol=(int(row), int(col)),
        )

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
        unknown = [int(c) for c in codes if int(c) not in KNOWN_CODES or c != int(c)]
        if unknown:
            shown = ", ".join(str(c) for c in unknown[:8]) + (" ..." if len(unknown) > 8 else "")
            raise InputError(
                f"{src.where()}: unknown fuel model codes {shown} in rows {row}:{row + raw.shape[0]}, "
                f"cols {col}:{col + raw.shape[1]} (expected {KNOWN_CODES_TEXT})"
            )

    # ------------------------------------------------------------------ slope unit check
    def check_slope_unit(self) -> None:
        """Cross-check the slope unit against the elevation layer (see docs/landscapes.md).

        Slope is recomputed from elevation on a central window (up to 512x512 cells) and compared
        with the slope layer read as percent and as degrees. When the unit the metadata gives fits
        at least twice as badly as the other one and the other one fits to within 5 degrees (median
        absolute difference), the metadata is wrong: the slope is read in the unit that fits, with a
        warning. A unit the user passed is never changed.
        """
        src = self.bands["slope"]
        if src.unit_origin == "user" or src.unit not in ("percent", "degrees"):
            return
        h, w = self.shape
        sh, sw = min(h, 512), min(w, 512)
        r0, c0 = (h - sh) // 2, (w - sw) // 2
        if sh < 5 or sw < 5:
            return
        elev_raw = self.read_raw("elevation", r0, c0, sh, sw)
        slope_raw = self.read_raw("slope", r0, c0, sh, sw)
        ok = ~self._nodata_mask("elevation", elev_raw) & ~self._nodata_mask("slope", slope_raw)
        z = to_si("elevation", elev_raw, self.bands["elevation"].unit)
        z = np.where(ok, z, np.nan)
        dz_drow, dz_dcol = np.gradient(z, self.cell_size_m)
        dem_deg = np.degrees(np.arctan(np.hypot(dz_drow, dz_dcol)))
        use = np.isfinite(dem_deg) & ok & (slope_raw >= 0)
        if use.sum() < 100 or np.percentile(dem_deg[use], 90) < 5.0:
            return  # too little relief to tell percent from degrees
        as_deg = {
            "degrees": slope_raw[use].astype(np.float64),
            "percent": np.degrees(np.arctan(slope_raw[use] / 100.0)),
        }
        err = {u: float(np.median(np.abs(v - dem_deg[use]))) for u, v in as_deg.items()}
        other = "degrees" if src.unit == "percent" else "percent"
        if err[src.unit] > 2.0 * err[other] and err[other] < 5.0:
            warnings.warn(
                f"{src.where()}: the metadata says {src.unit} ({src.unit_origin}) but the values match "
                f"the elevation as {other} (median error {err[other]:.1f} vs {err[src.unit]:.1f} "
                f"degrees); reading slope in {other}",
                UserWarning,
                stacklevel=3,
            )
            self.bands["slope"] = BandSource(
                src.layer, src.path, src.band, other, "elevation check", src.nodata, src.label
            )


class SyntheticReader:
    """A generated landscape held in memory, with the reader interface (``read`` by window)."""

    synthetic = True

    def __init__(self, landscape: Landscape):
        self.landscape = landscape
        self.source = landscape.source
        self.shape = landscape.shape
        self.crs = landscape.crs
        self.transform = landscape.transform
        self.cell_size_m = landscape.cell_size_m

    def read(
        self,
        row: int = 0,
        col: int = 0,
        height: int | None = None,
        width: int | None = None,
        *,
        allow_empty: bool = False,
    ) -> Landscape:
        h, w = self.shape
        height = h - row if height is None else height
        width = w - col if width is None else width
        return self.landscape.window(row, col, height, width, allow_empty=allow_empty)

    def close(self) -> None:
        pass

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
) -> LandscapeReader | SyntheticReader:
    """Inspect a landscape without reading its layers; see :func:`open_landscape` for ``spec``."""
    if is_synthetic_spec(spec):
        from fuelrl.landscape.synthetic import generate_landscape

        return SyntheticReader(generate_landscape(**parse_synthetic_spec(str(spec))))
    path = Path(spec).expanduser()
    if not path.exists():
        raise InputError(
            f"landscape not found: {path} (expected a folder of LANDFIRE GeoTIFFs, an 8-band GeoTIFF, "
            "a FlamMap .lcp, or 'synthetic[:seed=N,size=ROWSxCOLS]')"
        )
    user_units = {_layer_key(k, f"units for {path}"): v for k, v in (units or {}).items()}
    for key, unit in user_units.items():
        if unit not in UNITS[key]:
            raise InputError(
                f"units for {path}: {key} cannot be {unit!r}; expected one of {', '.join(UNITS[key])}"
            )
    if path.is_dir():
        reader = _folder_reader(path, mapping or {}, user_units)
    else:
        reader = _multiband_reader(path, mapping or {}, user_units)
    reader.check_slope_unit()
    return reader


def open_landscape(
    spec: str | Path,
    *,
    mapping: Mapping[str, str | Path | int] | None = None,
    units: Mapping[str, str] | None = None,
) -> Landscape:
    """Read a whole landscape in SI units.

    ``spec``: a folder of LANDFIRE single-layer GeoTIFFs, an 8-band GeoTIFF, a FlamMap .lcp, or the
    explicit string ``synthetic`` / ``synthetic:seed=7,size=128x96`` (generated, never a fallback).
    ``mapping``: layer -> file (folders) or layer -> band number (multi-band files), for names the
    reader does not recognise. ``units``: layer -> stored unit (see :data:`~fuelrl.landscape.units.UNITS`),
    overriding the metadata. Raises :class:`InputError` for any bad input.
    """
    reader = open_reader(spec, mapping=mapping, units=units)
    try:
        return reader.read()
    finally:
        reader.close()


# ------------------------------------------------------------------------------ layouts
def _unit_for(
    key: str, user: Mapping[str, str], meta_text: str | None, name_unit: str | None, where: str
) -> tuple[str, str]:
    if key in user:
        return user[key], "user"
    meta = parse_unit(key, meta_text)
    if meta is not None:
        return meta, "metadata"
    if name_unit is not None:
        return name_unit, "name"
    return LANDFIRE_DEFAULT_UNITS[key], "default"


@dataclass
class _Grid:
    shape: tuple[int, int]
    crs: Any
    transform: Affine


def _check_grid(ds, ref: _Grid, label: str, ref_label: str, key: str) -> None:
    where = f"{label} ({LAYER_TITLES[key]})"
    if ds.shape != ref.shape:
        raise InputError(
            f"{where}: shape {ds.shape[0]}x{ds.shape[1]} differs from {ref_label} "
            f"({ref.shape[0]}x{ref.shape[1]})"
        )
    if ds.crs != ref.crs:
        raise InputError(
            f"{where}: CRS {ds.crs.to_string() if ds.crs else None} differs from {ref_label} "
            f"({ref.crs.to_string() if ref.crs else None})"
        )
    if not ds.transform.almost_equals(ref.transform, precision=1e-6 * abs(ref.transform.a)):
        raise InputError(
            f"{where}: transform {tuple(ds.transform)[:6]} differs from {ref_label} "
            f"({tuple(ref.transform)[:6]})"
        )


def _folder_reader(
    folder: Path, mapping: Mapping[str, Any], user_units: Mapping[str, str]
) -> LandscapeReader:
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in _TIF_SUFFIXES and not p.name.startswith(".")
    )
    chosen: dict[str, tuple[Path, str | None]] = {}
    for name, target in mapping.items():
        key = _layer_key(str(name), f"mapping for {folder}")
        p = Path(target)
        p = p if p.is_absolute() else folder / p
        if not p.exists():
            raise InputError(f"mapping for {folder}: {LAYER_TITLES[key]} file {p} does not exist")
        chosen[key] = (p, (layer_from_name(p.stem) or (None, None))[1])
    if not files and not chosen:
        raise InputError(
            f"{folder}: empty landscape folder (no .tif layers; expected LANDFIRE files such as "
            "LC20_Elev_220.tif, LC22_F40_230.tif)"
        )
    candidates: dict[str, list[tuple[Path, str | None]]] = {}
    for p in files:
        hit = layer_from_name(p.stem)
        if hit is not None:
            candidates.setdefault(hit[0], []).append((p, hit[1]))
    for key, found in candidates.items():
        if key in chosen:
            continue
        if key == "fuel_model" and len(found) > 1:  # LANDFIRE delivers F40 and F13: prefer F40
            sb40 = [f for f in found if fuel_family(f[0].stem) == "sb40"]
            found = sb40 or found
        if key == "slope" and len(found) > 1:  # SlpP and SlpD: percent keeps more precision
            pct = [f for f in found if f[1] == "percent"]
            found = pct or found
        if len(found) > 1:
            names = ", ".join(str(f[0].relative_to(folder)) for f in found)
            raise InputError(
                f"{folder}: several files look like the {LAYER_TITLES[key]} layer ({names}); "
                f"choose one with mapping={{'{key}': 'FILE'}}"
            )
        chosen[key] = found[0]
    missing = [k for k in LAYER_KEYS if k not in chosen]
    if missing:
        names = ", ".join(p.name for p in files[:12]) or "none"
        raise InputError(
            f"{folder}: missing layer(s) {', '.join(LAYER_TITLES[k] for k in missing)} "
            f"(files found: {names}; "
            f"expected LANDFIRE names like *_Elev_*, *_SlpP_*, *_Asp_*, *_F40_*, *_CC_*, *_CH_*, *_CBH_*, "
            f"*_CBD_*, or pass mapping={{'{missing[0]}': 'FILE'}})"
        )
    bands: dict[str, BandSource] = {}
    ref: _Grid | None = None
    ref_label = ""
    for key in LAYER_KEYS:
        p, name_unit = chosen[key]
        label = str(p.relative_to(folder)) if p.is_relative_to(folder) else str(p)
        where = f"{label} ({LAYER_TITLES[key]})"
        with _open(p, where) as ds:
            if ds.count != 1:
                raise InputError(f"{where}: expected a single-layer GeoTIFF, found {ds.count} bands")
            if ref is None:
                ref, ref_label = _Grid(ds.shape, ds.crs, ds.transform), label
            else:
                _check_grid(ds, ref, label, ref_label, key)
            meta = ds.units[0] or ds.tags(1).get("UnitOfMeasure")
            unit, origin = _unit_for(key, user_units, meta, name_unit, label)
            nodata = () if ds.nodata is None else (float(ds.nodata),)
            bands[key] = BandSource(key, p, 1, unit, origin, nodata, label)
    assert ref is not None
    cell = cell_size_from_transform(ref.transform, ref.crs, str(folder))
    return LandscapeReader(str(folder), bands, ref.shape, ref.crs, ref.transform, cell)


def _multiband_reader(
    path: Path, mapping: Mapping[str, Any], user_units: Mapping[str, str]
) -> LandscapeReader:
    is_lcp = path.suffix.lower() == ".lcp"
    with _open(path, f"{path.name}") as ds:
        count = ds.count
        descriptions = [d or "" for d in ds.descriptions]
        band_tags = [ds.tags(b) for b in range(1, count + 1)]
        band_units = list(ds.units)
        nodatavals = list(ds.nodatavals)
        shape, crs, transform = ds.shape, ds.crs, ds.transform
        file_tags = ds.tags()
    if count == 1 and not mapping:
        raise InputError(
            f"{path}: a single-layer raster; put the eight LANDFIRE layer files in one folder and "
            "open the folder"
        )
    band_of: dict[str, int] = {}
    for name, band in mapping.items():
        key = _layer_key(str(name), f"mapping for {path.name}")
        if not isinstance(band, int | np.integer) or not 1 <= int(band) <= count:
            raise InputError(f"mapping for {path.name}: {key} must be a band number 1..{count}, got {band!r}")
        band_of[key] = int(band)
    mapped = set(band_of)
    name_units: dict[str, str | None] = {}
    if any(descriptions):
        for b, desc in enumerate(descriptions, start=1):
            hit = layer_from_name(desc)
            if hit is None or hit[0] in mapped:
                continue
            if hit[0] in band_of:
                raise InputError(
                    f"{path.name}: bands {band_of[hit[0]]} and {b} both look like {LAYER_TITLES[hit[0]]} "
                    f"({descriptions[band_of[hit[0]] - 1]!r}, {desc!r}); "
                    f"choose with mapping={{'{hit[0]}': BAND}}"
                )
            band_of[hit[0]] = b
            name_units[hit[0]] = hit[1]
        missing = [k for k in LAYER_KEYS if k not in band_of]
        if missing:
            raise InputError(
                f"{path.name}: no band for {', '.join(LAYER_TITLES[k] for k in missing)} (band descriptions: "
                f"{', '.join(repr(d) for d in descriptions)}); pass mapping={{'{missing[0]}': BAND}}"
            )
    else:
        if count < len(DEFAULT_BAND_ORDER) and len(band_of) < len(LAYER_KEYS):
            raise InputError(
                f"{path.name}: {count} bands without descriptions; expected 8 in the order "
                f"{', '.join(DEFAULT_BAND_ORDER)}"
            )
        for b, key in enumerate(DEFAULT_BAND_ORDER, start=1):
            band_of.setdefault(key, b)
    if len(set(band_of.values())) != len(band_of):
        raise InputError(f"{path.name}: two layers map to the same band ({band_of})")
    cell = cell_size_from_transform(transform, crs, path.name)
    if crs is None and file_tags.get("LINEAR_UNIT", "").lower().startswith("f"):
        cell *= 0.3048
    bands: dict[str, BandSource] = {}
    for key in LAYER_KEYS:
        b = band_of[key]
        tags = band_tags[b - 1]
        label = f"{path.name} band {b}"
        if is_lcp:
            prefix = {
                "elevation": "ELEVATION",
                "slope": "SLOPE",
                "aspect": "ASPECT",
                "fuel_model": "FUEL_MODEL",
                "canopy_cover": "CANOPY_COV",
                "canopy_height": "CANOPY_HT",
                "canopy_base_height": "CBH",
                "canopy_bulk_density": "CBD",
            }[key]
            meta_text = tags.get(f"{prefix}_UNIT_NAME")
            nodata = (FLAMMAP_NODATA,)
        else:
            meta_text = band_units[b - 1] or tags.get("UnitOfMeasure")
            nd = nodatavals[b - 1]
            nodata = () if nd is None else (float(nd),)
        if key == "fuel_model":
            meta_text = "code"
        unit, origin = _unit_for(key, user_units, meta_text, name_units.get(key), label)
        bands[key] = BandSource(key, path, b, unit, origin, nodata, label)
    return LandscapeReader(str(path), bands, shape, crs, transform, cell)
