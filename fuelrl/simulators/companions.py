"""Burn probability's companions: conditional flame length and flame-length probabilities.

What FlamMap MTT and FSim write beside burn probability, from the same fires:

* **conditional flame length** (CFL): per cell, the mean flame length over the fires that burn it
  (m; undefined where no fire burns the cell);
* **flame-length probabilities** (FLP): per cell, the fraction of all fires that burn it with a
  flame length in each of FSim's six classes, 0-2, 2-4, 4-6, 6-8, 8-12 and > 12 ft
  (:data:`FLAME_CLASS_EDGES_FT`; a class includes its lower edge). The six sum to the burn
  probability.

The flame length a cell burns with, in one fire (docs/science.md): the front crosses the cell at
the rate R = 1 / |grad T| (T the fire's arrival times; central differences over the 4
neighbours, one-sided where a neighbour did not burn), bounded by the cell's backing and head
rates for that fire's weather (the raster estimate is noisy and the front cannot outrun the
head fire; the head rate where the gradient vanishes, e.g. at the ignition). Byram's intensity
is defined with the rate normal to the front, so the cell's fireline intensity is its head fire's
scaled by R / R_head, and the flame length is Byram's (surface fire) or Thomas's (crown fire) of
that intensity (:func:`fuelrl.physics.cellwise.behavior_at_rate`). A cell reached by a flank or
backing fire thus burns with a shorter flame than its head-fire flame length. FlamMap MTT does
the same: on TestMTT its fireline intensity map is INTENSITY x ROS_mtt / SPREADRATE, cell for
cell, and the distribution of ROS_mtt / SPREADRATE matches that of our R / R_head.

The per-cell head fire comes from :func:`fuelrl.physics.behavior.fire_behavior` with the fires'
weather and the breaks applied (treated cells take the treatment fuel model), computed once per
weather group, on the CPU in float64 like the backends' physics.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch

from fuelrl.simulators.base import SPREAD_LAYERS, ScenarioSet, SimulationOptions, TileBatch

#: FSim's flame-length class edges (ft): 0-2, 2-4, 4-6, 6-8, 8-12, > 12
FLAME_CLASS_EDGES_FT: tuple[float, ...] = (2.0, 4.0, 6.0, 8.0, 12.0)
#: band descriptions of the flame-length probability raster
FLAME_CLASS_NAMES: tuple[str, ...] = ("0-2 ft", "2-4 ft", "4-6 ft", "6-8 ft", "8-12 ft", ">12 ft")
M_PER_FT = 0.3048
FLAME_CLASS_EDGES_M = np.asarray(FLAME_CLASS_EDGES_FT) * M_PER_FT


def burned_cells(arrival_min: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(fire index, flat cell index, front-normal slowness |grad T| in min per cell) of every
    burned cell of ``arrival_min`` [f, H, W]: the work follows the burned cells, not the grid.

    Central differences over the 4 neighbours, one-sided where only one neighbour along an axis
    burned, 0 where neither did (both axes 0: e.g. the ignition cell)."""
    f, h, w = arrival_min.shape
    t = arrival_min
    padded = torch.nn.functional.pad(t, (1, 1, 1, 1), value=math.inf).reshape(-1)
    fire, row, col = torch.nonzero(torch.isfinite(t), as_tuple=True)
    w2 = w + 2
    at = fire * ((h + 2) * w2) + (row + 1) * w2 + (col + 1)
    centre = padded[at].double()  # float64 on the burned cells only
    zero = torch.zeros((), dtype=torch.float64, device=t.device)

    def axis(step: int) -> torch.Tensor:
        before, after = padded[at - step].double(), padded[at + step].double()
        fb, fa = torch.isfinite(before), torch.isfinite(after)
        b = torch.where(fb, before, zero)
        a = torch.where(fa, after, zero)
        one_sided = torch.where(fa, a - centre, torch.where(fb, centre - b, zero))
        return torch.where(fb & fa, (a - b) / 2.0, one_sided)

    d_col, d_row = axis(1), axis(w2)
    return fire, row * w + col, torch.sqrt(d_col * d_col + d_row * d_row)


def front_normal_rate_m_min(arrival_min: torch.Tensor, cell_size_m: float) -> torch.Tensor:
    """The rate (m/min) at which the front crosses each cell, normal to it: 1 / |grad T| of the
    arrival times T [..., H, W] (min), as :func:`burned_cells` estimates it; ``inf`` where the
    gradient is zero and NaN where the cell did not burn."""
    shape = arrival_min.shape
    t = arrival_min.reshape(-1, *shape[-2:])
    fire, cell, slowness = burned_cells(t)
    out = torch.full(t.shape, math.nan, dtype=t.dtype, device=t.device).reshape(t.shape[0], -1)
    per_m = slowness / float(cell_size_m)
    out[fire, cell] = torch.where(per_m > 0, 1.0 / torch.where(per_m > 0, per_m, 1.0), math.inf)
    return out.reshape(shape)


