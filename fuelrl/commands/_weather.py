"""The weather flags of every command that grows fires (``simulate``, ``plan``, ``evaluate``,
``behave LANDSCAPE``): one declaration (:func:`add_weather_arguments`) and one parser
(:func:`parse_weather`) that returns scalar weather, ranges drawn per fire, or grids.

FlamMap's units: 20-ft wind in mph, the azimuth it blows from in degrees, moistures and foliar
moisture in percent, duration in minutes. With ``ranges=True`` (plan, evaluate) the wind speed,
wind direction and duration also take ``LOW:HIGH``, drawn uniformly per fire.

Gridded weather: ``--wind-grid SPEED.tif DIR.tif`` instead of ``--wind-speed``/``--wind-from``
(giving both is an error); any of the five ``--moisture`` values may be a raster path, e.g.
``--moisture 1h.tif,10h.tif,100h.tif,30,60`` (units: see :mod:`fuelrl.landscape.weather_grids`).
``--wind-grid-scale`` and ``--wind-grid-turn`` scale the grid's speeds and turn its directions
per fire (a number, or ``LOW:HIGH`` drawn per fire in plan/evaluate): the fire's wind is the
grid's reference wind (mean speed, mean direction) times the scale, turned by the turn, and each
cell keeps its ratio to it (see docs/simulation.md).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fuelrl.commands import _options as opt
from fuelrl.errors import InputError

DEFAULT_MOISTURE = "6,7,8,60,90"
DEFAULT_WIND_SPEED_MPH = 10.0
DEFAULT_WIND_FROM_DEG = 225.0
DEFAULT_DURATION_MIN = 480.0
MOISTURE_NAMES = ("1h", "10h", "100h", "herb", "woody")
#: ranges of the grid perturbation flags
GRID_SCALE_RANGE = (0.0, 10.0)
GRID_TURN_RANGE = (-180.0, 180.0)


def parse_moisture(text: str) -> list[float | Path]:
    """``--moisture 1H,10H,100H,HERB,WOODY``: five numbers in percent (1..400) or raster paths
    -> a list of floats and :class:`~pathlib.Path`; one-line InputError otherwise."""
    parts = [p.strip() for p in str(text).split(",")]
    bad = InputError(
        "--moisture must be 5 comma-separated values (1H,10H,100H,HERB,WOODY), each a percentage "
        f"in 1..400 or a raster path, got {text!r}"
    )
    if len(parts) != 5 or not all(parts):
        raise bad
    out: list[float | Path] = []
    for name, part in zip(MOISTURE_NAMES, parts, strict=True):
        try:
            value = float(part)
        except ValueError:
            path = Path(part)
            if not path.exists():
                raise InputError(
                    f"--moisture ({name}): {part!r} is neither a number nor an existing raster file"
                ) from None
            out.append(path)
            continue
        if not (1.0 <= value <= 400.0):
            raise bad
        out.append(value)
    return out


def moisture_numbers(text: str) -> list[float]:
    """``--moisture`` as five numbers; InputError when one is a raster (for callers without a grid)."""
    values = parse_moisture(text)
    if any(isinstance(v, Path) for v in values):
        raise InputError(f"--moisture {text}: raster moistures are not supported here; give 5 percentages")
    return [float(v) for v in values]


def add_weather_arguments(parser: argparse.ArgumentParser, *, ranges: bool, duration: bool = True) -> None:
    """The weather flags (and ``--duration`` unless ``duration=False``) in one argument group.

    ``ranges``: the wind and duration flags also take ``LOW:HIGH`` (plan, evaluate); otherwise
    they are numbers (simulate, behave)."""
    kind = str if ranges else float
    x = "X or LOW:HIGH" if ranges else "X"
    title = "weather and duration (FlamMap units" + ("; X or LOW:HIGH drawn per fire)" if ranges else ")")
    wx = parser.add_argument_group(title)
    wx.add_argument(
        "--wind-speed",
        type=kind,
        metavar="MPH",
        help=f"20-ft wind speed, {x} (default {DEFAULT_WIND_SPEED_MPH:g})",
    )
    wx.add_argument(
        "--wind-from",
        type=kind,
        metavar="DEG",
        help=f"azimuth the wind blows from, {x} (default {DEFAULT_WIND_FROM_DEG:g})",
    )
    wx.add_argument(
        "--wind-grid",
        nargs=2,
        type=Path,
        metavar=("SPEED.tif", "DIR.tif"),
        help="gridded 20-ft wind instead of --wind-speed/--wind-from: speed (mph) and the azimuth it "
        "blows from (deg), on the landscape's grid or resampled to it",
    )
    wx.add_argument(
        "--wind-grid-scale",
        type=str,
        default="1",
        metavar="X" + ("|LOW:HIGH" if ranges else ""),
        help="with --wind-grid: multiply every cell's speed by this (default 1)",
    )
    wx.add_argument(
        "--wind-grid-turn",
        type=str,
        default="0",
        metavar="DEG" + ("|LOW:HIGH" if ranges else ""),
        help="with --wind-grid: turn every cell's direction by this, clockwise (default 0; a negative "
        "value as --wind-grid-turn=-15 or =-15:15)",
    )
    wx.add_argument(
        "--moisture",
        default=DEFAULT_MOISTURE,
        metavar="1H,10H,100H,HERB,WOODY",
        help=f"fuel moistures in percent, each a number or a raster path (default {DEFAULT_MOISTURE})",
    )
    wx.add_argument(
        "--foliar-moisture", type=float, default=100.0, metavar="PCT", help="foliar moisture (100)"
    )
    if duration:
        wx.add_argument(
            "--duration",
            type=kind,
            default=str(int(DEFAULT_DURATION_MIN)) if ranges else DEFAULT_DURATION_MIN,
            metavar="MIN",
            help=f"fire duration, {x} (default {DEFAULT_DURATION_MIN:g})",
        )


@dataclass
class WeatherFlags:
    """The parsed weather flags. Numbers or ``(low, high)`` ranges; ``wind_grid`` the two raster
    paths (then the wind speed and direction are ``None``); ``moisture`` five numbers (percent)
    or raster paths."""

    wind_speed_mph: float | tuple[float, float] | None
    wind_from_deg: float | tuple[float, float] | None
    wind_grid: tuple[Path, Path] | None
    wind_grid_scale: float | tuple[float, float]
    wind_grid_turn_deg: float | tuple[float, float]
    moisture: list[float | Path]
    foliar_moisture_pct: float
    duration_min: float | tuple[float, float] | None

    @property
    def gridded(self) -> bool:
        return self.wind_grid is not None or any(isinstance(v, Path) for v in self.moisture)

    def read_grids(self, landscape: Any) -> Any:
        """The :class:`~fuelrl.landscape.weather_grids.GriddedWeather` on ``landscape``'s grid
        (``None`` without gridded flags)."""
        from fuelrl.landscape.weather_grids import read_weather_grids

        if not self.gridded:
            return None
        grids = {n: v for n, v in zip(MOISTURE_NAMES, self.moisture, strict=True) if isinstance(v, Path)}
        return read_weather_grids(landscape, wind=self.wind_grid, moisture=grids)

    def _wind(self, grids: Any) -> tuple[Any, Any]:
        """(speed mph, from deg) of the fires: the flags, or the grid's reference wind scaled and
        turned (numbers or ranges)."""
        if self.wind_grid is None:
            return self.wind_speed_mph, self.wind_from_deg
        if grids is None or not grids.has_wind:
            raise ValueError("read the grids first (WeatherFlags.read_grids)")
        ref_s, ref_d = grids.reference_wind_speed_20ft_mph, grids.reference_wind_from_deg
        scale, turn = self.wind_grid_scale, self.wind_grid_turn_deg
        speed = (ref_s * scale[0], ref_s * scale[1]) if isinstance(scale, tuple) else ref_s * scale
        wind_from = (ref_d + turn[0], ref_d + turn[1]) if isinstance(turn, tuple) else (ref_d + turn) % 360.0
        return speed, wind_from

    def moisture_pct(self, grids: Any) -> list[float]:
        scalar = [None if isinstance(v, Path) else float(v) for v in self.moisture]
        return scalar if grids is None else grids.moisture_pct_for_scenarios(scalar)

    def scenario_weather(self, grids: Any = None) -> dict[str, Any]:
        """``make_scenarios`` keyword arguments (fixed weather; simulate)."""
        speed, wind_from = self._wind(grids)
        return {
            "wind_speed_20ft_mph": speed,
            "wind_from_deg": wind_from,
            "moisture_pct": self.moisture_pct(grids),
            "foliar_moisture_pct": self.foliar_moisture_pct,
            "duration_min": self.duration_min,
        }

    def distribution(self, grids: Any = None) -> Any:
        """The :class:`~fuelrl.simulators.scenarios.WeatherDistribution` of the flags (plan,
        evaluate, FireEnv); with a wind grid, its reference wind scaled and turned per fire."""
        from fuelrl.simulators.scenarios import WeatherDistribution

        speed, wind_from = self._wind(grids)
        kw: dict[str, Any] = {}
        if isinstance(wind_from, tuple):
            lo, hi = wind_from
            if hi < lo:  # e.g. 300:30 across north
                hi += 360.0
            kw.update(
                wind_from_deg=None, wind_from_center_deg=(lo + hi) / 2.0, wind_from_spread_deg=(hi - lo) / 2.0
            )
        else:
            kw.update(wind_from_deg=wind_from)
        return WeatherDistribution(
            wind_speed_20ft_mph=speed,
            moisture_pct=tuple(self.moisture_pct(grids)),
            foliar_moisture_pct=self.foliar_moisture_pct,
            duration_min=self.duration_min if self.duration_min is not None else DEFAULT_DURATION_MIN,
            **kw,
        )

    def describe(self, grids: Any = None) -> dict[str, Any]:
        """The weather as given (JSON-ready, user units), with the grids' files and statistics."""
        out: dict[str, Any] = {
            "wind_speed_20ft_mph": self.wind_speed_mph,
            "wind_from_deg": self.wind_from_deg,
            "moisture_pct": dict(
                zip(
                    MOISTURE_NAMES, [str(v) if isinstance(v, Path) else v for v in self.moisture], strict=True
                )
            ),
            "foliar_moisture_pct": self.foliar_moisture_pct,
            "duration_min": self.duration_min,
        }
        if self.wind_grid is not None:
            out["wind_grid"] = [str(p) for p in self.wind_grid]
            out["wind_grid_scale"] = self.wind_grid_scale
            out["wind_grid_turn_deg"] = self.wind_grid_turn_deg
        if grids is not None:
            out["grids"] = grids.describe()
        return out


