"""One definition and one validation of the options the commands share.

:func:`check_shared` is called by :func:`fuelrl.cli.main` on every command's parsed arguments
before the command runs: each shared option a command has (seed, fire counts, weather, ignitions,
treatment fuel model, landscape units and cell size, ``--out``) is checked here, the same way in
every command, so a bad value is one line naming the option, exit 2, before anything is read or
computed. Commands add the flags with the ``add_*`` helpers below.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from fuelrl.errors import InputError

#: the most fires one command simulates (memory is bounded by chunks; time is not)
MAX_FIRES = 1_000_000
#: the largest seed (numpy and torch take 64-bit seeds)
MAX_SEED = 2**63 - 1
#: ranges of the weather flags (FlamMap units), shared by simulate, plan and evaluate
RANGES: dict[str, tuple[float, float, str]] = {
    "wind_speed": (0.0, 200.0, "mph"),
    "wind_from": (-360.0, 720.0, "degrees"),
    "duration": (1.0, 43200.0, "minutes"),
    "foliar_moisture": (30.0, 300.0, "%"),
}


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def number(name: str, value: Any, low: float, high: float, unit: str = "") -> float:
    """``value`` as a finite float in ``low..high``; InputError naming ``--name`` otherwise."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if not (math.isfinite(x) and low <= x <= high):
        unit = f" {unit}" if unit else ""
        raise InputError(f"{flag(name)} must be a number in {low:g}..{high:g}{unit}, got {value!r}")
    return x


def number_or_range(name: str, text: Any) -> float | tuple[float, float]:
    """``X`` or ``LOW:HIGH`` within :data:`RANGES` [name]; LOW <= HIGH except for ``--wind-from``."""
    low, high, unit = RANGES[name]
    parts = str(text).split(":")
    bad = InputError(
        f"{flag(name)} must be a number in {low:g}..{high:g} {unit} or a range LOW:HIGH, got {text!r}"
    )
    if len(parts) > 2:
        raise bad
    try:
        values = [number(name, p, low, high, unit) for p in parts]
    except InputError:
        raise bad from None
    if len(values) == 1:
        return values[0]
    lo, hi = values
    if name != "wind_from" and lo > hi:
        raise InputError(f"{flag(name)} LOW:HIGH needs LOW <= HIGH, got {text!r}")
    return lo, hi


def count(name: str, value: Any, low: int = 1, high: int = MAX_FIRES) -> int:
    if value is None:
        return value
    if not (isinstance(value, int) and low <= value <= high):
        raise InputError(f"{flag(name)} must be an integer in {low:,}..{high:,}, got {value!r}")
    return value


def parse_units(text: str | None) -> dict[str, str]:
    """``--units canopy_cover=fraction,cbd=kg/m3`` -> {layer: unit}; names checked by the reader."""
    if not text:
        return {}
    out: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in str(text).split(","))):
        key, eq, unit = item.partition("=")
        if not eq or not key.strip() or not unit.strip():
            raise InputError(f"--units must be LAYER=UNIT[,LAYER=UNIT...], got {text!r}")
        out[key.strip()] = unit.strip()
    from fuelrl.landscape.readers import check_user_units

    check_user_units(out, "--units")
    return out


# ---------------------------------------------------------------------------------- flags
def add_landscape_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("landscape units (see docs/landscapes.md)")
    group.add_argument(
        "--units",
        metavar="LAYER=UNIT,...",
        help="stored units that override the metadata and the unit checks, e.g. "
        "canopy_cover=fraction,canopy_bulk_density=kg/m3",
    )
    group.add_argument(
        "--cell-size",
        type=float,
        metavar="M",
        help="cell size in metres, required for a grid without a CRS (1..1000)",
    )


def landscape_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """``open_landscape`` keyword arguments from ``--units`` and ``--cell-size``."""
    return {
        "units": parse_units(getattr(args, "units", None)),
        "cell_size_m": getattr(args, "cell_size", None),
    }


def add_out_options(parser: argparse.ArgumentParser, help_text: str = "output folder") -> None:
    parser.add_argument("--out", type=Path, required=True, help=f"{help_text} (written atomically)")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --out if it holds an earlier fuelrl run's outputs (atomically, when done)",
    )


# ------------------------------------------------------------------------------ validation
def check_shared(args: argparse.Namespace) -> None:
    """Validate every shared option ``args`` has; InputError (one line) on the first bad one."""
    seed = getattr(args, "seed", None)
    if seed is not None and not (isinstance(seed, int) and 0 <= seed <= MAX_SEED):
        raise InputError(f"--seed must be an integer in 0..2**63-1, got {seed!r}")
    for name in ("fires", "planning_fires"):
        value = getattr(args, name, None)
        if isinstance(value, str):  # a list option of its own (bench --fires 1,16,64), checked there
            continue
        count(name, value)
    if getattr(args, "fires_per_chunk", None) is not None:
        count("fires_per_chunk", args.fires_per_chunk, 1, 100_000)
    for name in RANGES:
        value = getattr(args, name, None)
        if value is None:
            continue
        if isinstance(value, str):
            number_or_range(name, value)
        else:
            number(name, value, *RANGES[name])
    if getattr(args, "moisture", None) is not None:
        from fuelrl.commands._sim_args import parse_moisture

        parse_moisture(args.moisture)
    for x, y in getattr(args, "ignition", None) or []:
        if not (math.isfinite(x) and math.isfinite(y)):
            raise InputError(f"--ignition X Y must be finite map coordinates, got {x} {y}")
    tfm = getattr(args, "treatment_fuel_model", None)
    if tfm is not None:
        from fuelrl.landscape.fuel_codes import KNOWN_CODES, KNOWN_CODES_TEXT

        if tfm not in KNOWN_CODES:
            raise InputError(
                f"--treatment-fuel-model {tfm} is not a fuel model (expected {KNOWN_CODES_TEXT})"
            )
    if getattr(args, "units", None) is not None:
        parse_units(args.units)
    if getattr(args, "cell_size", None) is not None:
        number("cell_size", args.cell_size, 1.0, 1000.0, "m")
    if getattr(args, "budget", None) is not None:
        from fuelrl.commands._planning_args import check_budget

        check_budget(args.budget)
    for name, low in (("recompute_every", 1), ("agent_tile_size", 8), ("agent_search", 1)):
        if getattr(args, name, None) is not None:
            count(name, getattr(args, name), low, 1_000_000)
    if isinstance(getattr(args, "out", None), Path):
        from fuelrl.outputs import check_output_dir

        check_output_dir(args.out, overwrite=bool(getattr(args, "overwrite", False)))
    if isinstance(getattr(args, "output", None), Path):
        from fuelrl.outputs import check_output_file

        check_output_file(args.output)
