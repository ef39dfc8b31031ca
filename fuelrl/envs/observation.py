"""The observation channels of FireEnv: normalised landscape layers, the break mask, burn probability.

Each channel name says how it was scaled (``"canopy_height_m/30"`` is the canopy height in units of
30 m), so a reader of a saved observation needs nothing else. Landscape channels are computed once
per tile at reset; only the dynamic channels (break mask, burn probability and, with
``EnvConfig.dpv_channel``, the downstream protection value) change during an episode. Cells outside
the landscape (``valid`` False) are 0 in every channel.
"""

from __future__ import annotations

import torch

from fuelrl.simulators.base import PreparedFires, ScenarioSet, SimulationOptions, TileBatch
from fuelrl.simulators.fields import SpreadFields
from fuelrl.simulators.trees import dpv

#: Fuel-model groups of Scott & Burgan (2005) by code range, with the Anderson (1982) models that
#: play the same role (1-3 grass, 4-7 shrub, 8-9 timber litter, 10 timber understory, 11-13 slash).
FUEL_GROUPS: dict[str, tuple[tuple[int, int], ...]] = {
    "fuel_grass": ((101, 109), (1, 3)),
    "fuel_grass_shrub": ((121, 124),),
    "fuel_shrub": ((141, 149), (4, 7)),
    "fuel_timber_understory": ((161, 165), (10, 10)),
    "fuel_timber_litter": ((181, 189), (8, 9)),
    "fuel_slash_blowdown": ((201, 204), (11, 13)),
}

#: static landscape channels, in order (computed once per tile)
LANDSCAPE_CHANNELS: tuple[str, ...] = (
    "burnable",
    *FUEL_GROUPS,
    "elevation_m_rel/100",
    "slope_fraction",
    "aspect_sin",
    "aspect_cos",
    "canopy_cover_fraction",
    "canopy_height_m/30",
    "canopy_base_height_m/10",
    "canopy_bulk_density_kg_m3/0.3",
)

#: channels that change during an episode
DYNAMIC_CHANNELS: tuple[str, ...] = ("break", "burn_probability")

OBSERVATION_CHANNELS: tuple[str, ...] = LANDSCAPE_CHANNELS + DYNAMIC_CHANNELS

#: the optional last channel (``EnvConfig.dpv_channel``): the downstream protection value of the
#: episode's fires with the breaks so far, divided by its maximum over the tile
DPV_CHANNEL = "dpv/max"


def observation_channels(dpv_channel: bool = False) -> tuple[str, ...]:
    """The observation's channel names, in order, with or without the DPV channel (last)."""
    return OBSERVATION_CHANNELS + ((DPV_CHANNEL,) if dpv_channel else ())


#: slope above this (rise over run; 2 = 63 degrees) is clipped: it only happens on cliffs
MAX_SLOPE_FRACTION = 2.0


def fuel_group_masks(fuel_model: torch.Tensor) -> torch.Tensor:
    """bool [B, G, H, W]: which Scott & Burgan group each cell's fuel model belongs to."""
    out = []
    for ranges in FUEL_GROUPS.values():
        m = torch.zeros_like(fuel_model, dtype=torch.bool)
        for lo, hi in ranges:
            m |= (fuel_model >= lo) & (fuel_model <= hi)
        out.append(m)
    return torch.stack(out, dim=1)


def landscape_channels(
    *,
    burnable: torch.Tensor,
    valid: torch.Tensor,
    fuel_model: torch.Tensor,
    elevation_m: torch.Tensor,
    slope_fraction: torch.Tensor,
    aspect_deg: torch.Tensor,
    canopy_cover_fraction: torch.Tensor,
    canopy_height_m: torch.Tensor,
    canopy_base_height_m: torch.Tensor,
    canopy_bulk_density_kg_m3: torch.Tensor,
) -> torch.Tensor:
    """float32 [B, len(LANDSCAPE_CHANNELS), H, W] from [B, H, W] layers in SI units.

    Elevation is taken relative to the tile's mean over valid cells (absolute elevation says
    nothing about spread); aspect becomes its sine and cosine (east- and northness), 0 on flat
    cells (``aspect_deg`` < 0, the LANDFIRE flat code) and where the slope is 0.
    """
    valid_f = valid.float()
    n_valid = valid_f.sum(dim=(-2, -1), keepdim=True).clamp_min(1.0)
    elev = elevation_m.float()
    elev_mean = (elev * valid_f).sum(dim=(-2, -1), keepdim=True) / n_valid
    aspect_rad = torch.deg2rad(aspect_deg.float())
    sloped = (aspect_deg >= 0) & (slope_fraction > 0)
    channels = [
        burnable.float().unsqueeze(1),
        fuel_group_masks(fuel_model).float(),
        ((elev - elev_mean) / 100.0).unsqueeze(1),
        slope_fraction.float().clamp(0.0, MAX_SLOPE_FRACTION).unsqueeze(1),
        torch.where(sloped, torch.sin(aspect_rad), 0.0).unsqueeze(1),
        torch.where(sloped, torch.cos(aspect_rad), 0.0).unsqueeze(1),
        canopy_cover_fraction.float().clamp(0.0, 1.0).unsqueeze(1),
        (canopy_height_m.float() / 30.0).unsqueeze(1),
        (canopy_base_height_m.float() / 10.0).unsqueeze(1),
        (canopy_bulk_density_kg_m3.float() / 0.3).unsqueeze(1),
    ]
    out = torch.cat(channels, dim=1)
    return out * valid_f.unsqueeze(1)