def head_fire_fields(
    tiles: TileBatch, breaks: torch.Tensor, options: SimulationOptions, weather: dict[str, Any]
) -> dict[str, np.ndarray]:
    """The head fire of every cell of tile 0 for one weather (SI: ``wind_speed_20ft_m_min``,
    ``wind_from_deg``, ``moisture_fraction`` [5], ``foliar_moisture_fraction``; each a number
    or an [H, W] array, moisture [H, W, 5]): ros, eccentricity, direction, intensity, fire type."""
    from fuelrl.physics.cellwise import landscape_behavior
    from fuelrl.simulators.spread import effective_fuel

    fuel = effective_fuel(tiles, breaks, options)[0].cpu().numpy().astype(np.int64)
    layers = {"fuel_model": fuel}
    for name in SPREAD_LAYERS[1:]:
        layers[name] = getattr(tiles, name)[0].detach().cpu().double().numpy()
    keep = ("ros_head_m_min", "eccentricity", "direction_max_deg", "fireline_intensity_kw_m", "fire_type")
    fb = landscape_behavior(
        layers, conventions=options.conventions, crown_fire=options.crown_fire, keep=keep, **weather
    )
    valid = tiles.valid[0].cpu().numpy()
    return {
        "ros_head_m_min": np.where(valid, fb.ros_head_m_min, 0.0),
        "eccentricity": np.asarray(fb.eccentricity),
        "direction_max_deg": np.asarray(fb.direction_max_deg),
        "fireline_intensity_kw_m": np.asarray(fb.fireline_intensity_kw_m),
        "fire_type": np.asarray(fb.fire_type),
    }


