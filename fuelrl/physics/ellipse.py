"""The elliptical fire shape: length-to-breadth ratio, eccentricity, spread rate toward any azimuth.

- Behave form: L/B = 1 + 0.25 U_e, U_e the effective midflame wind speed in mi/h, at most 8
  (Anderson 1983, INT-305, linear approximation used by BEHAVE/BehavePlus; Andrews 2018 eq. 100).
- FARSITE/FlamMap form: L/B = 0.936 exp(0.1147 U) + 0.461 exp(-0.0692 U) - 0.397, U the combined
  (wind + slope-equivalent) midflame wind speed in mi/h, at most 8 (Anderson 1983 fitted in m/s,
  0.2566 and 0.1548 per m/s, as coded by Finney 1998 RMRS-RP-4 in mi/h).
- Eccentricity e = sqrt(L/B^2 - 1) / (L/B); with the ignition at the rear focus the spread rate
  toward direction theta is R(theta) = R_head (1 - e) / (1 - e cos(theta - theta_max))
  (Catchpole et al. 1982; Finney 2002 for MTT; Andrews 2018 eq. 111).
"""

from __future__ import annotations

from fuelrl.physics._xp import namespace

MAX_LENGTH_TO_BREADTH = 8.0


def lw_ratio_behave(effective_wind_mph, xp):
    """BehavePlus L/B = 1 + 0.25 U_e (U_e effective midflame wind, mi/h), between 1 and 8."""
    return xp.clip(1.0 + 0.25 * effective_wind_mph, 1.0, MAX_LENGTH_TO_BREADTH)


def lw_ratio_farsite(wind_mph, xp):
    """FARSITE/FlamMap L/B = 0.936 e^(0.1147 U) + 0.461 e^(-0.0692 U) - 0.397 (U mi/h), at most 8.

    U is clamped to 300 mi/h before the exponential (L/B reaches the cap of 8 at 19.3 mi/h, so the
    result is unchanged; a slope-equivalent wind of thousands of mi/h on very steep cells no longer
    overflows the exponential)."""
    u = xp.minimum(xp.maximum(wind_mph, 0.0), 300.0)
    lb = 0.936 * xp.exp(0.1147 * u) + 0.461 * xp.exp(-0.0692 * u) - 0.397
    return xp.clip(lb, 1.0, MAX_LENGTH_TO_BREADTH)


def eccentricity(lw_ratio, xp):
    """Eccentricity of the fire ellipse, e = sqrt(L/B^2 - 1) / (L/B)."""
    lb = xp.maximum(lw_ratio, 1.0)
    return xp.sqrt(lb * lb - 1.0) / lb


def ros_at_azimuth(ros_head_m_min, eccentricity_, direction_max_deg, azimuth_deg):
    """Spread rate toward ``azimuth_deg`` for an ellipse with the ignition at its rear focus:
    R(theta) = R_head (1 - e) / (1 - e cos(theta - theta_max)) (Catchpole et al. 1982).

    Works on numpy arrays and torch tensors (broadcasting); units follow ``ros_head_m_min``.
    """
    xp = namespace(ros_head_m_min, eccentricity_, direction_max_deg, azimuth_deg)
    r = xp.asarray(ros_head_m_min)
    e = xp.asarray(eccentricity_)
    delta = (xp.asarray(azimuth_deg) - xp.asarray(direction_max_deg)) * (xp.pi / 180.0)
    return r * (1.0 - e) / (1.0 - e * xp.cos(delta))
