"""Fire scenarios: ignitions and weather, drawn outside the backends so every backend and every
plan sees the same fires for the same seed (common random numbers).

* :class:`WeatherDistribution`: the weather a fire may get (20-ft wind in mph, the azimuth it blows
  from, fuel moistures and foliar moisture in percent, duration in minutes; FlamMap's units). Each
  quantity is fixed (a number) or drawn uniformly from a ``(low, high)`` range.
* :class:`ScenarioSampler`: a seeded sampler drawing F fires per tile -> :class:`ScenarioSet`.
  Ignitions are drawn on the burnable cells of the *untreated* landscape (optionally weighted by an
  ignition raster), so they never depend on where breaks are: a fire whose ignition cell is later
  treated simply does not spread (the simulators leave it unburned), and the two plans are still
  compared on the same fires.
* :func:`make_scenarios`: a ScenarioSet from explicit values (a CLI run, a test).

Ignitions and weather come from two independent streams spawned from the seed
(:class:`numpy.random.SeedSequence`), so changing the weather distribution does not move the
ignitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from fuelrl.errors import InputError
from fuelrl.physics.units import M_MIN_PER_MPH
from fuelrl.simulators.base import MOISTURE_CLASSES, ScenarioSet

Range = float | tuple[float, float] | Sequence[float]


def _range(name: str, value: Range, low: float, high: float) -> tuple[float, float]:
    """(low, high) of a fixed value or a range; checks bounds."""
    if isinstance(value, int | float):
        lo = hi = float(value)
    else:
        vals = [float(v) for v in value]
        if len(vals) != 2:
            raise InputError(f"{name} must be a number or a (low, high) pair, got {value!r}")
        lo, hi = vals
    if not (low <= lo <= hi <= high):
        raise InputError(f"{name} must lie in [{low:g}, {high:g}] with low <= high, got {value!r}")
    return lo, hi


@dataclass
class WeatherDistribution:
    """Where each fire's weather is drawn from. Numbers are fixed; ``(low, high)`` pairs are drawn
    uniformly. ``wind_from_deg`` is the azimuth the 20-ft wind blows from: a fixed azimuth, or
    ``wind_from_center_deg`` +/- ``wind_from_spread_deg`` (uniform) when ``wind_from_deg`` is None.
    ``moisture_pct``: 1-h, 10-h, 100-h, live herbaceous, live woody, each a number or range."""

    wind_speed_20ft_mph: Range = (5.0, 25.0)
    wind_from_deg: float | None = None
    wind_from_center_deg: float = 225.0
    wind_from_spread_deg: float = 45.0
    moisture_pct: Sequence[Range] = field(default_factory=lambda: (6.0, 7.0, 8.0, 60.0, 90.0))
    foliar_moisture_pct: Range = 100.0
    duration_min: Range = 480.0

    def __post_init__(self) -> None:
        self._wind = _range("wind_speed_20ft_mph", self.wind_speed_20ft_mph, 0.0, 200.0)
        if self.wind_from_deg is not None:
            _range("wind_from_deg", self.wind_from_deg, -360.0, 720.0)
        _range("wind_from_spread_deg", self.wind_from_spread_deg, 0.0, 180.0)
        if len(self.moisture_pct) != len(MOISTURE_CLASSES):
            raise InputError(
                f"moisture_pct needs {len(MOISTURE_CLASSES)} values ({', '.join(MOISTURE_CLASSES)}), "
                f"got {len(self.moisture_pct)}"
            )
        self._moist = [
            _range(f"moisture_pct[{name}]", v, 1.0, 400.0)
            for name, v in zip(MOISTURE_CLASSES, self.moisture_pct, strict=True)
        ]
        self._foliar = _range("foliar_moisture_pct", self.foliar_moisture_pct, 30.0, 300.0)
        self._duration = _range("duration_min", self.duration_min, 1.0, 60.0 * 24 * 30)

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        """Weather arrays of ``shape`` in SI units (wind m/min, moistures as fractions)."""

        def uni(lohi: tuple[float, float]) -> np.ndarray:
            lo, hi = lohi
            return rng.uniform(lo, hi, size=shape) if hi > lo else np.full(shape, lo)

        wind = uni(self._wind) * M_MIN_PER_MPH
        if self.wind_from_deg is not None:
            wind_from = np.full(shape, float(self.wind_from_deg) % 360.0)
        else:
            c, s = self.wind_from_center_deg, self.wind_from_spread_deg
            wind_from = uni((c - s, c + s)) % 360.0
        moist = np.stack([uni(r) for r in self._moist], axis=-1) / 100.0
        return {
            "wind_speed_20ft_m_min": wind,
            "wind_from_deg": wind_from,
            "moisture_fraction": moist,
            "foliar_moisture_fraction": uni(self._foliar) / 100.0,
            "duration_min": uni(self._duration),
        }


def _to_set(ignition: np.ndarray, weather: dict[str, np.ndarray], device: Any = None) -> ScenarioSet:
    def t(x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(x, dtype=np.float32), device=device)

    return ScenarioSet(
        ignition_cell=torch.as_tensor(np.asarray(ignition, dtype=np.int64), device=device),
        wind_speed_20ft_m_min=t(weather["wind_speed_20ft_m_min"]),
        wind_from_deg=t(weather["wind_from_deg"]),
        moisture_fraction=t(weather["moisture_fraction"]),
        foliar_moisture_fraction=t(weather["foliar_moisture_fraction"]),
        duration_min=t(weather["duration_min"]),
    )


class ScenarioSampler:
    """Draws F fires per tile from a seed: ignition cells and weather.

    >>> sampler = ScenarioSampler(WeatherDistribution(wind_speed_20ft_mph=20.0), fires=8, seed=1)
    >>> scenarios = sampler.sample(burnable)          # burnable: bool [B, H, W], untreated landscape
    >>> scenarios.shape
    (B, 8)

    ``sample(..., stream=k)`` gives the k-th independent scenario set of the same seed (e.g. one per
    episode); the same (seed, stream, landscape) always gives the same fires.
    """

    def __init__(self, weather: WeatherDistribution | None = None, *, fires: int, seed: int):
        if int(fires) < 1:
            raise InputError(f"fires must be >= 1, got {fires}")
        self.weather = weather or WeatherDistribution()
        self.fires = int(fires)
        self.seed = int(seed)

    def _streams(self, stream: int) -> tuple[np.random.Generator, np.random.Generator]:
        ign, wx = np.random.SeedSequence([self.seed, int(stream)]).spawn(2)
        return np.random.default_rng(ign), np.random.default_rng(wx)

    def sample(
        self,
        burnable: Any,
        *,
        ignition_weight: Any = None,
        stream: int = 0,
        device: Any = None,
    ) -> ScenarioSet:
        """F fires on each of B tiles.

        ``burnable``: bool [B, H, W] or [H, W] (cells that can burn *before* any treatment, e.g.
        ``landscape.burnable``). ``ignition_weight``: optional non-negative [B, H, W] or [H, W]
        relative ignition density (e.g. a historical ignition raster); cells with weight 0 never
        ignite. Ignitions are drawn with replacement (fires are independent).
        """
        mask = np.asarray(burnable.cpu() if isinstance(burnable, torch.Tensor) else burnable, dtype=bool)
        if mask.ndim == 2:
            mask = mask[None]
        if mask.ndim != 3:
            raise InputError(f"burnable must be [H, W] or [B, H, W], got shape {mask.shape}")
        b, h, w = mask.shape
        weight = mask.astype(np.float64)
        if ignition_weight is not None:
            iw = ignition_weight.cpu() if isinstance(ignition_weight, torch.Tensor) else ignition_weight
            iw = np.asarray(iw, dtype=np.float64)
            if iw.ndim == 2:
                iw = np.broadcast_to(iw, (b, h, w))
            if iw.shape != (b, h, w):
                raise InputError(f"ignition_weight must have shape {(h, w)} or {(b, h, w)}, got {iw.shape}")
            if not np.all(np.isfinite(iw)) or (iw < 0).any():
                raise InputError("ignition_weight must be finite and non-negative")
            weight = weight * iw
        rng_ign, rng_wx = self._streams(stream)
        ignition = np.empty((b, self.fires), dtype=np.int64)
        for i in range(b):
            p = weight[i].reshape(-1)
            total = p.sum()
            if total <= 0:
                raise InputError(f"tile {i} has no burnable cell (with positive ignition weight) to ignite")
            ignition[i] = rng_ign.choice(h * w, size=self.fires, replace=True, p=p / total)
        return _to_set(ignition, self.weather.sample(rng_wx, (b, self.fires)), device)


def make_scenarios(
    ignition_cell: Any,
    *,
    wind_speed_20ft_mph: float | Any,
    wind_from_deg: float | Any,
    moisture_pct: Sequence[float] | Any,
    foliar_moisture_pct: float | Any = 100.0,
    duration_min: float | Any = 480.0,
    device: Any = None,
) -> ScenarioSet:
    """A ScenarioSet from explicit values in user units (FlamMap's: mph, degrees, percent, min).

    ``ignition_cell``: flat cell indices [B, F] (or [F] for one tile). Scalars apply to every fire;
    arrays must broadcast to [B, F] (``moisture_pct`` to [B, F, 5]).
    """
    ign = np.asarray(ignition_cell, dtype=np.int64)
    if ign.ndim == 1:
        ign = ign[None]
    if ign.ndim != 2:
        raise InputError(f"ignition_cell must be [F] or [B, F], got shape {ign.shape}")
    shape = ign.shape
    moist = np.broadcast_to(np.asarray(moisture_pct, dtype=np.float64), (*shape, len(MOISTURE_CLASSES)))
    weather = {
        "wind_speed_20ft_m_min": np.broadcast_to(
            np.asarray(wind_speed_20ft_mph, float) * M_MIN_PER_MPH, shape
        ),
        "wind_from_deg": np.broadcast_to(np.asarray(wind_from_deg, float) % 360.0, shape),
        "moisture_fraction": moist / 100.0,
        "foliar_moisture_fraction": np.broadcast_to(np.asarray(foliar_moisture_pct, float) / 100.0, shape),
        "duration_min": np.broadcast_to(np.asarray(duration_min, float), shape),
    }
    return _to_set(ign, weather, device)
