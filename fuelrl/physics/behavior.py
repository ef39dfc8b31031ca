"""Fire behaviour of a cell: surface fire (Rothermel), wind/slope vectoring, ellipse, crown fire.

:func:`fire_behavior` is the one call the simulators make: it takes whole landscapes (numpy arrays
or torch tensors of any broadcastable shapes) and returns a :class:`FireBehavior` of arrays of the
broadcast shape, in SI units, on the inputs' backend and device.

Two sets of conventions (``conventions=``), both documented in docs/science.md:

``"behave"`` (default) -- BehavePlus 5: wind limit on (U_e <= 0.9 I_R); Albini & Baughman WAF
sheltered by crown fill CC*CR/3 >= 0.05; L/B = 1 + 0.25 U_e (mi/h) capped at 8; wind and slope
combined as horizontal vectors; crown fire by Scott & Reinhardt (2001): Van Wagner initiation,
Rothermel (1991) active spread 3.34 x fuel model 10 at 0.4 x 20-ft wind, CFB from R'_SA, final
rate R_s + CFB (R_active - R_s); active crown fire shape L/B = 1 + 0.125 U_20 (Rothermel 1991).

``"flammap"`` -- FlamMap 6 / FARSITE (Finney 1998): no wind limit; FARSITE WAF (sheltered when
canopy cover > 5 %, crown fill CC*pi/12); wind direction projected onto the slope plane before
vectoring; L/B from Anderson (1983) with the combined wind + slope-equivalent wind speed; Finney's
crown method (CFB = 1 - exp(-a (R_s - R_0)), crown rate R_s + CFB (3.34 R_10 - R_s), active when it
reaches R_0 + 0.9 (R'_active - R_0)), crown fire ellipse from half the 20-ft wind.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from fuelrl.errors import InputError
from fuelrl.physics import crown, stages, surface, units
from fuelrl.physics.ellipse import eccentricity, ros_at_azimuth

__all__ = ["CONVENTIONS", "FIRE_TYPES", "LAYER_ARGS", "FireBehavior", "fire_behavior", "ros_at_azimuth"]

CONVENTIONS = ("behave", "flammap")
#: the landscape layers :func:`fire_behavior` takes, in its positional order (attribute names of
#: Landscape and of the simulators' TileBatch, SI units)
LAYER_ARGS = (
    "fuel_model",
    "slope_fraction",
    "aspect_deg",
    "canopy_cover_fraction",
    "canopy_height_m",
    "canopy_base_height_m",
    "canopy_bulk_density_kg_m3",
)
#: fire_type codes
FIRE_TYPES = {0: "none", 1: "surface", 2: "passive", 3: "active"}
FUEL_MODEL_10 = stages.FUEL_MODEL_10


class FireBehavior(NamedTuple):
    """Per-cell fire behaviour (arrays of the broadcast input shape, SI units)."""

    ros_head_m_min: Any  # final head spread rate, surface or crown
    direction_max_deg: Any  # azimuth of maximum spread (clockwise from north)
    eccentricity: Any  # of the fire ellipse
    lw_ratio: Any  # length-to-breadth ratio
    ros_surface_m_min: Any  # surface fire head spread rate
    fireline_intensity_kw_m: Any  # final (crown fire intensity where it crowns)
    flame_length_m: Any
    reaction_intensity_kw_m2: Any
    effective_wind_m_min: Any  # effective midflame wind speed of the surface fire
    fire_type: Any  # int: 0 none, 1 surface, 2 passive crown, 3 active crown
    surface_fireline_intensity_kw_m: Any
    heat_per_unit_area_kj_m2: Any
    residence_time_min: Any
    ros_no_wind_no_slope_m_min: Any
    midflame_wind_m_min: Any
    wind_adjustment_factor: Any
    wind_factor: Any
    slope_factor: Any
    wind_limited: Any  # bool: the wind limit capped the effective wind
    live_moisture_of_extinction_fraction: Any
    critical_intensity_kw_m: Any  # Van Wagner I_0 (inf where there is no canopy)
    ros_active_crown_m_min: Any  # Rothermel 1991 active crown rate (0 where no canopy)
    crown_fraction_burned: Any


def fire_behavior(
    fuel_model,
    slope_fraction,
    aspect_deg,
    canopy_cover_fraction,
    canopy_height_m,
    canopy_base_height_m,
    canopy_bulk_density_kg_m3,
    *,
    wind_speed_20ft_m_min,
    wind_from_deg,
    moisture_fraction,
    foliar_moisture_fraction,
    conventions: str = "behave",
    crown_fire: bool = True,
    midflame_wind_m_min=None,
    wind_limit: bool | None = None,
) -> FireBehavior:
    """Surface and crown fire behaviour for every cell (see the module docstring for sources).

    Arguments broadcast together (numpy arrays or torch tensors; the result has the same kind,
    device and -- for torch -- float32 unless a float64 tensor is given):

    - ``fuel_model``: integer fuel model codes (1-13, 101-204; 91-99 and 0 burn nothing).
    - ``slope_fraction``: rise/run (tan of the slope angle); ``aspect_deg``: azimuth the slope
      faces (downslope direction), degrees clockwise from north.
    - ``canopy_cover_fraction`` (0-1), ``canopy_height_m``, ``canopy_base_height_m``,
      ``canopy_bulk_density_kg_m3``: canopy fuels (cover 0 or height 0: no canopy).
    - ``wind_speed_20ft_m_min``: 20-ft (6.1 m) open wind; the wind adjustment factor of the chosen
      conventions turns it into the midflame wind unless ``midflame_wind_m_min`` is given
      (then the 20-ft wind used by the crown model is the midflame wind / WAF when
      ``wind_speed_20ft_m_min`` is None).
    - ``wind_from_deg``: azimuth the wind blows from.
    - ``moisture_fraction``: [..., 5] dead 1-h, 10-h, 100-h, live herbaceous, live woody
      (fractions of dry weight, e.g. 0.06); the trailing axis is the moisture class.
    - ``foliar_moisture_fraction``: canopy foliar moisture (e.g. 1.0 for 100 %).
    - ``conventions``: "behave" (BehavePlus 5) or "flammap" (FlamMap 6 / FARSITE).
    - ``crown_fire``: False gives surface fire only (fire_type 1 wherever it spreads).
    - ``wind_limit``: override the convention's wind limit (behave: on, flammap: off).

    The stages, each in its own function of :mod:`fuelrl.physics.stages`: the inputs in one
    namespace (``cells``), winds (``winds``), the fuelbed and surface fire with its shape and
    intensities (``surface_fire``), crown fire by convention (``crown_fire``), and every output
    broadcast to the inputs' common shape.
    """
    if conventions not in CONVENTIONS:
        raise InputError(f"conventions={conventions!r}: expected one of {', '.join(CONVENTIONS)}")
    flammap = conventions == "flammap"
    if wind_limit is None:
        wind_limit = not flammap
    if wind_speed_20ft_m_min is None and midflame_wind_m_min is None:
        raise InputError("give wind_speed_20ft_m_min or midflame_wind_m_min")
    layers = (slope_fraction, aspect_deg, canopy_cover_fraction, canopy_height_m, canopy_base_height_m)
    args = (fuel_model, *layers, canopy_bulk_density_kg_m3, wind_speed_20ft_m_min, wind_from_deg)
    c = stages.cells(
        (*args, moisture_fraction, foliar_moisture_fraction, midflame_wind_m_min),
        moisture_fraction,
        foliar_moisture_fraction,
        slope=slope_fraction,
        aspect=aspect_deg,
        cc=canopy_cover_fraction,
        ch_m=canopy_height_m,
        cbh_m=canopy_base_height_m,
        cbd=canopy_bulk_density_kg_m3,
        wind_from=wind_from_deg,
    )
    xp = c.xp
    fb = surface.fuelbed(fuel_model, c.moisture, xp)
    waf, u20, midflame = stages.winds(fb, c, flammap, wind_speed_20ft_m_min, midflame_wind_m_min)
    s = stages.surface_fire(fb, c, midflame * units.FT_PER_M, flammap, wind_limit)

    ros, fli, flame, direction, lw = s.ros_s, s.fli_s, s.flame_s, s.direction, s.lw
    fire_type = xp.where(s.burning, 1.0, 0.0)
    i0 = xp.full_like(s.ros_s, math.inf)
    ros_active = xp.zeros_like(s.ros_s)
    cfb = xp.zeros_like(s.ros_s)
    if crown_fire:
        i0, ros_active, cr = stages.crown_fire(fb, s, c, flammap, waf, u20, wind_limit)
        ros, direction, lw = cr.ros, cr.direction, cr.lw
        cfb = xp.where(cr.crowning, cr.cfb, 0.0)
        fli = xp.where(cr.crowning, xp.maximum(cr.fli, s.fli_s), s.fli_s)
        flame = xp.where(cr.crowning, crown.thomas_flame_length_m(fli, xp), s.flame_s)
        fire_type = xp.where(cr.crowning, xp.where(cr.active, 3.0, 2.0), fire_type)

    # every output has the full broadcast shape of all inputs
    shape = xp.broadcast_shape(
        c.slope, c.aspect, c.cc, c.ch_m, c.cbh_m, c.cbd, c.wind_from, c.fmc_pct, u20, midflame, s.ros_s
    )

    def full(x):
        return xp.broadcast_to(x, shape)

    burning = s.burning
    lw = full(xp.where(burning, lw, 1.0))
    return FireBehavior(
        ros_head_m_min=full(xp.where(burning, ros, 0.0)),
        direction_max_deg=full(xp.where(burning, direction, 0.0)),
        eccentricity=full(xp.where(burning, eccentricity(lw, xp), 0.0)),
        lw_ratio=lw,
        ros_surface_m_min=full(s.ros_s),
        fireline_intensity_kw_m=full(xp.where(burning, fli, 0.0)),
        flame_length_m=full(xp.where(burning, flame, 0.0)),
        reaction_intensity_kw_m2=full(fb.reaction_intensity_btu_ft2_min * units.KW_M2_PER_BTU_FT2_MIN),
        effective_wind_m_min=full(xp.where(burning, s.sp.effective_wind_ft_min * units.M_PER_FT, 0.0)),
        fire_type=xp.to_int(full(fire_type)),
        surface_fireline_intensity_kw_m=full(s.fli_s),
        heat_per_unit_area_kj_m2=full(s.hpa),
        residence_time_min=full(xp.where(fb.burnable, fb.residence_time_min, 0.0)),
        ros_no_wind_no_slope_m_min=full(fb.ros_no_wind_no_slope_ft_min * units.M_PER_FT),
        midflame_wind_m_min=full(midflame),
        wind_adjustment_factor=full(waf),
        wind_factor=full(s.sp.phi_wind),
        slope_factor=full(s.sp.phi_slope),
        wind_limited=full(s.sp.wind_limited & burning),
        live_moisture_of_extinction_fraction=full(fb.live_moisture_of_extinction_fraction),
        critical_intensity_kw_m=full(i0),
        ros_active_crown_m_min=full(ros_active),
        crown_fraction_burned=full(cfb),
    )