def normalised_dpv(
    prepared: PreparedFires, breaks: torch.Tensor, arrival_min: torch.Tensor, *, ignition_guard_cells: int = 0
) -> torch.Tensor:
    """float32 [B, H, W]: the ``"dpv/max"`` channel, DPV divided by its maximum over each tile
    (``ignition_guard_cells``: as :func:`fuelrl.simulators.trees.dpv`; the planner's option).

    DPV (:func:`fuelrl.simulators.trees.dpv`) is the expected area, ha per fire, whose fire arrival
    passes through the cell in the fires' minimum-travel-time trees, with the ``breaks`` in place
    (``arrival_min`` [B, F, H, W] grown with them); it reads the spread fields the backend
    prepared (``prepared.spread``) when there are any. Divided by the tile's maximum it lies in
    [0, 1] whatever the tile's size, fire count or fire size (the same scale on a 32-cell training
    tile and a whole landscape); 0 on a tile where nothing burns. Treated cells and cells no fire
    reaches are 0.
    """
    value = dpv(prepared, breaks, arrival_min, ignition_guard_cells=ignition_guard_cells)
    top = value.flatten(1).amax(dim=1).view(-1, 1, 1)
    return torch.where(top > 0, value / top.clamp_min(1e-12), 0.0).float()


def dpv_channel(
    tiles: TileBatch,
    breaks: torch.Tensor,
    scenarios: ScenarioSet,
    arrival_min: torch.Tensor,
    options: SimulationOptions,
    *,
    spread: SpreadFields | None = None,
) -> torch.Tensor:
    """:func:`normalised_dpv` of ``tiles`` and their fires ``scenarios`` (with their prepared
    spread fields ``spread`` when known, e.g. ``PlanningProblem.spread_fields()``)."""
    prepared = PreparedFires(tiles=tiles, scenarios=scenarios, options=options, spread=spread)
    return normalised_dpv(prepared, breaks, arrival_min)


#: optional constant planes describing the fires' weather (``EnvConfig.weather_channels``), placed
#: after the dynamic channels and before ``dpv/max``: one agent then serves many weathers, and a
#: planner feeds the weather of its run (the mean over its planning fires)
WEATHER_CHANNELS: tuple[str, ...] = (
    "wind_speed_20ft_mph/30",
    "wind_to_east",
    "wind_to_north",
    "moisture_1h_pct/10",
    "duration_min/480",
)


def channel_layout(
    *, dpv_channel: bool = False, weather_channels: bool = False, value_channel: bool = False
) -> tuple[str, ...]:
    """The observation's channel names, in order: landscape, dynamic, [weather], [dpv/max],
    [value/max] (``EnvConfig.values``)."""
    return (
        OBSERVATION_CHANNELS
        + (WEATHER_CHANNELS if weather_channels else ())
        + ((DPV_CHANNEL,) if dpv_channel else ())
        + (("value/max",) if value_channel else ())
    )


def weather_planes(scenarios: ScenarioSet, shape: tuple[int, int]) -> torch.Tensor:
    """float32 [B, len(WEATHER_CHANNELS), H, W]: each tile's fire weather as constant planes.

    The mean over the tile's F fires: 20-ft wind speed (mph / 30), the unit vector of the direction
    the wind blows *toward* (east and north components, weighted by each fire's wind speed so a
    calm fire counts little; a zero mean wind gives 0, 0), 1-h dead moisture (percent / 10) and
    duration (min / 480). With one weather for all fires (``fuelrl plan`` with fixed weather flags)
    the planes are exactly that weather.
    """
    from fuelrl.physics.units import M_MIN_PER_MPH

    h, w = shape
    speed_mph = scenarios.wind_speed_20ft_m_min.double() / M_MIN_PER_MPH  # [B, F]
    to_rad = torch.deg2rad((scenarios.wind_from_deg.double() + 180.0) % 360.0)
    east = (speed_mph * torch.sin(to_rad)).mean(dim=1)
    north = (speed_mph * torch.cos(to_rad)).mean(dim=1)
    norm = torch.hypot(east, north)
    unit_e = torch.where(norm > 1e-9, east / norm.clamp_min(1e-12), 0.0)
    unit_n = torch.where(norm > 1e-9, north / norm.clamp_min(1e-12), 0.0)
    values = torch.stack(
        [
            speed_mph.mean(dim=1) / 30.0,
            unit_e,
            unit_n,
            scenarios.moisture_fraction[..., 0].double().mean(dim=1) * 100.0 / 10.0,
            scenarios.duration_min.double().mean(dim=1) / 480.0,
        ],
        dim=1,
    )
    return values.float().view(-1, len(WEATHER_CHANNELS), 1, 1).expand(-1, -1, h, w).contiguous()
