"""Layer names and units: which layer a file or band holds, and conversion to SI.

Names come from LANDFIRE file names (``LC20_Elev_220.tif``, ``LC22_F40_230.tif``,
``LF2022_FBFM40_230_CONUS.tif``), LANDFIRE product codes in band descriptions (``US_230CBH``),
FlamMap / GDAL LCP band descriptions (``Canopy base height``) and fuelrl's own band names
(``canopy_base_height_m``). Units come from metadata (GDAL LCP header, GeoTIFF ``UnitOfMeasure``
band tags, fuelrl ``units``), from the name (``SlpP`` percent, ``SlpD`` degrees) or, when none says,
from LANDFIRE's delivery conventions (:data:`LANDFIRE_DEFAULT_UNITS`).
"""

from __future__ import annotations

import re

import numpy as np

from fuelrl.errors import InputError
from fuelrl.landscape.core import LAYERS

#: the units each layer may be stored in (canonical spellings)
UNITS: dict[str, tuple[str, ...]] = {
    "elevation": ("m", "ft"),
    "slope": ("percent", "degrees", "fraction"),
    "aspect": ("degrees", "grass_degrees"),
    "fuel_model": ("code",),
    "canopy_cover": ("percent", "fraction", "class"),
    "canopy_height": ("m", "ft", "m*10", "ft*10"),
    "canopy_base_height": ("m", "ft", "m*10", "ft*10"),
    "canopy_bulk_density": ("kg/m3", "lb/ft3", "kg/m3*100", "lb/ft3*1000"),
}

#: LANDFIRE's delivery units, used when neither the metadata nor the name says
LANDFIRE_DEFAULT_UNITS: dict[str, str] = {
    "elevation": "m",
    "slope": "degrees",  # as in LCP files; a LANDFIRE SlpP / SlpD file name says which
    "aspect": "degrees",
    "fuel_model": "code",
    "canopy_cover": "percent",
    "canopy_height": "m*10",
    "canopy_base_height": "m*10",
    "canopy_bulk_density": "kg/m3*100",
}

#: physical range of each layer in SI units (inclusive), checked on valid cells after conversion
SI_RANGES: dict[str, tuple[float, float]] = {
    "elevation": (-450.0, 9000.0),  # Dead Sea shore to above Everest
    "slope": (0.0, 57.3),  # rise/run; 89 degrees
    "aspect": (0.0, 360.0),
    "canopy_cover": (0.0, 1.0),
    "canopy_height": (0.0, 130.0),  # the tallest trees measured are ~116 m
    "canopy_base_height": (0.0, 100.0),
    "canopy_bulk_density": (0.0, 2.0),  # LANDFIRE caps at 0.45 kg/m3
}

#: the SI unit names, as written into band metadata by :func:`fuelrl.landscape.write_landscape`
SI_UNITS: dict[str, str] = {key: unit for key, (_, unit, _) in LAYERS.items()}

# Canopy cover classes of FARSITE/FlamMap landscapes with CANOPY_COV_UNIT = 0 (categories):
# 0 = 0 %, 1 = 1-20 %, 2 = 21-50 %, 3 = 51-80 %, 4 = 81-100 %; each class is read as its midpoint.
COVER_CLASS_MIDPOINT_FRACTION = np.array([0.0, 0.10, 0.355, 0.655, 0.905], dtype=np.float32)

FT_TO_M = 0.3048
LB_FT3_TO_KG_M3 = 16.01846337

_ATTR_TO_KEY = {attr: key for key, (attr, _, _) in LAYERS.items()}


def _tokens(name: str) -> list[str]:
    """Lower-case alphanumeric tokens with leading/trailing digits stripped (``230CBH`` -> ``cbh``)."""
    out = []
    for tok in re.split(r"[^0-9a-zA-Z]+", name.lower()):
        tok = tok.strip("0123456789")
        if tok:
            out.append(tok)
    return out


def layer_from_name(name: str) -> tuple[str, str | None] | None:
    """``(layer key, unit or None)`` named by a file stem or band description, or None.

    >>> layer_from_name("LC20_SlpP_220")
    ('slope', 'percent')
    >>> layer_from_name("Canopy Base Height")
    ('canopy_base_height', None)
    """
    if not name:
        return None
    stem = name.strip()
    key = _ATTR_TO_KEY.get(stem.lower())
    if key is not None:
        return key, SI_UNITS[key]
    toks = _tokens(stem)
    tokset = set(toks)
    if tokset & {"slpp"}:
        return "slope", "percent"
    if tokset & {"slpd"}:
        return "slope", "degrees"
    if tokset & {"slope", "slp"}:
        return "slope", None
    if tokset & {"elev", "elevation", "dem"}:
        return "elevation", None
    if tokset & {"asp", "aspect"}:
        return "aspect", None
    if tokset & {"f", "fbfm", "fuel", "fuels", "fm"} and not tokset & {"moisture"}:
        return "fuel_model", None
    if "base" in tokset or "cbh" in tokset:
        return "canopy_base_height", None
    if "bulk" in tokset or "cbd" in tokset:
        return "canopy_bulk_density", None
    if tokset & {"cover", "cc", "cov"}:
        return "canopy_cover", None
    if tokset & {"ch"} or ("height" in tokset and ("canopy" in tokset or "stand" in tokset)):
        return "canopy_height", None
    return None


