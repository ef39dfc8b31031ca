"""Pick a training profile (config file) from the GPU's memory.

``fuelrl fit --config configs/auto.yaml`` replaces ``auto.yaml`` (a file whose only key is
``profile: auto``) by the profile :func:`pick_profile` chooses, in the same folder:

=========================  ==================
machine                    profile
=========================  ==================
no CUDA GPU                ``quickstart.yaml``
GPU with < 6 GiB           ``low_mem.yaml``
GPU with 6 to < 20 GiB     ``default.yaml``
GPU with >= 20 GiB         ``high_mem.yaml``
=========================  ==================
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import torch
import yaml

from fuelrl.errors import InputError

log = logging.getLogger(__name__)

LOW_MEM_BELOW_GIB = 6.0
HIGH_MEM_FROM_GIB = 20.0


def pick_profile(gpu_memory_gib: float | None) -> str:
    """The profile name for a GPU with ``gpu_memory_gib`` of memory (``None``: no CUDA GPU)."""
    if gpu_memory_gib is None:
        return "quickstart"
    if gpu_memory_gib < LOW_MEM_BELOW_GIB:
        return "low_mem"
    if gpu_memory_gib < HIGH_MEM_FROM_GIB:
        return "default"
    return "high_mem"


def gpu_memory_gib() -> float | None:
    """Total memory of CUDA device 0 in GiB, or None without CUDA."""
    if not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_properties(0).total_memory / 2**30


def _is_auto(path: Path) -> bool:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and data.get("profile") == "auto"


def expand_auto_config(argv: list[str]) -> list[str]:
    """Return ``argv`` with every ``--config <auto.yaml>`` replaced by the picked profile's file."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg == "--config" and i + 1 < len(out):
            j, value, prefix = i + 1, out[i + 1], ""
        elif arg.startswith("--config="):
            j, value, prefix = i, arg.split("=", 1)[1], "--config="
        else:
            continue
        path = Path(value)
        if path.suffix in (".yaml", ".yml") and path.is_file() and _is_auto(path):
            mem = gpu_memory_gib()
            name = pick_profile(mem)
            target = path.with_name(f"{name}.yaml")
            if not target.is_file():
                raise InputError(f"--config {value}: profile {name!r} picked, but {target} does not exist")
            where = "no CUDA GPU" if mem is None else f"a GPU with {mem:.1f} GiB"
            print(f"fuelrl: {where}: using profile {target}", file=sys.stderr)
            out[j] = prefix + str(target)
    return out
