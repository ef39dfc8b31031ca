"""A stochastic cellular automaton fire-growth model, packaged as a fuelrl simulator plugin.

The model (first-passage percolation on the 8-neighbour cell lattice):

* each cell is a CA site whose state is its ignition time (``inf`` = unburned);
* the bond from a cell to each of its 8 neighbours gets a travel time: the centre-to-centre
  distance, half through each cell, at each cell's spread rate toward that neighbour (elliptical
  spread from :mod:`fuelrl.physics`), multiplied by a random factor ~ Gamma(k, 1/k) (mean 1,
  coefficient of variation 1/sqrt(k)) standing for fuel and wind variability below the cell size;
* the local rule: a site's time becomes min(own, neighbour's time + bond time), applied until no
  site changes; sites later than the fire's duration stay unburned.

Compared with fuelrl's minimum-travel-time backends this is **cruder**: centre nodes and an
8-neighbour lattice distort fire shapes (up to ~8% on diagonals), and the random bond times make
each fire one random realisation rather than the expected perimeter. Its sweeps are **cheaper**
(8 bonds instead of 16 edges, one kernel for every fire of a call) but it needs more of them:
measured per fire it costs about as much CPU as fuelrl's own backends (fuelrl's
docs/performance.md), so it is a template and a screening model rather than a speed-up. Its
randomness comes only from ``seed`` and the fire itself (tile, ignition, weather), never from the
fire's position in the batch or its duration, so results are reproducible and a longer fire
contains a shorter one.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from fuelrl.errors import InputError
from fuelrl.simulators.base import (
    SPREAD_LAYERS,
    PreparedFires,
    ScenarioSet,
    SimulationOptions,
    SimulationResult,
    SimulatorBackend,
    TileBatch,
)

#: (drow, dcol) of the 8 neighbours; rows grow southward, columns eastward
NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))
AZIMUTHS_DEG = tuple(math.degrees(math.atan2(dc, -dr)) % 360.0 for dr, dc in NEIGHBOURS)
STEPS = tuple(math.hypot(dr, dc) for dr, dc in NEIGHBOURS)


def _fire_seed(seed: int, b: int, ignition: int, weather: np.ndarray) -> np.random.SeedSequence:
    key = [int(seed), int(b), int(ignition)] + [int(round(float(v) * 1e4)) for v in weather]
    return np.random.SeedSequence([abs(k) for k in key])


class CellularAutomatonBackend(SimulatorBackend):
    """Stochastic 8-neighbour cellular automaton (first-passage percolation), cruder than minimum
    travel time. Options: ``seed`` (int), ``gamma_shape`` (k of the Gamma noise on
    bond times; larger is less random; ``math.inf`` turns the noise off), ``batch_fires`` (fires
    run through the automaton together)."""

    description = "example plugin: stochastic 8-neighbour cellular automaton (cruder than MTT; a template)"
    devices = ("cpu",)

    def __init__(
        self,
        *,
        device: str | torch.device | None = None,
        options: SimulationOptions | None = None,
        seed: int = 0,
        gamma_shape: float = 8.0,
        batch_fires: int = 64,
    ):
        super().__init__(device=device, options=options)
        if not gamma_shape > 0:
            raise InputError(f"ca backend: gamma_shape must be > 0, got {gamma_shape}")
        self.seed = int(seed)
        self.gamma_shape = float(gamma_shape)
        self.batch_fires = max(1, int(batch_fires))

    # -- spread rates -------------------------------------------------------------------------
    def _inverse_ros(self, tiles: TileBatch, breaks: torch.Tensor, b: int, weather: np.ndarray) -> np.ndarray:
        """1 / ROS (min/m) toward the 8 neighbours, [8, H, W]; inf where the cell cannot burn."""
        from fuelrl.physics.behavior import fire_behavior, ros_at_azimuth
        from fuelrl.physics.fuel_models import is_burnable

        fuel = tiles.fuel_model[b].numpy().astype(np.int64)
        fuel = np.where(breaks[b].numpy(), self.options.treatment_fuel_model, fuel)
        layer = {name: getattr(tiles, name)[b].numpy().astype(np.float64) for name in SPREAD_LAYERS[1:]}
        fb = fire_behavior(
            fuel,
            layer["slope_fraction"],
            layer["aspect_deg"],
            layer["canopy_cover_fraction"],
            layer["canopy_height_m"],
            layer["canopy_base_height_m"],
            layer["canopy_bulk_density_kg_m3"],
            wind_speed_20ft_m_min=weather[0],
            wind_from_deg=weather[1],
            moisture_fraction=weather[3:8],
            foliar_moisture_fraction=weather[2],
            conventions=self.options.conventions,
            crown_fire=self.options.crown_fire,
        )
        az = np.asarray(AZIMUTHS_DEG).reshape(-1, 1, 1)
        ros = np.asarray(ros_at_azimuth(fb.ros_head_m_min, fb.eccentricity, fb.direction_max_deg, az), float)
        ok = (np.asarray(is_burnable(fuel), bool) & tiles.valid[b].numpy())[None] & (ros > 0)
        with np.errstate(divide="ignore"):
            return np.where(ok, 1.0 / np.where(ok, ros, 1.0), np.inf)

    def prepare(self, tiles: TileBatch, scenarios: ScenarioSet) -> PreparedFires:
        """The default (nothing precomputed for ``simulate``) plus fuelrl's spread fields, the same
        physics as the bond times: DPV maps of this automaton's fires then skip the physics (the
        fast DPV path, docs/plugins.md)."""
        from dataclasses import replace

        from fuelrl.simulators.fields import PhysicsFormat
        from fuelrl.simulators.spread import prepare_spread

        prepared = super().prepare(tiles, scenarios)
        fmt = PhysicsFormat.for_device("cpu")
        return replace(
            prepared, spread=prepare_spread(tiles.to("cpu"), scenarios.to("cpu"), self.options, fmt)
        )

    # -- the automaton ------------------------------------------------------------------------
    def simulate(self, tiles: TileBatch, breaks: torch.Tensor, scenarios: ScenarioSet) -> SimulationResult:
        self.check_inputs(tiles, breaks, scenarios)
        tiles, breaks, scenarios = tiles.to("cpu"), breaks.to("cpu").bool(), scenarios.to("cpu")
        nb, nf = scenarios.shape
        _, h, w = tiles.shape
        cell = float(tiles.cell_size_m)
        weather = np.concatenate(
            [
                scenarios.wind_speed_20ft_m_min.double().numpy()[..., None],
                scenarios.wind_from_deg.double().numpy()[..., None],
                scenarios.foliar_moisture_fraction.double().numpy()[..., None],
                scenarios.moisture_fraction.double().numpy(),
            ],
            axis=-1,
        )  # [B, F, 8]
        ignition = scenarios.ignition_cell.numpy()
        duration = scenarios.duration_min.double().numpy()
        arrival = np.full((nb * nf, h, w), np.inf, dtype=np.float32)
        cache: dict[tuple, np.ndarray] = {}
        jobs: list[tuple[int, np.ndarray, int, float]] = []  # (flat fire index, bond times, site, duration)
        for b in range(nb):
            for f in range(nf):
                key = (b, *weather[b, f].tolist())
                if key not in cache:
                    cache[key] = self._inverse_ros(tiles, breaks, b, weather[b, f])
                inv = cache[key]
                r, c = divmod(int(ignition[b, f]), w)
                if not np.isfinite(inv[0, r, c]):
                    continue  # ignition on a non-burnable or treated cell: no fire
                rng = np.random.default_rng(_fire_seed(self.seed, b, ignition[b, f], weather[b, f]))
                jobs.append(
                    (b * nf + f, self._bonds(inv, cell, rng), r * (w + 2) + c + 1, float(duration[b, f]))
                )
                if len(jobs) == self.batch_fires:
                    self._grow(jobs, arrival, h, w)
                    jobs = []
        if jobs:
            self._grow(jobs, arrival, h, w)
        arrival = arrival.reshape(nb, nf, h, w)
        burned_ha = np.isfinite(arrival).sum(axis=(2, 3)) * tiles.cell_area_ha
        return SimulationResult(torch.from_numpy(arrival), torch.from_numpy(burned_ha.astype(np.float32)))

    def _bonds(self, inv: np.ndarray, cell: float, rng: np.random.Generator) -> np.ndarray:
        """Bond times [8, H * (W + 2)] arriving at each site from its neighbour k (padded rows)."""
        h, w = inv.shape[-2:]
        padded = np.pad(inv, [(0, 0), (1, 1), (1, 1)], constant_values=np.inf)
        pull = np.empty((len(NEIGHBOURS), h * (w + 2)), dtype=np.float32)
        noise = math.isfinite(self.gamma_shape)
        for k, (dr, dc) in enumerate(NEIGHBOURS):
            src = padded[k, 1 - dr : 1 - dr + h, 1 - dc : 1 - dc + w]  # the cell the fire comes from
            tau = 0.5 * STEPS[k] * cell * (src + inv[k])
            if noise:
                tau = tau * rng.gamma(self.gamma_shape, 1.0 / self.gamma_shape, size=tau.shape)
            pull[k] = np.pad(tau, [(0, 0), (1, 1)], constant_values=np.inf).reshape(-1)
        return pull

    @staticmethod
    def _grow(jobs: list, arrival: np.ndarray, h: int, w: int) -> None:
        """Run the automaton for a batch of fires until no site changes; write their arrival."""
        n, row = len(jobs), w + 2
        length = h * row
        pull = np.stack([j[1] for j in jobs])  # [n, 8, L]
        t = np.full((n, (h + 4) * row), np.inf, dtype=np.float32)
        start = 2 * row
        inner = t[:, start : start + length]
        for i, job in enumerate(jobs):
            inner[i, job[2]] = 0.0
        limit = np.asarray([j[3] for j in jobs], dtype=np.float32).reshape(n, 1)
        views = [t[:, start - (dr * row + dc) : start - (dr * row + dc) + length] for dr, dc in NEIGHBOURS]
        weights = [pull[:, k] for k in range(len(NEIGHBOURS))]
        cand = np.empty_like(inner)
        prev = inner.copy()
        for sweep in range(1, 8 * (h + w) + 8):
            for view, wk in zip(views, weights, strict=True):
                np.add(view, wk, out=cand)
                np.minimum(inner, cand, out=inner)
            if sweep % 4 == 0:
                inner[inner > limit] = np.inf
                if np.array_equal(inner, prev):
                    break
                prev[...] = inner
        inner[inner > limit] = np.inf
        arrival[[j[0] for j in jobs]] = inner.reshape(n, h, row)[:, :, 1 : 1 + w]
