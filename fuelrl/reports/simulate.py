"""``fuelrl simulate``'s outputs: summary.json, burn_probability.tif (+ .png), arrival_time.tif (+ .png,
one fire)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fuelrl.reports.common import backend_options
from fuelrl.reports.rasters import Raster, probability_raster, write_rasters

#: per-fire lists (burned area, ignitions) are written up to this many fires
MAX_LISTED_FIRES = 10_000


def simulation_summary(
    *,
    burned_ha: np.ndarray,
    backend: Any,
    sim_seconds: float,
    chunk: int,
    processes: int,
    weather: dict[str, Any],
    ignitions: list[dict[str, Any]],
    ignition_source: str,
    breaks: np.ndarray,
    breaks_file: str | None,
    landscape: Any,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """summary.json; ``weather`` is the fires' weather as given to
    :func:`fuelrl.simulators.scenarios.make_scenarios` (20-ft wind in mph, the azimuth it blows
    from, moistures and foliar moisture in percent, ``duration_min``)."""
    from fuelrl.simulators.base import ACRES_PER_HA

    n = len(burned_ha)
    listed = n <= MAX_LISTED_FIRES
    moisture = dict(zip(("1h", "10h", "100h", "herb", "woody"), weather["moisture_pct"], strict=True))
    return {
        "fires": n,
        "backend": backend.public_name,
        "device": str(backend.device),
        "sim_seconds": sim_seconds,
        "burned_ha_mean": float(burned_ha.mean()),
        "burned_ha_sd": float(burned_ha.std(ddof=1)) if n > 1 else 0.0,
        "burned_acres_mean": float(burned_ha.mean() * ACRES_PER_HA),
        "burned_ha_max": float(burned_ha.max()),
        "burned_ha": [float(v) for v in burned_ha] if listed else None,
        "seconds_per_fire": sim_seconds / n,
        "fires_per_chunk": chunk,
        "processes": processes,
        "weather": {
            "wind_speed_20ft_mph": weather["wind_speed_20ft_mph"],
            "wind_from_deg": weather["wind_from_deg"],
            "moisture_pct": moisture,
            "foliar_moisture_pct": weather["foliar_moisture_pct"],
        },
        "duration_min": weather["duration_min"],
        "options": backend_options(backend),
        "ignitions": ignitions if listed else None,
        "ignition_source": ignition_source,
        "breaks": {
            "file": breaks_file,
            "cells": int(breaks.sum()),
            "ha": float(breaks.sum() * landscape.cell_area_ha),
        },
        **(extra or {}),
        "landscape": landscape.describe(),
    }


def simulation_rasters(prob: np.ndarray, first_arrival: np.ndarray | None, fires: int) -> list[Raster]:
    """arrival_time.tif (one fire only: minutes, -9999 where it never arrived) and burn_probability.tif."""
    rasters = []
    if fires == 1 and first_arrival is not None:
        rasters.append(
            Raster(
                "arrival_time",
                first_arrival,
                nodata=-9999.0,
                description="fire arrival time (minutes after ignition)",
                units="min",
                outside="nonfinite",
            )
        )
    rasters.append(
        probability_raster(
            "burn_probability", prob, f"burn probability (fraction of {fires} fires burning the cell)"
        )
    )
    return rasters


def save_simulation_map(
    path: Path, prob: np.ndarray, landscape: Any, summary: dict, breaks: np.ndarray
) -> None:
    """burn_probability.png, with the breaks and (up to 50 fires) the ignitions."""
    from fuelrl.viz import BURN_PROBABILITY_CMAP, SCHEME, save_map

    n, wx = summary["fires"], summary["weather"]
    points = [(d["row"], d["col"], "") for d in summary["ignitions"]] if n <= 50 else []
    title = (
        f"Burn probability, {n} fire{'s' if n > 1 else ''}, {summary['duration_min']:g} min, "
        f"wind {wx['wind_speed_20ft_mph']:g} mph from {wx['wind_from_deg']:g}°"
    )
    save_map(
        path,
        np.where(landscape.valid, prob, math.nan),
        landscape,
        title=title,
        colorbar_label="burn probability (fraction of fires)",
        vmin=0.0,
        vmax=1.0,
        cmap=BURN_PROBABILITY_CMAP,
        overlays=[(breaks, SCHEME["breaks"], "fuel breaks")],
        points=points,
        note=f"mean burned {summary['burned_ha_mean']:.1f} ha ({summary['burned_acres_mean']:.0f} ac)",
    )


def save_arrival_map(
    path: Path, arrival: np.ndarray, landscape: Any, summary: dict, breaks: np.ndarray
) -> None:
    """arrival_time.png (one fire): minutes after ignition where the fire arrived within its duration."""
    from fuelrl.viz import ARRIVAL_CMAP, SCHEME, save_map

    wx, duration = summary["weather"], float(summary["duration_min"])
    arrival = np.asarray(arrival, dtype=np.float64)
    reached = np.asarray(landscape.valid, bool) & np.isfinite(arrival) & (arrival <= duration)
    ign = summary["ignitions"][0]
    save_map(
        path,
        np.where(reached, arrival, math.nan),
        landscape,
        title=(
            f"Fire arrival time, {duration:g} min, wind {wx['wind_speed_20ft_mph']:g} mph "
            f"from {wx['wind_from_deg']:g}°"
        ),
        colorbar_label="minutes after ignition",
        vmin=0.0,
        vmax=duration,
        cmap=ARRIVAL_CMAP,
        show=reached,
        overlays=[(breaks, SCHEME["breaks"], "fuel breaks")],
        points=[(ign["row"], ign["col"], "ignition")],
        note=f"burned {summary['burned_ha_mean']:.1f} ha ({summary['burned_acres_mean']:.0f} ac)",
    )


def write_simulation(
    out: str | Path,
    landscape: Any,
    summary: dict[str, Any],
    prob: np.ndarray,
    first_arrival: np.ndarray | None,
    breaks: np.ndarray,
    extra_rasters: Sequence[Raster] = (),
) -> None:
    """Write ``fuelrl simulate``'s folder atomically; ``extra_rasters`` are written beside the
    standard ones (one GeoTIFF each, by name)."""
    from fuelrl.outputs import atomic_output_dir, write_json

    rasters = [*simulation_rasters(prob, first_arrival, summary["fires"]), *extra_rasters]
    with atomic_output_dir(out) as tmp:
        write_rasters(tmp, rasters, landscape)
        write_json(tmp / "summary.json", summary)
        save_simulation_map(tmp / "burn_probability.png", prob, landscape, summary, breaks)
        if summary["fires"] == 1 and first_arrival is not None:
            save_arrival_map(tmp / "arrival_time.png", first_arrival, landscape, summary, breaks)


def simulation_message(summary: dict[str, Any], shape: tuple[int, int], out: Any) -> str:
    """The line ``fuelrl simulate`` prints at the end."""
    return (
        f"{summary['fires']} fire(s) on {shape[0]}x{shape[1]} cells with {summary['backend']} on "
        f"{summary['device']}: {summary['sim_seconds']:.3f} s; burned {summary['burned_ha_mean']:.1f} ha "
        f"mean ({summary['burned_acres_mean']:.0f} acres) -> {out}"
    )