def fuel_family(name: str) -> str | None:
    """``'sb40'`` for F40 / FBFM40 names, ``'anderson13'`` for F13 / FBFM13, else None."""
    for tok in re.split(r"[^0-9a-zA-Z]+", name.lower()):
        if tok in ("f40", "fbfm40") or tok.endswith("fbfm40"):
            return "sb40"
        if tok in ("f13", "fbfm13") or tok.endswith("fbfm13"):
            return "anderson13"
    return None


def parse_unit(layer: str, text: str | None) -> str | None:
    """The canonical unit of ``layer`` that a metadata string such as ``'Meters * 10'``,
    ``'kg/m^3 x 100'``, ``'Azimuth degrees'`` or ``'Categories (0-4)'`` names; None if it names none."""
    if text is None:
        return None
    t = text.strip().lower()
    if not t or t in ("class", "none", "unitless", "classes"):
        return "code" if layer == "fuel_model" else None
    if t in UNITS[layer]:
        return t
    t = t.replace("metres", "m").replace("meters", "m").replace("meter", "m").replace("feet", "ft")
    t = (
        t.replace("foot", "ft")
        .replace("kilograms per cubic m", "kg/m3")
        .replace("pounds per cubic ft", "lb/ft3")
    )
    t = t.replace("^", "").replace("**", "").replace(" ", "")
    scale = ""
    m = re.search(r"[x*]\s*(10+)$", t)
    if m:
        scale = "*" + m.group(1)
        t = t[: m.start()]
    if layer == "elevation":
        unit = {"m": "m", "ft": "ft"}.get(t)
    elif layer == "slope":
        unit = {
            "degrees": "degrees",
            "degree": "degrees",
            "deg": "degrees",
            "percent": "percent",
            "%": "percent",
        }
        unit = unit.get(t, "fraction" if t in ("fraction", "rise/run") else None)
    elif layer == "aspect":
        if "grass" in t and "categor" in t:
            raise InputError(
                "aspect stored as GRASS categories (1-25) is not supported; store azimuth degrees"
            )
        unit = "grass_degrees" if "grass" in t else ("degrees" if "degree" in t or t == "deg" else None)
    elif layer == "fuel_model":
        unit = "code"
    elif layer == "canopy_cover":
        if "categor" in t:
            unit = "class"
        else:
            unit = {"percent": "percent", "%": "percent", "fraction": "fraction"}.get(t)
    elif layer in ("canopy_height", "canopy_base_height"):
        unit = {"m": "m", "ft": "ft"}.get(t)
        unit = unit + scale if unit and scale in ("", "*10") else None
    else:  # canopy_bulk_density
        unit = {"kg/m3": "kg/m3", "lb/ft3": "lb/ft3"}.get(t)
        if unit and scale:
            unit = unit + scale
        if unit not in UNITS[layer]:
            unit = None
    return unit


def to_si(layer: str, raw: np.ndarray, unit: str) -> np.ndarray:
    """Convert stored values of ``layer`` in ``unit`` to the Landscape's SI units (float64 out,
    int for fuel_model). Aspect's flat marker (-1) and nodata are handled by the caller."""
    x = np.asarray(raw, dtype=np.float64)
    if layer == "elevation":
        return x * FT_TO_M if unit == "ft" else x
    if layer == "slope":
        if unit == "percent":
            return x / 100.0
        if unit == "degrees":
            return np.tan(np.radians(np.minimum(x, 89.9)))  # negative stays negative: refused
        return x
    if layer == "aspect":
        if unit == "grass_degrees":  # counter-clockwise from east
            return (90.0 - x) % 360.0
        return x % 360.0
    if layer == "fuel_model":
        return np.rint(x)
    if layer == "canopy_cover":
        if unit == "percent":
            return x / 100.0
        if unit == "class":
            idx = np.clip(np.rint(x), 0, 4).astype(np.int64)
            return COVER_CLASS_MIDPOINT_FRACTION[idx].astype(np.float64)
        return x
    if layer in ("canopy_height", "canopy_base_height"):
        factor = {"m": 1.0, "ft": FT_TO_M, "m*10": 0.1, "ft*10": FT_TO_M / 10.0}[unit]
        return x * factor
    factor = {
        "kg/m3": 1.0,
        "lb/ft3": LB_FT3_TO_KG_M3,
        "kg/m3*100": 0.01,
        "lb/ft3*1000": LB_FT3_TO_KG_M3 / 1000,
    }
    return x * factor[unit]

