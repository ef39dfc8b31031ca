"""Rothermel (1972) surface fire spread with Albini (1976) weighting, one function per equation group.

Sources (equation numbers from the papers; the compact reference is Andrews 2018, *The Rothermel
surface fire spread model and associated developments*, RMRS-GTR-371, Table 2):

- Rothermel, R.C. 1972. A mathematical model for predicting fire spread in wildland fuels.
  USDA For. Serv. Res. Pap. INT-115.
- Albini, F.A. 1976. Estimating wildfire behavior and effects. USDA For. Serv. Gen. Tech. Rep.
  INT-30 (size-class weighting of the net load, live moisture of extinction).
- Scott, J.H.; Burgan, R.E. 2005. RMRS-GTR-153 (dynamic herbaceous load transfer).
- Byram, G.M. 1959 (fireline intensity, flame length).

Units: the equations carry empirical coefficients fitted in US customary units, so they are
evaluated here exactly as published in those units (lb/ft2, 1/ft, ft, ft/min, BTU) -- every
argument name says which. :mod:`fuelrl.physics.behavior` converts to and from SI at the edge.
Every function works on numpy arrays and torch tensors alike (``xp`` is the array namespace from
:mod:`fuelrl.physics._xp`); arrays broadcast, the trailing axis of length 6 (where present) is the
fuel particle: dead 1-h, 10-h, 100-h, dead (cured) herbaceous, live herbaceous, live woody.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from fuelrl.physics import fuel_models as fm

#: Oven-dry particle density, lb/ft3 (Rothermel 1972).
PARTICLE_DENSITY_LB_FT3 = 32.0
#: Total mineral content, fraction (Rothermel 1972).
TOTAL_MINERAL_CONTENT = 0.0555
#: Effective (silica-free) mineral content, fraction (Rothermel 1972).
EFFECTIVE_MINERAL_CONTENT = 0.010

DEAD_MASK = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.0])
LIVE_MASK = 1.0 - DEAD_MASK
#: Which of the five moisture inputs (1h, 10h, 100h, herb, woody) wets each particle: the cured
#: herbaceous load takes the 1-h moisture (Scott & Burgan 2005).
MOISTURE_INDEX = [0, 1, 2, 0, 3, 4]


def _safe_div(xp, num, den):
    ok = den > 0
    return xp.where(ok, num / xp.where(ok, den, 1.0), 0.0)


def herbaceous_curing_fraction(moisture_herb_fraction, xp):
    """Fraction of the herbaceous load transferred to dead (cured): 1 at or below 30 % herbaceous
    moisture, 0 at or above 120 %, linear between. Scott & Burgan (2005), RMRS-GTR-153, p. 7."""
    return xp.clip((1.20 - moisture_herb_fraction) / 0.90, 0.0, 1.0)


def particle_loads_lb_ft2(load5_lb_ft2, curing_fraction, dynamic, xp):
    """Loads of the six particles after the dynamic herbaceous transfer (static models: none)."""
    moved = curing_fraction * dynamic
    herb = load5_lb_ft2[..., 3]
    loads = xp.stack(
        [
            load5_lb_ft2[..., 0],
            load5_lb_ft2[..., 1],
            load5_lb_ft2[..., 2],
            herb * moved,
            herb * (1.0 - moved),
            load5_lb_ft2[..., 4],
        ],
        axis=-1,
    )
    # Round-off in the curing fraction must not leave a 1e-17 "live" load (BEHAVE's SMIDGEN test).
    return xp.where(loads > 1e-9, loads, 0.0)


class SurfaceAreaWeights(NamedTuple):
    particle_fraction: Any  # f_ij: share of particle j in its category's surface area
    category_fraction: Any  # f_i of the particle's category (dead or live), per particle
    dead_fraction: Any  # f_dead
    live_fraction: Any  # f_live
    net_load_weight: Any  # g_ij: Albini's size-sorted weights for the net load


def surface_area_weights(load_lb_ft2, sav_ft_1, same_size_class, xp) -> SurfaceAreaWeights:
    """Surface-area weighting factors. Rothermel (1972) eqs. 53-56 (f_ij, f_i); Albini (1976) /
    BEHAVE size-class sorted weights g_ij for the net fuel load (bins by SAV >= 1200, 192, 96, 48,
    16 1/ft): particles of one category in one bin share the summed f_ij of that bin."""
    dead = xp.table(DEAD_MASK)
    live = xp.table(LIVE_MASK)
    area = load_lb_ft2 * sav_ft_1 / PARTICLE_DENSITY_LB_FT3
    area_dead = xp.sum(area * dead, -1)[..., None]
    area_live = xp.sum(area * live, -1)[..., None]
    area_cat = dead * area_dead + live * area_live
    f = _safe_div(xp, area, area_cat)
    total = area_dead + area_live
    f_dead = _safe_div(xp, area_dead, total)
    f_live = _safe_div(xp, area_live, total)
    f_cat = dead * f_dead + live * f_live
    g = 0.0
    for k in range(fm.N_PARTICLES):
        g = g + same_size_class[..., :, k] * f[..., k : k + 1]
    return SurfaceAreaWeights(f, f_cat, f_dead[..., 0], f_live[..., 0], g)


def characteristic_sav_ft_1(weights: SurfaceAreaWeights, sav_ft_1, xp):
    """Characteristic surface-area-to-volume ratio sigma (1/ft) of the fuel bed: the surface-area
    weighted mean by category, then over categories. Rothermel (1972) eqs. 71-72."""
    return xp.sum(weights.category_fraction * weights.particle_fraction * sav_ft_1, -1)


def packing_ratios(total_load_lb_ft2, depth_ft, sigma_ft_1, xp):
    """Packing ratio beta (eq. 31), optimum packing ratio beta_op = 3.348 sigma^-0.8189 (eq. 37),
    and the relative packing ratio beta/beta_op. Rothermel (1972)."""
    beta = total_load_lb_ft2 / (PARTICLE_DENSITY_LB_FT3 * depth_ft)
    beta_op = 3.348 * sigma_ft_1**-0.8189
    return beta, beta_op, beta / beta_op


def live_moisture_of_extinction(
    load_lb_ft2, sav_ft_1, moisture_fraction, dead_moisture_of_extinction_fraction, xp
):
    """Live fuel moisture of extinction (fraction). Albini (1976) from Fosberg & Schroeder (1971):
    Mx_live = 2.9 W (1 - Mf_dead / Mx_dead) - 0.226, at least Mx_dead, where W is the ratio of
    fine dead load (weights exp(-138/sigma)) to fine live load (weights exp(-500/sigma)) and
    Mf_dead the fine-dead-weighted dead moisture."""
    dead = xp.table(DEAD_MASK)
    live = xp.table(LIVE_MASK)
    w_dead = load_lb_ft2 * xp.exp(-138.0 / sav_ft_1) * dead
    fine_dead = xp.sum(w_dead, -1)
    fine_dead_moisture = _safe_div(xp, xp.sum(w_dead * moisture_fraction, -1), fine_dead)
    fine_live = xp.sum(load_lb_ft2 * xp.exp(-500.0 / sav_ft_1) * live, -1)
    ratio = _safe_div(xp, fine_dead, fine_live)
    mx = 2.9 * ratio * (1.0 - fine_dead_moisture / dead_moisture_of_extinction_fraction) - 0.226
    return xp.maximum(mx, dead_moisture_of_extinction_fraction)


def moisture_damping(moisture_fraction, moisture_of_extinction_fraction, xp):
    """Moisture damping coefficient eta_M = 1 - 2.59 r + 5.11 r^2 - 3.52 r^3, r = M / Mx (eq. 29),
    zero at or above extinction. Rothermel (1972)."""
    r = xp.clip(_safe_div(xp, moisture_fraction, moisture_of_extinction_fraction), 0.0, 1.0)
    eta = 1.0 - 2.59 * r + 5.11 * r**2 - 3.52 * r**3
    # r within round-off of 1 (a surface-area weighted moisture equal to Mx) is extinction too
    return xp.where(r >= 1.0 - 1e-9, 0.0, eta)


def mineral_damping(effective_mineral_content: float = EFFECTIVE_MINERAL_CONTENT) -> float:
    """Mineral damping coefficient eta_s = 0.174 Se^-0.19, at most 1 (eq. 30). Rothermel (1972)."""
    return min(0.174 * effective_mineral_content**-0.19, 1.0)


def optimum_reaction_velocity_per_min(sigma_ft_1, relative_packing_ratio, xp):
    """Optimum reaction velocity Gamma' (1/min): Gamma'_max = sigma^1.5 / (495 + 0.0594 sigma^1.5)
    (eq. 36), A = 133 sigma^-0.7913 (Albini 1976 revision of eq. 39), Gamma' = Gamma'_max
    (beta/beta_op)^A exp(A (1 - beta/beta_op)) (eq. 38). Rothermel (1972)."""
    s15 = sigma_ft_1**1.5
    gamma_max = s15 / (495.0 + 0.0594 * s15)
    a = 133.0 * sigma_ft_1**-0.7913
    return gamma_max * relative_packing_ratio**a * xp.exp(a * (1.0 - relative_packing_ratio))


def reaction_intensity_btu_ft2_min(
    load_lb_ft2,
    heat_btu_lb,
    moisture_fraction,
    weights: SurfaceAreaWeights,
    gamma_per_min,
    dead_moisture_of_extinction_fraction,
    live_moisture_of_extinction_fraction,
    xp,
):
    """Reaction intensity I_R (BTU/ft2/min) = Gamma' sum_i w_n,i h_i eta_M,i eta_s,i over the dead
    and live categories, with the net load w_n = sum_j g_ij w_0,ij (1 - S_T) (Albini 1976) and
    the category moisture and heat content weighted by f_ij. Rothermel (1972) eqs. 27, 58-60."""
    dead = xp.table(DEAD_MASK)
    live = xp.table(LIVE_MASK)
    f = weights.particle_fraction
    net = weights.net_load_weight * load_lb_ft2 * (1.0 - TOTAL_MINERAL_CONTENT)
    eta_s = mineral_damping()
    total = 0.0
    for mask, mx in (
        (dead, dead_moisture_of_extinction_fraction),
        (live, live_moisture_of_extinction_fraction),
    ):
        wn = xp.sum(net * mask, -1)
        h = xp.sum(f * heat_btu_lb * mask, -1)
        m = xp.sum(f * moisture_fraction * mask, -1)
        total = total + wn * h * moisture_damping(m, mx, xp) * eta_s
    return gamma_per_min * total


def propagating_flux_ratio(sigma_ft_1, beta, xp):
    """Propagating flux ratio xi = exp((0.792 + 0.681 sigma^0.5)(beta + 0.1)) / (192 + 0.2595
    sigma) (eq. 42). Rothermel (1972)."""
    return xp.exp((0.792 + 0.681 * xp.sqrt(sigma_ft_1)) * (beta + 0.1)) / (192.0 + 0.2595 * sigma_ft_1)


def heat_sink_btu_ft3(load_lb_ft2, depth_ft, sav_ft_1, moisture_fraction, weights: SurfaceAreaWeights, xp):
    """Heat sink rho_b sum_i f_i sum_j f_ij exp(-138/sigma_ij) Q_ig,ij (BTU/ft3), with the heat of
    preignition Q_ig = 250 + 1116 M (BTU/lb) and bulk density rho_b = w_0 / delta. Rothermel (1972)
    eqs. 12, 14, 40, 77."""
    bulk_density = xp.sum(load_lb_ft2, -1) / depth_ft
    q_ig = 250.0 + 1116.0 * moisture_fraction
    terms = weights.category_fraction * weights.particle_fraction * xp.exp(-138.0 / sav_ft_1) * q_ig
    return bulk_density * xp.sum(terms, -1)


def residence_time_min(sigma_ft_1):
    """Flame residence time t_r = 384 / sigma (min). Anderson (1969), as used by Albini (1976)."""
    return 384.0 / sigma_ft_1


class WindCoefficients(NamedTuple):
    c: Any
    b: Any
    e: Any
    relative_packing_ratio: Any


def wind_coefficients(sigma_ft_1, relative_packing_ratio, xp) -> WindCoefficients:
    """C = 7.47 exp(-0.133 sigma^0.55), B = 0.02526 sigma^0.54, E = 0.715 exp(-3.59e-4 sigma)
    (eqs. 48-50). Rothermel (1972)."""
    c = 7.47 * xp.exp(-0.133 * sigma_ft_1**0.55)
    b = 0.02526 * sigma_ft_1**0.54
    e = 0.715 * xp.exp(-3.59e-4 * sigma_ft_1)
    return WindCoefficients(c, b, e, relative_packing_ratio)


def wind_factor(midflame_wind_ft_min, k: WindCoefficients, xp):
    """Wind factor phi_w = C U^B (beta/beta_op)^-E, U the midflame wind in ft/min (eq. 47).
    Rothermel (1972)."""
    u = xp.maximum(midflame_wind_ft_min, 0.0)
    return k.c * u**k.b * k.relative_packing_ratio**-k.e


def slope_factor(beta, slope_fraction):
    """Slope factor phi_s = 5.275 beta^-0.3 tan^2(slope) (eq. 51), slope as rise/run. Rothermel
    (1972)."""
    return 5.275 * beta**-0.3 * slope_fraction**2


def effective_wind_speed_ft_min(phi_effective, k: WindCoefficients, xp):
    """The wind speed that alone would give the combined wind-slope factor: the inverse of
    eq. 47, U_e = (phi_e (beta/beta_op)^E / C)^(1/B) (ft/min). Albini (1976); Andrews 2018 eq. 87."""
    return (xp.maximum(phi_effective, 0.0) * k.relative_packing_ratio**k.e / k.c) ** (1.0 / k.b)


def wind_limit_ft_min(reaction_intensity_btu_ft2_min):
    """Maximum reliable effective wind speed U_max = 0.9 I_R (ft/min, I_R in BTU/ft2/min).
    Rothermel (1972) p. 33; as applied by BehavePlus 5 (Andrews 2018 sec. 5.4)."""
    return 0.9 * reaction_intensity_btu_ft2_min


def combine_wind_slope(phi_wind, phi_slope, wind_toward_rel_upslope_rad, xp):
    """Wind and slope factors combined as vectors (the BehavePlus method, Rothermel 1983 / Albini
    1976): with the slope vector along the upslope direction and the wind vector toward
    ``wind_toward_rel_upslope_rad`` (radians clockwise from upslope), returns the magnitude of the
    resultant factor phi_e and its direction (radians clockwise from upslope)."""
    x = phi_slope + phi_wind * xp.cos(wind_toward_rel_upslope_rad)
    y = phi_wind * xp.sin(wind_toward_rel_upslope_rad)
    return xp.hypot(x, y), xp.arctan2(y, x)


def byram_fireline_intensity_btu_ft_s(reaction_intensity_btu_ft2_min, residence_time_min_, ros_ft_min):
    """Byram (1959) fireline intensity I_B = H_A R / 60 (BTU/ft/s) with the heat per unit area
    H_A = I_R t_r (BTU/ft2) (Andrews 2018 eqs. 95, 97)."""
    return reaction_intensity_btu_ft2_min * residence_time_min_ * ros_ft_min / 60.0


def byram_flame_length_ft(fireline_intensity_btu_ft_s, xp):
    """Byram (1959) flame length L = 0.45 I_B^0.46 (ft, I_B in BTU/ft/s)."""
    return 0.45 * xp.maximum(fireline_intensity_btu_ft_s, 0.0) ** 0.46


class Fuelbed(NamedTuple):
    """Wind- and slope-independent results for a fuel bed under given moistures."""

    burnable: Any
    reaction_intensity_btu_ft2_min: Any
    ros_no_wind_no_slope_ft_min: Any
    sigma_ft_1: Any
    beta: Any
    wind: WindCoefficients
    residence_time_min: Any
    live_moisture_of_extinction_fraction: Any
    heat_sink_btu_ft3: Any
    propagating_flux_ratio: Any
    curing_fraction: Any
    depth_ft: Any


def fuelbed(fuel_code, moisture_fraction, xp) -> Fuelbed:
    """Rothermel's no-wind, no-slope fuel bed for fuel model codes and moistures.

    ``fuel_code``: integer array of model codes; ``moisture_fraction``: array [..., 5] (1-h, 10-h,
    100-h, live herbaceous, live woody; fractions of oven-dry weight), broadcast against the code
    array with the trailing axis. R0 = I_R xi / (rho_b eps Q_ig) (Rothermel 1972 eq. 52).
    """
    code, _ = xp.table_index(fuel_code, fm.TABLE_SIZE)
    burnable = xp.bool_table(fm._BURNABLE)[code]
    load5 = xp.table(fm.LOAD_LB_FT2)[code]
    sav = xp.table(fm.SAV_FT_1)[code]
    depth = xp.table(fm.DEPTH_FT)[code]
    mx_dead = xp.table(fm.DEAD_MX_EXT)[code]
    heat = xp.table(fm.HEAT_BTU_LB)[code]
    dynamic = xp.table(fm.DYNAMIC)[code]
    same = xp.table(fm.SAME_SIZE_CLASS)[code]

    moisture6 = moisture_fraction[..., MOISTURE_INDEX]
    curing = herbaceous_curing_fraction(moisture_fraction[..., 3], xp)
    load = particle_loads_lb_ft2(load5, curing, dynamic, xp)
    load, sav, moisture6 = xp.broadcast_arrays(load, sav, moisture6)

    w = surface_area_weights(load, sav, same, xp)
    sigma = characteristic_sav_ft_1(w, sav, xp)
    sigma = xp.where(burnable, sigma, 1.0)
    total_load = xp.sum(load, -1)
    beta, _, rel = packing_ratios(total_load, depth, sigma, xp)
    beta = xp.where(burnable, beta, 1.0)
    rel = xp.where(burnable, rel, 1.0)
    mx_live = live_moisture_of_extinction(load, sav, moisture6, mx_dead, xp)
    gamma = optimum_reaction_velocity_per_min(sigma, rel, xp)
    ir = reaction_intensity_btu_ft2_min(load, heat, moisture6, w, gamma, mx_dead, mx_live, xp)
    ir = xp.where(burnable, ir, 0.0)
    xi = propagating_flux_ratio(sigma, beta, xp)
    sink = heat_sink_btu_ft3(load, depth, sav, moisture6, w, xp)
    r0 = xp.where(burnable, _safe_div(xp, ir * xi, sink), 0.0)
    return Fuelbed(
        burnable=burnable,
        reaction_intensity_btu_ft2_min=ir,
        ros_no_wind_no_slope_ft_min=r0,
        sigma_ft_1=sigma,
        beta=beta,
        wind=wind_coefficients(sigma, rel, xp),
        residence_time_min=residence_time_min(sigma),
        live_moisture_of_extinction_fraction=mx_live,
        heat_sink_btu_ft3=sink,
        propagating_flux_ratio=xi,
        curing_fraction=curing * dynamic,
        depth_ft=depth,
    )
