"""``threaded``: fires spread across a pool of threads on the CPU cores.

scipy's Dijkstra holds the GIL (measured: 2 threads run it no faster than 1), so this backend
solves each chunk of fires with the vectorised min-plus relaxation in numpy instead, whose kernels
release the GIL; the physics (numpy, float64, as the reference) runs in the same threads.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields, replace

import numpy as np
import torch

from fuelrl.errors import InputError
from fuelrl.simulators.base import (
    SimulationOptions,
    TileBatch,
)
from fuelrl.simulators.engine import (
    NUMPY_F32,
    BuiltinBackend,
    FirePlan,
    solve_fires_relax,
    spread_fields,
)
from fuelrl.simulators.fields import PhysicsFormat, SpreadFields
from fuelrl.simulators.mtt import edge_times
from fuelrl.simulators.spread import inverse_ros


class ThreadedBackend(BuiltinBackend):
    """Minimum travel time on a thread pool of ``workers`` threads (default: the CPU count).

    Fires are taken in waves of ``wave_fires``: the spread fields of the wave's weather groups are
    computed in parallel (once per group), then chunks of ``chunk_fires`` fires are relaxed in
    parallel on those shared fields."""

    description = "minimum travel time on a CPU thread pool (numpy physics, vectorised relaxation)"
    devices = ("cpu",)

    def __init__(
        self,
        *,
        device: str | torch.device | None = None,
        options: SimulationOptions | None = None,
        workers: int | None = None,
        chunk_fires: int = 32,
        wave_fires: int = 512,
    ):
        super().__init__(device=device, options=options)
        self.workers = int(workers or os.cpu_count() or 1)
        if self.workers < 1:
            raise InputError(f"threaded backend: workers must be >= 1, got {workers}")
        self.chunk_fires = int(chunk_fires)
        self.wave_fires = int(wave_fires)
        if self.chunk_fires < 1 or self.wave_fires < 1:
            raise InputError(
                f"threaded backend: chunk_fires and wave_fires must be >= 1, got {chunk_fires}, {wave_fires}"
            )

    def _solve(self, tiles: TileBatch, breaks: torch.Tensor, plan: FirePlan, spread: SpreadFields | None):
        b, f, h, w = plan.shape
        arrival = np.full((b * f, h, w), np.inf, dtype=np.float32)
        group_of_fire = plan.groups.group_of_fire.reshape(-1)
        # small batches: split so that every worker gets a chunk
        chunk = max(1, min(self.chunk_fires, -(-plan.n_fires // self.workers)))
        pool = (
            ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="fuelrl-sim")
            if self.workers > 1
            else None
        )

        def run(fn, items: list) -> list:
            if pool is None or len(items) == 1:
                return [fn(item) for item in items]
            return list(pool.map(fn, items))

        try:
            # waves of fires: their weather groups' spread fields in parallel (each computed once),
            # then the fires in parallel chunks sharing those fields
            for wave in plan.chunks(self.wave_fires):
                groups = np.unique(group_of_fire[wave])
                if spread is not None:  # prepared: only the break cells are recomputed, no physics to share
                    times, burn = spread_fields(
                        tiles, breaks, plan, groups, self.options, NUMPY_F32, spread=spread
                    )
                elif groups.size >= self.workers:
                    # groups per physics call: share them among the workers, at most ~2^18 cells
                    # per call (bigger arrays fall out of cache)
                    gsize = max(1, min(2**18 // (h * w), -(-groups.size // self.workers)))
                    group_chunks = [groups[i : i + gsize] for i in range(0, groups.size, gsize)]
                    parts = run(
                        lambda ids: spread_fields(tiles, breaks, plan, ids, self.options, NUMPY_F32),
                        group_chunks,
                    )
                    times = np.concatenate([p[0] for p in parts])
                    burn = np.concatenate([p[1] for p in parts])
                else:  # fewer groups than workers: split the physics by bands of rows instead
                    times, burn = self._fields_by_rows(tiles, breaks, plan, groups, run)
                fields = (times, burn, groups)
                order = wave[np.argsort(group_of_fire[wave], kind="stable")]
                fire_chunks = [order[i : i + chunk] for i in range(0, order.size, chunk)]

                def solve(idx: np.ndarray, fields=fields) -> None:
                    arrival[idx] = solve_fires_relax(
                        tiles, breaks, plan, idx, self.options, NUMPY_F32, fields=fields
                    )

                run(solve, fire_chunks)
        finally:
            if pool is not None:
                pool.shutdown()
        return arrival

    def _fields_by_rows(
        self, tiles: TileBatch, breaks: torch.Tensor, plan: FirePlan, groups: np.ndarray, run
    ):
        """Spread fields of ``groups`` with the per-cell physics split into bands of rows, one per
        worker (the physics is cell by cell, so the bands are independent); the edge times, which
        need neighbouring cells, are computed on the joined rates."""
        h = tiles.shape[1]
        edges = np.linspace(0, h, min(self.workers, h) + 1).astype(int)
        bands = [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]

        def band(rows: tuple[int, int]):
            r0, r1 = rows
            sub = replace(
                tiles,
                **{
                    f.name: getattr(tiles, f.name)[:, r0:r1]
                    for f in fields(tiles)
                    if isinstance(getattr(tiles, f.name), torch.Tensor)
                },
            )
            physics = PhysicsFormat.for_device("cpu")
            return inverse_ros(sub, breaks[:, r0:r1], plan.groups, groups, self.options, physics)

        parts = run(band, bands)
        inv = np.concatenate([p[0] for p in parts], axis=-2)
        burn = np.concatenate([p[1] for p in parts], axis=-2)
        return edge_times(inv, tiles.cell_size_m).astype(np.float32), burn
