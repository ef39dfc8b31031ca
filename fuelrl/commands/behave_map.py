"""`fuelrl behave LANDSCAPE --out DIR`: a FlamMap-style "basic" run, fire behaviour of every cell.

Writes, on the landscape's exact grid (CRS, transform, shape; nodata -9999 outside the landscape's
valid cells):

  spread_rate.tif         head (maximum) spread rate, m/min (surface or crown)
  flame_length.tif        head-fire flame length, m
  fireline_intensity.tif  head-fire fireline intensity, kW/m
  crown_state.tif         0 no fire (non-burnable or too wet), 1 surface, 2 passive, 3 active
  max_spread_dir.tif      azimuth of maximum spread, degrees clockwise from north (nodata where no
                          fire spreads)
  midflame_wind.tif       midflame wind speed, mph (20-ft wind x the wind adjustment factor)
  spread_rate.png, crown_state.png, summary.json

Weather in FlamMap units: 20-ft wind in mph and the azimuth it blows from, moistures in percent.
The physics is :func:`fuelrl.physics.cellwise.landscape_behavior`, which takes per-cell weather
(wind speed, direction and moistures as [H, W] arrays) as well as single values.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from fuelrl.errors import InputError
from fuelrl.physics import units

#: nodata of every raster written here (FlamMap's)
NODATA = -9999.0
#: crown state codes (FlamMap's CROWNSTATE)
CROWN_STATES = {0: "no fire", 1: "surface", 2: "passive crown", 3: "active crown"}
CROWN_COLOURS = ("#d9d9d9", "#ffd54f", "#fb8c00", "#b71c1c")

#: file -> (description, units) of the six rasters, in the order they are written
RASTERS: dict[str, tuple[str, str]] = {
    "spread_rate.tif": ("maximum (head fire) spread rate", "m/min"),
    "flame_length.tif": ("head fire flame length", "m"),
    "fireline_intensity.tif": ("head fire fireline intensity", "kW/m"),
    "crown_state.tif": ("crown state: 0 no fire, 1 surface, 2 passive, 3 active", "code"),
    "max_spread_dir.tif": ("azimuth of maximum spread (clockwise from north)", "degrees"),
    "midflame_wind.tif": ("midflame wind speed", "mph"),
}


class MapWeather(NamedTuple):
    """Weather of a landscape run in FlamMap units; each field a number or a per-cell array
    ([H, W]; moisture [H, W, 5] or [5]) on the landscape's grid. ``described``: JSON-ready."""

    wind_speed_20ft_mph: Any
    wind_from_deg: Any
    moisture_pct: Any
    foliar_moisture_pct: Any
    described: dict[str, Any]


def add_map_arguments(parser: argparse.ArgumentParser) -> None:
    """The landscape mode's flags (the CSV mode's --input/--output/--conventions are in behave)."""
    from fuelrl.commands import _options as opt
    from fuelrl.commands import _weather

    parser.add_argument(
        "landscape",
        nargs="?",
        help="landscape mode: 8-band GeoTIFF, FlamMap .lcp, folder of LANDFIRE layers, or synthetic:...",
    )
    parser.add_argument("--out", type=Path, help="landscape mode: output folder (written atomically)")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --out if it holds an earlier fuelrl run's outputs (atomically, when done)",
    )
    _weather.add_weather_arguments(parser, ranges=False, duration=False)  # or --wind-grid, raster moistures
    parser.add_argument("--no-crown-fire", action="store_true", help="landscape mode: surface fire only")
    opt.add_landscape_options(parser)