def burning_flame_lengths_m(
    arrival_min: torch.Tensor, head: dict[str, np.ndarray], cell_size_m: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(fire index, flat cell index, flame length m) of every cell the fires [f, H, W] burn, for
    fires sharing the head fire ``head`` (:func:`head_fire_fields`); see the module docstring."""
    from fuelrl.physics.cellwise import behavior_at_rate

    dev, dt = arrival_min.device, torch.float64
    fire, cell, slowness = burned_cells(arrival_min)

    def at(name: str) -> torch.Tensor:
        kind = torch.int64 if name == "fire_type" else dt
        return torch.as_tensor(np.ascontiguousarray(head[name]).reshape(-1), device=dev, dtype=kind)[cell]

    ros_head, e = at("ros_head_m_min"), at("eccentricity")
    per_m = slowness / float(cell_size_m)
    rate = torch.where(per_m > 0, 1.0 / torch.where(per_m > 0, per_m, 1.0), ros_head)
    backing = ros_head * (1.0 - e) / (1.0 + e)
    rate = torch.minimum(torch.maximum(rate, backing), ros_head)
    _, flame = behavior_at_rate(ros_head, at("fireline_intensity_kw_m"), at("fire_type"), rate)
    return fire, cell, flame


def burning_flame_length_m(
    arrival_min: torch.Tensor, head: dict[str, np.ndarray], cell_size_m: float
) -> torch.Tensor:
    """:func:`burning_flame_lengths_m` as a grid [f, H, W], NaN where the cell did not burn."""
    fire, cell, flame = burning_flame_lengths_m(arrival_min, head, cell_size_m)
    f, h, w = arrival_min.shape
    out = torch.full((f, h * w), math.nan, dtype=torch.float64, device=arrival_min.device)
    out[fire, cell] = flame
    return out.reshape(f, h, w)


class FlameStats:
    """Accumulates the flame lengths cells burn with over chunks of fires on one tile.

    ``add(arrival_min [f, H, W], scenarios)`` for each chunk (``scenarios``: the chunk's
    :class:`ScenarioSet` on tile 0 of ``tiles``); then :meth:`conditional_flame_length_m` and
    :meth:`flame_length_probability` for the N fires of all chunks. Head fires are computed once
    per distinct weather and cached (with gridded weather on the tiles, cell by cell as the
    backends do). Flame lengths are summed as integer micrometres and counted in int64 on the
    CPU, so chunks and processes (:meth:`state`, :meth:`combined`) give the same bits in any order.
    """

    def __init__(self, tiles: TileBatch, breaks: torch.Tensor, options: SimulationOptions):
        _, h, w = tiles.shape
        self.tiles, self.breaks, self.options = tiles, breaks, options
        self.cell_size_m = float(tiles.cell_size_m)
        self.flame_sum_um = np.zeros((h, w), np.int64)  # exact integer sums: any order, same bits
        self.burned = np.zeros((h, w), np.int64)
        self.class_counts = np.zeros((len(FLAME_CLASS_NAMES), h, w), np.int64)
        self._heads: dict[tuple[float, ...], dict[str, np.ndarray]] = {}
        self.seconds = 0.0  # time spent in add (head fires included)

    def _weather(self, key: tuple[float, ...]) -> dict[str, Any]:
        wind, wind_from, foliar, moisture = key[0], key[1], key[2], np.asarray(key[3:])
        if getattr(self.tiles, "gridded", False):  # per-cell weather, as the backends apply it
            from fuelrl.simulators.fields import PhysicsFormat
            from fuelrl.simulators.spread import cell_weather

            fmt = PhysicsFormat(np)
            w, d, m = cell_weather(
                self.tiles,
                np.zeros(1, np.int64),
                np.full((1, 1, 1), wind),
                np.full((1, 1, 1), wind_from),
                moisture.reshape(1, 1, 1, 5),
                fmt,
            )
            wind, wind_from, moisture = (np.asarray(x)[0] for x in (w, d, m))
        return {
            "wind_speed_20ft_m_min": wind,
            "wind_from_deg": wind_from,
            "foliar_moisture_fraction": foliar,
            "moisture_fraction": moisture,
        }

    def _head(self, scenarios: ScenarioSet, f: int) -> tuple[tuple[float, ...], dict[str, np.ndarray]]:
        s = scenarios
        key = (
            float(s.wind_speed_20ft_m_min[0, f]),
            float(s.wind_from_deg[0, f]),
            float(s.foliar_moisture_fraction[0, f]),
            *(float(m) for m in s.moisture_fraction[0, f].tolist()),
        )
        if key not in self._heads:
            self._heads[key] = head_fire_fields(self.tiles, self.breaks, self.options, self._weather(key))
        return key, self._heads[key]

    def add(self, arrival_min: torch.Tensor, scenarios: ScenarioSet) -> None:
        """Count the fires of one chunk: ``arrival_min`` [f, H, W] (``inf`` = not burned)."""
        start = time.perf_counter()
        groups: dict[tuple[float, ...], list[int]] = {}
        heads = {}
        for f in range(arrival_min.shape[0]):
            key, head = self._head(scenarios, f)
            groups.setdefault(key, []).append(f)
            heads[key] = head
        hw = self.burned.size
        for key, fires in groups.items():
            idx = torch.as_tensor(fires, device=arrival_min.device)
            _, cell, flame = burning_flame_lengths_m(
                arrival_min.index_select(0, idx), heads[key], self.cell_size_m
            )
            cell, flame = cell.cpu().numpy(), flame.cpu().numpy()
            self.burned += np.bincount(cell, minlength=hw).reshape(self.burned.shape)
            um = np.rint(flame * 1e6).astype(np.int64)
            sums = np.zeros(hw, np.int64)
            np.add.at(sums, cell, um)
            self.flame_sum_um += sums.reshape(self.burned.shape)
            cls = np.searchsorted(FLAME_CLASS_EDGES_M, flame, side="right")
            self.class_counts += np.bincount(cls * hw + cell, minlength=self.class_counts.size).reshape(
                self.class_counts.shape
            )
        self.seconds += time.perf_counter() - start

    def state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(flame sums, burn counts, class counts): what :meth:`combined` merges."""
        return self.flame_sum_um, self.burned, self.class_counts

    def combined(self, states: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> FlameStats:
        """This accumulator holding the sum of ``states`` (e.g. every process's, in rank order)."""
        self.flame_sum_um = sum((s[0] for s in states[1:]), states[0][0].copy())
        self.burned = sum((s[1] for s in states[1:]), states[0][1].copy())
        self.class_counts = sum((s[2] for s in states[1:]), states[0][2].copy())
        return self

    def conditional_flame_length_m(self) -> np.ndarray:
        """Mean flame length (m) over the fires that burned each cell; NaN where none did."""
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_um = self.flame_sum_um / np.maximum(self.burned, 1)
            return np.where(self.burned > 0, mean_um * 1e-6, np.nan)

    def flame_length_probability(self, fires: int) -> np.ndarray:
        """[6, H, W]: fraction of the ``fires`` fires burning each cell in each flame class."""
        return self.class_counts / float(max(int(fires), 1))

    def describe(self) -> dict[str, Any]:
        """For summary.json: the definition and the classes."""
        return {
            "definition": "flame length at the front-normal rate 1/|grad arrival time|, bounded by the "
            "cell's backing and head rates (docs/science.md)",
            "classes_ft": list(FLAME_CLASS_NAMES),
        }

    def raster_specs(self, fires: int) -> list[dict[str, Any]]:
        """conditional_flame_length (m, -9999 where no fire burned) and flame_length_probability
        (6 bands, fractions, -1 outside the landscape and on non-burnable cells) as keyword arguments of
        :class:`fuelrl.reports.rasters.Raster`."""
        return [
            {
                "name": "conditional_flame_length",
                "values": self.conditional_flame_length_m(),
                "nodata": -9999.0,
                "description": f"conditional flame length (mean where a cell burns, m; {fires} fires)",
                "units": "m",
                "outside": "nonfinite",
            },
            {
                "name": "flame_length_probability",
                "values": self.flame_length_probability(fires),
                "nodata": -1.0,
                "description": [f"probability of burning with flame length {c}" for c in FLAME_CLASS_NAMES],
                "units": ["fraction"] * len(FLAME_CLASS_NAMES),
                "outside": "nonburnable",  # as burn probability: -1 non-burnable, 0 never burned
            },
        ]
