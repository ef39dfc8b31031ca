"""The agent planner's network input: FireEnv's observation of a landscape window, rebuilt **by
channel name** in a checkpoint's order (see :mod:`fuelrl.baselines.agent`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from fuelrl.errors import InputError


class AgentObservation:
    """Builds the network input of windows of one landscape for a checkpoint whose observation
    channels are ``channels``, on ``device``; the landscape channels of each window are cached until
    :meth:`clear`. ``label`` names the policy in errors."""

    def __init__(self, channels: list[str], device: torch.device, label: str):
        from fuelrl.envs.observation import WEATHER_CHANNELS

        self.channels = list(channels)
        self.device = device
        self.label = label
        self.weather_channels = any(n in WEATHER_CHANNELS for n in self.channels)
        self._static_cache: dict[tuple, torch.Tensor] = {}
        #: the ``value/max`` plane [H, W] of the landscape being planned (networks trained with values)
        self.value_map: np.ndarray | None = None

    def clear(self) -> None:
        self._static_cache = {}
        self.value_map = None

    def set_values(self, values: np.ndarray | None, valid: np.ndarray) -> None:
        """The ``value/max`` plane from the run's values at risk (``--values``): divided by their
        maximum over the landscape, as FireEnv divides by the tile's; 0 off the landscape. A
        network that reads it needs values: :class:`InputError` without."""
        from fuelrl.envs.plan_layers import VALUE_CHANNEL

        if VALUE_CHANNEL not in self.channels:
            return
        if values is None:
            raise InputError(
                f"policy {self.label}: the checkpoint was trained with values at risk (its network reads "
                f"'{VALUE_CHANNEL}'): pass --values RASTER"
            )
        v = np.where(valid, np.asarray(values, dtype=np.float64), 0.0)
        top = float(v.max()) if v.size else 0.0
        self.value_map = v / top if top > 0 else np.zeros_like(v)

    def static_channels(self, landscape: Any, r0: int, r1: int, c0: int, c1: int) -> torch.Tensor:
        """float32 [1, len(LANDSCAPE_CHANNELS), h, w] of the window (cached during a plan)."""
        from fuelrl.envs.observation import landscape_channels

        key = (id(landscape), r0, r1, c0, c1)
        if key in self._static_cache:
            return self._static_cache[key]

        def t(name: str, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            arr = np.asarray(getattr(landscape, name))[r0:r1, c0:c1]
            return torch.as_tensor(np.ascontiguousarray(arr)).to(self.device, dtype).unsqueeze(0)

        out = landscape_channels(
            burnable=t("burnable", torch.bool),
            valid=t("valid", torch.bool),
            fuel_model=t("fuel_model", torch.int32),
            elevation_m=t("elevation_m"),
            slope_fraction=t("slope_fraction"),
            aspect_deg=t("aspect_deg"),
            canopy_cover_fraction=t("canopy_cover_fraction"),
            canopy_height_m=t("canopy_height_m"),
            canopy_base_height_m=t("canopy_base_height_m"),
            canopy_bulk_density_kg_m3=t("canopy_bulk_density_kg_m3"),
        )
        self._static_cache[key] = out
        return out

    def network_input(
        self,
        landscape: Any,
        window: tuple[int, int, int, int],
        breaks: np.ndarray,
        burn_probability: np.ndarray,
        budget_left: float,
        *,
        dpv: np.ndarray | None = None,
        weather: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """float32 [1, C + 1, h, w]: the observation of ``window`` (r0, r1, c0, c1), its channels
        rebuilt **by name** in the checkpoint's order, then the budget-left plane.

        ``dpv``: the ``dpv/max`` channel [H, W] (required when the network reads it); ``weather``:
        the values of ``WEATHER_CHANNELS`` [len] (required when it reads them)."""
        from fuelrl.envs.observation import DPV_CHANNEL, LANDSCAPE_CHANNELS, WEATHER_CHANNELS
        from fuelrl.envs.plan_layers import VALUE_CHANNEL

        r0, r1, c0, c1 = window
        static = self.static_channels(landscape, r0, r1, c0, c1)[0]

        def plane(arr: np.ndarray | None, what: str) -> torch.Tensor:
            if arr is None:
                raise ValueError(f"{self.label} reads the {what} channel: pass it")
            x = torch.as_tensor(np.ascontiguousarray(np.asarray(arr)[r0:r1, c0:c1]))
            return x.to(self.device, torch.float32)

        planes = []
        for name in self.channels:
            if name in LANDSCAPE_CHANNELS:
                planes.append(static[LANDSCAPE_CHANNELS.index(name)])
            elif name == "break":
                planes.append(plane(breaks, "break"))
            elif name == "burn_probability":
                planes.append(plane(burn_probability, "burn_probability"))
            elif name == DPV_CHANNEL:
                planes.append(plane(dpv, DPV_CHANNEL))
            elif name == VALUE_CHANNEL:
                planes.append(plane(self.value_map, VALUE_CHANNEL))
            elif name in WEATHER_CHANNELS:
                if weather is None:
                    raise ValueError(f"{self.label} reads the weather channels: pass weather")
                value = float(weather[WEATHER_CHANNELS.index(name)])
                planes.append(torch.full((r1 - r0, c1 - c0), value, device=self.device))  # as FireEnv
            else:  # load_agent admits only known layouts
                raise ValueError(f"{self.label}: unknown observation channel {name!r}")
        planes.append(torch.full((r1 - r0, c1 - c0), float(budget_left), device=self.device))
        return torch.stack(planes).unsqueeze(0).float()

    def weather_values(self, problem: Any) -> torch.Tensor | None:
        """The values of the weather planes for ``problem``'s planning fires (None if unused)."""
        if not self.weather_channels:
            return None
        from fuelrl.envs.observation import weather_planes

        return weather_planes(problem.scenarios, (1, 1))[0, :, 0, 0].cpu()
