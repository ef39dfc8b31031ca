"""Gridded weather of FireEnv's tiles (``EnvConfig.wind_grids``, ``EnvConfig.moisture_grids``).

* ``wind_grids``: ``[]`` or one ``"SPEED.tif,DIR.tif"`` per landscape of ``EnvConfig.landscapes``
  (after expansion, in the dataset's order; ``""`` for a landscape without one): the 20-ft wind
  speed (mph) and the azimuth it blows from, on the landscape's grid or resampled to it.
* ``moisture_grids``: ``[]`` or one ``"1H,10H,100H,HERB,WOODY"`` per landscape, each entry a raster
  path or empty (that class keeps the config's scalar moisture), e.g. ``"m1.tif,m10.tif,m100.tif,,"``.

Each landscape's grids are read once (:func:`fuelrl.landscape.weather_grids.read_weather_grids`)
and every drawn tile gets the window of them under it. The weather distribution of the config
perturbs the base grid: a fire's drawn 20-ft wind speed and direction are the grid's *reference*
wind for that fire (the grid scaled by drawn / reference speed, turned by drawn - reference
direction), and gridded moisture classes replace the drawn ones cell by cell. See
docs/simulation.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from fuelrl.errors import InputError
from fuelrl.landscape.weather_grids import MOISTURE_CLASSES, GriddedWeather
from fuelrl.simulators.base import GRID_FIELDS


def _parse(wind: list[str], moisture: list[str], specs: list[str]) -> list[dict[str, Any]]:
    """Per landscape: {"wind": (speed, dir)} and/or {"moisture": {class: path}}."""
    out: list[dict[str, Any]] = [{} for _ in specs]
    for name, items in (("wind_grids", wind), ("moisture_grids", moisture)):
        if not isinstance(items, list | tuple):
            raise InputError(f"EnvConfig.{name} must be a list of strings; got {items!r}")
        if items and len(items) != len(specs):
            raise InputError(
                f"EnvConfig.{name} has {len(items)} entries for {len(specs)} landscape(s) "
                f"({', '.join(specs)}); give one per landscape ('' for none)"
            )
    for i, item in enumerate(wind):
        parts = [p.strip() for p in str(item).split(",")] if str(item).strip() else []
        if parts and len(parts) != 2:
            raise InputError(f"EnvConfig.wind_grids[{i}] must be 'SPEED.tif,DIR.tif' or ''; got {item!r}")
        if parts:
            out[i]["wind"] = (Path(parts[0]), Path(parts[1]))
    for i, item in enumerate(moisture):
        if not str(item).strip():
            continue
        parts = [p.strip() for p in str(item).split(",")]
        if len(parts) != len(MOISTURE_CLASSES):
            raise InputError(
                f"EnvConfig.moisture_grids[{i}] must be 5 comma-separated raster paths or empty "
                f"entries (1H,10H,100H,HERB,WOODY); got {item!r}"
            )
        paths = {n: Path(p) for n, p in zip(MOISTURE_CLASSES, parts, strict=True) if p}
        if paths:
            out[i]["moisture"] = paths
    return out


class TileWeather:
    """Reads each landscape's gridded weather once and crops it under the drawn tiles."""

    def __init__(self, wind_grids: list[str], moisture_grids: list[str], specs: list[str]):
        self.specs = list(specs)
        self._files = _parse(list(wind_grids or []), list(moisture_grids or []), self.specs)
        self._grids: dict[int, GriddedWeather | None] = {}
        names: list[str] = []
        if any("wind" in f for f in self._files):
            names += ["grid_wind_speed_ratio", "grid_wind_turn_deg"]
        for cls in MOISTURE_CLASSES:
            if any(cls in f.get("moisture", {}) for f in self._files):
                names.append(f"grid_moisture_{cls}_fraction")
        self.fields = tuple(n for n in GRID_FIELDS if n in names)

    @property
    def active(self) -> bool:
        return bool(self.fields)

    def grids_of(self, source: int) -> GriddedWeather | None:
        """The whole landscape ``source``'s gridded weather (read on first use)."""
        if source not in self._grids:
            files = self._files[source]
            if not files:
                self._grids[source] = None
            else:
                from fuelrl.landscape import open_landscape
                from fuelrl.landscape.weather_grids import read_weather_grids

                landscape = open_landscape(self.specs[source])
                self._grids[source] = read_weather_grids(
                    landscape, wind=files.get("wind"), moisture=files.get("moisture")
                )
        return self._grids[source]

    def windows(self, tiles: list[Any], sources: list[int]) -> list[GriddedWeather | None]:
        """The gridded weather under each tile (``tile.offset_rowcol`` in landscape ``source``)."""
        out = []
        for tile, source in zip(tiles, sources, strict=True):
            grids = self.grids_of(int(source))
            if grids is None:
                out.append(None)
                continue
            (r, c), (h, w) = tile.offset_rowcol, tile.fuel_model.shape
            out.append(grids.window(int(r), int(c), int(h), int(w)))
        return out

    def tensors(self, tiles: list[Any], sources: list[int], device: Any) -> dict[str, torch.Tensor]:
        """Every configured grid field [n, H, W] of the tiles (tiles without a grid: ratio 1,
        turn 0, NaN moisture, i.e. the fires' own weather)."""
        from fuelrl.simulators.base import grid_tensors

        n = len(tiles)
        h, w = tiles[0].fuel_model.shape
        got = grid_tensors(self.windows(tiles, sources), (h, w), device)
        fill = {"grid_wind_speed_ratio": 1.0, "grid_wind_turn_deg": 0.0}
        return {
            name: got.get(
                name, torch.full((n, h, w), fill.get(name, np.nan), dtype=torch.float32, device=device)
            )
            for name in self.fields
        }
