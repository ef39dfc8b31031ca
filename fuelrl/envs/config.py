"""EnvConfig: every option of :class:`fuelrl.envs.FireEnv`, flat and typed (LightningCLI-friendly).

The fields and their units are documented in docs/env.md ("Configuration"). Validation happens in
:meth:`EnvConfig.validate` (called by FireEnv), so a config can be built field by field first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from fuelrl.errors import InputError
from fuelrl.physics.behavior import CONVENTIONS

SPLITS = ("train", "heldout", "all")


@dataclass
class EnvConfig:
    """Options of FireEnv. Units are in the names; see docs/env.md for the meaning of each field."""

    # -- landscapes and tiles (fuelrl.landscape.TileDataset / TileSampler)
    #: landscape sources: LANDFIRE folders, 8-band GeoTIFFs, .lcp files, folders of them, globs, or
    #: generated "synthetic[:seed=S,size=HxW,cell=M]" specs
    landscapes: list[str] = field(default_factory=lambda: ["synthetic:seed=0,size=256x256"])
    #: side of the square tiles the agent works on, in cells
    tile_size: int = 32
    #: cells between tile origins (0: tile_size, tiles touch without overlap)
    tile_stride: int = 0
    #: B, the number of tiles one FireEnv object holds (its batch_size is [B])
    batch_size: int = 1
    #: which tiles: "train", "heldout" (regions kept out of training) or "all"
    split: str = "train"
    #: share of the regions held out ("heldout" split)
    heldout_fraction: float = 0.2
    #: "region" (square blocks of region_size cells) or "landscape" (each landscape is one region)
    split_by: str = "region"
    #: side of a region block in cells (0: 4 * tile_size)
    region_size: int = 0
    #: seed of the train / held-out draw of regions (keep it fixed across train and eval runs)
    split_seed: int = 0
    #: draw tiles with replacement (True) or walk seeded permutations, every tile once per pass
    replacement: bool = False
    #: a fresh tile draw every this many resets (between them a reset replays the same tiles)
    reshuffle_every: int = 1
    #: keep only tiles with at least this share of burnable cells
    min_burnable_fraction: float = 0.5
    #: keep only tiles with at most this share of nodata cells
    max_nodata_fraction: float = 0.1

    # -- fires (a fixed set of F fires per tile and episode: common random numbers)
    #: F, fires drawn per tile at reset and kept for the whole episode (fresh_fires: per simulation)
    fires_per_tile: int = 8
    #: 20-ft wind speed range, mph (uniform)
    wind_speed_20ft_mph_min: float = 5.0
    wind_speed_20ft_mph_max: float = 25.0
    #: direction the wind blows FROM, degrees clockwise from north: centre and half-width (uniform)
    wind_from_deg_mean: float = 225.0
    wind_from_deg_spread: float = 45.0
    #: dead fuel moistures (1-h, 10-h, 100-h), live herbaceous and live woody, in percent
    moisture_1h_pct: float = 6.0
    moisture_10h_pct: float = 7.0
    moisture_100h_pct: float = 8.0
    moisture_herb_pct: float = 60.0
    moisture_woody_pct: float = 90.0
    #: foliar moisture content of the canopy, percent
    foliar_moisture_pct: float = 100.0
    #: fire duration, minutes
    duration_min: float = 480.0
    #: > 0: dead fuel moistures (1-h, 10-h, 100-h) drawn uniformly in [value, value + this] percent
    moisture_dead_spread_pct: float = 0.0
    #: > duration_min: durations drawn uniformly in [duration_min, this] minutes (0: fixed)
    duration_max_min: float = 0.0
    #: all F fires of a tile's episode share one weather draw (the first fire's), as in a planning
    #: run with one weather; the episodes still differ in weather
    weather_per_tile: bool = False
    #: the F fires get new ignition cells at every simulation of an episode (every simulate_every
    #: steps and at its end), drawn like the first ones on the untreated burnable cells, and keep
    #: their weather: as `fuelrl plan --fresh-fires` grows a new set at every recomputation; the new
    #: ignitions are the protected cells, and the reward is the drop measured on the new set (its loss
    #: with the previous simulation's breaks minus that with the current ones: one extra simulation
    #: per interval; the rewards then sum to the fraction saved in expectation only;
    #: fuelrl.envs.fresh_fires)
    fresh_fires: bool = False

    # -- simulator
    #: simulator backend name (see `fuelrl backends`); runs on the env's device when it supports it
    backend: str = "numpy"
    #: "behave" (BehavePlus) or "flammap" (FlamMap 6) model conventions
    conventions: str = "behave"
    #: simulate crown fire where the canopy supports it
    crown_fire: bool = True
    #: fuel model a treated cell takes (91 = NB1, non-burnable)
    treatment_fuel_model: int = 91

    # -- episode
    #: the budget: this fraction of the tile's burnable cells may be treated per episode
    budget_fraction: float = 0.05
    #: cells treated per step: the chosen cell plus its nearest available cells (k > 1: large budgets)
    breaks_per_step: int = 1
    #: simulate (and pay the reward) every this many steps; the last step of an episode always does
    simulate_every: int = 1
    #: keep the ignition cells of the episode's fires out of action_mask (see docs/env.md)
    protect_ignitions: bool = True

    # -- observation
    #: add the "dpv/max" channel (downstream protection value of the episode's fires with the
    #: breaks so far, divided by its tile maximum; see docs/env.md) after the other channels
    dpv_channel: bool = False
    #: add the constant weather planes of :data:`fuelrl.envs.observation.WEATHER_CHANNELS` (wind
    #: speed and direction, 1-h moisture, duration: the mean over the tile's fires), before dpv/max
    weather_channels: bool = False

    # -- planner inputs (fuelrl.envs.plan_layers; docs/env.md)
    #: values at risk: [] (burned area), ["generated"] (a training value field per episode) or one
    #: raster per landscape; the reward becomes the share of the tile's value saved, and the
    #: observation gains a last "value/max" channel
    values: list[str] = field(default_factory=list)
    #: where breaks may go: [] (every burnable cell) or one mask per landscape (raster or polygons)
    treatable: list[str] = field(default_factory=list)
    #: relative ignition probability: [] (uniform on burnable cells) or one raster per landscape
    ignition_density: list[str] = field(default_factory=list)

    # -- gridded weather (fuelrl.envs.weather_layers; docs/simulation.md)
    #: [] or one "SPEED.tif,DIR.tif" per landscape ('' for none): the 20-ft wind grid (mph, azimuth
    #: it blows from); each fire's drawn wind is the grid's reference wind, cells keep their ratio
    wind_grids: list[str] = field(default_factory=list)
    #: [] or one "1H,10H,100H,HERB,WOODY" per landscape, each a raster path or empty (the scalar)
    moisture_grids: list[str] = field(default_factory=list)

    # -- expert labels (imitation / DQfD training)
    #: "dpv": every step also reports ``expert_action``, the legal cell of highest DPV of the
    #: episode's fires grown with the breaks so far (fresh, whatever simulate_every: one extra
    #: simulation per step), -1 where no fire reaches a legal cell; "none": no label
    expert: str = "none"
    #: with expert "dpv": 0 (default) labels from the episode's own F fires (the observed ones);
    #: N > 0: from N fires of the teacher's own per episode, drawn from the same ignition and weather
    #: distributions (with weather_per_tile: the tile's weather) and never observed, so the target is
    #: the DPV of fires the agent has not seen, as plans are scored on held-out fires (one
    #: simulation of the N fires per step; fuelrl.envs.expert.TeacherFires)
    expert_fires: int = 0
    #: with expert_fires N > 0: the teacher's DPV also leaves out what each of its fires would save
    #: within this many cells (Chebyshev) of its own ignition, not only at it (the planner's
    #: ``--ignition-guard-cells``; fuelrl.simulators.trees.dpv): the near-ignition values of fires
    #: that start at random cells are what makes an unseen-fire target noisy (docs/pretrained.md)
    expert_ignition_guard_cells: int = 0
    #: with expert "dpv": at every simulation the teacher also plays the next interval itself
    #: (``simulate_every`` breaks, or the budget left), regrowing the fires after each of its
    #: breaks, and reports those cells as ``expert_set`` (bool per cell; all False at the other
    #: states of an interval): the cells a planner that takes a whole interval's breaks from one
    #: map should rank first (``simulate_every`` - 1 extra simulations per interval;
    #: fuelrl.envs.expert.lookahead_set)
    expert_lookahead: bool = False

    def validate(self) -> EnvConfig:
        """Raise :class:`InputError` naming the first bad option; return self."""

        def need(ok: bool, name: str, expected: str) -> None:
            if not ok:
                raise InputError(f"EnvConfig.{name} must be {expected}; got {getattr(self, name)!r}")

        need(isinstance(self.landscapes, list | tuple) and len(self.landscapes) > 0, "landscapes", "a list")
        need(self.tile_size >= 4, "tile_size", ">= 4 cells")
        need(self.batch_size >= 1, "batch_size", ">= 1")
        need(self.split in SPLITS, "split", f"one of {SPLITS}")
        need(0.0 <= self.heldout_fraction < 1.0, "heldout_fraction", "in [0, 1)")
        need(self.tile_stride >= 0, "tile_stride", ">= 0 cells (0: tile_size)")
        need(self.split_by in ("region", "landscape"), "split_by", "'region' or 'landscape'")
        need(self.region_size >= 0, "region_size", ">= 0 cells (0: 4 * tile_size)")
        need(self.reshuffle_every >= 1, "reshuffle_every", ">= 1")
        need(0.0 <= self.min_burnable_fraction <= 1.0, "min_burnable_fraction", "in [0, 1]")
        need(0.0 <= self.max_nodata_fraction <= 1.0, "max_nodata_fraction", "in [0, 1]")
        need(self.fires_per_tile >= 1, "fires_per_tile", ">= 1")
        need(self.wind_speed_20ft_mph_min >= 0, "wind_speed_20ft_mph_min", ">= 0")
        need(
            self.wind_speed_20ft_mph_max >= self.wind_speed_20ft_mph_min,
            "wind_speed_20ft_mph_max",
            f">= wind_speed_20ft_mph_min ({self.wind_speed_20ft_mph_min})",
        )
        need(0.0 <= self.wind_from_deg_spread <= 180.0, "wind_from_deg_spread", "in [0, 180] degrees")
        for name in ("moisture_1h_pct", "moisture_10h_pct", "moisture_100h_pct"):
            need(1.0 <= getattr(self, name) < 100.0, name, "a dead fuel moisture in [1, 100) percent")
        for name in ("moisture_herb_pct", "moisture_woody_pct"):
            need(1.0 <= getattr(self, name) <= 400.0, name, "a live fuel moisture in [1, 400] percent")
        need(30.0 <= self.foliar_moisture_pct <= 300.0, "foliar_moisture_pct", "in [30, 300] percent")
        need(1.0 <= self.duration_min <= 43200.0, "duration_min", "in [1, 43200] minutes")
        need(0.0 <= self.moisture_dead_spread_pct < 100.0, "moisture_dead_spread_pct", "in [0, 100) percent")
        need(
            self.duration_max_min == 0.0 or self.duration_min <= self.duration_max_min <= 43200.0,
            "duration_max_min",
            f"0 (fixed duration) or in [duration_min ({self.duration_min}), 43200] minutes",
        )
        need(self.expert in ("none", "dpv"), "expert", "'none' or 'dpv'")
        need(self.expert_fires >= 0, "expert_fires", ">= 0 (0: the episode's own fires)")
        need(self.expert_fires == 0 or self.expert == "dpv", "expert_fires", "0 unless expert is 'dpv'")
        need(self.expert_ignition_guard_cells >= 0, "expert_ignition_guard_cells", ">= 0 cells")
        need(
            self.expert_ignition_guard_cells == 0 or self.expert_fires > 0,
            "expert_ignition_guard_cells",
            "0 unless expert_fires > 0 (it guards the teacher's own fires)",
        )
        lookahead = "false unless expert is 'dpv'"
        need(not self.expert_lookahead or self.expert == "dpv", "expert_lookahead", lookahead)
        need(
            not self.expert_lookahead or self.breaks_per_step == 1,
            "expert_lookahead",
            f"false unless breaks_per_step is 1 (got breaks_per_step {self.breaks_per_step})",
        )
        need(self.conventions in CONVENTIONS, "conventions", " or ".join(map(repr, CONVENTIONS)))
        need(0.0 < self.budget_fraction <= 1.0, "budget_fraction", "in (0, 1]")
        need(self.breaks_per_step >= 1, "breaks_per_step", ">= 1")
        need(self.simulate_every >= 1, "simulate_every", ">= 1")
        from fuelrl.envs.plan_layers import check_config

        check_config(list(self.values), list(self.treatable), list(self.ignition_density))
        return self

    def with_overrides(self, **overrides: Any) -> EnvConfig:
        """A copy with some fields replaced; an unknown name raises :class:`InputError`."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise InputError(f"unknown EnvConfig option(s) {unknown}; known: {sorted(names)}")
        return replace(self, **overrides)
