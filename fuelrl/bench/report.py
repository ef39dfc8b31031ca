"""Benchmark bookkeeping: the machine, robust statistics of repeated timings, bench.json and bench.md.

Every figure ``fuelrl bench`` reports is a :func:`summarize` of repeated measurements taken after a
warm-up: the median, the inter-quartile range and the min-max, with the raw values kept in the JSON
so anyone can recompute them. Ratios are computed from figures measured in the same run.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from fuelrl.outputs import atomic_output_dir, write_json

GIB = 2.0**30
MIB = 2.0**20


def log(msg: str) -> None:
    """A timestamped progress line of ``fuelrl bench``."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ----------------------------------------------------------------------------------- machine
def cpu_model() -> str:
    """The CPU's marketing name (``/proc/cpuinfo`` "model name" on Linux), else what platform says."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def load_average() -> list[float] | None:
    """1-, 5- and 15-minute load averages (None where the OS has none)."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def host_memory_gib() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    except (ValueError, OSError, AttributeError):
        return None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info(device: torch.device) -> dict[str, Any]:
    """What the numbers were measured on: CPU, cores, RAM, GPU, library versions, date, load."""
    gpus = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            gpus.append({"name": props.name, "memory_gib": round(props.total_memory / GIB, 2)})
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["fuelrl", *sys.argv[1:]]) if sys.argv and "fuelrl" in sys.argv[0] else None,
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores(),
        "torch_threads": torch.get_num_threads(),
        "host_memory_gib": round(host_memory_gib() or 0.0, 1) or None,
        "load_average_start": load_average(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "device": str(device),
        "cuda_available": torch.cuda.is_available(),
        "cuda_version": torch.version.cuda,
        "gpus": gpus,
        "versions": {
            name: _version(name)
            for name in ("fuelrl", "torch", "torchrl", "tensordict", "lightning", "numpy", "scipy")
        },
    }


# ---------------------------------------------------------------------------------- statistics
def summarize(values: Sequence[float]) -> dict[str, Any]:
    """Median, quartiles (inclusive method), min, max and count of ``values`` (raw values kept)."""
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not vals:
        return {"median": None, "q1": None, "q3": None, "min": None, "max": None, "n": 0, "values": []}
    if len(vals) >= 2:
        q1, _, q3 = statistics.quantiles(vals, n=4, method="inclusive")
    else:
        q1 = q3 = vals[0]
    return {
        "median": statistics.median(vals),
        "q1": q1,
        "q3": q3,
        "min": min(vals),
        "max": max(vals),
        "n": len(vals),
        "values": vals,
    }


def ratio(
    numerator: dict[str, Any] | float | None, denominator: dict[str, Any] | float | None
) -> float | None:
    """Ratio of two medians (or plain numbers); None when either is missing or the denominator is 0."""
    a = numerator.get("median") if isinstance(numerator, dict) else numerator
    b = denominator.get("median") if isinstance(denominator, dict) else denominator
    if a is None or b is None or b == 0:
        return None
    return float(a) / float(b)


def timed_repeats(
    fn: Callable[[], Any], repeats: int, warmup: int = 1, sync: Callable[[], None] | None = None
) -> list[float]:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times; return each call's wall seconds."""
    import time

    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        if sync is not None:
            sync()
        t0 = time.perf_counter()
        fn()
        if sync is not None:
            sync()
        out.append(time.perf_counter() - t0)
    return out


def fmt(stat: dict[str, Any] | float | None, digits: int = 3) -> str:
    """``median [q1-q3]`` of a summary (3 significant digits); a plain number alone; '-' if missing."""
    if stat is None:
        return "-"
    if isinstance(stat, dict):
        if stat.get("median") is None:
            return "-"
        med = _g(stat["median"], digits)
        if stat.get("n", 0) >= 2:
            return f"{med} [{_g(stat['q1'], digits)}-{_g(stat['q3'], digits)}]"
        return med
    return _g(float(stat), digits)


def _g(x: float, digits: int) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 10 ** (digits + 2) or abs(x) < 1e-3:
        return f"{x:.{digits - 1}e}"
    if abs(x) >= 10 ** (digits - 1):
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ writing
def jsonable(obj: Any) -> Any:
    """Make ``obj`` valid JSON: tuples to lists, non-finite floats to None, tensors to numbers."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return jsonable(obj.tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return jsonable(obj.item())
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_report(out: str | Path, report: dict[str, Any], markdown: str) -> Path:
    """Write ``bench.json`` and ``bench.md`` into ``out`` atomically (both or neither)."""
    out = Path(out)
    with atomic_output_dir(out) as tmp:
        write_json(tmp / "bench.json", jsonable(report))
        (tmp / "bench.md").write_text(markdown)
    return out
