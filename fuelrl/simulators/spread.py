"""Per-cell directional spread rates for the MTT graph, from the physics, grouped by weather.

Fires on the same tile with identical weather (20-ft wind, direction, moistures, foliar moisture)
share their spread field, so the physics and the edge times are computed once per *group*
(a tile x weather pair), not once per fire. :func:`weather_groups` finds the groups;
:func:`inverse_ros` runs :func:`fuelrl.physics.behavior.fire_behavior` on a set of groups at once
and returns 1 / ROS toward each of the 16 edge azimuths, [G, 16, H, W], in a
:class:`~fuelrl.simulators.fields.PhysicsFormat` (numpy float64 on a CPU, torch on another device).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import torch

from fuelrl.simulators.base import MOISTURE_CLASSES, SPREAD_LAYERS, ScenarioSet, SimulationOptions, TileBatch
from fuelrl.simulators.fields import PhysicsFormat, SpreadFields, TileSpread
from fuelrl.simulators.mtt import AZIMUTHS_DEG

__all__ = ["PhysicsFormat", "SpreadFields", "TileSpread", "WeatherGroups", "inverse_ros", "weather_groups"]


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


def same_weather_groups(a: ScenarioSet, b: ScenarioSet) -> bool:
    """Whether two fire sets fall into the same weather groups (the same tiles and weathers, in
    the same order), so that spread fields prepared for one serve the other."""
    ga, gb = weather_groups(a), weather_groups(b)
    names = ("tile", "wind_speed_20ft_m_min", "wind_from_deg", "moisture_fraction")
    names += ("foliar_moisture_fraction",)
    return all(np.array_equal(getattr(ga, n), getattr(gb, n)) for n in names)


def effective_fuel(tiles: TileBatch, breaks: torch.Tensor, options: SimulationOptions) -> torch.Tensor:
    """Fuel model codes [B, H, W] with break cells replaced by the treatment fuel model."""
    treated = torch.full_like(tiles.fuel_model, int(options.treatment_fuel_model))
    return torch.where(breaks.to(tiles.fuel_model.device, torch.bool), treated, tiles.fuel_model)


def burnable_cells(tiles: TileBatch, breaks: torch.Tensor, options: SimulationOptions) -> torch.Tensor:
    """bool [B, H, W]: valid cells whose (treated) fuel model burns."""
    from fuelrl.physics.fuel_models import is_burnable

    fuel = effective_fuel(tiles, breaks, options)
    return torch.as_tensor(is_burnable(fuel), device=fuel.device).bool() & tiles.valid.bool()


def _layers(tiles: TileBatch, fuel: torch.Tensor, idx: np.ndarray, fmt: PhysicsFormat) -> dict[str, Any]:
    index = torch.as_tensor(idx, device=fuel.device)
    out: dict[str, Any] = {"fuel_model": fmt.asarray(fuel.index_select(0, index), int)}
    for name in SPREAD_LAYERS[1:]:
        out[name] = fmt.asarray(getattr(tiles, name).index_select(0, index))
    return out


def cell_weather(
    tiles: TileBatch, tile_idx: np.ndarray, wind: Any, wind_from: Any, moisture: Any, fmt: PhysicsFormat
) -> tuple[Any, Any, Any]:
    """The per-cell weather of groups on tiles ``tile_idx`` with gridded weather
    (:data:`~fuelrl.simulators.base.GRID_FIELDS`): the group's 20-ft wind ``wind`` [G, 1, 1] (m/min)
    times each cell's ratio, its direction ``wind_from`` [G, 1, 1] turned by each cell's turn, and
    its moistures ``moisture`` [G, 1, 1, 5] replaced by each gridded class's cell values (NaN cells
    keep the group's). Returns [G, H, W] (moisture [G, H, W, 5]) arrays of ``fmt``; fields that
    are not gridded stay as given (they broadcast)."""
    xp = fmt.xp
    index = torch.as_tensor(tile_idx, device=tiles.device)

    def grid(name: str) -> Any:
        t = getattr(tiles, name)
        return None if t is None else fmt.asarray(t.index_select(0, index))

    ratio, turn = grid("grid_wind_speed_ratio"), grid("grid_wind_turn_deg")
    if ratio is not None:
        wind = wind * ratio
    if turn is not None:
        wind_from = (wind_from + turn) % 360.0
    classes = [grid(f"grid_moisture_{name}_fraction") for name in MOISTURE_CLASSES]
    if any(c is not None for c in classes):
        shape = next(c for c in classes if c is not None).shape
        moisture = fmt.stack(
            [
                fmt.full(shape, 0.0) + moisture[..., k]
                if c is None
                else xp.where(xp.isnan(c), moisture[..., k], c)
                for k, c in enumerate(classes)
            ],
            axis=-1,
        )
    return wind, wind_from, moisture


def inverse_ros(
    tiles: TileBatch,
    breaks: torch.Tensor,
    groups: WeatherGroups,
    group_ids: np.ndarray,
    options: SimulationOptions,
    fmt: PhysicsFormat,
) -> tuple[Any, Any]:
    """1 / directional ROS (min/m) [G', 16, H, W] and burnable cells [G', H, W] for ``group_ids``.

    ``inf`` where fire cannot enter the cell (non-burnable, nodata, treated as a break with a
    non-burnable treatment, or a spread rate of 0). The physics runs on arrays of ``fmt``
    (:meth:`PhysicsFormat.for_device` says which).
    """
    from fuelrl.physics.behavior import fire_behavior, ros_at_azimuth
    from fuelrl.physics.fuel_models import is_burnable

    group_ids = np.asarray(group_ids, dtype=np.int64)
    fuel = effective_fuel(tiles, breaks, options)
    tile_idx = groups.tile[group_ids]
    lay = _layers(tiles, fuel, tile_idx, fmt)
    valid = fmt.asarray(tiles.valid.index_select(0, torch.as_tensor(tile_idx, device=fuel.device)), bool)

    def weather(x: np.ndarray, extra: int = 0) -> Any:
        shape = (len(group_ids), 1, 1) + ((x.shape[-1],) if extra else ())
        return fmt.asarray(np.ascontiguousarray(x[group_ids]).reshape(shape))

    wind, wind_from, moisture = (
        weather(groups.wind_speed_20ft_m_min),
        weather(groups.wind_from_deg),
        weather(groups.moisture_fraction, extra=1),
    )
    if tiles.gridded:
        wind, wind_from, moisture = cell_weather(tiles, tile_idx, wind, wind_from, moisture, fmt)
    fb = fire_behavior(
        *(lay[name] for name in SPREAD_LAYERS),
        wind_speed_20ft_m_min=wind,
        wind_from_deg=wind_from,
        moisture_fraction=moisture,
        foliar_moisture_fraction=weather(groups.foliar_moisture_fraction),
        conventions=options.conventions,
        crown_fire=options.crown_fire,
    )
    xp = fmt.xp
    az = fmt.asarray(AZIMUTHS_DEG).reshape(1, -1, 1, 1)
    burn = fmt.asarray(is_burnable(lay["fuel_model"]), bool) & valid
    head, ecc, dirn = (
        fmt.asarray(v)[:, None] for v in (fb.ros_head_m_min, fb.eccentricity, fb.direction_max_deg)
    )
    ros = fmt.asarray(ros_at_azimuth(head, ecc, dirn, az))
    ok = burn[:, None] & (ros > 0) & xp.isfinite(ros)
    inv = xp.where(ok, 1.0 / xp.where(ok, ros, fmt.full((), 1.0)), fmt.full((), math.inf))
    return inv, burn


# ---------------------------------------------------------------------------------------------
# Spread fields computed once per fire set (SimulatorBackend.prepare), breaks applied per call
# ---------------------------------------------------------------------------------------------

#: default limit of :func:`prepare_spread`'s cache (float64 1/ROS: G x 16 x H x W x 8 bytes)
PREPARE_MAX_MB = 1024.0


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
    fmt: PhysicsFormat,
    *,
    max_mb: float = PREPARE_MAX_MB,
) -> SpreadFields | None:
    """The spread fields without breaks of every weather group of ``scenarios``, one
    :class:`TileSpread` per tile, computed by :func:`inverse_ros` in ``fmt``.

    Returns ``None`` (nothing cached: each call then recomputes) when the cache would exceed
    ``max_mb`` MiB. The physics runs for at most ~2^18 cells per call (bigger arrays fall out of
    cache), so the result is the same as the unprepared path's, number for number.
    """
    b, h, w = tiles.shape
    groups = weather_groups(scenarios)
    n = len(groups)
    if n * 16 * h * w * (torch.finfo(fmt.dtype).bits // 8) > max_mb * 2**20:
        return None
    none = torch.zeros((b, h, w), dtype=torch.bool, device=tiles.device)
    per_call = max(1, 2**18 // (h * w))
    parts = [
        inverse_ros(tiles, none, groups, np.arange(i, min(n, i + per_call)), options, fmt)
        for i in range(0, n, per_call)
    ]
    inv = fmt.concatenate([p[0] for p in parts]) if parts else fmt.full((0, 16, h, w), 0.0)
    burn = fmt.concatenate([p[1] for p in parts]) if parts else fmt.full((0, h, w), False, dtype=bool)
    return spread_fields_of_groups(scenarios, inv, burn, fmt)


def spread_fields_of_groups(
    scenarios: ScenarioSet, inv_ros: Any, burnable: Any, fmt: PhysicsFormat
) -> SpreadFields:
    """:class:`SpreadFields` from 1 / directional ROS ``inv_ros`` [G, 16, H, W] (min/m, toward the
    azimuths of :data:`fuelrl.simulators.mtt.AZIMUTHS_DEG`, ``inf`` where fire cannot enter) and
    ``burnable`` [G, H, W] of the G weather groups of ``scenarios`` in :func:`weather_groups`'
    order, arrays of ``fmt``: how a plugin with its own spread rates fills ``PreparedFires.spread``."""
    b = scenarios.shape[0]
    groups = weather_groups(scenarios)
    if inv_ros.shape[0] != len(groups) or burnable.shape[0] != len(groups):
        raise ValueError(f"spread fields for {inv_ros.shape[0]} weather groups, the fires have {len(groups)}")
    out: list[TileSpread] = []
    for t in range(b):
        rows = np.flatnonzero(groups.tile == t)  # groups are sorted by tile: a contiguous range
        lo, hi = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, 0)
        keys = {weather_key(groups, int(g)): i for i, g in enumerate(range(lo, hi))}
        out.append(TileSpread(keys, inv_ros[lo:hi], burnable[lo:hi]))
    return SpreadFields(out, fmt)


def _treatment_burns(options: SimulationOptions) -> bool:
    from fuelrl.physics.fuel_models import is_burnable

    return bool(np.asarray(is_burnable(np.asarray([int(options.treatment_fuel_model)]))).all())


def _block_breaks(inv: Any, burn: Any, sel: Any) -> None:
    """A non-burnable treatment: fire cannot enter a break cell (``sel`` [G', H, W]), in place."""
    fmt = PhysicsFormat.of(inv)
    sel = fmt.asarray(sel, bool)
    fmt.xp.moveaxis(inv, 1, -1)[sel] = math.inf
    burn[sel] = False


def group_inverse_ros(
    tiles: TileBatch,
    breaks: torch.Tensor,
    groups: WeatherGroups,
    group_ids: np.ndarray,
    options: SimulationOptions,
    fmt: PhysicsFormat,
    *,
    spread: SpreadFields | None = None,
) -> tuple[Any, Any]:
    """:func:`inverse_ros` of ``group_ids`` with ``breaks``, from the prepared ``spread`` when given.

    With ``spread`` (from :func:`prepare_spread` on the same tiles), the fields are copied from the
    cache and only the break cells are redone: a non-burnable treatment makes them impassable
    (``inf``, not burnable); a burnable treatment fuel model has the physics rerun on just those
    cells. The physics being cell by cell, the numbers are the same as :func:`inverse_ros` on the
    whole tile.
    """
    if spread is None:
        return inverse_ros(tiles, breaks, groups, group_ids, options, fmt)
    cache = spread.to_format(fmt).tiles
    group_ids = np.asarray(group_ids, dtype=np.int64)
    tile_of = groups.tile[group_ids]
    rows = [cache[int(t)].keys[weather_key(groups, int(g))] for t, g in zip(tile_of, group_ids, strict=True)]
    inv = fmt.stack([cache[int(t)].inv_ros[r] for t, r in zip(tile_of, rows, strict=True)])
    burn = fmt.stack([cache[int(t)].burnable[r] for t, r in zip(tile_of, rows, strict=True)])
    br = breaks.detach().to("cpu", torch.bool).numpy()
    if not br[np.unique(tile_of)].any():
        return inv, burn
    g_n, _, h, w = inv.shape
    if not _treatment_burns(options):
        _block_breaks(inv, burn, br[tile_of])
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
    ones = torch.ones((flat.shape[0], 1, n_max), dtype=torch.bool, device=dev)
    sub_inv, sub_burn = inverse_ros(sub, ones, groups, group_ids, options, fmt)
    jj, nn = np.nonzero(np.arange(n_max)[None, :] < counts[tile_of][:, None])  # [K] group, break slot
    jj, nn, cc = (fmt.asarray(a, int) for a in (jj, nn, cells[tile_of[jj], nn]))
    inv.reshape(g_n, 16, h * w)[jj, :, cc] = sub_inv[jj, :, 0, nn]
    burn.reshape(g_n, h * w)[jj, cc] = sub_burn[jj, 0, nn]
    return inv, burn


def window_inverse_ros(
    tiles: TileBatch,
    breaks: torch.Tensor,
    groups: WeatherGroups,
    group_ids: np.ndarray,
    origins: np.ndarray,
    size: tuple[int, int],
    options: SimulationOptions,
    fmt: PhysicsFormat,
    *,
    spread: SpreadFields | None = None,
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
    group_ids = np.asarray(group_ids, dtype=np.int64)
    n = group_ids.size
    h, w = size
    tile_of = groups.tile[group_ids].tolist()
    spans = [(int(r), int(c)) for r, c in np.asarray(origins, dtype=np.int64).reshape(n, 2)]

    def crop(x: Any) -> list[Any]:
        return [x[t, ..., r : r + h, c : c + w] for t, (r, c) in zip(tile_of, spans, strict=True)]

    br = torch.stack(crop(breaks.to(tiles.device, torch.bool)))
    cache = None if spread is None else spread.to_format(fmt).tiles
    rows = []
    if cache is not None:
        rows = [
            cache[t].keys[weather_key(groups, int(g))]
            for t, g in zip(tile_of, group_ids.tolist(), strict=True)
        ]
    if cache is not None and not (_treatment_burns(options) and bool(br.any())):
        where = list(zip(tile_of, rows, spans, strict=True))
        inv = fmt.stack([cache[t].inv_ros[k, :, r : r + h, c : c + w] for t, k, (r, c) in where])
        burn = fmt.stack([cache[t].burnable[k, r : r + h, c : c + w] for t, k, (r, c) in where])
        if bool(br.any()):
            _block_breaks(inv, burn, br)
        return inv, burn
    layers = {
        f.name: torch.stack(crop(getattr(tiles, f.name)))
        for f in fields(tiles)
        if isinstance(getattr(tiles, f.name), torch.Tensor)
    }
    sub_groups = WeatherGroups(
        tile=np.arange(n, dtype=np.int64),
        wind_speed_20ft_m_min=groups.wind_speed_20ft_m_min[group_ids],
        wind_from_deg=groups.wind_from_deg[group_ids],
        moisture_fraction=groups.moisture_fraction[group_ids],
        foliar_moisture_fraction=groups.foliar_moisture_fraction[group_ids],
        group_of_fire=np.arange(n, dtype=np.int64).reshape(n, 1),
    )
    sub_spread = None
    if cache is not None:  # a burnable treatment: group_inverse_ros reruns the physics on breaks
        sub_spread = SpreadFields(
            [
                TileSpread(
                    {weather_key(sub_groups, i): 0},
                    cache[t].inv_ros[k : k + 1, :, r : r + h, c : c + w],
                    cache[t].burnable[k : k + 1, r : r + h, c : c + w],
                )
                for i, (t, k, (r, c)) in enumerate(zip(tile_of, rows, spans, strict=True))
            ],
            fmt,
        )
    sub = replace(tiles, **layers)
    return group_inverse_ros(sub, br, sub_groups, np.arange(n), options, fmt, spread=sub_spread)
