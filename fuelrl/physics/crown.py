"""Crown fire: initiation, active spread, crown fraction burned, intensity, flame length.

Sources:
- Van Wagner, C.E. 1977. Conditions for the start and spread of crown fire. Can. J. For. Res. 7:
  23-34 (critical surface intensity I_0 = (0.010 CBH (460 + 25.9 FMC))^1.5 kW/m, eq. 4; critical
  active spread rate R'_active = S_0 / CBD with S_0 = 3.0 kg/m2/min, eq. 8).
- Rothermel, R.C. 1991. Predicting behavior and size of crown fires in the northern Rocky
  Mountains. INT-438 (active crown spread rate = 3.34 x the fuel model 10 spread rate with the
  midflame wind taken as 0.4 x the 20-ft wind; crown flame length after Thomas 1963,
  L = 0.2 I^(2/3) ft with I in BTU/ft/s).
- Finney, M.A. 1998. FARSITE: Fire Area Simulator, RMRS-RP-4 (crown fraction burned
  CFB = 1 - exp(-a (R - R_0)), a = -ln(0.1) / (0.9 (R'_active - R_0)), R_0 = I_0 R / I_B the
  surface rate at initiation; crown spread R = R_s + CFB (R_active - R_s), which is an active
  crown fire when it reaches R_0 + 0.9 (R'_active - R_0); as coded in FlamMap's ``Crown``).
- Scott, J.H.; Reinhardt, E.D. 2001. Assessing crown fire potential by linking models of surface
  and crown fire behavior. RMRS-RP-29 (R'_initiation = 60 I_0 / H_A, CFB = (R_s - R'_init) /
  (R'_SA - R'_init), final rate R_s + CFB (R_active - R_s), fire type surface/passive/active).

Units SI: m, m/min, kW/m, kJ/m2, kg/m3, foliar moisture in percent (Van Wagner's form).
"""

from __future__ import annotations

import math

from fuelrl.physics import units

#: Heat of combustion of canopy fuel, kJ/kg (Finney 1998; FlamMap uses 18000 kJ/kg).
CANOPY_HEAT_CONTENT_KJ_KG = 18000.0
#: Van Wagner's critical mass flow rate S_0, kg/m2/min.
CRITICAL_MASS_FLOW_KG_M2_MIN = 3.0
#: Rothermel (1991): active crown spread rate / fuel model 10 rate.
ROTHERMEL_1991_CROWN_MULTIPLIER = 3.34
#: Rothermel (1991): midflame wind for the crown spread rate = 0.4 x 20-ft wind.
ROTHERMEL_1991_WIND_REDUCTION = 0.4


def critical_surface_intensity_kw_m(canopy_base_height_m, foliar_moisture_pct):
    """Van Wagner (1977) eq. 4: I_0 = (0.010 CBH (460 + 25.9 FMC))^1.5 (kW/m), CBH in m, FMC in %."""
    return (0.010 * canopy_base_height_m * (460.0 + 25.9 * foliar_moisture_pct)) ** 1.5


def critical_active_ros_m_min(canopy_bulk_density_kg_m3, xp):
    """Van Wagner (1977) eq. 8: R'_active = 3.0 / CBD (m/min)."""
    return CRITICAL_MASS_FLOW_KG_M2_MIN / xp.maximum(canopy_bulk_density_kg_m3, 1e-9)


def critical_initiation_ros_m_min(critical_intensity_kw_m, heat_per_unit_area_kj_m2, xp):
    """Scott & Reinhardt (2001) eq. 3: R'_initiation = 60 I_0 / H_A (m/min) -- the surface spread
    rate at which the surface fire reaches I_0 (same as Finney's R_0 = I_0 R_s / I_B)."""
    return 60.0 * critical_intensity_kw_m / xp.maximum(heat_per_unit_area_kj_m2, 1e-9)


def crown_fraction_burned_finney(ros_surface_m_min, ros_initiation_m_min, ros_critical_active_m_min, xp):
    """Finney (1998) crown fraction burned: CFB = 1 - exp(-a (R_s - R_0)) with
    a = -ln(0.1) / (0.9 (R'_active - R_0)), clipped to [0.01, 1]; CFB = 1 when R_0 >= R'_active
    (FlamMap ``Crown::CrownBurn``)."""
    span = ros_critical_active_m_min - ros_initiation_m_min
    ok = span > 0
    a = -math.log(0.1) / (0.9 * xp.where(ok, span, 1.0))
    # exponent bounded below: far under initiation CFB is clipped to 0.01 anyway (no overflow)
    cfb = 1.0 - xp.exp(-xp.maximum(a * (ros_surface_m_min - ros_initiation_m_min), -50.0))
    cfb = xp.where(cfb <= 0.0, 0.01, xp.minimum(cfb, 1.0))
    return xp.where(ok, cfb, 1.0)


def crown_fraction_burned_scott_reinhardt(
    ros_surface_m_min, ros_initiation_m_min, ros_surface_at_active_m_min, xp
):
    """Scott & Reinhardt (2001) eq. 8: CFB = (R_s - R'_init) / (R'_SA - R'_init), in [0, 1]."""
    span = ros_surface_at_active_m_min - ros_initiation_m_min
    cfb = (ros_surface_m_min - ros_initiation_m_min) / xp.where(span > 0, span, 1.0)
    return xp.where(span > 0, xp.clip(cfb, 0.0, 1.0), 1.0)


def crown_fireline_intensity_kw_m(
    ros_m_min, heat_per_unit_area_surface_kj_m2, crown_fraction_burned, canopy_load_kg_m2
):
    """Fireline intensity of a crown fire, surface plus burned canopy fuel (Rothermel 1991 pp. 10-11;
    Finney 1998): I = R (H_A + CFB * W_canopy * 18000) / 60 (kW/m)."""
    burned = crown_fraction_burned * canopy_load_kg_m2 * CANOPY_HEAT_CONTENT_KJ_KG
    return ros_m_min * (heat_per_unit_area_surface_kj_m2 + burned) / 60.0


def thomas_flame_length_m(fireline_intensity_kw_m, xp):
    """Crown fire flame length, Thomas (1963) as used by Rothermel (1991):
    L = 0.2 I^(2/3) ft with I in BTU/ft/s (returned in m)."""
    i_btu = xp.maximum(fireline_intensity_kw_m, 0.0) / units.KW_M_PER_BTU_FT_S
    return 0.2 * i_btu ** (2.0 / 3.0) * units.M_PER_FT
