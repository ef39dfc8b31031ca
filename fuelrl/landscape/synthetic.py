"""Generated LANDFIRE-like landscapes: the embedded default when a user has no data yet.

:func:`generate_landscape` builds, from one seed:

* terrain from spectral (1/f^beta) noise made with an FFT, scaled so that the median slope is a
  plausible 12-30 % (drawn from the seed); slope and aspect derived from it by central differences
  (:func:`fuelrl.landscape.terrain.slope_aspect`), exactly as a user would derive them from a DEM;
* fuel patches from smooth noise fields and the terrain: timber (TL, TU) on moist north-facing and
  high ground, shrub and grass on dry south-facing and low ground, with Scott & Burgan model mixes
  inside each group, plus non-burnable water (NB8) in the lowest hollows, urban (NB1) and
  agriculture (NB3) patches on gentle low ground, and bare rock (NB9) on the steepest high ridges;
* canopy only on timber cells: cover in LANDFIRE's 10 % classes, stand height, base height below it
  (lower under TU understories), bulk density; quantised to LANDFIRE's storage steps.

It sits on a real projected grid (EPSG:5070, CONUS Albers, 30 m LANDFIRE-aligned cells), is flagged
``synthetic=True`` and its ``source`` says ``synthetic(seed=...)``, so everything made from it says so.
"""

from __future__ import annotations

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from fuelrl.errors import InputError
from fuelrl.landscape.core import Landscape
from fuelrl.landscape.terrain import slope_aspect

#: upper-left corner of generated grids (EPSG:5070, on LANDFIRE's 30 m cell alignment; western Montana)
ORIGIN_XY = (-1_349_985.0, 2_700_015.0)

#: fuel groups: (codes, weights inside the group); Scott & Burgan (2005) model numbers
GRASS = ((101, 102, 103, 104), (0.20, 0.50, 0.15, 0.15))  # GR1 GR2 GR3 GR4
SHRUB = ((122, 142, 143, 145, 147), (0.25, 0.20, 0.20, 0.20, 0.15))  # GS2 SH2 SH3 SH5 SH7
TIMBER_UNDERSTORY = ((161, 162, 165), (0.40, 0.40, 0.20))  # TU1 TU2 TU5
TIMBER_LITTER = ((182, 183, 185, 186, 188), (0.15, 0.20, 0.25, 0.30, 0.10))  # TL2 TL3 TL5 TL6 TL8
#: mean share of each burnable group and of non-burnable cells (drawn per seed around these)
GROUP_SHARES = {"grass": 0.20, "shrub": 0.20, "understory": 0.15, "litter": 0.35}
NB_SHARES = {98: 0.03, 91: 0.03, 93: 0.03, 99: 0.01}  # water, urban, agriculture, bare


def spectral_noise(rng: np.random.Generator, shape: tuple[int, int], beta: float) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian noise with power spectrum ~ 1/f^beta (FFT filtering).

    Made on a grid padded by a quarter on each axis and cropped, so the periodic FFT does not
    make opposite edges match.
    """
    h, w = shape
    ph, pw = h + max(h // 4, 8), w + max(w // 4, 8)
    white = rng.standard_normal((ph, pw))
    fy = np.fft.fftfreq(ph)[:, None]
    fx = np.fft.rfftfreq(pw)[None, :]
    f = np.hypot(fy, fx)
    f[0, 0] = np.inf
    field = np.fft.irfft2(np.fft.rfft2(white) * f ** (-beta / 2.0), s=(ph, pw))[:h, :w]
    field -= field.mean()
    std = field.std()
    return field / std if std > 0 else field


def _rank(x: np.ndarray) -> np.ndarray:
    """Quantile (0..1) of each cell's value within the raster."""
    order = np.argsort(x, axis=None, kind="stable")
    r = np.empty(x.size, dtype=np.float64)
    r[order] = (np.arange(x.size) + 0.5) / x.size
    return r.reshape(x.shape)


def _pick(
    rng_field: np.ndarray, mask: np.ndarray, codes: tuple[int, ...], weights: tuple[float, ...]
) -> np.ndarray:
    """Codes for the cells of ``mask`` by quantile bands of a smooth field (patches of one model)."""
    out = np.zeros(mask.shape, dtype=np.int16)
    if not mask.any():
        return out
    q = np.zeros(mask.shape)
    q[mask] = _rank(rng_field[mask])
    edges = np.cumsum(weights) / np.sum(weights)
    idx = np.searchsorted(edges, q[mask], side="right").clip(0, len(codes) - 1)
    out[mask] = np.asarray(codes, dtype=np.int16)[idx]
    return out


