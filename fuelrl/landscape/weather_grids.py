"""Weather that varies cell by cell: gridded 20-ft winds and fuel moistures on a landscape's grid.

:func:`read_weather_grids` reads GeoTIFFs (or any raster GDAL reads) of

* the 20-ft wind speed (mph, as WindNinja and FlamMap write it) and the azimuth it blows from
  (degrees), as a pair;
* any of the five fuel moisture classes (1-h, 10-h, 100-h, live herbaceous, live woody),

on the landscape's exact grid, or resampled to it (bilinear; wind direction through its east and
north components) with a one-line notice when the raster has a CRS and a transform and covers the
landscape. The result is a :class:`GriddedWeather` in SI units (wind in m/min, moistures as
fractions).

Moisture units, one documented rule (stated in a notice for every grid): a dead-fuel grid (1-h,
10-h, 100-h) whose largest value exceeds 1 is in percent, otherwise in fractions; a live grid
(herbaceous, woody) whose largest value exceeds 4 is in percent, otherwise in fractions. (Dead
fuel moisture never reaches 100 %, live fuel moisture is never below 30 % nor above 400 %, so
the two readings cannot be confused on real data.)

Errors (one line naming the file, :class:`~fuelrl.errors.InputError`): a raster of another shape
with no georeferencing to resample by, no overlap with the landscape, nodata or NaN inside
burnable cells, negative wind speeds, moistures above 400 % (or not above 0).

How the grid reaches the simulators (see docs/simulation.md): the wind grid is kept as a per-cell
*ratio* of the fire's 20-ft wind speed and a per-cell *turn* of its direction, relative to the
grid's reference wind (:attr:`GriddedWeather.reference_wind_speed_20ft_mph`, the mean speed over
burnable cells, and :attr:`GriddedWeather.reference_wind_from_deg`, the direction of the mean wind
vector). A fire with the reference wind gets the grid cell by cell; a fire whose wind is drawn
from a distribution gets the grid scaled and turned (WindNinja's grids scale with the domain wind).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from fuelrl.errors import InputError, notice
from fuelrl.physics.units import M_MIN_PER_MPH

#: the five moisture classes, in the order of ``ScenarioSet.moisture_fraction``
MOISTURE_CLASSES = ("1h", "10h", "100h", "herb", "woody")
#: a grid of this class whose max exceeds the threshold is in percent (else fractions)
PERCENT_IF_MAX_ABOVE = {"1h": 1.0, "10h": 1.0, "100h": 1.0, "herb": 4.0, "woody": 4.0}
#: the largest moisture a grid may hold (fraction)
MAX_MOISTURE_FRACTION = 4.0
#: the largest 20-ft wind speed a grid may hold (mph; the scalar flags' limit)
MAX_WIND_MPH = 200.0


@dataclass(eq=False)
class GriddedWeather:
    """Per-cell weather on a landscape's grid, [H, W] float32 arrays in SI units.

    ``wind_speed_20ft_m_min`` / ``wind_from_deg``: the 20-ft wind and the azimuth it blows from
    (both ``None`` without a wind grid). ``moisture_fraction``: the gridded moisture classes
    (keys of :data:`MOISTURE_CLASSES`), fractions of dry weight. Cells that cannot burn hold the
    reference wind and each grid's median moisture (their values never matter). ``files``: the
    file of each gridded quantity; ``reference_*``: see the module docstring (kept by
    :meth:`window`, so the ratio fields of a window are crops of the whole grid's).
    """

    wind_speed_20ft_m_min: np.ndarray | None
    wind_from_deg: np.ndarray | None
    moisture_fraction: dict[str, np.ndarray]
    reference_wind_speed_20ft_mph: float = 0.0
    reference_wind_from_deg: float = 0.0
    files: dict[str, str] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        for a in (self.wind_speed_20ft_m_min, *self.moisture_fraction.values()):
            if a is not None:
                return int(a.shape[0]), int(a.shape[1])
        raise ValueError("GriddedWeather without any grid")

    @property
    def has_wind(self) -> bool:
        return self.wind_speed_20ft_m_min is not None

    # -- what the simulators take: ratio and turn of the fire's wind, moistures as they are --------
    def wind_speed_ratio(self) -> np.ndarray | None:
        """float32 [H, W]: each cell's 20-ft wind speed over the reference speed (1 where the
        reference is 0: then every cell is calm)."""
        if self.wind_speed_20ft_m_min is None:
            return None
        ref = float(np.float32(self.reference_wind_speed_20ft_mph * M_MIN_PER_MPH))
        if ref <= 0.0:
            return np.ones(self.shape, np.float32)
        return (self.wind_speed_20ft_m_min.astype(np.float64) / ref).astype(np.float32)

    def wind_turn_deg(self) -> np.ndarray | None:
        """float32 [H, W]: each cell's wind direction minus the reference direction, in
        [-180, 180)."""
        if self.wind_from_deg is None:
            return None
        ref = float(np.float32(self.reference_wind_from_deg))
        turn = (self.wind_from_deg.astype(np.float64) - ref + 180.0) % 360.0 - 180.0
        return turn.astype(np.float32)

    def window(self, row: int, col: int, height: int, width: int) -> GriddedWeather:
        """The grids of the tile whose top-left cell is (row, col) (same reference wind)."""

        def crop(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[row : row + height, col : col + width].copy()

        return replace(
            self,
            wind_speed_20ft_m_min=crop(self.wind_speed_20ft_m_min),
            wind_from_deg=crop(self.wind_from_deg),
            moisture_fraction={k: crop(v) for k, v in self.moisture_fraction.items()},
        )

    def moisture_pct_for_scenarios(self, scalar_pct: list[float | None]) -> list[float]:
        """The five moistures (percent) a fire carries: the given numbers, and for a gridded
        class the grid's median (what a backend without gridded weather, and the reports, see;
        the built-in backends use the grid)."""
        out = []
        for name, value in zip(MOISTURE_CLASSES, scalar_pct, strict=True):
            grid = self.moisture_fraction.get(name)
            out.append(float(np.median(grid)) * 100.0 if grid is not None else float(value))
        return out

    def describe(self) -> dict[str, Any]:
        """JSON-ready: the files and min / mean / max of each grid, in user units (mph, deg, %)."""
        out: dict[str, Any] = {}
        if self.wind_speed_20ft_m_min is not None:
            mph = self.wind_speed_20ft_m_min / M_MIN_PER_MPH
            out["wind_speed_20ft_mph"] = {
                "file": self.files.get("wind_speed"),
                "min": float(mph.min()),
                "mean": float(mph.mean()),
                "max": float(mph.max()),
                "reference": self.reference_wind_speed_20ft_mph,
            }
            out["wind_from_deg"] = {
                "file": self.files.get("wind_from"),
                "reference": self.reference_wind_from_deg,
            }
        for name, grid in self.moisture_fraction.items():
            out[f"moisture_{name}_pct"] = {
                "file": self.files.get(name),
                "min": float(grid.min()) * 100.0,
                "median": float(np.median(grid)) * 100.0,
                "max": float(grid.max()) * 100.0,
            }
        return out


# ------------------------------------------------------------------------------------ reading
def _read_on_grid(path: Path, landscape: Any, what: str, *, angle: bool = False) -> np.ndarray:
    """Band 1 of ``path`` as float64 [H, W] on the landscape's grid (NaN where nodata), resampled
    when its grid differs and it is georeferenced."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    if not path.exists():
        raise InputError(f"{what}: file not found: {path}")
    try:
        with warnings.catch_warnings():  # a raster without georeferencing: handled below
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            ds = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"{what}: cannot read {path} as a raster: {exc}") from exc
    with ds:
        data = ds.read(1, masked=True).astype(np.float64).filled(np.nan)
        src_crs, src_transform, shape = ds.crs, ds.transform, (ds.height, ds.width)
    h, w = landscape.shape
    georef = src_crs is not None and not src_transform.is_identity
    same_grid = shape == (h, w) and (
        not georef
        or (
            (landscape.crs is None or src_crs == landscape.crs)
            and src_transform.almost_equals(landscape.transform, precision=1e-6 * landscape.cell_size_m)
        )
    )
    if same_grid:
        return data
    if not georef or landscape.crs is None:
        lacks = "it has" if not georef else "the landscape has"
        raise InputError(
            f"{what}: {path} is {shape[0]}x{shape[1]} cells, the landscape {h}x{w}, and {lacks} no "
            "CRS and transform to resample it by"
        )

    def warp(band: np.ndarray) -> np.ndarray:
        out = np.full((h, w), np.nan)
        reproject(
            band,
            out,
            src_transform=src_transform,
            src_crs=src_crs,
            src_nodata=np.nan,
            dst_transform=landscape.transform,
            dst_crs=landscape.crs,
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
        return out

    if angle:  # resample the unit vector, not the angle (350 and 10 degrees average to 0, not 180)
        rad = np.deg2rad(data)
        out = np.rad2deg(np.arctan2(warp(np.sin(rad)), warp(np.cos(rad)))) % 360.0
    else:
        out = warp(data)
    if not np.isfinite(out[np.asarray(landscape.valid, bool)]).any():
        raise InputError(f"{what}: {path} does not overlap the landscape (after reprojecting to its grid)")
    notice(
        f"{what}: {path} is not on the landscape's grid ({shape[0]}x{shape[1]} cells, "
        f"{src_crs.to_string() if src_crs else 'no CRS'}); resampled (bilinear) to its {h}x{w} grid"
    )
    return out


def _check_burnable(grid: np.ndarray, landscape: Any, what: str, path: Path) -> np.ndarray:
    """NaN inside burnable cells: an error naming the first one; NaN elsewhere filled (median)."""
    burnable = np.asarray(landscape.burnable, bool)
    bad = burnable & ~np.isfinite(grid)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        raise InputError(
            f"{what}: {path} has nodata or NaN in {int(bad.sum())} burnable cell(s) (first at row {r}, "
            f"col {c}): give a value for every burnable cell"
        )
    finite = grid[np.isfinite(grid)]
    fill = float(np.median(finite)) if finite.size else 0.0
    return np.where(np.isfinite(grid), grid, fill)


def moisture_units_are_percent(name: str, grid_max: float) -> bool:
    """The documented rule: percent when the max exceeds :data:`PERCENT_IF_MAX_ABOVE` [name]."""
    return grid_max > PERCENT_IF_MAX_ABOVE[name]


def read_moisture_grid(path: str | Path, landscape: Any, name: str, what: str = "--moisture") -> np.ndarray:
    """One moisture class's grid as float32 fractions [H, W] on the landscape's grid."""
    path = Path(path)
    what = f"{what} ({name})"
    grid = _check_burnable(_read_on_grid(path, landscape, what), landscape, what, path)
    burnable = np.asarray(landscape.burnable, bool)
    vmax = float(grid[burnable].max()) if burnable.any() else float(grid.max())
    percent = moisture_units_are_percent(name, vmax)
    frac = grid / 100.0 if percent else grid
    limit = PERCENT_IF_MAX_ABOVE[name]
    notice(
        f"{what}: {path} read as {'percent' if percent else 'fractions'} (max {vmax:g}; a "
        f"{'dead' if limit == 1.0 else 'live'}-fuel grid whose max exceeds {limit:g} is percent)"
    )
    inside = frac[burnable]
    if inside.size and float(inside.max()) > MAX_MOISTURE_FRACTION:
        raise InputError(
            f"{what}: {path} holds moistures up to {float(inside.max()) * 100:g} % in burnable cells; "
            "expected at most 400 %"
        )
    if inside.size and float(inside.min()) <= 0.0:
        raise InputError(
            f"{what}: {path} holds moistures down to {float(inside.min()) * 100:g} % in burnable cells; "
            "expected more than 0 %"
        )
    return frac.astype(np.float32)


def read_wind_grid(
    speed_path: str | Path, direction_path: str | Path, landscape: Any, what: str = "--wind-grid"
) -> tuple[np.ndarray, np.ndarray]:
    """(20-ft wind speed m/min, azimuth it blows from deg), float32 [H, W] on the landscape's grid."""
    speed_path, direction_path = Path(speed_path), Path(direction_path)
    speed = _check_burnable(
        _read_on_grid(speed_path, landscape, f"{what} speed"), landscape, what, speed_path
    )
    burnable = np.asarray(landscape.burnable, bool)
    if (speed[burnable] < 0).any():
        raise InputError(
            f"{what}: {speed_path} holds negative wind speeds (min {float(speed[burnable].min()):g} mph); "
            "expected the 20-ft wind speed in mph, >= 0"
        )
    if (speed[burnable] > MAX_WIND_MPH).any():
        raise InputError(
            f"{what}: {speed_path} holds wind speeds up to {float(speed[burnable].max()):g} mph; "
            f"expected the 20-ft wind speed in mph, at most {MAX_WIND_MPH:g}"
        )
    direction = _read_on_grid(direction_path, landscape, f"{what} direction", angle=True)
    direction = _check_burnable(direction, landscape, what, direction_path) % 360.0
    return (
        (np.maximum(speed, 0.0) * M_MIN_PER_MPH).astype(np.float32),
        direction.astype(np.float32),
    )


def reference_wind(
    speed_m_min: np.ndarray, from_deg: np.ndarray, burnable: np.ndarray
) -> tuple[float, float]:
    """(mean speed in mph, direction of the mean wind vector in degrees) over the burnable cells
    (all cells when none burns); a uniform grid gives its own speed and direction."""
    cells = burnable if burnable.any() else np.ones_like(burnable, bool)
    s = speed_m_min[cells].astype(np.float64) / M_MIN_PER_MPH
    d = from_deg[cells].astype(np.float64)
    if s.size and np.all(s == s[0]) and np.all(d == d[0]):
        return float(s[0]), float(d[0])
    rad = np.deg2rad(d)
    weight = np.where(s > 0, s, 1e-12)
    mean_dir = math.degrees(
        math.atan2(float((weight * np.sin(rad)).sum()), float((weight * np.cos(rad)).sum()))
    )
    return float(s.mean()), mean_dir % 360.0


def read_weather_grids(
    landscape: Any,
    *,
    wind: tuple[str | Path, str | Path] | None = None,
    moisture: dict[str, str | Path] | None = None,
) -> GriddedWeather | None:
    """The gridded weather of ``landscape`` from the given files (``None`` when none is given).

    ``wind``: (speed raster in mph, direction raster in degrees); ``moisture``: {class: raster}
    for any of :data:`MOISTURE_CLASSES`."""
    moisture = dict(moisture or {})
    unknown = sorted(set(moisture) - set(MOISTURE_CLASSES))
    if unknown:
        raise InputError(
            f"moisture grids for unknown classes {unknown}; expected {', '.join(MOISTURE_CLASSES)}"
        )
    if wind is None and not moisture:
        return None
    files: dict[str, str] = {}
    speed = direction = None
    ref_speed = ref_dir = 0.0
    if wind is not None:
        speed, direction = read_wind_grid(wind[0], wind[1], landscape)
        files.update(wind_speed=str(wind[0]), wind_from=str(wind[1]))
        ref_speed, ref_dir = reference_wind(speed, direction, np.asarray(landscape.burnable, bool))
    grids = {}
    for name in MOISTURE_CLASSES:
        if name in moisture:
            grids[name] = read_moisture_grid(moisture[name], landscape, name)
            files[name] = str(moisture[name])
    return GriddedWeather(speed, direction, grids, ref_speed, ref_dir, files)


def uniform_weather(
    shape: tuple[int, int],
    *,
    wind_speed_20ft_mph: float | None = None,
    wind_from_deg: float | None = None,
    moisture_pct: dict[str, float] | None = None,
) -> GriddedWeather:
    """A :class:`GriddedWeather` holding the same weather in every cell (tests, the conformance
    suite): with the reference wind equal to it, it must give exactly the scalar-weather result."""
    speed = direction = None
    if wind_speed_20ft_mph is not None:
        speed = np.full(shape, np.float32(wind_speed_20ft_mph * M_MIN_PER_MPH), np.float32)
        direction = np.full(shape, np.float32(float(wind_from_deg or 0.0) % 360.0), np.float32)
    grids = {k: np.full(shape, np.float32(v / 100.0), np.float32) for k, v in (moisture_pct or {}).items()}
    return GriddedWeather(
        speed,
        direction,
        grids,
        0.0 if wind_speed_20ft_mph is None else float(wind_speed_20ft_mph),
        0.0 if wind_from_deg is None else float(wind_from_deg) % 360.0,
    )
