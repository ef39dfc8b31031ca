"""The stages of :func:`fuelrl.physics.behavior.fire_behavior`, each reading like its source.

* :func:`cells`: the inputs in one array namespace (numpy or torch).
* :func:`winds`: the midflame wind (Albini & Baughman 1979 as in BehavePlus; FARSITE, Finney 1998).
* :func:`spread` with :func:`wind_limit` (Rothermel 1972; vectoring as in BehavePlus) and
  :func:`surface_fire`: the surface head fire, its direction, its ellipse (Anderson 1983) and
  Byram's intensity and flame length.
* :func:`crown_fire`: Van Wagner (1977) initiation, Rothermel (1991) active rate, then the
  convention's crown model: :func:`crown_scott_reinhardt` (Scott & Reinhardt 2001, BehavePlus)
  or :func:`crown_finney` (FlamMap).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from fuelrl.errors import InputError
from fuelrl.physics import crown, surface, units
from fuelrl.physics._xp import namespace
from fuelrl.physics.ellipse import lw_ratio_behave, lw_ratio_farsite
from fuelrl.physics.wind import wind_adjustment_factor_behave, wind_adjustment_factor_farsite

FUEL_MODEL_10 = 10


class Spread(NamedTuple):
    ros_ft_min: Any
    direction_rel_rad: Any  # clockwise from upslope
    phi_effective: Any
    effective_wind_ft_min: Any
    wind_limited: Any
    phi_wind: Any
    phi_slope: Any


class Cells(NamedTuple):
    """The per-cell inputs as arrays of one namespace (moisture keeps its trailing axis of 5)."""

    xp: Any
    moisture: Any
    slope: Any
    aspect: Any
    cc: Any
    ch_m: Any
    cbh_m: Any
    cbd: Any
    wind_from: Any
    fmc_pct: Any


class SurfaceFire(NamedTuple):
    """The surface fire: spread vector, shape and intensities."""

    sp: Spread
    wind_rel: Any  # wind direction relative to upslope (rad), on the slope plane for FlamMap
    burning: Any
    ros_s: Any  # m/min
    direction: Any  # deg
    lw: Any
    hpa: Any  # kJ/m2
    fli_s: Any  # kW/m
    flame_s: Any  # m


class Canopy(NamedTuple):
    """What both crown models start from: Van Wagner's test, Rothermel's (1991) fuel model 10
    fire and the canopy's critical rates and fuel load."""

    crowning: Any  # the surface fire reaches Van Wagner's critical intensity under a canopy
    fb10: Any
    sp10: Spread
    ros_active: Any  # Rothermel (1991) active crown rate, m/min
    r_init: Any  # critical surface rate for initiation, m/min
    r_crit_active: Any  # Van Wagner's critical active rate, m/min
    canopy_load: Any  # kg/m2
    u20: Any  # 20-ft wind, m/min


class CrownFire(NamedTuple):
    """A crown fire model's answer where the surface fire could crown."""

    crowning: Any
    active: Any
    ros: Any
    direction: Any
    lw: Any
    cfb: Any
    fli: Any


# --------------------------------------------------------------------------------- stages
def cells(args: tuple, moisture_fraction, foliar_moisture_fraction, **layers) -> Cells:
    """The one array namespace of all inputs (:func:`fuelrl.physics._xp.namespace`), and the
    inputs in it; foliar moisture in percent (what Van Wagner's equation takes)."""
    xp = namespace(*[a for a in args if a is not None])
    moisture = xp.asarray(moisture_fraction)
    if moisture.shape[-1:] != (5,):
        raise InputError(
            f"moisture_fraction has shape {tuple(moisture.shape)}: expected a trailing axis of 5 "
            "(1-h, 10-h, 100-h, live herbaceous, live woody)"
        )
    arrays = {k: xp.asarray(v) for k, v in layers.items()}
    return Cells(xp, moisture, fmc_pct=xp.asarray(foliar_moisture_fraction) * 100.0, **arrays)


def winds(fb: surface.Fuelbed, c: Cells, flammap: bool, wind_speed_20ft_m_min, midflame_wind_m_min):
    """(wind adjustment factor, 20-ft wind, midflame wind), m/min: Albini & Baughman (1979) as in
    BehavePlus, or FARSITE's (Finney 1998) for FlamMap conventions."""
    xp = c.xp
    ch_ft = c.ch_m * units.FT_PER_M
    if flammap:
        waf = wind_adjustment_factor_farsite(fb.depth_ft, c.cc, ch_ft, xp)
    else:
        crown_ratio = xp.where(c.ch_m > 0, (c.ch_m - c.cbh_m) / xp.where(c.ch_m > 0, c.ch_m, 1.0), 0.0)
        waf = wind_adjustment_factor_behave(fb.depth_ft, c.cc, ch_ft, xp.clip(crown_ratio, 0.0, 1.0), xp)
    if midflame_wind_m_min is not None:
        midflame = xp.asarray(midflame_wind_m_min)
        u20 = midflame / waf if wind_speed_20ft_m_min is None else xp.asarray(wind_speed_20ft_m_min)
    else:
        u20 = xp.asarray(wind_speed_20ft_m_min)
        midflame = waf * u20
    return waf, u20, midflame