def generate_landscape(
    seed: int = 0, shape: tuple[int, int] = (128, 128), cell_size_m: float = 30.0
) -> Landscape:
    """A seeded synthetic LANDFIRE-like landscape (see the module docstring); same seed, same layers."""
    h, w = int(shape[0]), int(shape[1])
    if h < 8 or w < 8:
        raise InputError(f"synthetic landscape: size must be at least 8x8 cells, got {h}x{w}")
    if h * w > 50_000_000:
        raise InputError(f"synthetic landscape: {h}x{w} cells is too large to generate in memory")
    if not cell_size_m > 0:
        raise InputError(f"synthetic landscape: cell size must be positive, got {cell_size_m} m")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EED_F1E1]))

    # terrain: 1/f^3 noise gives fractal-looking hills; relief set by a target median slope
    z = spectral_noise(rng, (h, w), beta=3.0)
    s_unit, _ = slope_aspect(z, cell_size_m)
    target_median_slope = rng.uniform(0.12, 0.30)
    scale = target_median_slope / max(float(np.median(s_unit)), 1e-12)
    base = rng.uniform(400.0, 1800.0)
    elevation = (base + scale * (z - z.min())).astype(np.float32)
    slope, aspect = slope_aspect(elevation, cell_size_m)

    # fuels: a moisture score (north-facing, higher, patchy) ranks cells from grass to timber litter
    z_rank = _rank(elevation)
    northness = np.cos(np.radians(aspect)) * np.clip(slope / 0.3, 0.0, 1.0)
    patches = spectral_noise(rng, (h, w), beta=2.4)
    score = 1.0 * patches + 0.6 * northness + 0.8 * (z_rank - 0.5)
    shares = rng.dirichlet(40.0 * np.array(list(GROUP_SHARES.values())))
    q = _rank(score)
    edges = np.cumsum(shares)
    group = np.searchsorted(edges, q, side="right").clip(0, 3)  # 0 grass, 1 shrub, 2 TU, 3 TL
    sub = spectral_noise(rng, (h, w), beta=2.0)
    fuel = np.zeros((h, w), dtype=np.int16)
    for g, (codes, weights) in enumerate((GRASS, SHRUB, TIMBER_UNDERSTORY, TIMBER_LITTER)):
        m = group == g
        fuel[m] = _pick(sub, m, codes, weights)[m]

    # non-burnable overlays
    low_hollow = -(_rank(elevation) + 0.15 * spectral_noise(rng, (h, w), beta=2.5))
    water = _rank(low_hollow) > 1.0 - NB_SHARES[98]
    gentle_low = (1.0 - z_rank) - 2.0 * slope
    urban_field = spectral_noise(rng, (h, w), beta=3.0) + 0.8 * gentle_low
    urban = (_rank(urban_field) > 1.0 - NB_SHARES[91]) & ~water
    agri_field = spectral_noise(rng, (h, w), beta=2.5) + 0.8 * gentle_low
    agri = (_rank(agri_field) > 1.0 - NB_SHARES[93]) & ~water & ~urban
    bare = (_rank(slope + 0.5 * slope.max() * z_rank) > 1.0 - NB_SHARES[99]) & ~water & ~urban & ~agri
    fuel[water], fuel[urban], fuel[agri], fuel[bare] = 98, 91, 93, 99

    # canopy on timber cells only, quantised to LANDFIRE's storage steps
    timber = (fuel >= 161) & (fuel <= 189)
    understory = (fuel >= 161) & (fuel <= 165)
    stand = _rank(spectral_noise(rng, (h, w), beta=2.2) + 0.5 * (z_rank - 0.5))
    jitter = rng.uniform(0.0, 1.0, (h, w))
    cover_pct = np.clip(np.round((35.0 + 55.0 * stand - 5.0) / 10.0) * 10.0 + 5.0, 25.0, 95.0)
    height_m = np.round(8.0 + 22.0 * stand + 3.0 * jitter, 1)
    cbh_ratio = np.where(understory, 0.08 + 0.12 * jitter, 0.20 + 0.20 * jitter)
    cbh_m = np.clip(np.round(height_m * cbh_ratio, 1), 0.3, None)
    cbd = np.round(np.where(understory, 0.10, 0.06) + 0.18 * stand * (0.6 + 0.4 * jitter), 2)

    def only_timber(x: np.ndarray) -> np.ndarray:
        return np.where(timber, x, 0.0).astype(np.float32)

    source = f"synthetic(seed={int(seed)},size={h}x{w},cell={cell_size_m:g})"
    return Landscape(
        elevation_m=elevation,
        slope_fraction=slope,
        aspect_deg=aspect,
        fuel_model=fuel,
        canopy_cover_fraction=only_timber(cover_pct / 100.0),
        canopy_height_m=only_timber(height_m),
        canopy_base_height_m=only_timber(cbh_m),
        canopy_bulk_density_kg_m3=only_timber(cbd),
        valid=np.ones((h, w), dtype=bool),
        crs=CRS.from_epsg(5070),
        transform=Affine(float(cell_size_m), 0.0, ORIGIN_XY[0], 0.0, -float(cell_size_m), ORIGIN_XY[1]),
        cell_size_m=float(cell_size_m),
        source=source,
        synthetic=True,
    )
