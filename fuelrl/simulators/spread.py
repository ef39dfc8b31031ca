"""Per-cell directional spread rates for the MTT graph, from the physics, grouped by weather.

Fires on the same tile with identical weather (20-ft wind, direction, moistures, foliar moisture)
share their spread field, so the physics and the edge times are computed once per *group*
(a tile x weather pair), not once per fire. :func:`weather_groups` finds the groups;
:func:`inverse_ros` runs :func:`fuelrl.physics.behavior.fire_behavior` on a set of groups at once
(numpy or torch alike) and returns 1 / ROS toward each of the 16 edge azimuths, [G, 16, H, W].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from fuelrl.simulators.base import ScenarioSet, SimulationOptions, TileBatch
from fuelrl.simulators.mtt import AZIMUTHS_DEG


@dataclass
class WeatherGroups:
    """Fires grouped by (tile, weather). ``tile`` [G]: the tile of each group; ``weather``: the
    group's weather, arrays [G] (moisture [G, 5]); ``group_of_fire`` [B, F]: each fire's group."""

    tile: np.ndarray
    wind_speed_20ft_m_min: np.ndarray
    wind_from_deg: np.ndarray
    moisture_fraction: np.ndarray
    foliar_moisture_fraction: np.ndarray
    group_of_fire: np.ndarray

    def __len__(self) -> int:
        return int(self.tile.size)

    def fires_of(self, g: int) -> list[tuple[int, int]]:
        """(b, f) of the fires in group ``g``."""
        bs, fs = np.nonzero(self.group_of_fire == g)
        return list(zip(bs.tolist(), fs.tolist(), strict=True))


def weather_groups(scenarios: ScenarioSet) -> WeatherGroups:
    """Group the fires of ``scenarios`` by tile and identical weather (exact float equality)."""
    b, f = scenarios.shape
    tile = np.repeat(np.arange(b, dtype=np.float64), f)
    cols = [
        tile,
        scenarios.wind_speed_20ft_m_min.detach().cpu().double().numpy().reshape(-1),
        scenarios.wind_from_deg.detach().cpu().double().numpy().reshape(-1),
        scenarios.foliar_moisture_fraction.detach().cpu().double().numpy().reshape(-1),
    ]
    moist = scenarios.moisture_fraction.detach().cpu().double().numpy().reshape(b * f, -1)
    table = np.column_stack([*cols, moist]) if b * f else np.zeros((0, 9))
    keys, inverse = np.unique(table, axis=0, return_inverse=True)
    return WeatherGroups(
        tile=keys[:, 0].astype(np.int64),
        wind_speed_20ft_m_min=keys[:, 1],
        wind_from_deg=keys[:, 2],
        moisture_fraction=keys[:, 4:],
        foliar_moisture_fraction=keys[:, 3],
        group_of_fire=inverse.reshape(b, f).astype(np.int64),
    )


def effective_fuel(tiles: TileBatch, breaks: torch.Tensor, options: SimulationOptions) -> torch.Tensor:
    """Fuel model codes [B, H, W] with break cells replaced by the treatment fuel model."""
    treated = torch.full_like(tiles.fuel_model, int(options.treatment_fuel_model))
    return torch.where(breaks.to(tiles.fuel_model.device, torch.bool), treated, tiles.fuel_model)


def burnable_cells(tiles: TileBatch, breaks: torch.Tensor, options: SimulationOptions) -> torch.Tensor:
    """bool [B, H, W]: valid cells whose (treated) fuel model burns."""
    from fuelrl.physics.fuel_models import is_burnable

    fuel = effective_fuel(tiles, breaks, options)
    return torch.as_tensor(is_burnable(fuel), device=fuel.device).bool() & tiles.valid.bool()


def _layers(tiles: TileBatch, fuel: torch.Tensor, idx: np.ndarray, *, numpy: bool, dtype) -> dict[str, Any]:
    index = torch.as_tensor(idx, device=fuel.device)
    out: dict[str, Any] = {"fuel_model": fuel.index_select(0, index)}
    for name in (
        "slope_fraction",
        "aspect_deg",
        "canopy_cover_fraction",
        "canopy_height_m",
        "canopy_base_height_m",
        "canopy_bulk_density_kg_m3",
    ):
        out[name] = getattr(tiles, name).index_select(0, index).to(dtype)
    if numpy:
        out = {k: v.cpu().numpy() for k, v in out.items()}
    return out


def inverse_ros(
    tiles: TileBatch,
    breaks: torch.Tensor,
    groups: WeatherGroups,
    group_ids: np.ndarray,
    options: SimulationOptions,
    *,
    numpy: bool = True,
    dtype: torch.dtype = torch.float64,
) -> tuple[Any, Any]:
    """1 / directional ROS (min/m) [G', 16, H, W] and burnable cells [G', H, W] for ``group_ids``.

    ``inf`` where fire cannot enter the cell (non-burnable, nodata, treated as a break with a
    non-burnable treatment, or a spread rate of 0). With ``numpy=True`` the physics runs on numpy
    arrays (float64), otherwise on torch tensors on the tiles' device with ``dtype``.
    """
    from fuelrl.physics.behavior import fire_behavior, ros_at_azimuth
    from fuelrl.physics.fuel_models import is_burnable

    group_ids = np.asarray(group_ids, dtype=np.int64)
    fuel = effective_fuel(tiles, breaks, options)
    tile_idx = groups.tile[group_ids]
    lay = _layers(tiles, fuel, tile_idx, numpy=numpy, dtype=dtype)
    valid = tiles.valid.index_select(0, torch.as_tensor(tile_idx, device=fuel.device)).bool()

    def weather(x: np.ndarray, extra: int = 0) -> Any:
        shape = (len(group_ids), 1, 1) + ((x.shape[-1],) if extra else ())
        arr = np.ascontiguousarray(x[group_ids]).reshape(shape)
        return arr if numpy else torch.as_tensor(arr, dtype=dtype, device=fuel.device)

    fb = fire_behavior(
        lay["fuel_model"],
        lay["slope_fraction"],
        lay["aspect_deg"],
        lay["canopy_cover_fraction"],
        lay["canopy_height_m"],
        lay["canopy_base_height_m"],
        lay["canopy_bulk_density_kg_m3"],
        wind_speed_20ft_m_min=weather(groups.wind_speed_20ft_m_min),
        wind_from_deg=weather(groups.wind_from_deg),
        moisture_fraction=weather(groups.moisture_fraction, extra=1),
        foliar_moisture_fraction=weather(groups.foliar_moisture_fraction),
        conventions=options.conventions,
        crown_fire=options.crown_fire,
    )
    if numpy:
        az = np.asarray(AZIMUTHS_DEG, dtype=np.float64).reshape(1, -1, 1, 1)
        burn = np.asarray(is_burnable(lay["fuel_model"]), dtype=bool) & valid.cpu().numpy()
        head = np.asarray(fb.ros_head_m_min, dtype=np.float64)[:, None]
        ecc = np.asarray(fb.eccentricity, dtype=np.float64)[:, None]
        dirn = np.asarray(fb.direction_max_deg, dtype=np.float64)[:, None]
        ros = np.asarray(ros_at_azimuth(head, ecc, dirn, az), dtype=np.float64)
        ok = burn[:, None] & (ros > 0) & np.isfinite(ros)
        with np.errstate(divide="ignore"):
            inv = np.where(ok, 1.0 / np.where(ok, ros, 1.0), np.inf)
        return inv, burn
    az_t = torch.tensor(AZIMUTHS_DEG, dtype=dtype, device=fuel.device).view(1, -1, 1, 1)
    burn_t = torch.as_tensor(is_burnable(lay["fuel_model"]), device=fuel.device).bool() & valid
    head_t = torch.as_tensor(fb.ros_head_m_min, device=fuel.device).to(dtype).unsqueeze(1)
    ecc_t = torch.as_tensor(fb.eccentricity, device=fuel.device).to(dtype).unsqueeze(1)
    dir_t = torch.as_tensor(fb.direction_max_deg, device=fuel.device).to(dtype).unsqueeze(1)
    ros_t = ros_at_azimuth(head_t, ecc_t, dir_t, az_t)
    ok_t = burn_t.unsqueeze(1) & (ros_t > 0) & torch.isfinite(ros_t)
    inv_t = torch.where(ok_t, 1.0 / torch.where(ok_t, ros_t, torch.ones_like(ros_t)), math.inf)
    return inv_t, burn_t