def wind_limit_phi(fb: surface.Fuelbed, xp) -> tuple[Any, Any]:
    """Rothermel's (1972) wind limit U_e <= 0.9 I_R (ft/min) and the wind factor phi at it: the one
    place the limit is applied, to the surface fire and to Scott & Reinhardt's R'_SA."""
    k = fb.wind
    limit = surface.wind_limit_ft_min(fb.reaction_intensity_btu_ft2_min)
    return limit, k.c * xp.maximum(limit, 0.0) ** k.b * k.relative_packing_ratio**-k.e


def spread(
    fb: surface.Fuelbed, midflame_ft_min, slope_fraction, wind_rel_rad, wind_limit: bool, xp
) -> Spread:
    """Head spread rate from R0, wind and slope factors combined as vectors, with the optional
    wind limit (Rothermel 1972 eq. 52 with Albini 1976 / BehavePlus vectoring)."""
    k = fb.wind
    phiw = surface.wind_factor(midflame_ft_min, k, xp)
    phis = surface.slope_factor(fb.beta, slope_fraction)
    phi_e, direction = surface.combine_wind_slope(phiw, phis, wind_rel_rad, xp)
    ue = surface.effective_wind_speed_ft_min(phi_e, k, xp)
    if wind_limit:
        limit, phi_lim = wind_limit_phi(fb, xp)
        limited = ue > limit
        phi_e = xp.where(limited, phi_lim, phi_e)
        ue = xp.where(limited, limit, ue)
    else:
        limited = ue < -1.0  # all False, right shape
    ros = fb.ros_no_wind_no_slope_ft_min * (1.0 + phi_e)
    return Spread(ros, direction, phi_e, ue, limited, phiw, phis)


def local_wind_angle(wind_rel_rad, slope_fraction, xp):
    """FARSITE ``TransformWindDir``: the wind direction relative to upslope, projected onto the
    slope plane (the along-slope component stretched by 1/cos(slope))."""
    cos_slope = 1.0 / xp.sqrt(1.0 + slope_fraction * slope_fraction)
    return xp.arctan2(xp.sin(wind_rel_rad), xp.cos(wind_rel_rad) / cos_slope)


def combined_wind_mph(wind_mph, slope_wind_mph, wind_rel_rad, xp):
    """FlamMap's combined wind for the ellipse: the wind and slope-equivalent wind as vectors."""
    return xp.sqrt(
        xp.maximum(
            wind_mph**2 + slope_wind_mph**2 + 2.0 * wind_mph * slope_wind_mph * xp.cos(wind_rel_rad),
            0.0,
        )
    )


def surface_fire(fb: surface.Fuelbed, c: Cells, midflame_ft, flammap: bool, wind_limit: bool) -> SurfaceFire:
    """Surface head fire (Rothermel 1972), its direction and ellipse (Anderson 1983 as in
    BehavePlus, or FARSITE's with the combined wind), and Byram's intensity and flame length."""
    xp = c.xp
    wind_rel = (c.wind_from - c.aspect) * (math.pi / 180.0)  # wind (toward) relative to upslope
    if flammap:
        wind_rel = local_wind_angle(wind_rel, c.slope, xp)
    sp = spread(fb, midflame_ft, c.slope, wind_rel, wind_limit, xp)
    burning = fb.burnable & (sp.ros_ft_min > 0)
    ros_s = xp.where(burning, sp.ros_ft_min * units.M_PER_FT, 0.0)
    direction = (c.aspect + 180.0 + sp.direction_rel_rad * (180.0 / math.pi)) % 360.0
    if flammap:
        slope_wind_mph = surface.effective_wind_speed_ft_min(sp.phi_slope, fb.wind, xp) / units.FT_MIN_PER_MPH
        lw = lw_ratio_farsite(
            combined_wind_mph(midflame_ft / units.FT_MIN_PER_MPH, slope_wind_mph, wind_rel, xp), xp
        )
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
    return SurfaceFire(sp, wind_rel, burning, ros_s, direction, lw, hpa, fli_s, flame_s)


