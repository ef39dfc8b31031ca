"""Where FireEnv's episodes come from: tiles (a shard of a TileDataset) and the fires drawn on them.

Both draw from the env's ``torch.Generator`` only, so an env's sequence of episodes depends on its
seed alone, never on the policy or on how many steps were taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from fuelrl.envs.cell_groups import cell_size_groups, per_landscape_fields_set, worker_group
from fuelrl.envs.config import EnvConfig
from fuelrl.errors import InputError
from fuelrl.landscape import Landscape, TileDataset, TileSampler
from fuelrl.simulators.base import ScenarioSet
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution

_STREAM_HIGH = 2**62


def weather_distribution(cfg: EnvConfig) -> WeatherDistribution:
    """The fires' weather distribution from the flat EnvConfig fields (FlamMap's units)."""

    def rng(lo: float, hi: float) -> float | tuple[float, float]:
        return float(lo) if lo == hi else (float(lo), float(hi))

    dead = cfg.moisture_dead_spread_pct
    duration_hi = cfg.duration_max_min or cfg.duration_min

    return WeatherDistribution(
        wind_speed_20ft_mph=rng(cfg.wind_speed_20ft_mph_min, cfg.wind_speed_20ft_mph_max),
        wind_from_deg=None,
        wind_from_center_deg=cfg.wind_from_deg_mean,
        wind_from_spread_deg=cfg.wind_from_deg_spread,
        moisture_pct=(
            rng(cfg.moisture_1h_pct, cfg.moisture_1h_pct + dead),
            rng(cfg.moisture_10h_pct, cfg.moisture_10h_pct + dead),
            rng(cfg.moisture_100h_pct, cfg.moisture_100h_pct + dead),
            cfg.moisture_herb_pct,
            cfg.moisture_woody_pct,
        ),
        foliar_moisture_pct=cfg.foliar_moisture_pct,
        duration_min=rng(cfg.duration_min, duration_hi),
    )


class TileSource:
    """This worker's shard of the configured tile dataset, and the sampler walking through it.

    The dataset (landscape readers, tile index) is built once per process; tiles are read lazily
    (and cached by the dataset). Worker ``worker_index`` of ``num_workers`` owns the dataset tiles
    ``i`` with ``i % num_workers == worker_index``.

    Landscapes of several cell sizes (:mod:`fuelrl.envs.cell_groups`): worker ``worker_index`` takes
    the group ``worker_index % n_groups`` (groups by cell size, smallest first) and the dataset of
    that group's landscapes alone, sharded among the group's workers; fewer workers than cell sizes
    is an InputError.
    """

    def __init__(self, cfg: EnvConfig, *, worker_index: int = 0, num_workers: int = 1):
        if not 0 <= worker_index < num_workers:
            raise InputError(f"worker_index must be in [0, {num_workers}); got {worker_index}")
        self.config = cfg
        self.worker_index, self.num_workers = worker_index, num_workers
        landscapes, shard, shards, where = list(cfg.landscapes), worker_index, num_workers, ""
        groups = cell_size_groups(landscapes)
        if len(groups) > 1:
            wg = worker_group(groups, worker_index, num_workers)
            if lists := per_landscape_fields_set(cfg):
                raise InputError(
                    f"EnvConfig.{', '.join(lists)} with landscapes of several cell sizes: build the env "
                    "with fuelrl.envs.make_env (it gives each worker its group's entries)"
                )
            landscapes, shard, shards = list(wg.group.specs), wg.worker_index, wg.num_workers
            where = f" ({shard} of {shards} on the {wg.group.cell_size_m:g} m landscapes)"
        self.dataset = TileDataset(
            landscapes,
            cfg.tile_size,
            stride=cfg.tile_stride or None,
            max_nodata_fraction=cfg.max_nodata_fraction,
            min_burnable_fraction=cfg.min_burnable_fraction,
            split=cfg.split,
            heldout_fraction=cfg.heldout_fraction,
            split_by=cfg.split_by,
            region_size=cfg.region_size or None,
            seed=cfg.split_seed,
        )
        self.indices = list(range(shard, len(self.dataset), shards))
        if not self.indices:
            raise InputError(
                f"worker {worker_index} of {num_workers}{where} gets no tile: the {cfg.split} split holds "
                f"only {len(self.dataset)} tile(s) ({self.dataset!r}); use fewer workers or more landscapes"
            )
        self._sampler: TileSampler | None = None
        self._generator: torch.Generator | None = None

    def keep(self, indices: list[int]) -> None:
        """Keep only these dataset tiles of the shard (e.g. those with treatable cells)."""
        if not indices:
            raise InputError(
                f"worker {self.worker_index} of {self.num_workers}: no tile of the {self.config.split} "
                "split has a treatable cell (EnvConfig.treatable)"
            )
        self.indices = list(indices)

    @property
    def num_tiles(self) -> int:
        """Tiles in this worker's shard (one pass without replacement visits each once)."""
        return len(self.indices)

    @property
    def cell_size_m(self) -> float:
        return float(self.dataset.sources[0].cell_size_m)

    def restart(self, generator: torch.Generator) -> None:
        """Start the tile order afresh from ``generator`` (called when the env is seeded)."""
        self._generator = generator
        self._sampler = TileSampler(
            len(self.indices),
            replacement=self.config.replacement,
            reshuffle_every=self.config.reshuffle_every,
            generator=generator,
        )

    def draw(self, n: int) -> tuple[list[Landscape], list[int]]:
        """``n`` tiles for the next reset and their dataset indices."""
        if self._sampler is None:
            raise RuntimeError("TileSource.draw before restart()")
        ids = [self.indices[i] for i in self._sampler.next_indices(n)]
        return [self.dataset.tile(i) for i in ids], ids

    def describe(self, tile_id: int) -> str:
        spec, r0, c0, r1, c1 = self.dataset.footprint(tile_id)
        return f"{spec} rows {r0}:{r1} cols {c0}:{c1}"