def _value(flag: str, text: Any, ranges: bool, low: float, high: float) -> Any:
    name = flag.lstrip("-").replace("-", "_")
    if ranges:
        parts = str(text).split(":")
        if len(parts) == 2:
            lo, hi = (opt.number(name, p, low, high) for p in parts)
            if lo > hi:
                raise InputError(f"{flag} LOW:HIGH needs LOW <= HIGH, got {text!r}")
            return (lo, hi) if hi > lo else lo
    return opt.number(name, text, low, high)


def parse_weather(args: argparse.Namespace, *, ranges: bool) -> WeatherFlags:
    """The weather flags of ``args`` (declared by :func:`add_weather_arguments`), checked.

    Fills in the defaults of ``--wind-speed`` and ``--wind-from`` on ``args`` when no wind grid is
    given (so ``args.wind_speed`` keeps its meaning for the code that reads it)."""
    grid = getattr(args, "wind_grid", None)
    if grid is not None:
        given = [
            f
            for f, v in (("--wind-speed", args.wind_speed), ("--wind-from", args.wind_from))
            if v is not None
        ]
        if given:
            raise InputError(f"give either --wind-grid SPEED.tif DIR.tif or {' and '.join(given)}, not both")
        for path in grid:
            if not Path(path).exists():
                raise InputError(f"--wind-grid: file not found: {path}")
        grid = (Path(grid[0]), Path(grid[1]))
        speed = wind_from = None
    else:
        for flag, attr in (("--wind-grid-scale", "wind_grid_scale"), ("--wind-grid-turn", "wind_grid_turn")):
            if str(getattr(args, attr, None) or "").strip() not in ("", "1", "0", "1.0", "0.0"):
                raise InputError(f"{flag} needs --wind-grid SPEED.tif DIR.tif")
        if args.wind_speed is None:
            args.wind_speed = str(int(DEFAULT_WIND_SPEED_MPH)) if ranges else DEFAULT_WIND_SPEED_MPH
        if args.wind_from is None:
            args.wind_from = str(int(DEFAULT_WIND_FROM_DEG)) if ranges else DEFAULT_WIND_FROM_DEG
        speed = _value("--wind-speed", args.wind_speed, ranges, *opt.RANGES["wind_speed"][:2])
        wind_from = (
            opt.number_or_range("wind_from", args.wind_from)
            if ranges
            else opt.number("wind_from", args.wind_from, *opt.RANGES["wind_from"][:2])
        )
    scale = _value("--wind-grid-scale", getattr(args, "wind_grid_scale", "1"), ranges, *GRID_SCALE_RANGE)
    turn = _value("--wind-grid-turn", getattr(args, "wind_grid_turn", "0"), ranges, *GRID_TURN_RANGE)
    duration = getattr(args, "duration", None)
    if duration is not None:
        duration = _value("--duration", duration, ranges, *opt.RANGES["duration"][:2])
    foliar = opt.number("foliar_moisture", args.foliar_moisture, *opt.RANGES["foliar_moisture"][:2])
    return WeatherFlags(
        wind_speed_mph=speed,
        wind_from_deg=wind_from,
        wind_grid=grid,
        wind_grid_scale=scale,
        wind_grid_turn_deg=turn,
        moisture=parse_moisture(args.moisture),
        foliar_moisture_pct=foliar,
        duration_min=duration,
    )


def command_words(args: argparse.Namespace) -> list[str]:
    """The weather flags of ``args`` spelled out (for a run's reproducing command line)."""
    words: list[str] = []
    if getattr(args, "wind_grid", None) is not None:
        words += ["--wind-grid", *(str(p) for p in args.wind_grid)]
        # "=" keeps a negative value (-15:15) from reading as an option
        words += [f"--wind-grid-scale={args.wind_grid_scale}", f"--wind-grid-turn={args.wind_grid_turn}"]
    return words