def crown_finney(s: SurfaceFire, c: Cells, k: Canopy) -> CrownFire:
    """FlamMap's (Finney) crown method: CFB = 1 - exp(-a (R_s - R_0)), crown rate
    R_s + CFB (R_active - R_s), a crown run where it reaches R_0 + 0.9 (R'_active - R_0); the
    crown fire ellipse and direction from the fuel model 10 vector (FlamMap VecCrown)."""
    xp = c.xp
    fb10, sp10, ros_active, r_init, r_crit_active = k.fb10, k.sp10, k.ros_active, k.r_init, k.r_crit_active
    crowning, u20, canopy_load = k.crowning, k.u20, k.canopy_load
    cfb_c = crown.crown_fraction_burned_finney(s.ros_s, r_init, r_crit_active, xp)
    ros_c = s.ros_s + cfb_c * (ros_active - s.ros_s)
    threshold = r_init + 0.9 * (r_crit_active - r_init)
    runs = crowning & (ros_c >= threshold)
    ros = xp.where(runs, ros_c, s.ros_s)
    active = runs & (ros_c >= r_crit_active)
    half_wind_mph = 0.5 * u20 * units.FT_PER_M / units.FT_MIN_PER_MPH
    slope10_mph = surface.effective_wind_speed_ft_min(sp10.phi_slope, fb10.wind, xp) / units.FT_MIN_PER_MPH
    lw = xp.where(
        runs, lw_ratio_farsite(combined_wind_mph(half_wind_mph, slope10_mph, s.wind_rel, xp), xp), s.lw
    )
    direction10 = (c.aspect + 180.0 + sp10.direction_rel_rad * (180.0 / math.pi)) % 360.0
    direction = xp.where(runs, direction10, s.direction)
    fli_c = crown.crown_fireline_intensity_kw_m(ros, s.hpa, cfb_c, canopy_load)
    return CrownFire(crowning, active, ros, direction, lw, cfb_c, fli_c)


def crown_scott_reinhardt(s: SurfaceFire, c: Cells, fb, k: Canopy, waf, wind_limit: bool) -> CrownFire:
    """Scott & Reinhardt (2001): CFB from R'_SA, the surface rate at the 20-ft wind that makes the
    active crown rate reach R'_active (wind and slope aligned, as in their crowning index); active
    crown fire shape L/B = 1 + 0.125 U_20 (Rothermel 1991)."""
    xp = c.xp
    fb10, sp10, ros_active, r_init, r_crit_active = k.fb10, k.sp10, k.ros_active, k.r_init, k.r_crit_active
    crowning, u20, canopy_load = k.crowning, k.u20, k.canopy_load
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
    phi_sa = phiw_sa + s.sp.phi_slope
    if wind_limit:
        phi_sa = xp.minimum(phi_sa, wind_limit_phi(fb, xp)[1])
    r_sa = fb.ros_no_wind_no_slope_ft_min * (1.0 + phi_sa) * units.M_PER_FT
    cfb_c = crown.crown_fraction_burned_scott_reinhardt(s.ros_s, r_init, r_sa, xp)
    ros_c = s.ros_s + cfb_c * (ros_active - s.ros_s)
    ros = xp.where(crowning, xp.maximum(ros_c, s.ros_s), s.ros_s)
    active = crowning & (ros_active >= r_crit_active)
    u20_mph = u20 * units.FT_PER_M / units.FT_MIN_PER_MPH
    lw = xp.where(active, xp.clip(1.0 + 0.125 * u20_mph, 1.0, 8.0), s.lw)
    fli_c = crown.crown_fireline_intensity_kw_m(ros, s.hpa, cfb_c, canopy_load)
    return CrownFire(crowning, active, ros, s.direction, lw, cfb_c, fli_c)


def crown_fire(fb, s: SurfaceFire, c: Cells, flammap: bool, waf, u20, wind_limit: bool):
    """Crown fire where the canopy supports it: Van Wagner (1977) initiation, Rothermel (1991)
    active rate 3.34 x fuel model 10 at 0.4 x the 20-ft wind, then the convention's crown model.
    Returns (critical intensity, active crown rate, :class:`CrownFire`)."""
    xp = c.xp
    canopy = s.burning & (c.cc > 0) & (c.ch_m > 0)
    cbh_eff = xp.where(c.cbh_m > 0, c.cbh_m, 0.01)
    cbd_eff = xp.where(c.cbd > 0, c.cbd, 0.01)
    i0_all = crown.critical_surface_intensity_kw_m(cbh_eff, c.fmc_pct)
    i0 = xp.where(canopy, i0_all, math.inf)
    crowning = canopy & (s.fli_s >= i0_all)
    fb10 = surface.fuelbed(xp.full_like(c.moisture[..., 0], FUEL_MODEL_10), c.moisture, xp)
    mid10_ft = crown.ROTHERMEL_1991_WIND_REDUCTION * u20 * units.FT_PER_M
    sp10 = spread(fb10, mid10_ft, c.slope, s.wind_rel, wind_limit, xp)
    r_active = crown.ROTHERMEL_1991_CROWN_MULTIPLIER * sp10.ros_ft_min * units.M_PER_FT
    ros_active = xp.where(canopy, r_active, 0.0)
    r_crit_active = crown.critical_active_ros_m_min(cbd_eff, xp)
    r_init = crown.critical_initiation_ros_m_min(i0_all, s.hpa, xp)
    ch_eff = xp.maximum(c.ch_m, cbh_eff + 1.0) if flammap else xp.maximum(c.ch_m, cbh_eff)
    canopy_load = cbd_eff * (ch_eff - cbh_eff)
    k = Canopy(crowning, fb10, sp10, ros_active, r_init, r_crit_active, canopy_load, u20)
    out = crown_finney(s, c, k) if flammap else crown_scott_reinhardt(s, c, fb, k, waf, wind_limit)
    return i0, ros_active, out