class FireSource:
    """The F fixed fires of each new episode, drawn with the scenario sampler (common random
    numbers): each reset takes a fresh stream number of the sampler from the env's generator, so
    the fires depend on the env's seed and on nothing else."""

    def __init__(self, cfg: EnvConfig, fires: int | None = None, seed: int = 0):
        count = cfg.fires_per_tile if fires is None else int(fires)
        self.sampler = ScenarioSampler(weather_distribution(cfg), fires=count, seed=seed)
        self.weather_per_tile = bool(cfg.weather_per_tile)

    def draw(
        self, burnable: torch.Tensor | np.ndarray, generator: torch.Generator, ignition_weight: Any = None
    ) -> ScenarioSet:
        """F fires on each tile of ``burnable`` (bool [n, H, W], the untreated burnable cells),
        started in proportion to ``ignition_weight`` [n, H, W] when given."""
        stream = int(torch.randint(_STREAM_HIGH, (1,), generator=generator))
        fires = self.sampler.sample(burnable, stream=stream, ignition_weight=ignition_weight)
        if self.weather_per_tile:  # every fire of a tile takes the tile's first fire's weather
            share_weather(fires, fires)
        return fires


#: the weather fields of a :class:`ScenarioSet`
WEATHER_FIELDS = ("wind_speed_20ft_m_min", "wind_from_deg", "moisture_fraction", "foliar_moisture_fraction",
                  "duration_min")


def share_weather(fires: ScenarioSet, of: ScenarioSet) -> None:
    """Give every fire of each tile of ``fires`` the weather of that tile's first fire in ``of``
    (in place; ``of`` may be ``fires``)."""
    for name in WEATHER_FIELDS:
        x = getattr(fires, name)
        x[:] = getattr(of, name)[:, :1].to(x.device).clone()


def stack_layer(tiles: Sequence[Landscape], name: str) -> torch.Tensor:
    """[n, H, W] tensor of one landscape attribute over the tiles."""
    return torch.from_numpy(np.stack([np.asarray(getattr(t, name)) for t in tiles]))
