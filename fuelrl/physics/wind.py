"""Midflame wind from the 20-ft wind: the wind adjustment factor (WAF) of Albini & Baughman (1979).

Albini, F.A.; Baughman, R.G. 1979. Estimating windspeeds for predicting wildland fire behavior.
USDA For. Serv. Res. Pap. INT-221 (eqs. 9 and 21); Andrews, P.L. 2012, RMRS-GTR-266.

Two conventions, both from the same paper:

- BehavePlus: unsheltered WAF = 1.83 / ln((20 + 0.36 H) / (0.13 H)) with H the fuel bed depth
  (ft); sheltered when the crown fill portion f = CC * CR / 3 (canopy cover and crown ratio as
  fractions; conical crowns) is at least 0.05 and the canopy is at least 6 ft tall:
  WAF = 0.555 / (sqrt(f H_c) ln((20 + 0.36 H_c) / (0.13 H_c))), H_c the canopy height (ft).
- FARSITE / FlamMap: sheltered whenever canopy cover exceeds 5 % (and the stand has a height),
  with f = CC * pi / 12 (cones in a square lattice; Finney 1998 RMRS-RP-4 eq. 45) and the WAF
  capped at 1; unsheltered WAF from the same log profile with flame height = fuel bed depth,
  (1 + 0.36) (ln(1.36 / 0.13) - 1) / ln((20 + 0.36 H) / (0.13 H)) (1.83 unrounded).
"""

from __future__ import annotations

import math

_FARSITE_UNSHELTERED = (1.0 + 0.36) * (math.log((1.0 + 0.36) / 0.13) - 1.0)


def _log_profile(height_ft, xp):
    h = xp.maximum(height_ft, 1e-6)
    return xp.log((20.0 + 0.36 * h) / (0.13 * h))


def unsheltered_waf(fuel_bed_depth_ft, xp, coefficient: float = 1.83):
    """Albini & Baughman (1979) eq. 9 averaged over the flame height = fuel bed depth:
    WAF = coefficient / ln((20 + 0.36 H) / (0.13 H)). BehavePlus uses coefficient 1.83; FARSITE
    the unrounded (1.36)(ln(1.36/0.13) - 1) = 1.8328."""
    return coefficient / _log_profile(fuel_bed_depth_ft, xp)


def sheltered_waf(canopy_height_ft, crown_fill_fraction, xp):
    """Albini & Baughman (1979) eq. 21: WAF = 0.555 / (sqrt(f H) ln((20 + 0.36 H) / (0.13 H)))."""
    f_h = xp.maximum(crown_fill_fraction * canopy_height_ft, 1e-9)
    return 0.555 / (xp.sqrt(f_h) * _log_profile(canopy_height_ft, xp))


def wind_adjustment_factor_behave(
    fuel_bed_depth_ft, canopy_cover_fraction, canopy_height_ft, crown_ratio_fraction, xp
):
    """BehavePlus 5 WAF (behave ``WindAdjustmentFactor``): sheltered when canopy cover > 0, crown
    fill portion CC * CR / 3 >= 0.05 and canopy height >= 6 ft; unsheltered otherwise."""
    fill = canopy_cover_fraction * crown_ratio_fraction / 3.0
    sheltered = (canopy_cover_fraction > 1e-7) & (fill >= 0.05) & (canopy_height_ft >= 6.0)
    return xp.where(
        sheltered,
        sheltered_waf(canopy_height_ft, fill, xp),
        unsheltered_waf(fuel_bed_depth_ft, xp),
    )


def wind_adjustment_factor_farsite(fuel_bed_depth_ft, canopy_cover_fraction, canopy_height_ft, xp):
    """FARSITE / FlamMap WAF (``FELocalSite::windreduct``): sheltered when canopy cover > 5 % and
    the canopy height > 0, crown fill CC * pi/12, WAF at most 1; unsheltered otherwise."""
    fill = canopy_cover_fraction * math.pi / 12.0
    sheltered = (canopy_cover_fraction > 0.05) & (canopy_height_ft > 0.0)
    return xp.where(
        sheltered,
        xp.minimum(sheltered_waf(canopy_height_ft, fill, xp), 1.0),
        unsheltered_waf(fuel_bed_depth_ft, xp, coefficient=_FARSITE_UNSHELTERED),
    )
