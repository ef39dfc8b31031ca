"""Is each layer stored in the unit its metadata says? Checks on a sample, before any read.

A landscape's units come from metadata, names or LANDFIRE's conventions (:mod:`fuelrl.landscape.units`);
a wrong one is silent and costly (a CBD in kg/m3 read as kg/m3 x 100 makes crown fire vanish). So
every layer whose unit the user did not give (``units=``, never second-guessed) is checked on a
central sample window of up to :data:`SAMPLE_SIDE` x :data:`SAMPLE_SIDE` cells:

- **elevation** (m / ft) and **slope** (percent / degrees): slope recomputed from the elevation is
  compared with the slope layer under each pair of units. When another pair fits at least twice as
  well, to within 5 degrees (median absolute difference), the declared pair is wrong. A wrong
  elevation unit is an error; a wrong slope unit is read in the unit that fits, with a one-line
  notice (:class:`fuelrl.errors.FuelrlNotice`), as LANDFIRE and FlamMap files mislabel it often.
- **aspect** (azimuth degrees / GRASS degrees counter-clockwise from east): the downslope azimuth
  of the elevation on steep cells; the declared convention must not fit twice as badly as the other.
- **canopy cover, height, base height, bulk density**: the 95th percentile of the cells with canopy
  (stored value > 0), in SI under the declared unit, must be plausible (:data:`PLAUSIBLE_P95`);
  when it is not and another unit of the layer makes it plausible, that is an error naming the
  layer, the unit read and the unit the values suggest. Canopy base height above canopy height on
  most canopy cells is an error too (one of the two units is wrong).

Every check needs enough cells (:data:`MIN_CELLS`) and, for the terrain checks, enough relief;
otherwise it says nothing. See docs/landscapes.md ("Unit checks").
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fuelrl.errors import InputError, notice
from fuelrl.landscape.bands import BandSource
from fuelrl.landscape.units import COVER_CLASS_MIDPOINT_FRACTION, UNITS, to_si

#: side of the central sample window the checks read (cells)
SAMPLE_SIDE = 512
#: cells with data (or with canopy) a check needs before it judges
MIN_CELLS = 30
#: plausible 95th percentile, in SI, of the cells with canopy (stored value > 0)
PLAUSIBLE_P95: dict[str, tuple[float, float]] = {
    "canopy_cover": (0.05, 1.0),  # fraction
    "canopy_height": (5.0, 80.0),  # m; LANDFIRE's tallest class is 50+ m
    "canopy_base_height": (0.2, 40.0),  # m; LANDFIRE caps at 10 m
    "canopy_bulk_density": (0.02, 1.0),  # kg/m3; LANDFIRE caps at 0.45
}
CANOPY_LAYERS = tuple(PLAUSIBLE_P95)
_TERRAIN_ALTERNATIVE = {"m": "ft", "ft": "m", "percent": "degrees", "degrees": "percent"}


def _override(layer: str, unit: str) -> str:
    return f"units={{'{layer}': '{unit}'}} (CLI: --units {layer}={unit})"


def check_units(reader: Any) -> None:
    """Run every check on ``reader`` (a :class:`~fuelrl.landscape.readers.LandscapeReader`);
    InputError on a unit the values contradict; may switch the slope unit, with a notice."""
    h, w = reader.shape
    sh, sw = min(h, SAMPLE_SIDE), min(w, SAMPLE_SIDE)
    r0, c0 = (h - sh) // 2, (w - sw) // 2
    raw = {key: reader.read_raw(key, r0, c0, sh, sw) for key in reader.bands}
    ok = {key: ~reader._nodata_mask(key, raw[key]) for key in raw}
    if sh >= 5 and sw >= 5:
        _check_terrain(reader, raw, ok)
    _check_canopy(reader, raw, ok)


# ------------------------------------------------------------------------------------ terrain
def _slope_deg(raw: np.ndarray, unit: str) -> np.ndarray:
    x = raw.astype(np.float64)
    return x if unit == "degrees" else np.degrees(np.arctan(x / 100.0))


def _check_terrain(reader: Any, raw: dict[str, np.ndarray], ok: dict[str, np.ndarray]) -> None:
    el, sl = reader.bands["elevation"], reader.bands["slope"]
    both = ok["elevation"] & ok["slope"] & (raw["slope"] >= 0)
    z_m = np.where(both, to_si("elevation", raw["elevation"], el.unit), np.nan)
    elev_units = [el.unit] + ([_TERRAIN_ALTERNATIVE[el.unit]] if el.unit_origin != "user" else [])
    slope_units = [sl.unit] if sl.unit in ("percent", "degrees") else []
    if slope_units and sl.unit_origin != "user":
        slope_units.append(_TERRAIN_ALTERNATIVE[sl.unit])
    if not slope_units:
        return
    scale = {el.unit: 1.0, _TERRAIN_ALTERNATIVE[el.unit]: _ft_m_ratio(el.unit)}
    dz_drow, dz_dcol = np.gradient(z_m, reader.cell_size_m)
    grad = np.hypot(dz_drow, dz_dcol)  # rise/run with the declared elevation unit
    use = np.isfinite(grad) & both
    if use.sum() < 100 or np.percentile(np.degrees(np.arctan(grad[use])), 90) < 5.0:
        return  # too little relief to tell the units apart
    err, rel = {}, {}
    for eu in elev_units:
        dem_deg = np.degrees(np.arctan(grad[use] * scale[eu]))
        for su in slope_units:
            err[eu, su] = float(np.median(np.abs(_slope_deg(raw["slope"][use], su) - dem_deg)))
            rel[eu, su] = err[eu, su] / max(float(np.median(dem_deg)), 1e-9)
    declared = (el.unit, sl.unit)
    best = min(err, key=err.get)
    # another pair must fit twice as well, to within 5 degrees and a third of the typical slope
    if best != declared and err[declared] > 2.0 * err[best] and err[best] < 5.0 and rel[best] < 0.35:
        if best[0] != el.unit:
            raise InputError(
                f"{el.where()}: the values do not fit {el.unit} ({el.unit_origin}): with the slope layer "
                f"they suggest {best[0]} (median slope error {err[best]:.1f} vs {err[declared]:.1f} "
                f"degrees); if {el.unit} is right pass {_override('elevation', el.unit)}"
            )
        notice(
            f"{sl.where()}: the metadata says {sl.unit} ({sl.unit_origin}) but the values match the "
            f"elevation as {best[1]} (median error {err[best]:.1f} vs {err[declared]:.1f} degrees); "
            f"reading slope in {best[1]} (to insist: {_override('slope', sl.unit)})"
        )
        reader.bands["slope"] = BandSource(
            sl.layer, sl.path, sl.band, best[1], "elevation check", sl.nodata, sl.label
        )
    _check_aspect(reader, raw, ok, z_m)


def _ft_m_ratio(declared: str) -> float:
    """Factor on the rise/run computed with the declared elevation unit, if the other one is right."""
    return 0.3048 if declared == "m" else 1.0 / 0.3048


def _check_aspect(
    reader: Any, raw: dict[str, np.ndarray], ok: dict[str, np.ndarray], z_m: np.ndarray
) -> None:
    asp = reader.bands["aspect"]
    if asp.unit_origin == "user" or asp.unit not in ("degrees", "grass_degrees"):
        return
    dz_drow, dz_dcol = np.gradient(z_m, reader.cell_size_m)
    steep = np.isfinite(dz_drow) & ok["aspect"] & (np.hypot(dz_drow, dz_dcol) > 0.15)
    steep &= (raw["aspect"] >= 0) & (raw["aspect"] <= 360)
    if steep.sum() < 100:
        return
    dem = np.degrees(np.arctan2(-dz_dcol[steep], dz_drow[steep])) % 360.0  # downslope azimuth
    err = {}
    for unit in ("degrees", "grass_degrees"):
        d = np.abs(to_si("aspect", raw["aspect"][steep], unit) - dem) % 360.0
        err[unit] = float(np.median(np.minimum(d, 360.0 - d)))
    other = "grass_degrees" if asp.unit == "degrees" else "degrees"
    if err[asp.unit] > 2.0 * err[other] and err[other] < 30.0:
        raise InputError(
            f"{asp.where()}: the values do not fit {asp.unit} ({asp.unit_origin}): the elevation's "
            f"downslope directions suggest {other} (median error {err[other]:.0f} vs {err[asp.unit]:.0f} "
            f"degrees); if {asp.unit} is right pass {_override('aspect', asp.unit)}"
        )


# ------------------------------------------------------------------------------------- canopy
def _p95_si(layer: str, values: np.ndarray, unit: str) -> float | None:
    """95th percentile in SI of stored canopy values under ``unit``; None if ``unit`` cannot hold them."""
    if unit == "class":
        if values.max() > len(COVER_CLASS_MIDPOINT_FRACTION) - 1 or np.any(values != np.rint(values)):
            return None
        si = COVER_CLASS_MIDPOINT_FRACTION[values.astype(np.int64)]
        return float(np.percentile(si, 95))
    return float(np.percentile(to_si(layer, values, unit), 95))


def _plausible(layer: str, p95: float | None) -> bool:
    lo, hi = PLAUSIBLE_P95[layer]
    return p95 is not None and lo <= p95 <= hi


def _check_canopy(reader: Any, raw: dict[str, np.ndarray], ok: dict[str, np.ndarray]) -> None:
    for layer in CANOPY_LAYERS:
        src: BandSource = reader.bands[layer]
        if src.unit_origin == "user":
            continue
        values = raw[layer][ok[layer]].astype(np.float64)
        values = values[values > 0]
        if values.size < MIN_CELLS:
            continue
        p95 = _p95_si(layer, values, src.unit)
        if _plausible(layer, p95):
            continue
        lo, hi = PLAUSIBLE_P95[layer]
        centre = math.sqrt(lo * hi)
        fits = {
            u: q for u in UNITS[layer] if u != src.unit and _plausible(layer, q := _p95_si(layer, values, u))
        }
        if not fits:
            continue  # no unit explains the values: the range check reports them
        alt = min(fits, key=lambda u: abs(math.log(fits[u] / centre)))
        si_unit = (
            "fraction" if layer == "canopy_cover" else ("kg/m3" if layer == "canopy_bulk_density" else "m")
        )
        read = "cannot hold them" if p95 is None else f"gives {p95:.3g} {si_unit}"
        raise InputError(
            f"{src.where()}: the values do not fit {src.unit} ({src.unit_origin}): the 95th percentile "
            f"of the cells with canopy, {float(np.percentile(values, 95)):g} stored, {read} (expected "
            f"{lo:g}..{hi:g} {si_unit}); they look like {alt} ({fits[alt]:.3g} {si_unit}); fix the "
            f"metadata or pass {_override(layer, alt)}, or {_override(layer, src.unit)} to insist"
        )
    _check_base_below_height(reader, raw, ok)


def _check_base_below_height(reader: Any, raw: dict[str, np.ndarray], ok: dict[str, np.ndarray]) -> None:
    ch, cbh = reader.bands["canopy_height"], reader.bands["canopy_base_height"]
    if ch.unit_origin == "user" and cbh.unit_origin == "user":
        return
    both = ok["canopy_height"] & ok["canopy_base_height"]
    both &= (raw["canopy_height"] > 0) & (raw["canopy_base_height"] > 0)
    if both.sum() < MIN_CELLS:
        return
    h = to_si("canopy_height", raw["canopy_height"][both], ch.unit)
    b = to_si("canopy_base_height", raw["canopy_base_height"][both], cbh.unit)
    above = float(np.mean(b > h))
    if above > 0.5:
        raise InputError(
            f"{cbh.where()}: canopy base height ({cbh.unit}, {cbh.unit_origin}) exceeds canopy height "
            f"({ch.label}, {ch.unit}, {ch.unit_origin}) on {100 * above:.0f}% of the canopy cells: one "
            f"of the two units is wrong; pass units={{'canopy_height': ..., 'canopy_base_height': ...}} "
            f"(CLI: --units canopy_height=U,canopy_base_height=U)"
        )


__all__ = ["CANOPY_LAYERS", "MIN_CELLS", "PLAUSIBLE_P95", "SAMPLE_SIDE", "check_units"]
