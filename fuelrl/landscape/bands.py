"""Where each layer is stored (file, band, unit, nodata) and opening rasters with one-line errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import rasterio
import rasterio.errors

from fuelrl.errors import InputError
from fuelrl.landscape.core import LAYER_TITLES, LAYERS

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


def layer_key(name: str, what: str) -> str:
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


def open_raster(path: Path, what: str):
    try:
        return rasterio.open(path)
    except (rasterio.errors.RasterioError, OSError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{what}: cannot open {path}: truncated or not a raster ({msg})") from None


_layer_key = layer_key
_open = open_raster
