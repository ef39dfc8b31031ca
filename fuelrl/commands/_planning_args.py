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
from fuelrl.commands import _weather
from fuelrl.commands._sim_args import add_simulator_arguments
from fuelrl.errors import InputError

DEFAULT_FIRES = 100


def add_budget_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--budget",
        type=float,
        default=0.05,
        help="fraction of the burnable cells that may be treated, in (0, 1] (default 0.05); with --cost "
        "or a treatable mask: of the total cost of the treatable burnable cells",
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
    _weather.add_weather_arguments(parser, ranges=True)
    add_simulator_arguments(parser, "device of the backend and the agent, e.g. cpu or cuda")
    planner = parser.add_argument_group("planners")
    planner.add_argument(
        "--recompute-every",
        type=int,
        metavar="K",
        help="breaks placed between two recomputations of a greedy planner's map (default: budget / 20)",
    )
    planner.add_argument(
        "--fresh-fires",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="grow a fresh set of --planning-fires fires at each recomputation, the same number of "
        "simulations (default): plans that hold for other fires, not fences around the planning "
        "ignitions; --no-fresh-fires: one fixed set (the behaviour before 2026-12-02)",
    )
    planner.add_argument(
        "--ignition-guard-cells",
        type=int,
        default=0,
        metavar="N",
        help="DPV (the dpv policy, an agent's dpv/max input) leaves out what each planning fire would "
        "save within N cells (Chebyshev) of its own ignition (default 0): rings of breaks around a "
        "planning ignition fence in that one fire, not the fires to come (docs/evaluation.md, "
        "'Ignition guard')",
    )
    planner.add_argument(
        "--agent-tile-size",
        type=int,
        metavar="CELLS",
        help="score the landscape with the agent in tiles of this side, with overlap (default: whole "
        "landscape up to 1024x1024 cells)",
    )
    planner.add_argument(
        "--agent-search",
        type=int,
        metavar="N",
        help="plan-time search for agent policies: at each recomputation propose N candidate sets of "
        "breaks (blends of the agent's and DPV's rankings) and keep the one the next planning fires "
        "burn least with; 1 + N x 20 simulations (default 1: no search)",
    )
    planner.add_argument(
        "--agent-precision",
        choices=("float32", "bfloat16"),
        help="the dtype an agent policy's network layers run in (default float32); bfloat16 is "
        "several times faster on CPUs with native bfloat16 (AVX512-BF16, AMX) and on GPUs",
    )


def parse_range(flag: str, text: str, low: float | None = None, high: float | None = None):
    """``"X"`` -> X, ``"LOW:HIGH"`` -> (LOW, HIGH), within the shared ranges
    (:data:`fuelrl.commands._options.RANGES`); InputError naming ``flag`` otherwise."""
    return opt.number_or_range(flag.lstrip("-").replace("-", "_"), text)


def weather_flags(args: argparse.Namespace) -> _weather.WeatherFlags:
    """The checked weather flags (:func:`fuelrl.commands._weather.parse_weather`, with ranges)."""
    return _weather.parse_weather(args, ranges=True)


def weather_from_args(args: argparse.Namespace, grids: Any = None) -> Any:
    """The :class:`WeatherDistribution` the flags describe (with a wind grid: its reference wind,
    scaled and turned per fire as ``--wind-grid-scale`` / ``--wind-grid-turn`` say; ``grids``
    from :meth:`WeatherFlags.read_grids` on the landscape)."""
    flags = weather_flags(args)
    if flags.wind_grid is not None and grids is None:
        return None  # per landscape: landscape_weather
    return flags.distribution(grids)


def landscape_weather(args: argparse.Namespace, landscape: Any, weather: Any) -> tuple[Any, Any]:
    """(weather distribution, gridded weather or ``None``) of the fires on ``landscape``:
    ``weather`` (:func:`weather_from_args`) without grids; with grids, read on this landscape's
    grid, and with a wind grid the distribution of its reference wind."""
    grids = weather_grids(args, landscape)
    if grids is None:
        return weather, None
    return weather_from_args(args, grids), grids


def weather_grids(args: argparse.Namespace, landscape: Any) -> Any:
    """The gridded weather of the flags on ``landscape``'s grid, or ``None``."""
    return weather_flags(args).read_grids(landscape)


def weather_description(args: argparse.Namespace, grids: Any = None) -> dict[str, Any]:
    """The weather flags as given (JSON-ready, user units), with the grids' files and statistics."""
    flags = weather_flags(args)
    out = {
        "wind_speed_20ft_mph": args.wind_speed,
        "wind_from_deg": args.wind_from,
        "moisture_pct": flags.describe()["moisture_pct"],
        "foliar_moisture_pct": args.foliar_moisture,
        "duration_min": args.duration,
    }
    described = flags.describe(grids)
    out.update({k: v for k, v in described.items() if k.startswith(("wind_grid", "grids"))})
    return out


def fire_counts(args: argparse.Namespace) -> tuple[int, int]:
    """(held-out scoring fires, planning fires), checked."""
    opt.count("fires", args.fires)
    planning = args.planning_fires if args.planning_fires is not None else args.fires
    opt.count("planning_fires", planning)
    if args.recompute_every is not None:
        opt.count("recompute_every", args.recompute_every, 1, 1_000_000)
    opt.count("ignition_guard_cells", args.ignition_guard_cells, 0, 1_000_000)
    return int(args.fires), int(planning)


def check_budget(budget: float) -> float:
    if not (0.0 < budget <= 1.0):
        raise InputError(f"--budget must be a fraction of the burnable cells in (0, 1], got {budget:g}")
    return float(budget)


def agent_options(args: argparse.Namespace, backend: Any) -> dict[str, Any]:
    """Options for a checkpoint policy: the agent runs where the backend runs."""
    if args.agent_tile_size is not None and args.agent_tile_size < 8:
        raise InputError(f"--agent-tile-size must be >= 8 cells, got {args.agent_tile_size}")
    options = {"device": backend.device, "tile_size": args.agent_tile_size}
    if args.agent_search is not None:
        options["search"] = args.agent_search
    if args.agent_precision is not None:
        options["precision"] = args.agent_precision
    return options


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
    "ignition_guard_cells",
    "agent_tile_size",
    "agent_search",
    "agent_precision",
    # planner inputs (fuelrl.commands._plan_inputs)
    "values",
    "cost",
    "treatable",
    "untreatable",
    "budget_ha",
    "budget_cost",
    "min_unit_ha",
    "stop_when_no_gain",
    "ignition_density",
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
    if getattr(args, "fresh_fires", None) is not None:
        words.append("--fresh-fires" if args.fresh_fires else "--no-fresh-fires")
    for name in ("units", "cell_size"):
        if getattr(args, name, None) is not None:
            words += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    words += _weather.command_words(args)
    words += ["--out", str(args.out)]
    return " ".join(shlex.quote(w) for w in words)