def map_weather(args: argparse.Namespace, landscape: Any) -> MapWeather:
    """The run's weather from the flags (:mod:`fuelrl.commands._weather`): single values, or grids
    read on the landscape's grid (``--wind-grid SPEED.tif DIR.tif``, raster paths in
    ``--moisture``; :mod:`fuelrl.landscape.weather_grids` checks them and states the moisture
    units). A wind grid is used cell by cell, its speeds times ``--wind-grid-scale`` and its
    directions turned by ``--wind-grid-turn``."""
    from fuelrl.commands import _weather

    flags = _weather.parse_weather(args, ranges=False)
    grids = flags.read_grids(landscape)
    described = flags.describe(grids)
    described.pop("duration_min", None)
    speed, wind_from = flags.wind_speed_mph, flags.wind_from_deg
    if grids is not None and grids.has_wind:
        speed = grids.wind_speed_20ft_m_min.astype(np.float64) / units.M_MIN_PER_MPH * flags.wind_grid_scale
        wind_from = (grids.wind_from_deg.astype(np.float64) + flags.wind_grid_turn_deg) % 360.0
    moisture: Any = np.asarray([np.nan if isinstance(v, Path) else float(v) for v in flags.moisture])
    if grids is not None and grids.moisture_fraction:
        h, w = landscape.shape
        moisture = np.broadcast_to(moisture, (h, w, 5)).copy()
        for k, name in enumerate(_weather.MOISTURE_NAMES):
            if name in grids.moisture_fraction:
                moisture[..., k] = grids.moisture_fraction[name].astype(np.float64) * 100.0
    return MapWeather(speed, wind_from, moisture, flags.foliar_moisture_pct, described)


def compute_maps(
    landscape: Any, weather: MapWeather, *, conventions: str = "behave", crown_fire: bool = True
) -> dict[str, np.ndarray]:
    """The six rasters (file name -> [H, W] array, :data:`NODATA` outside the valid cells)."""
    from fuelrl.physics.cellwise import LAYER_ARGS, crown_state, landscape_behavior
    from fuelrl.progress import Progress

    layers = {k: np.asarray(getattr(landscape, k), dtype=np.float64) for k in LAYER_ARGS[1:]}
    layers["fuel_model"] = np.asarray(landscape.fuel_model).astype(np.int64)
    with Progress(layers["fuel_model"].shape[0], "fire behaviour", "row", leave=False) as bar:
        fb = landscape_behavior(
            layers,
            wind_speed_20ft_m_min=np.asarray(weather.wind_speed_20ft_mph, np.float64) * units.M_MIN_PER_MPH,
            wind_from_deg=np.asarray(weather.wind_from_deg, np.float64),
            moisture_fraction=np.asarray(weather.moisture_pct, np.float64) / 100.0,
            foliar_moisture_fraction=np.asarray(weather.foliar_moisture_pct, np.float64) / 100.0,
            conventions=conventions,
            crown_fire=crown_fire,
            keep=_FIELDS,
            on_rows=bar.update,
        )
    valid = np.asarray(landscape.valid, bool)
    spreads = valid & (np.asarray(fb.ros_head_m_min) > 0)

    def cells(x: Any, where: np.ndarray = valid) -> np.ndarray:
        return np.where(where, np.asarray(x, np.float64), NODATA).astype(np.float32)

    return {
        "spread_rate.tif": cells(fb.ros_head_m_min),
        "flame_length.tif": cells(fb.flame_length_m),
        "fireline_intensity.tif": cells(fb.fireline_intensity_kw_m),
        "crown_state.tif": np.where(valid, np.asarray(crown_state(fb)), int(NODATA)).astype(np.int16),
        "max_spread_dir.tif": cells(fb.direction_max_deg, spreads),
        "midflame_wind.tif": cells(np.asarray(fb.midflame_wind_m_min) / units.M_MIN_PER_MPH),
    }


#: the FireBehavior fields the rasters are made of
_FIELDS = (
    "ros_head_m_min",
    "flame_length_m",
    "fireline_intensity_kw_m",
    "fire_type",
    "direction_max_deg",
    "midflame_wind_m_min",
)


