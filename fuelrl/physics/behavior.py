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
from fuelrl.physics import crown, surface, units
from fuelrl.physics._xp import namespace
from fuelrl.physics.ellipse import eccentricity, lw_ratio_behave, lw_ratio_farsite, ros_at_azimuth
from fuelrl.physics.wind import wind_adjustment_factor_behave, wind_adjustment_factor_farsite

__all__ = ["CONVENTIONS", "FIRE_TYPES", "FireBehavior", "fire_behavior", "ros_at_azimuth"]

CONVENTIONS = ("behave", "flammap")
#: fire_type codes
FIRE_TYPES = {0: "none", 1: "surface", 2: "passive", 3: "active"}
FUEL_MODEL_10 = 10


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


class _Spread(NamedTuple):
    ros_ft_min: Any
    direction_rel_rad: Any  # clockwise from upslope
    phi_effective: Any
    effective_wind_ft_min: Any
    wind_limited: Any
    phi_wind: Any
    phi_slope: Any


def _spread(
    fb: surface.Fuelbed, midflame_ft_min, slope_fraction, wind_rel_rad, wind_limit: bool, xp
) -> _Spread:
    """Head spread rate from R0, wind and slope factors combined as vectors, with the optional
    wind limit (Rothermel 1972 eq. 52 with Albini 1976 / BehavePlus vectoring)."""
    k = fb.wind
    phiw = surface.wind_factor(midflame_ft_min, k, xp)
    phis = surface.slope_factor(fb.beta, slope_fraction)
    phi_e, direction = surface.combine_wind_slope(phiw, phis, wind_rel_rad, xp)
    ue = surface.effective_wind_speed_ft_min(phi_e, k, xp)
    if wind_limit:
        limit = surface.wind_limit_ft_min(fb.reaction_intensity_btu_ft2_min)
        limited = ue > limit
        phi_lim = k.c * xp.maximum(limit, 0.0) ** k.b * k.relative_packing_ratio**-k.e
        phi_e = xp.where(limited, phi_lim, phi_e)
        ue = xp.where(limited, limit, ue)
    else:
        limited = ue < -1.0  # all False, right shape
    ros = fb.ros_no_wind_no_slope_ft_min * (1.0 + phi_e)
    return _Spread(ros, direction, phi_e, ue, limited, phiw, phis)


