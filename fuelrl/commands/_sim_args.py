"""Simulator options shared by ``fuelrl simulate``, ``plan`` and ``evaluate``: one definition of the
flags, of their defaults and of how a backend is built from them."""

from __future__ import annotations

import argparse
from typing import Any

from fuelrl.commands._weather import DEFAULT_MOISTURE, parse_moisture  # noqa: F401  (one definition)
from fuelrl.errors import InputError
from fuelrl.physics.behavior import CONVENTIONS


def default_backend_name() -> str:
    """``torch`` when a CUDA GPU is present (all fires at once on it), else ``threaded`` (all cores)."""
    import torch

    return "torch" if torch.cuda.is_available() else "threaded"


def add_simulator_arguments(parser: argparse.ArgumentParser, device_help: str) -> None:
    group = parser.add_argument_group("simulator")
    group.add_argument(
        "--backend",
        help="simulator backend (see `fuelrl backends`; default: torch on a CUDA GPU, threaded otherwise)",
    )
    group.add_argument("--device", help=device_help)
    group.add_argument(
        "--conventions",
        choices=CONVENTIONS,
        default="behave",
        help="fire behaviour conventions: BehavePlus (default) or FlamMap 6",
    )
    group.add_argument("--no-crown-fire", action="store_true", help="surface fire only")
    group.add_argument(
        "--treatment-fuel-model", type=int, default=91, help="fuel model of break cells (default 91, NB1)"
    )


def make_backend(args: argparse.Namespace, *, gridded_weather: bool = False) -> Any:
    """The backend the flags name (or the default), with the model options; ``.public_name`` set.
    ``gridded_weather``: the run has per-cell weather, which the backend must take (InputError
    naming it otherwise)."""
    from fuelrl import registry
    from fuelrl.simulators.base import SimulationOptions

    name = args.backend or default_backend_name()
    cls = registry.get(name)  # unknown name: InputError listing the others
    if gridded_weather and not getattr(cls, "gridded_weather", False):
        raise InputError(
            f"--backend {name} does not take gridded weather (--wind-grid or raster --moisture); "
            "use numpy, threaded or torch"
        )
    options = SimulationOptions(
        conventions=args.conventions,
        crown_fire=not args.no_crown_fire,
        treatment_fuel_model=args.treatment_fuel_model,
    )
    try:
        backend = cls(device=args.device, options=options)
    except (RuntimeError, ValueError) as exc:
        raise InputError(f"--backend {name} --device {args.device}: {exc}") from exc
    backend.public_name = name
    return backend
