"""Options shared by ``fuelrl plan`` and ``fuelrl evaluate``: fires, weather, simulator, planner.

The weather flags are those of ``fuelrl simulate`` (FlamMap's units: 20-ft wind in mph, the azimuth
it blows from in degrees, moistures in percent, duration in minutes), except that the wind speed,
wind direction and duration also take a range ``LOW:HIGH``, drawn uniformly per fire.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from fuelrl.commands import _options as opt
from fuelrl.commands._sim_args import DEFAULT_MOISTURE, add_simulator_arguments, parse_moisture
from fuelrl.errors import InputError

DEFAULT_FIRES = 100


def add_budget_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--budget",
        type=float,
        default=0.05,
        help="fraction of the burnable cells that may be treated, in (0, 1] (default 0.05)",
    )


def add_fire_arguments(parser: argparse.ArgumentParser) -> None:
    fires = parser.add_argument_group("fires (planning and held-out scoring sets; see docs/evaluation.md)")
    fires.add_argument(
        "--fires",
        type=int,
        default=DEFAULT_FIRES,
        help=f"held-out fires each plan is scored on, per landscape (default {DEFAULT_FIRES})",
    )
    fires.add_argument(
        "--planning-fires",
        type=int,
        help="fires the planners see while placing breaks (default: as many as --fires; different fires)",
    )
    fires.add_argument(
        "--seed", type=int, default=0, help="seed of both fire sets and of the planners (default 0)"
    )
    wx = parser.add_argument_group("weather and duration (FlamMap units; X or LOW:HIGH drawn per fire)")
    wx.add_argument("--wind-speed", default="10", metavar="MPH", help="20-ft wind speed (default 10)")
    wx.add_argument(
        "--wind-from", default="225", metavar="DEG", help="azimuth the wind blows from (default 225)"
    )
    wx.add_argument(
        "--moisture",
        default=DEFAULT_MOISTURE,
        metavar="1H,10H,100H,HERB,WOODY",
        help=f"fuel moistures in percent (default {DEFAULT_MOISTURE})",
    )
    wx.add_argument(
        "--foliar-moisture", type=float, default=100.0, metavar="PCT", help="foliar moisture (100)"
    )
    wx.add_argument("--duration", default="480", metavar="MIN", help="fire duration (default 480)")
    add_simulator_arguments(parser, "device of the backend and the agent, e.g. cpu or cuda")
    planner = parser.add_argument_group("planners")
    planner.add_argument(
        "--recompute-every",
        type=int,
        metavar="K",
        help="breaks placed between two recomputations of a greedy planner's map (default: budget / 20)",
    )
    planner.add_argument(
        "--agent-tile-size",
        type=int,
        metavar="CELLS",
        help="score the landscape with the agent in tiles of this side, with overlap (default: whole "
        "landscape up to 1024x1024 cells)",
    )


def parse_range(flag: str, text: str, low: float | None = None, high: float | None = None):
    """``"X"`` -> X, ``"LOW:HIGH"`` -> (LOW, HIGH), within the shared ranges
    (:data:`fuelrl.commands._options.RANGES`); InputError naming ``flag`` otherwise."""
    return opt.number_or_range(flag.lstrip("-").replace("-", "_"), text)


def weather_from_args(args: argparse.Namespace) -> Any:
    """The :class:`WeatherDistribution` the flags describe."""
    from fuelrl.simulators.scenarios import WeatherDistribution

    wind = parse_range("--wind-speed", args.wind_speed)
    wind_from = parse_range("--wind-from", args.wind_from)
    duration = parse_range("--duration", args.duration)
    opt.number("foliar_moisture", args.foliar_moisture, *opt.RANGES["foliar_moisture"])
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
        wind_speed_20ft_mph=wind,
        moisture_pct=tuple(parse_moisture(args.moisture)),
        foliar_moisture_pct=args.foliar_moisture,
        duration_min=duration,
        **kw,
    )


def weather_description(args: argparse.Namespace) -> dict[str, Any]:
    """The weather flags as given (JSON-ready, user units)."""
    return {
        "wind_speed_20ft_mph": args.wind_speed,
        "wind_from_deg": args.wind_from,
        "moisture_pct": dict(
            zip(("1h", "10h", "100h", "herb", "woody"), parse_moisture(args.moisture), strict=True)
        ),
        "foliar_moisture_pct": args.foliar_moisture,
        "duration_min": args.duration,
    }


def fire_counts(args: argparse.Namespace) -> tuple[int, int]:
    """(held-out scoring fires, planning fires), checked."""
    opt.count("fires", args.fires)
    planning = args.planning_fires if args.planning_fires is not None else args.fires
    opt.count("planning_fires", planning)
    if args.recompute_every is not None:
        opt.count("recompute_every", args.recompute_every, 1, 1_000_000)
    return int(args.fires), int(planning)


def check_budget(budget: float) -> float:
    if not (0.0 < budget <= 1.0):
        raise InputError(f"--budget must be a fraction of the burnable cells in (0, 1], got {budget:g}")
    return float(budget)


def agent_options(args: argparse.Namespace, backend: Any) -> dict[str, Any]:
    """Options for a checkpoint policy: the agent runs where the backend runs."""
    if args.agent_tile_size is not None and args.agent_tile_size < 8:
        raise InputError(f"--agent-tile-size must be >= 8 cells, got {args.agent_tile_size}")
    return {"device": backend.device, "tile_size": args.agent_tile_size}


_SHARED = (
    "fires",
    "planning_fires",
    "seed",
    "wind_speed",
    "wind_from",
    "moisture",
    "foliar_moisture",
    "duration",
    "backend",
    "device",
    "conventions",
    "treatment_fuel_model",
    "recompute_every",
    "agent_tile_size",
)


def command_line(command: str, positional: list[str], args: argparse.Namespace, own: tuple[str, ...]) -> str:
    """The full command that reproduces this run (every option spelled out, defaults included)."""
    words = ["fuelrl", command, *positional]
    for name in (*own, *_SHARED):
        value = getattr(args, name, None)
        if value is not None:
            words += [f"--{name.replace('_', '-')}", str(value)]
    if getattr(args, "no_crown_fire", False):
        words.append("--no-crown-fire")
    for name in ("units", "cell_size"):
        if getattr(args, name, None) is not None:
            words += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    words += ["--out", str(args.out)]
    return " ".join(shlex.quote(w) for w in words)
