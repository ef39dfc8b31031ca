"""FireEnv's specs and per-tile state: built once from the config, overwritten slot by slot at
reset (:class:`FireEnvState`, a base of :class:`fuelrl.envs.fire_env.FireEnv`), the small updates
the step and the expert labels share (placing breaks, scaling a DPV map), and the read-only views
of the episode state that tests, evaluation and plotting use."""

from __future__ import annotations

from dataclasses import replace

import torch
from torchrl.data import Binary, Bounded, Categorical, Composite, Unbounded

from fuelrl.envs.observation import LANDSCAPE_CHANNELS, WEATHER_CHANNELS
from fuelrl.simulators.base import PreparedFires, ScenarioSet, TileBatch


class FireEnvState:
    """Specs and state of a :class:`~fuelrl.envs.fire_env.FireEnv` (which sets ``config``,
    ``device``, ``sim_device``, ``source``, ``tile_weather`` and ``observation_channels`` first)."""

    # ------------------------------------------------------------------------------------ specs
    @property
    def tile_shape(self) -> tuple[int, int]:
        return self.config.tile_size, self.config.tile_size

    @property
    def num_cells(self) -> int:
        h, w = self.tile_shape
        return h * w

    def _make_specs(self) -> None:
        b = self.config.batch_size
        h, w = self.tile_shape
        n, c, dev = h * w, len(self.observation_channels), self.device
        self.observation_spec = Composite(
            observation=Unbounded(shape=(b, c, h, w), dtype=torch.float32, device=dev),
            budget_left=Bounded(low=0.0, high=1.0, shape=(b, 1), dtype=torch.float32, device=dev),
            action_mask=Binary(n=n, shape=(b, n), dtype=torch.bool, device=dev),
            burned_ha=Unbounded(shape=(b, 1), dtype=torch.float32, device=dev),
            **(
                {
                    "expert_action": Unbounded(shape=(b,), dtype=torch.int64, device=dev),
                    "expert_dpv": Unbounded(shape=(b, n), dtype=torch.float32, device=dev),
                }
                if self.config.expert != "none"
                else {}
            ),
            **(
                {"expert_set": Binary(n=n, shape=(b, n), dtype=torch.bool, device=dev)}
                if self.config.expert_lookahead
                else {}
            ),
            shape=(b,),
            device=dev,
        )
        self.action_spec = Categorical(n=n, shape=(b,), dtype=torch.int64, device=dev)
        self.reward_spec = Unbounded(shape=(b, 1), dtype=torch.float32, device=dev)
        self.full_done_spec = Composite(
            done=Categorical(2, shape=(b, 1), dtype=torch.bool, device=dev),
            terminated=Categorical(2, shape=(b, 1), dtype=torch.bool, device=dev),
            truncated=Categorical(2, shape=(b, 1), dtype=torch.bool, device=dev),
            shape=(b,),
            device=dev,
        )

    # ------------------------------------------------------------------------------------ state
    def _allocate_state(self) -> None:
        """The per-tile state, allocated once and overwritten slot by slot at reset."""
        b, f = self.config.batch_size, self.config.fires_per_tile
        h, w = self.tile_shape
        dev = self.sim_device

        def z(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.zeros(shape, dtype=dtype, device=dev)

        self._tiles = TileBatch(
            fuel_model=z(b, h, w, dtype=torch.int32),
            slope_fraction=z(b, h, w),
            aspect_deg=z(b, h, w),
            canopy_cover_fraction=z(b, h, w),
            canopy_height_m=z(b, h, w),
            canopy_base_height_m=z(b, h, w),
            canopy_bulk_density_kg_m3=z(b, h, w),
            valid=z(b, h, w, dtype=torch.bool),
            cell_size_m=self.source.cell_size_m,
        )
        if self.tile_weather.active:  # per-cell weather fields, filled per episode (weather_layers)
            self._tiles = replace(self._tiles, **{name: z(b, h, w) for name in self.tile_weather.fields})
        self._scenarios = ScenarioSet.zeros(b, f, dev)
        self._landscape_obs = torch.zeros((b, len(LANDSCAPE_CHANNELS), h, w), device=self.device)
        self._burnable = z(b, h, w, dtype=torch.bool)
        self._protected = z(b, h, w, dtype=torch.bool)  # ignitions (protect_ignitions), untreatable
        self._breaks = z(b, h, w, dtype=torch.bool)
        self._burn_probability = z(b, h, w)
        self._dpv = z(b, h, w) if self.config.dpv_channel else None  # "dpv/max" channel
        self._values = z(b, h, w) if self.config.values else None  # values at risk (EnvConfig.values)
        self._value_total = z(b, dtype=torch.float64)
        self._value_burned = z(b, dtype=torch.float64)  # expected value burned, last simulation
        n_weather = len(WEATHER_CHANNELS) if self.config.weather_channels else 0
        self._weather_obs = torch.zeros((b, n_weather, h, w), device=self.device)
        self._expert_action = torch.full((b,), -1, dtype=torch.int64, device=dev)
        self._expert_dpv = z(b, h * w)  # the teacher's DPV map on the observation's dpv/max scale
        self._expert_set = z(b, h * w, dtype=torch.bool)  # the teacher's next interval (expert_lookahead)
        self._dpv_top = z(b, dtype=torch.float64)  # max DPV (ha per fire) of the stored dpv/max map
        self._burned_ha = z(b, dtype=torch.float64)  # expected burned area at the last simulation
        self._burned_ha_no_breaks = z(b, dtype=torch.float64)
        self._burnable_ha = z(b, dtype=torch.float64)
        self._budget_cells = z(b, dtype=torch.int64)
        self._placed = z(b, dtype=torch.int64)
        self._steps = z(b, dtype=torch.int64)
        self._tile_ids = z(b, dtype=torch.int64)
        self._started = z(b, dtype=torch.bool)
        # what the backend computed once for the current tiles and fires (the spread fields without
        # breaks); replaced tile by tile at reset, reused by every step's simulation
        self._prepared: PreparedFires | None = None
        flat = torch.arange(h * w, device=dev)
        self._rows, self._cols = flat // w, flat % w

    # Updates of the state shared by the step and the labels.
    def _place(self, action: torch.Tensor, count: torch.Tensor, available: torch.Tensor) -> None:
        """Treat, for each tile, ``count`` cells: ``action`` and its nearest available cells."""
        breaks = self._breaks.view(self.config.batch_size, -1)
        k = self.config.breaks_per_step
        if k == 1:
            breaks |= torch.zeros_like(breaks).scatter_(1, action[:, None], (count > 0)[:, None])
            return
        n = self.num_cells
        k = min(k, n)
        _, w = self.tile_shape
        rows, cols = (action // w)[:, None], (action % w)[:, None]
        dist2 = (self._rows[None] - rows) ** 2 + (self._cols[None] - cols) ** 2  # int64 [B, n]
        key = dist2 * n + self._rows[None] * w + self._cols[None]  # nearest first, ties by cell index
        key = torch.where(available, key, torch.iinfo(torch.int64).max)
        nearest = key.topk(k, dim=1, largest=False).indices
        take = torch.arange(k, device=self.sim_device)[None] < count[:, None]
        new = torch.zeros_like(breaks)
        new.scatter_(1, nearest, take)
        breaks |= new

    def _normalised(self, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A DPV map [n, H, W] (ha per fire) as (``value`` / its max per tile, float32; the max)."""
        value = value.to(self.sim_device)
        top = value.flatten(1).amax(dim=1)
        norm = torch.where(top.view(-1, 1, 1) > 0, value / top.clamp_min(1e-12).view(-1, 1, 1), 0.0)
        return norm.float(), top

    # Read-only views of the episode state (for tests, evaluation and plotting).
    @property
    def tiles(self) -> TileBatch:
        """The B tiles of the current episodes (on ``sim_device``)."""
        return self._tiles

    @property
    def scenarios(self) -> ScenarioSet:
        """The fires of the current episodes, [B, F] (``fresh_fires``: those of the last simulation)."""
        return self._scenarios

    @property
    def breaks(self) -> torch.Tensor:
        """bool [B, H, W]: the cells treated so far in the current episodes."""
        return self._breaks

    @property
    def tile_ids(self) -> torch.Tensor:
        """int64 [B]: the dataset index of each current tile (see ``source.describe``)."""
        return self._tile_ids

    @property
    def burnable_ha(self) -> torch.Tensor:
        """float64 [B]: burnable area of each current tile, hectares (the reward's scale)."""
        return self._burnable_ha

    @property
    def burned_ha_no_breaks(self) -> torch.Tensor:
        """float64 [B]: expected burned area of the episode's first fires with no breaks, hectares."""
        return self._burned_ha_no_breaks

    def available(self) -> torch.Tensor:
        """bool [B, H*W]: cells that can take a break now (burnable, untreated, not protected)."""
        return (self._burnable & ~self._breaks & ~self._protected).flatten(1)