def _local_wind_angle(wind_rel_rad, slope_fraction, xp):
    """FARSITE ``TransformWindDir``: the wind direction relative to upslope, projected onto the
    slope plane (the along-slope component stretched by 1/cos(slope))."""
    cos_slope = 1.0 / xp.sqrt(1.0 + slope_fraction * slope_fraction)
    return xp.arctan2(xp.sin(wind_rel_rad), xp.cos(wind_rel_rad) / cos_slope)


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
    """
    if conventions not in CONVENTIONS:
        raise InputError(f"conventions={conventions!r}: expected one of {', '.join(CONVENTIONS)}")
    flammap = conventions == "flammap"
    if wind_limit is None:
        wind_limit = not flammap
    if wind_speed_20ft_m_min is None and midflame_wind_m_min is None:
        raise InputError("give wind_speed_20ft_m_min or midflame_wind_m_min")

    args = (
        fuel_model,
        slope_fraction,
        aspect_deg,
        canopy_cover_fraction,
        canopy_height_m,
        canopy_base_height_m,
        canopy_bulk_density_kg_m3,
        wind_speed_20ft_m_min,
        wind_from_deg,
        moisture_fraction,
        foliar_moisture_fraction,
        midflame_wind_m_min,
    )
    xp = namespace(*[a for a in args if a is not None])
    moisture = xp.asarray(moisture_fraction)
    if moisture.shape[-1:] != (5,):
        raise InputError(
            f"moisture_fraction has shape {tuple(moisture.shape)}: expected a trailing axis of 5 "
            "(1-h, 10-h, 100-h, live herbaceous, live woody)"
        )
    slope = xp.asarray(slope_fraction)
    aspect = xp.asarray(aspect_deg)
    cc = xp.asarray(canopy_cover_fraction)
    ch_m = xp.asarray(canopy_height_m)
    cbh_m = xp.asarray(canopy_base_height_m)
    cbd = xp.asarray(canopy_bulk_density_kg_m3)
    wind_from = xp.asarray(wind_from_deg)
    fmc_pct = xp.asarray(foliar_moisture_fraction) * 100.0

    fb = surface.fuelbed(fuel_model, moisture, xp)
    ch_ft = ch_m * units.FT_PER_M
    if flammap:
        waf = wind_adjustment_factor_farsite(fb.depth_ft, cc, ch_ft, xp)
    else:
        crown_ratio = xp.where(ch_m > 0, (ch_m - cbh_m) / xp.where(ch_m > 0, ch_m, 1.0), 0.0)
        waf = wind_adjustment_factor_behave(fb.depth_ft, cc, ch_ft, xp.clip(crown_ratio, 0.0, 1.0), xp)
    if midflame_wind_m_min is not None:
        midflame = xp.asarray(midflame_wind_m_min) + 0.0 * waf
        u20 = (
            midflame / waf if wind_speed_20ft_m_min is None else xp.asarray(wind_speed_20ft_m_min) + 0.0 * waf
        )
    else:
        u20 = xp.asarray(wind_speed_20ft_m_min)
        midflame = waf * u20
    midflame_ft = midflame * units.FT_PER_M

    wind_rel = (wind_from - aspect) * (math.pi / 180.0)  # wind (toward) relative to upslope
    if flammap:
        wind_rel = _local_wind_angle(wind_rel, slope, xp)
    sp = _spread(fb, midflame_ft, slope, wind_rel, wind_limit, xp)
    burning = fb.burnable & (sp.ros_ft_min > 0)

    ros_s = xp.where(burning, sp.ros_ft_min * units.M_PER_FT, 0.0)
    direction = (aspect + 180.0 + sp.direction_rel_rad * (180.0 / math.pi)) % 360.0
    if flammap:
        slope_wind_mph = surface.effective_wind_speed_ft_min(sp.phi_slope, fb.wind, xp) / units.FT_MIN_PER_MPH
        wind_mph = midflame_ft / units.FT_MIN_PER_MPH
        combined_mph = xp.sqrt(
            xp.maximum(
                wind_mph**2 + slope_wind_mph**2 + 2.0 * wind_mph * slope_wind_mph * xp.cos(wind_rel),
                0.0,
            )
        )
        lw = lw_ratio_farsite(combined_mph, xp)
    else:
        lw = lw_ratio_behave(sp.effective_wind_ft_min / units.FT_MIN_PER_MPH, xp)

    hpa_btu_ft2 = fb.reaction_intensity_btu_ft2_min * fb.residence_time_min
    hpa = xp.where(burning, hpa_btu_ft2 * units.KJ_M2_PER_BTU_FT2, 0.0)
    fli_s = xp.where(
        burning,
        surface.byram_fireline_intensity_btu_ft_s(
            fb.reaction_intensity_btu_ft2_min, fb.residence_time_min, sp.ros_ft_min
        )
        * units.KW_M_PER_BTU_FT_S,
        0.0,
    )
    flame_s = surface.byram_flame_length_ft(fli_s / units.KW_M_PER_BTU_FT_S, xp) * units.M_PER_FT

    ros = ros_s
    fli = fli_s
    flame = flame_s
    fire_type = xp.where(burning, 1.0, 0.0)
    i0 = xp.full_like(ros_s, math.inf)
    ros_active = xp.zeros_like(ros_s)
    cfb = xp.zeros_like(ros_s)

    if crown_fire:
        canopy = burning & (cc > 0) & (ch_m > 0)
        cbh_eff = xp.where(cbh_m > 0, cbh_m, 0.01)
        cbd_eff = xp.where(cbd > 0, cbd, 0.01)
        i0_all = crown.critical_surface_intensity_kw_m(cbh_eff, fmc_pct) + 0.0 * ros_s
        i0 = xp.where(canopy, i0_all, math.inf)
        crowning = canopy & (fli_s >= i0_all)

        # Rothermel (1991): fuel model 10, same moistures, midflame wind 0.4 x 20-ft wind.
        fb10 = surface.fuelbed(xp.asarray(FUEL_MODEL_10 + 0.0 * moisture[..., 0]), moisture, xp)
        mid10_ft = crown.ROTHERMEL_1991_WIND_REDUCTION * u20 * units.FT_PER_M
        sp10 = _spread(fb10, mid10_ft, slope, wind_rel, wind_limit, xp)
        r_active = crown.ROTHERMEL_1991_CROWN_MULTIPLIER * sp10.ros_ft_min * units.M_PER_FT
        ros_active = xp.where(canopy, r_active + 0.0 * ros_s, 0.0)
        r_crit_active = crown.critical_active_ros_m_min(cbd_eff, xp)
        r_init = crown.critical_initiation_ros_m_min(i0_all, hpa, xp)
        ch_eff = xp.maximum(ch_m, cbh_eff + 1.0) if flammap else xp.maximum(ch_m, cbh_eff)
        canopy_load = cbd_eff * (ch_eff - cbh_eff)

        if flammap:
            cfb_c = crown.crown_fraction_burned_finney(ros_s, r_init, r_crit_active, xp)
            ros_c = ros_s + cfb_c * (ros_active - ros_s)
            threshold = r_init + 0.9 * (r_crit_active - r_init)
            runs = crowning & (ros_c >= threshold)
            ros = xp.where(runs, ros_c, ros_s)
            active = runs & (ros_c >= r_crit_active)
            # Crown fire ellipse and direction from the fuel model 10 vector (FlamMap VecCrown).
            half_wind_mph = 0.5 * u20 * units.FT_PER_M / units.FT_MIN_PER_MPH
            slope10_mph = (
                surface.effective_wind_speed_ft_min(sp10.phi_slope, fb10.wind, xp) / units.FT_MIN_PER_MPH
            )
            crown_mph = xp.sqrt(
                xp.maximum(
                    half_wind_mph**2 + slope10_mph**2 + 2.0 * half_wind_mph * slope10_mph * xp.cos(wind_rel),
                    0.0,
                )
            )
            lw = xp.where(runs, lw_ratio_farsite(crown_mph, xp), lw)
            direction10 = (aspect + 180.0 + sp10.direction_rel_rad * (180.0 / math.pi)) % 360.0
            direction = xp.where(runs, direction10, direction)
            fli_c = crown.crown_fireline_intensity_kw_m(ros, hpa, cfb_c, canopy_load)
        else:
            # Scott & Reinhardt (2001): R'_SA, the surface rate at the 20-ft wind that makes the
            # active crown rate reach R'_active (wind and slope aligned, as in their crowning index).
            k10 = fb10.wind
            phi_needed = (
                r_crit_active
                / xp.maximum(
                    crown.ROTHERMEL_1991_CROWN_MULTIPLIER * fb10.ros_no_wind_no_slope_ft_min * units.M_PER_FT,
                    1e-12,
                )
                - 1.0
            )
            phiw10 = xp.maximum(phi_needed - sp10.phi_slope, 0.0)
            mid10_needed = (phiw10 * k10.relative_packing_ratio**k10.e / k10.c) ** (1.0 / k10.b)
            u20_sa = mid10_needed / crown.ROTHERMEL_1991_WIND_REDUCTION  # ft/min
            phiw_sa = surface.wind_factor(waf * u20_sa, fb.wind, xp)
            phi_sa = phiw_sa + sp.phi_slope
            if wind_limit:
                limit = surface.wind_limit_ft_min(fb.reaction_intensity_btu_ft2_min)
                phi_lim = (
                    fb.wind.c
                    * xp.maximum(limit, 0.0) ** fb.wind.b
                    * fb.wind.relative_packing_ratio**-fb.wind.e
                )
                phi_sa = xp.minimum(phi_sa, phi_lim)
            r_sa = fb.ros_no_wind_no_slope_ft_min * (1.0 + phi_sa) * units.M_PER_FT
            cfb_c = crown.crown_fraction_burned_scott_reinhardt(ros_s, r_init, r_sa, xp)
            ros_c = ros_s + cfb_c * (ros_active - ros_s)
            runs = crowning
            ros = xp.where(crowning, xp.maximum(ros_c, ros_s), ros_s)
            active = crowning & (ros_active >= r_crit_active)
            u20_mph = u20 * units.FT_PER_M / units.FT_MIN_PER_MPH
            lw = xp.where(active, xp.clip(1.0 + 0.125 * u20_mph, 1.0, 8.0), lw)
            fli_c = crown.crown_fireline_intensity_kw_m(ros, hpa, cfb_c, canopy_load)

        cfb = xp.where(crowning, cfb_c, 0.0)
        fli = xp.where(crowning, xp.maximum(fli_c, fli_s), fli_s)
        flame = xp.where(crowning, crown.thomas_flame_length_m(fli, xp), flame_s)
        fire_type = xp.where(crowning, xp.where(active, 3.0, 2.0), fire_type)

    # every output has the full broadcast shape of all inputs
    zero = 0.0 * (slope + aspect + cc + ch_m + cbh_m + cbd + wind_from + fmc_pct + u20 + midflame + ros_s)
    lw = xp.where(burning, lw, 1.0) + zero
    return FireBehavior(
        ros_head_m_min=xp.where(burning, ros, 0.0) + zero,
        direction_max_deg=xp.where(burning, direction, 0.0) + zero,
        eccentricity=xp.where(burning, eccentricity(lw, xp), 0.0) + zero,
        lw_ratio=lw,
        ros_surface_m_min=ros_s + zero,
        fireline_intensity_kw_m=xp.where(burning, fli, 0.0) + zero,
        flame_length_m=xp.where(burning, flame, 0.0) + zero,
        reaction_intensity_kw_m2=fb.reaction_intensity_btu_ft2_min * units.KW_M2_PER_BTU_FT2_MIN + zero,
        effective_wind_m_min=xp.where(burning, sp.effective_wind_ft_min * units.M_PER_FT, 0.0) + zero,
        fire_type=xp.to_int(fire_type + zero),
        surface_fireline_intensity_kw_m=fli_s + zero,
        heat_per_unit_area_kj_m2=hpa + zero,
        residence_time_min=xp.where(fb.burnable, fb.residence_time_min, 0.0) + zero,
        ros_no_wind_no_slope_m_min=fb.ros_no_wind_no_slope_ft_min * units.M_PER_FT + zero,
        midflame_wind_m_min=midflame + zero,
        wind_adjustment_factor=waf + zero,
        wind_factor=sp.phi_wind + zero,
        slope_factor=sp.phi_slope + zero,
        wind_limited=(sp.wind_limited & burning) | (zero != 0.0),
        live_moisture_of_extinction_fraction=fb.live_moisture_of_extinction_fraction + zero,
        critical_intensity_kw_m=i0 + zero,
        ros_active_crown_m_min=ros_active + zero,
        crown_fraction_burned=cfb + zero,
    )
