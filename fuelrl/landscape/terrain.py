"""Terrain derivatives on a north-up raster: slope, aspect and hillshade from elevation.

Conventions (as LANDFIRE and FlamMap use them): rows run north to south, columns west to east;
``slope_fraction`` is rise over run; ``aspect_deg`` is the azimuth the slope faces (the downslope
direction), degrees clockwise from north; flat cells have slope 0 and aspect 0.
"""

from __future__ import annotations

import numpy as np


def slope_aspect(elevation_m: np.ndarray, cell_size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Slope (rise/run) and aspect (downslope azimuth, degrees) by central differences.

    Uses second-order central differences inside the raster and one-sided differences on its edges
    (``numpy.gradient``). Cells whose gradient is exactly zero get slope 0 and aspect 0.
    Returns float32 arrays shaped like ``elevation_m``.
    """
    z = np.asarray(elevation_m, dtype=np.float64)
    if z.ndim != 2 or min(z.shape) < 2:
        raise ValueError(f"elevation must be a 2-D raster of at least 2x2 cells; got shape {z.shape}")
    dz_drow, dz_dcol = np.gradient(z, float(cell_size_m))
    dz_east = dz_dcol
    dz_north = -dz_drow  # row index grows southward
    slope = np.hypot(dz_east, dz_north)
    # downslope direction is -grad(z): east component -dz_east, north component -dz_north
    aspect = np.degrees(np.arctan2(-dz_east, -dz_north)) % 360.0
    aspect[slope == 0] = 0.0
    return slope.astype(np.float32), aspect.astype(np.float32)


def hillshade(
    elevation_m: np.ndarray, cell_size_m: float, azimuth_deg: float = 315.0, altitude_deg: float = 45.0
) -> np.ndarray:
    """Shaded relief in [0, 1] for map underlays (1 = facing the sun, 0 = in shadow).

    ``azimuth_deg`` is the direction the light comes from (clockwise from north), ``altitude_deg``
    its angle above the horizon. Lambertian shading of the slope and aspect from :func:`slope_aspect`:
    ``cos(zenith) cos(slope) + sin(zenith) sin(slope) cos(azimuth - aspect)`` (the ESRI/GDAL
    hillshade formula), clipped to [0, 1]. NaN elevations give NaN.
    """
    z = np.asarray(elevation_m, dtype=np.float64)
    nan = np.isnan(z)
    if nan.any():
        fill = np.nanmean(z) if (~nan).any() else 0.0
        z = np.where(nan, fill, z)
    slope_fraction, aspect_deg = slope_aspect(z, cell_size_m)
    s = np.arctan(slope_fraction.astype(np.float64))
    zenith = np.radians(90.0 - altitude_deg)
    shade = np.cos(zenith) * np.cos(s) + np.sin(zenith) * np.sin(s) * np.cos(
        np.radians(azimuth_deg) - np.radians(aspect_deg.astype(np.float64))
    )
    shade = np.clip(shade, 0.0, 1.0).astype(np.float32)
    shade[nan] = np.nan
    return shade
