"""The simulator backend contract, shared by the built-in backends and third-party plugins.

Data crosses the contract as torch tensors (zero-copy views of numpy arrays on the CPU; resident
on the GPU for a CUDA backend), SI units, shapes named B (tiles), F (fires per tile), H, W (cells).

* :class:`TileBatch`: B tiles of landscape layers, [B, H, W] each.
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
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import numpy as np
import torch

from fuelrl.errors import InputError

#: order of the fuel moisture classes along the last axis of ``ScenarioSet.moisture_fraction``
MOISTURE_CLASSES = ("1h", "10h", "100h", "herb", "woody")

#: the layers a simulator reads, with their SI units (attribute names of Landscape and TileBatch)
SPREAD_LAYERS = (
    "fuel_model",
    "slope_fraction",
    "aspect_deg",
    "canopy_cover_fraction",
    "canopy_height_m",
    "canopy_base_height_m",
    "canopy_bulk_density_kg_m3",
)

M2_PER_HA = 10_000.0
ACRES_PER_HA = 2.4710538146716536


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

    @classmethod
    def stack(cls, tiles: Sequence[Any], device: torch.device | str | None = None) -> TileBatch:
        """Stack landscape-like objects (a ``Landscape`` or tile: attributes named as in
        :data:`SPREAD_LAYERS` plus ``valid`` and ``cell_size_m``) into one batch."""
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
        return cls(**kw, cell_size_m=sizes.pop())

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
            **{f.name: getattr(self, f.name).to(device) for f in fields(self) if f.name != "cell_size_m"},
        )

    def index(self, idx: Any) -> TileBatch:
        """A sub-batch (``idx`` is a slice, list or tensor over the B axis)."""
        return replace(
            self,
            **{f.name: getattr(self, f.name)[idx] for f in fields(self) if f.name != "cell_size_m"},
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
        if self.conventions not in ("behave", "flammap"):
            raise InputError(f"conventions must be 'behave' or 'flammap', got {self.conventions!r}")


@dataclass
class SimulationResult:
    """Arrival times [B, F, H, W] in minutes (``inf`` = unburned) and burned area [B, F] in ha."""

    arrival_min: torch.Tensor
    burned_ha: torch.Tensor

    @property
    def burned(self) -> torch.Tensor:
        """bool [B, F, H, W]: cells that burned within the fire's duration."""
        return torch.isfinite(self.arrival_min)

    def burn_probability(self) -> torch.Tensor:
        """float [B, H, W]: the fraction of the F fires that burned each cell."""
        return self.burned.float().mean(dim=1)

    @property
    def burned_acres(self) -> torch.Tensor:
        return self.burned_ha * ACRES_PER_HA


class SimulatorBackend(abc.ABC):
    """Grows many fires at once. Subclass it, implement :meth:`simulate`, and register the class
    under the ``fuelrl.simulators`` entry-point group (see docs/plugins.md).

    Class attributes read by the registry: ``description`` (one line) and ``devices`` (the device
    types it runs on, e.g. ``("cpu", "cuda")``).
    """

    description: ClassVar[str] = ""
    devices: ClassVar[tuple[str, ...]] = ("cpu",)

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

    @staticmethod
    def check_inputs(tiles: TileBatch, breaks: torch.Tensor, scenarios: ScenarioSet) -> None:
        """Raise :class:`InputError` when the shapes of the three inputs disagree."""
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
