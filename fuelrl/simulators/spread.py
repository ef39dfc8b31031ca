"""Per-cell directional spread rates for the MTT graph, from the physics, grouped by weather.

Fires on the same tile with identical weather (20-ft wind, direction, moistures, foliar moisture)
share their spread field, so the physics and the edge times are computed once per *group*
(a tile x weather pair), not once per fire. :func:`weather_groups` finds the groups;
:func:`inverse_ros` runs :func:`fuelrl.physics.behavior.fire_behavior` on a set of groups at once
(numpy or torch alike) and returns 1 / ROS toward each of the 16 edge azimuths, [G, 16, H, W].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
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


# ---------------------------------------------------------------------------------------------
# Spread fields computed once per fire set (SimulatorBackend.prepare), breaks applied per call
# ---------------------------------------------------------------------------------------------

#: default limit of :func:`prepare_spread`'s cache (float64 1/ROS: G x 16 x H x W x 8 bytes)
PREPARE_MAX_MB = 1024.0


@dataclass
class TileSpread:
    """The spread field of one tile without breaks, for each weather group of its fires.

    ``keys`` maps a group's weather (:func:`weather_key`) to its row; ``inv_ros`` [g, 16, H, W]
    is 1 / directional ROS (min/m, float64 physics) and ``burnable`` [g, H, W], both as
    :func:`inverse_ros` returns them (numpy arrays, or torch tensors on the tiles' device).
    """

    keys: dict[tuple[float, ...], int]
    inv_ros: Any
    burnable: Any


def weather_key(groups: WeatherGroups, g: int) -> tuple[float, ...]:
    """The weather of group ``g`` as a hashable tuple (the same exact-equality key that
    :func:`weather_groups` groups fires by)."""
    return (
        float(groups.wind_speed_20ft_m_min[g]),
        float(groups.wind_from_deg[g]),
        float(groups.foliar_moisture_fraction[g]),
        *(float(m) for m in groups.moisture_fraction[g]),
    )


def prepare_spread(
    tiles: TileBatch,
    scenarios: ScenarioSet,
    options: SimulationOptions,
    *,
    numpy: bool = True,
    dtype: torch.dtype = torch.float64,
    max_mb: float = PREPARE_MAX_MB,
) -> list[TileSpread] | None:
    """The spread fields without breaks of every weather group of ``scenarios``, one
    :class:`TileSpread` per tile, computed by :func:`inverse_ros` (``numpy``, ``dtype`` as there).

    Returns ``None`` (nothing cached: each call then recomputes) when the cache would exceed
    ``max_mb`` MiB. The physics runs for at most ~2^18 cells per call (bigger arrays fall out of
    cache), so the result is the same as the unprepared path's, number for number.
    """
    b, h, w = tiles.shape
    groups = weather_groups(scenarios)
    n = len(groups)
    itemsize = 8 if numpy else torch.finfo(dtype).bits // 8
    if n * 16 * h * w * itemsize > max_mb * 2**20:
        return None
    none = torch.zeros((b, h, w), dtype=torch.bool, device=tiles.device)
    per_call = max(1, 2**18 // (h * w))
    parts = [
        inverse_ros(
            tiles, none, groups, np.arange(i, min(n, i + per_call)), options, numpy=numpy, dtype=dtype
        )
        for i in range(0, n, per_call)
    ]
    cat = np.concatenate if numpy else torch.cat
    inv = cat([p[0] for p in parts]) if parts else None
    burn = cat([p[1] for p in parts]) if parts else None
    out: list[TileSpread] = []
    for t in range(b):
        rows = np.flatnonzero(groups.tile == t)  # groups are sorted by tile: a contiguous range
        if rows.size == 0:
            empty = (0, 16, h, w)
            inv_t = np.zeros(empty) if numpy else torch.zeros(empty, dtype=dtype, device=tiles.device)
            burn_t = np.zeros((0, h, w), bool) if numpy else torch.zeros((0, h, w), dtype=torch.bool)
            out.append(TileSpread({}, inv_t, burn_t))
            continue
        lo, hi = int(rows[0]), int(rows[-1]) + 1
        keys = {weather_key(groups, int(g)): i for i, g in enumerate(range(lo, hi))}
        out.append(TileSpread(keys, inv[lo:hi], burn[lo:hi]))
    return out


def group_inverse_ros(
    tiles: TileBatch,
    breaks: torch.Tensor,
    groups: WeatherGroups,
    group_ids: np.ndarray,
    options: SimulationOptions,
    *,
    numpy: bool = True,
    dtype: torch.dtype = torch.float64,
    spread: list[TileSpread] | None = None,
) -> tuple[Any, Any]:
    """:func:`inverse_ros` of ``group_ids`` with ``breaks``, from the prepared ``spread`` when given.

    With ``spread`` (from :func:`prepare_spread` on the same tiles, and the same ``numpy`` and
    ``dtype``), the fields are copied from the cache and only the break cells are redone: a
    non-burnable treatment makes them impassable (``inf``, not burnable); a burnable treatment
    fuel model has the physics rerun on just those cells. The physics being cell by cell, the
    numbers are the same as :func:`inverse_ros` on the whole tile.
    """
    if spread is None:
        return inverse_ros(tiles, breaks, groups, group_ids, options, numpy=numpy, dtype=dtype)
    from fuelrl.physics.fuel_models import is_burnable

    group_ids = np.asarray(group_ids, dtype=np.int64)
    tile_of = groups.tile[group_ids]
    rows = [spread[int(t)].keys[weather_key(groups, int(g))] for t, g in zip(tile_of, group_ids, strict=True)]
    if numpy:
        inv = np.stack([spread[int(t)].inv_ros[r] for t, r in zip(tile_of, rows, strict=True)])
        burn = np.stack([spread[int(t)].burnable[r] for t, r in zip(tile_of, rows, strict=True)])
    else:
        inv = torch.stack([spread[int(t)].inv_ros[r] for t, r in zip(tile_of, rows, strict=True)])
        burn = torch.stack([spread[int(t)].burnable[r] for t, r in zip(tile_of, rows, strict=True)])
    br = breaks.detach().to("cpu", torch.bool).numpy()
    if not br[np.unique(tile_of)].any():
        return inv, burn
    g_n, _, h, w = inv.shape
    if not bool(np.asarray(is_burnable(np.asarray([int(options.treatment_fuel_model)]))).all()):
        # a non-burnable treatment: fire cannot enter a break cell (what inverse_ros gives there)
        sel = br[tile_of]  # [G', H, W]
        if numpy:
            inv.transpose(0, 2, 3, 1)[sel] = np.inf
            burn[sel] = False
        else:
            sel_t = torch.as_tensor(sel, device=inv.device)
            inv.permute(0, 2, 3, 1)[sel_t] = math.inf
            burn[sel_t] = False
        return inv, burn
    # a burnable treatment: rerun the physics on the break cells only, gathered into a [B, 1, N]
    # batch (N: the most breaks on a tile; shorter rows padded with their first cell, then ignored)
    flat = br.reshape(br.shape[0], -1)
    counts = flat.sum(axis=1)
    n_max = int(counts.max())
    cells = np.zeros((flat.shape[0], n_max), dtype=np.int64)
    for t in np.flatnonzero(counts):
        idx = np.flatnonzero(flat[t])
        cells[t, : idx.size] = idx
        cells[t, idx.size :] = idx[0]
    dev = tiles.device
    cells_t = torch.as_tensor(cells, device=dev)
    sub = replace(
        tiles,
        **{
            f.name: getattr(tiles, f.name).flatten(1).gather(1, cells_t).unsqueeze(1)
            for f in fields(tiles)
            if isinstance(getattr(tiles, f.name), torch.Tensor)
        },
    )
    sub_inv, sub_burn = inverse_ros(
        sub,
        torch.ones((flat.shape[0], 1, n_max), dtype=torch.bool, device=dev),
        groups,
        group_ids,
        options,
        numpy=numpy,
        dtype=dtype,
    )
    jj, nn = np.nonzero(np.arange(n_max)[None, :] < counts[tile_of][:, None])  # [K] group, break slot
    cc = cells[tile_of[jj], nn]
    if numpy:
        inv.reshape(g_n, 16, h * w)[jj, :, cc] = sub_inv[jj, :, 0, nn]
        burn.reshape(g_n, h * w)[jj, cc] = sub_burn[jj, 0, nn]
    else:
        jj_t, nn_t, cc_t = (torch.as_tensor(a, device=inv.device) for a in (jj, nn, cc))
        inv.view(g_n, 16, h * w)[jj_t, :, cc_t] = sub_inv[jj_t, :, 0, nn_t]
        burn.view(g_n, h * w)[jj_t, cc_t] = sub_burn[jj_t, 0, nn_t]
    return inv, burn


def window_inverse_ros(
    tiles: TileBatch,
    breaks: torch.Tensor,
    groups: WeatherGroups,
    group_ids: np.ndarray,
    origins: np.ndarray,
    size: tuple[int, int],
    options: SimulationOptions,
    *,
    numpy: bool = True,
    dtype: torch.dtype = torch.float64,
    spread: list[TileSpread] | None = None,
) -> tuple[Any, Any]:
    """:func:`group_inverse_ros` on windows: [n, 16, h, w] and [n, h, w] for window i of group
    ``group_ids[i]`` on its tile, rows ``origins[i, 0]`` to ``+ h``, columns ``origins[i, 1]`` to ``+ w``
    (``size = (h, w)``, every window inside the tile).

    The physics being cell by cell, a window holds the same numbers as the same cells of the whole
    tile's field, at a cost that follows the windows' area, not the tiles'. With the prepared
    ``spread`` and a non-burnable treatment the windows are cropped from it and the break cells
    made impassable; otherwise the windows become the tiles of a small batch (one weather group
    each) that :func:`group_inverse_ros` handles as it does whole tiles.
    """
    from fuelrl.physics.fuel_models import is_burnable

    group_ids = np.asarray(group_ids, dtype=np.int64)
    n = group_ids.size
    h, w = size
    tile_of = groups.tile[group_ids].tolist()
    spans = [(int(r), int(c)) for r, c in np.asarray(origins, dtype=np.int64).reshape(n, 2)]

    def crop(x: Any, lead: tuple = ()) -> list[Any]:
        return [
            x[(t, *lead, slice(r, r + h), slice(c, c + w))] for t, (r, c) in zip(tile_of, spans, strict=True)
        ]

    br = torch.stack(crop(breaks.to(tiles.device, torch.bool)))
    treat_burns = bool(np.asarray(is_burnable(np.asarray([int(options.treatment_fuel_model)]))).all())
    if spread is not None and not (treat_burns and bool(br.any())):
        rows = [
            spread[t].keys[weather_key(groups, int(g))]
            for t, g in zip(tile_of, group_ids.tolist(), strict=True)
        ]
        where = list(zip(tile_of, rows, spans, strict=True))
        inv_l = [spread[t].inv_ros[k, :, r : r + h, c : c + w] for t, k, (r, c) in where]
        burn_l = [spread[t].burnable[k, r : r + h, c : c + w] for t, k, (r, c) in where]
        stack = np.stack if numpy else torch.stack
        inv, burn = stack(inv_l), stack(burn_l)
        if bool(br.any()):  # a non-burnable treatment: fire cannot enter a break cell
            if numpy:
                sel = br.cpu().numpy()
                inv.transpose(0, 2, 3, 1)[sel] = np.inf
            else:
                sel = br.to(inv.device)
                inv.permute(0, 2, 3, 1)[sel] = math.inf
            burn[sel] = False
        return inv, burn
    layers = {
        f.name: torch.stack(crop(getattr(tiles, f.name)))
        for f in fields(tiles)
        if isinstance(getattr(tiles, f.name), torch.Tensor)
    }
    sub = replace(tiles, **layers)
    sub_groups = WeatherGroups(
        tile=np.arange(n, dtype=np.int64),
        wind_speed_20ft_m_min=groups.wind_speed_20ft_m_min[group_ids],
        wind_from_deg=groups.wind_from_deg[group_ids],
        moisture_fraction=groups.moisture_fraction[group_ids],
        foliar_moisture_fraction=groups.foliar_moisture_fraction[group_ids],
        group_of_fire=np.arange(n, dtype=np.int64).reshape(n, 1),
    )
    sub_spread = None
    if spread is not None:  # a burnable treatment: group_inverse_ros reruns the physics on breaks
        sub_spread = []
        for i, (t, g) in enumerate(zip(tile_of, group_ids.tolist(), strict=True)):
            k = spread[t].keys[weather_key(groups, g)]
            r, c = spans[i]
            ts = spread[t]
            sub_spread.append(
                TileSpread(
                    {weather_key(sub_groups, i): 0},
                    ts.inv_ros[k : k + 1, :, r : r + h, c : c + w],
                    ts.burnable[k : k + 1, r : r + h, c : c + w],
                )
            )
    return group_inverse_ros(
        sub, br, sub_groups, np.arange(n), options, numpy=numpy, dtype=dtype, spread=sub_spread
    )
