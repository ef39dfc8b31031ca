"""Finding the eight layers in a landscape on disk: LANDFIRE folders and multi-band files (.tif, .lcp).

Each function inspects file names, band descriptions and unit metadata once and returns a
:class:`~fuelrl.landscape.readers.LandscapeReader` that knows, per layer, the file, band, stored
unit (and where that unit came from) and nodata values. Nothing is read here but metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine

from fuelrl.errors import InputError
from fuelrl.landscape.bands import (
    _TIF_SUFFIXES,
    DEFAULT_BAND_ORDER,
    FLAMMAP_NODATA,
    LAYER_KEYS,
    BandSource,
    layer_key,
    open_raster,
)
from fuelrl.landscape.core import LAYER_TITLES, grid_cell_size_m
from fuelrl.landscape.readers import LandscapeReader
from fuelrl.landscape.units import LANDFIRE_DEFAULT_UNITS, fuel_family, layer_from_name, parse_unit

_open = open_raster
_layer_key = layer_key


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


def folder_reader(
    folder: Path,
    mapping: Mapping[str, Any],
    user_units: Mapping[str, str],
    cell_size_m: float | None = None,
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
    cell = grid_cell_size_m(ref.transform, ref.crs, f"{folder} ({ref_label})", cell_size_m=cell_size_m)
    return LandscapeReader(str(folder), bands, ref.shape, ref.crs, ref.transform, cell)


def multiband_reader(
    path: Path,
    mapping: Mapping[str, Any],
    user_units: Mapping[str, str],
    cell_size_m: float | None = None,
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
        if count > len(DEFAULT_BAND_ORDER) and len(band_of) < len(LAYER_KEYS):
            raise InputError(
                f"{path.name}: {count} bands without descriptions, so which 8 are the layers is "
                f"unknown; pass mapping={{'elevation': BAND, ...}} for all 8 "
                f"({', '.join(DEFAULT_BAND_ORDER)})"
            )
        for b, key in enumerate(DEFAULT_BAND_ORDER, start=1):
            band_of.setdefault(key, b)
    if len(set(band_of.values())) != len(band_of):
        raise InputError(f"{path.name}: two layers map to the same band ({band_of})")
    linear_unit = file_tags.get("LINEAR_UNIT") if is_lcp else None
    cell = grid_cell_size_m(transform, crs, path.name, linear_unit=linear_unit, cell_size_m=cell_size_m)
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