def summarize(landscape: Any, maps: dict[str, np.ndarray], weather: MapWeather, args: argparse.Namespace):
    valid = np.asarray(landscape.valid, bool)
    state = maps["crown_state.tif"]
    ros = maps["spread_rate.tif"]
    spreading = valid & (ros > 0)
    ha = landscape.cell_area_ha
    counts = {CROWN_STATES[c]: int(np.count_nonzero(valid & (state == c))) for c in CROWN_STATES}

    def stats(name: str) -> dict[str, float]:
        v = maps[name][spreading].astype(np.float64)
        if v.size == 0:
            return {"mean": 0.0, "max": 0.0}
        return {"mean": float(v.mean()), "median": float(np.median(v)), "max": float(v.max())}

    return {
        "mode": "landscape",
        "conventions": args.conventions,
        "crown_fire": not args.no_crown_fire,
        "weather": weather.described,
        "crown_state_cells": counts,
        "crown_state_ha": {k: v * ha for k, v in counts.items()},
        "spreading_ha": float(np.count_nonzero(spreading)) * ha,
        "spread_rate_m_min": stats("spread_rate.tif"),
        "flame_length_m": stats("flame_length.tif"),
        "fireline_intensity_kw_m": stats("fireline_intensity.tif"),
        "nodata": NODATA,
        "rasters": {k: {"description": d, "units": u} for k, (d, u) in RASTERS.items()},
        "landscape": landscape.describe(),
    }


def write_maps(folder: Path, landscape: Any, maps: dict[str, np.ndarray], summary: dict[str, Any]) -> None:
    from matplotlib.colors import ListedColormap

    from fuelrl.landscape import write_geotiff
    from fuelrl.outputs import write_json
    from fuelrl.viz import save_map

    for name, (description, unit) in RASTERS.items():
        write_geotiff(
            folder / name, maps[name], landscape, nodata=NODATA, description=description, units=unit
        )
    write_json(folder / "summary.json", summary)
    valid = np.asarray(landscape.valid, bool)
    ros = np.where(valid, maps["spread_rate.tif"], np.nan).astype(np.float64)
    w = summary["weather"]
    wind = (
        f"wind {w['wind_speed_20ft_mph']:g} mph from {w['wind_from_deg']:g}°"
        if isinstance(w.get("wind_speed_20ft_mph"), (int, float))
        else "gridded wind"
    )
    finite = ros[np.isfinite(ros) & (ros > 0)]
    save_map(
        folder / "spread_rate.png",
        ros,
        landscape,
        title=f"Maximum spread rate ({summary['conventions']} conventions, {wind})",
        colorbar_label="spread rate (m/min)",
        vmin=0.0,
        vmax=float(np.quantile(finite, 0.99)) if finite.size else 1.0,
        cmap="YlOrRd",
        note="colour scale capped at the 99th percentile",
    )
    states = summary["crown_state_ha"]
    save_map(
        folder / "crown_state.png",
        np.where(valid, maps["crown_state.tif"], np.nan).astype(np.float64),
        landscape,
        title=f"Crown state ({summary['conventions']} conventions, {wind})",
        colorbar_label="0 no fire, 1 surface, 2 passive, 3 active",
        vmin=-0.5,
        vmax=3.5,
        show=valid,
        cmap=ListedColormap(CROWN_COLOURS),
        alpha=1.0,
        note=", ".join(f"{k} {v:.0f} ha" for k, v in states.items()),
    )


def run_map(args: argparse.Namespace) -> int:
    from fuelrl.commands import _options as opt
    from fuelrl.landscape import open_landscape
    from fuelrl.outputs import atomic_output_dir

    if args.out is None:
        raise InputError(f"landscape mode ({args.landscape}) needs --out DIR, the folder for the rasters")
    landscape = open_landscape(args.landscape, **opt.landscape_kwargs(args))
    weather = map_weather(args, landscape)
    maps = compute_maps(landscape, weather, conventions=args.conventions, crown_fire=not args.no_crown_fire)
    summary = summarize(landscape, maps, weather, args)
    with atomic_output_dir(args.out) as tmp:
        write_maps(tmp, landscape, maps, summary)
    h, w = landscape.shape
    ha = summary["crown_state_ha"]
    print(
        f"fire behaviour of {h}x{w} cells ({args.conventions} conventions): "
        f"surface {ha['surface']:.0f} ha, passive {ha['passive crown']:.0f} ha, "
        f"active {ha['active crown']:.0f} ha -> {args.out}"
    )
    return 0
