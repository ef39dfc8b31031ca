"""The simulator backend contract, shared by the built-in backends and third-party plugins.

Data crosses the contract as torch tensors (zero-copy views of numpy arrays on the CPU; resident
on the GPU for a CUDA backend), SI units, shapes named B (tiles), F (fires per tile), H, W (cells).

* :class:`TileBatch`: B tiles of landscape layers, [B, H, W] each, and optionally per-cell weather
  (:data:`GRID_FIELDS`: the fire's 20-ft wind scaled and turned cell by cell, moistures per cell).
* ``breaks``: bool [B, H, W], cells treated as fuel breaks (they take ``treatment_fuel_model``).
* :class:`ScenarioSet`: F fires per tile: an ignition cell, 20-ft wind, fuel moistures, foliar
  moisture and a duration per fire, [B, F] each (moistures [B, F, 5]).
* :class:`SimulationResult`: arrival times in minutes [B, F, H, W] (``inf`` where the cell did not
  burn within the fire's duration) and the burned area per fire in hectares [B, F].

Every backend gives the same arrival times for the same inputs (to float tolerance); the conformance
suite in :mod:`fuelrl.testing` checks it.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import numpy as np
import torch

from fuelrl.errors import InputError
from fuelrl.physics.behavior import CONVENTIONS, LAYER_ARGS
from fuelrl.physics.units import ACRES_PER_HA, M2_PER_HA
from fuelrl.simulators.fields import SpreadFields

#: order of the fuel moisture classes along the last axis of ``ScenarioSet.moisture_fraction``
MOISTURE_CLASSES = ("1h", "10h", "100h", "herb", "woody")

#: the layers a simulator reads, with their SI units (attribute names of Landscape and TileBatch):
#: fire_behavior's, in its order
SPREAD_LAYERS = LAYER_ARGS

#: optional per-cell weather of a TileBatch, [B, H, W] each (``None``: not gridded). The wind
#: fields are relative to each fire's scalar wind (cell speed = fire speed x ratio, cell direction
#: = fire direction + turn); a moisture field replaces the fire's value of its class, except in
#: cells holding NaN (there the fire's value applies).
GRID_FIELDS = (
    "grid_wind_speed_ratio",
    "grid_wind_turn_deg",
    *(f"grid_moisture_{name}_fraction" for name in MOISTURE_CLASSES),
)


def grid_tensors(weather: Sequence[Any], shape: tuple[int, int], device: Any) -> dict[str, torch.Tensor]:
    """The :data:`GRID_FIELDS` of tiles from their gridded weather (``GriddedWeather`` or ``None``
    each, see :mod:`fuelrl.landscape.weather_grids`): a field is present when any tile has it;
    tiles without it get ratio 1 / turn 0 / NaN moisture (the fire's own weather)."""
    out: dict[str, torch.Tensor] = {}

    def field_of(w: Any, name: str) -> np.ndarray | None:
        if w is None:
            return None
        if name == "grid_wind_speed_ratio":
            return w.wind_speed_ratio()
        if name == "grid_wind_turn_deg":
            return w.wind_turn_deg()
        return w.moisture_fraction.get(name[len("grid_moisture_") : -len("_fraction")])

    fill = {"grid_wind_speed_ratio": 1.0, "grid_wind_turn_deg": 0.0}
    for name in GRID_FIELDS:
        arrays = [field_of(w, name) for w in weather]
        if all(a is None for a in arrays):
            continue
        for a in arrays:
            if a is not None and tuple(a.shape) != shape:
                raise InputError(f"gridded weather of shape {tuple(a.shape)} for tiles of shape {shape}")
        full = [np.full(shape, fill.get(name, np.nan), np.float32) if a is None else a for a in arrays]
        out[name] = torch.stack([_as_tensor(a, torch.float32, device) for a in full])
    return out


def _as_tensor(x: Any, dtype: torch.dtype, device: torch.device | str | None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype, device=device)


@dataclass
class TileBatch:
    """B landscape tiles, [B, H, W] tensors in SI units.

    ``fuel_model`` holds fuel model codes (Scott & Burgan 101-204, Anderson 1-13, non-burnable 91-99;
    0 for nodata); ``slope_fraction`` is rise over run; ``aspect_deg`` the azimuth the slope faces
    (downslope, degrees clockwise from north); cover as a fraction; heights in m; bulk density kg/m3.
    """

    fuel_model: torch.Tensor
    slope_fraction: torch.Tensor
    aspect_deg: torch.Tensor
    canopy_cover_fraction: torch.Tensor
    canopy_height_m: torch.Tensor
    canopy_base_height_m: torch.Tensor
    canopy_bulk_density_kg_m3: torch.Tensor
    valid: torch.Tensor
    cell_size_m: float
    grid_wind_speed_ratio: torch.Tensor | None = None
    grid_wind_turn_deg: torch.Tensor | None = None
    grid_moisture_1h_fraction: torch.Tensor | None = None
    grid_moisture_10h_fraction: torch.Tensor | None = None
    grid_moisture_100h_fraction: torch.Tensor | None = None
    grid_moisture_herb_fraction: torch.Tensor | None = None
    grid_moisture_woody_fraction: torch.Tensor | None = None

    @classmethod
    def stack(
        cls,
        tiles: Sequence[Any],
        device: torch.device | str | None = None,
        *,
        weather: Sequence[Any] | None = None,
    ) -> TileBatch:
        """Stack landscape-like objects (a ``Landscape`` or tile: attributes named as in
        :data:`SPREAD_LAYERS` plus ``valid`` and ``cell_size_m``) into one batch; ``weather``:
        one gridded weather per tile (a ``GriddedWeather`` on the tile's grid, or ``None``)."""
        if not tiles:
            raise InputError("TileBatch.stack needs at least one tile")
        sizes = {float(t.cell_size_m) for t in tiles}
        if len(sizes) != 1:
            raise InputError(f"tiles in one batch must share a cell size; got {sorted(sizes)} m")
        shapes = {tuple(np.shape(t.fuel_model)) for t in tiles}
        if len(shapes) != 1:
            raise InputError(f"tiles in one batch must share a shape; got {sorted(shapes)}")
        kw: dict[str, Any] = {}
        for name in SPREAD_LAYERS:
            dtype = torch.int32 if name == "fuel_model" else torch.float32
            kw[name] = torch.stack([_as_tensor(getattr(t, name), dtype, device) for t in tiles])
        kw["valid"] = torch.stack([_as_tensor(t.valid, torch.bool, device) for t in tiles])
        if weather is not None:
            if len(weather) != len(tiles):
                raise InputError(f"{len(weather)} gridded weathers for {len(tiles)} tiles")
            kw.update(grid_tensors(weather, shapes.pop(), device))
        return cls(**kw, cell_size_m=sizes.pop())

    def with_weather(self, weather: Sequence[Any]) -> TileBatch:
        """These tiles with gridded weather: one ``GriddedWeather`` (or ``None``) per tile, on the
        tiles' grid (see :meth:`stack`); replaces any gridded weather they had."""
        if len(weather) != self.shape[0]:
            raise InputError(f"{len(weather)} gridded weathers for {self.shape[0]} tiles")
        none = dict.fromkeys(GRID_FIELDS)
        return replace(self, **{**none, **grid_tensors(weather, self.shape[1:], self.device)})

    @property
    def gridded(self) -> bool:
        """Whether the tiles carry per-cell weather (any of :data:`GRID_FIELDS`)."""
        return any(getattr(self, name) is not None for name in GRID_FIELDS)

    @property
    def shape(self) -> tuple[int, int, int]:
        b, h, w = self.fuel_model.shape
        return b, h, w

    @property
    def device(self) -> torch.device:
        return self.fuel_model.device

    @property
    def cell_area_ha(self) -> float:
        return self.cell_size_m**2 / M2_PER_HA

    def to(self, device: torch.device | str) -> TileBatch:
        return replace(
            self,
            **{
                f.name: getattr(self, f.name).to(device)
                for f in fields(self)
                if isinstance(getattr(self, f.name), torch.Tensor)
            },
        )

    def index(self, idx: Any) -> TileBatch:
        """A sub-batch (``idx`` is a slice, list or tensor over the B axis)."""
        return replace(
            self,
            **{
                f.name: getattr(self, f.name)[idx]
                for f in fields(self)
                if isinstance(getattr(self, f.name), torch.Tensor)
            },
        )


@dataclass
class ScenarioSet:
    """F fires per tile: [B, F] tensors (moisture [B, F, 5], order :data:`MOISTURE_CLASSES`).

    ``ignition_cell`` is the flat index ``row * W + col`` of the ignition cell in its tile.
    ``wind_from_deg`` is the azimuth the 20-ft wind blows from (meteorological convention).
    """

    ignition_cell: torch.Tensor
    wind_speed_20ft_m_min: torch.Tensor
    wind_from_deg: torch.Tensor
    moisture_fraction: torch.Tensor
    foliar_moisture_fraction: torch.Tensor
    duration_min: torch.Tensor

    @classmethod
    def zeros(cls, batch: int, fires: int, device: torch.device | str | None = None) -> ScenarioSet:
        """A set of ``batch`` x ``fires`` fires, every tensor zero (storage to fill slot by slot)."""

        def z(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.zeros(shape, dtype=dtype, device=device)

        b, f = int(batch), int(fires)
        return cls(
            ignition_cell=z(b, f, dtype=torch.int64),
            wind_speed_20ft_m_min=z(b, f),
            wind_from_deg=z(b, f),
            moisture_fraction=z(b, f, len(MOISTURE_CLASSES)),
            foliar_moisture_fraction=z(b, f),
            duration_min=z(b, f),
        )

    @property
    def shape(self) -> tuple[int, int]:
        b, f = self.ignition_cell.shape
        return b, f

    def to(self, device: torch.device | str) -> ScenarioSet:
        return replace(self, **{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def index(self, idx: Any) -> ScenarioSet:
        """A sub-set over the B axis."""
        return replace(self, **{f.name: getattr(self, f.name)[idx] for f in fields(self)})


@dataclass
class SimulationOptions:
    """Model choices shared by every backend.

    ``conventions``: ``"behave"`` (BehavePlus: wind limit, Albini & Baughman wind reduction, Behave
    length-to-breadth) or ``"flammap"`` (FlamMap 6: no wind limit, FARSITE wind reduction, FlamMap's
    length-to-breadth and crown rate); see docs/science.md. ``crown_fire`` enables crown fire where
    the canopy supports it. ``treatment_fuel_model`` is the fuel model a break cell takes (91 = NB1,
    non-burnable; a burnable code models e.g. a shaded fuel break).
    """

    conventions: str = "behave"
    crown_fire: bool = True
    treatment_fuel_model: int = 91

    def __post_init__(self) -> None:
        if self.conventions not in CONVENTIONS:
            raise InputError(f"conventions must be 'behave' or 'flammap', got {self.conventions!r}")


@dataclass
class SimulationResult:
    """Arrival times [B, F, H, W] in minutes (``inf`` = unburned) and burned area [B, F] in ha."""

    arrival_min: torch.Tensor
    burned_ha: torch.Tensor

    @property
    def burned(self) -> torch.Tensor:
        """bool [B, F, H, W]: cells that burned within the fire's duration (arrival < inf: the
        same as ``isfinite`` for arrival times, which are never NaN or -inf, and ~6x faster on a CPU)."""
        return self.arrival_min < math.inf

    def burn_probability(self) -> torch.Tensor:
        """float [B, H, W]: the fraction of the F fires that burned each cell."""
        f = max(int(self.arrival_min.shape[1]), 1)
        return self.burned.sum(dim=1, dtype=torch.int32).float() / f

    @property
    def burned_acres(self) -> torch.Tensor:
        return self.burned_ha * ACRES_PER_HA


@dataclass
class PreparedFires:
    """A batch of tiles and their fixed fire set, with what a backend could compute once for them.

    Made by :meth:`SimulatorBackend.prepare` and passed to :meth:`SimulatorBackend.simulate_prepared`
    with break masks that change from call to call (FireEnv steps, greedy planners): everything
    that depends only on the tiles and the fires is computed once, and only the break cells are
    redone per call.

    ``spread`` (optional, typed, part of the contract): the directional spread rates without
    breaks of every weather group (:class:`~fuelrl.simulators.fields.SpreadFields`). The built-in
    backends fill it; the fire-path trees (:func:`fuelrl.simulators.trees.dpv`, FireEnv's DPV
    channel, the DPV planner) read it instead of rerunning the physics, and a backend that
    computes in the same format may reuse it. ``None``: nothing provided (DPV then runs the
    built-in physics on each fire's window). ``state`` is the backend's own private cache, one
    entry per tile (``None`` by default); ``owner`` names the backend that made it, so another
    backend ignores it. :meth:`index` and :meth:`update` select and replace tiles (sub-batches,
    partial resets) without recomputing the others.
    """

    tiles: TileBatch
    scenarios: ScenarioSet
    options: SimulationOptions
    state: list[Any] | None = None
    owner: str = ""
    spread: SpreadFields | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.tiles.shape

    def index(self, idx: Any) -> PreparedFires:
        """The prepared fires of a sub-batch (``idx``: a slice, list or tensor over the B axis)."""
        b = self.tiles.shape[0]
        rows = torch.arange(b)[idx if not isinstance(idx, torch.Tensor) else idx.cpu()].reshape(-1).tolist()
        return replace(
            self,
            tiles=self.tiles.index(idx),
            scenarios=self.scenarios.index(idx),
            state=None if self.state is None else [self.state[i] for i in rows],
            spread=None if self.spread is None else self.spread.index(rows),
        )

    def update(self, slots: Any, new: PreparedFires) -> PreparedFires:
        """A copy of this batch with the tiles ``slots`` (int indices, in ``new``'s order) replaced
        by the tiles of ``new`` (a partial reset: the other tiles keep their precomputation)."""
        if new.owner != self.owner or new.options != self.options:
            raise ValueError("PreparedFires.update: both batches must come from the same backend")
        rows = torch.as_tensor(slots).reshape(-1).cpu()
        if rows.numel() != new.tiles.shape[0]:
            raise ValueError(f"PreparedFires.update: {rows.numel()} slots for {new.tiles.shape[0]} new tiles")

        def put(old: Any, part: Any) -> Any:
            kw = {}
            for f in fields(old):
                value = getattr(old, f.name)
                if isinstance(value, torch.Tensor):
                    value = value.clone()
                    value[rows.to(value.device)] = getattr(part, f.name).to(value.device)
                kw[f.name] = value
            return replace(old, **kw)

        state = None
        if self.state is not None and new.state is not None:
            state = list(self.state)
            for i, s in zip(rows.tolist(), new.state, strict=True):
                state[i] = s
        spread = None
        if self.spread is not None and new.spread is not None:
            spread = self.spread.update(rows.tolist(), new.spread)
        return replace(
            self,
            tiles=put(self.tiles, new.tiles),
            scenarios=put(self.scenarios, new.scenarios),
            state=state,
            spread=spread,
        )


class SimulatorBackend(abc.ABC):
    """Grows many fires at once. Subclass it, implement :meth:`simulate`, and register the class
    under the ``fuelrl.simulators`` entry-point group (see docs/plugins.md).

    Class attributes read by the registry: ``description`` (one line) and ``devices`` (the device
    types it runs on, e.g. ``("cpu", "cuda")``); ``gridded_weather = True`` declares that the
    backend takes per-cell weather (the conformance suite then checks it).
    """

    description: ClassVar[str] = ""
    devices: ClassVar[tuple[str, ...]] = ("cpu",)
    #: whether the backend reads the per-cell weather of :data:`GRID_FIELDS` (tiles that carry it
    #: are refused by :meth:`check_inputs` otherwise)
    gridded_weather: ClassVar[bool] = False

    def __init__(self, *, device: str | torch.device | None = None, options: SimulationOptions | None = None):
        self.device = torch.device(device or "cpu")
        if self.device.type not in self.devices:
            raise InputError(
                f"backend {type(self).__name__} runs on {', '.join(self.devices)}, not {self.device.type!r}"
            )
        self.options = options or SimulationOptions()

    @abc.abstractmethod
    def simulate(self, tiles: TileBatch, breaks: torch.Tensor, scenarios: ScenarioSet) -> SimulationResult:
        """Grow every fire of ``scenarios`` on its tile with ``breaks`` treated; see the module doc."""

    def prepare(self, tiles: TileBatch, scenarios: ScenarioSet) -> PreparedFires:
        """Precompute what does not depend on the breaks, for repeated :meth:`simulate_prepared`
        calls on the same tiles and fires. Optional: this default precomputes nothing (it keeps
        the inputs), so a backend that only implements :meth:`simulate` works unchanged."""
        sb, _ = scenarios.shape
        if sb != tiles.shape[0]:
            raise InputError(f"scenarios are for {sb} tiles but the batch holds {tiles.shape[0]}")
        return PreparedFires(tiles=tiles, scenarios=scenarios, options=self.options)

    def simulate_prepared(self, prepared: PreparedFires, breaks: torch.Tensor) -> SimulationResult:
        """The same result as ``simulate(prepared.tiles, breaks, prepared.scenarios)``, reusing the
        work of :meth:`prepare`. This default calls :meth:`simulate`."""
        self.check_prepared(prepared)
        return self.simulate(prepared.tiles, breaks, prepared.scenarios)

    def check_prepared(self, prepared: PreparedFires) -> None:
        """Raise :class:`InputError` when ``prepared`` was made with other simulation options."""
        if prepared.options != self.options:
            raise InputError(
                f"prepared fires were made with {prepared.options}, but this backend simulates with "
                f"{self.options}: prepare them with this backend"
            )

    def check_inputs(self, tiles: TileBatch, breaks: torch.Tensor, scenarios: ScenarioSet) -> None:
        """Raise :class:`InputError` when the shapes of the three inputs disagree, or when the
        tiles carry gridded weather this backend does not take."""
        if tiles.gridded and not type(self).gridded_weather:
            raise InputError(
                f"backend {type(self).__name__} does not take gridded weather (per-cell wind or moisture)"
            )
        b, h, w = tiles.shape
        if tuple(breaks.shape) != (b, h, w):
            raise InputError(f"breaks must have shape {(b, h, w)} (B, H, W); got {tuple(breaks.shape)}")
        sb, f = scenarios.shape
        if sb != b:
            raise InputError(f"scenarios are for {sb} tiles but the batch holds {b}")
        if scenarios.moisture_fraction.shape != (b, f, len(MOISTURE_CLASSES)):
            raise InputError(
                f"moisture_fraction must have shape {(b, f, len(MOISTURE_CLASSES))}; "
                f"got {tuple(scenarios.moisture_fraction.shape)}"
            )
        if f and (int(scenarios.ignition_cell.min()) < 0 or int(scenarios.ignition_cell.max()) >= h * w):
            raise InputError(f"ignition_cell must be flat cell indices in [0, {h * w})")
