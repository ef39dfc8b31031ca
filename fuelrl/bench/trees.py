"""Fire-path trees (DPV maps) of the same fires on growing landscapes: their cost per fire.

A DPV map (:func:`fuelrl.simulators.trees.dpv`) builds each fire's
minimum-travel-time tree on the window of what it burned, so for fires of the same size its cost
per fire should stay flat as the landscape grows. This benchmark checks that: the *same* fires
(ignitions at the same offsets from the centre, the same weather and duration) on flat, uniform
grass landscapes of 256^2, 512^2 and 1024^2 cells, timed as ms per fire, beside one simulation of
those fires (``simulate_prepared`` of the threaded backend on one worker) for scale.

Run alone: ``python -m fuelrl.bench.trees [--sizes 256,512,1024] [--repeats 3] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import json
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from fuelrl.bench import report as rp

#: ignition offsets (rows, cols) from the landscape's centre, inside a 256 x 256 landscape
OFFSETS = tuple((dr, dc) for dr in (-60, 0, 60) for dc in (-60, 0, 60)) + ((-30, 30), (30, -30), (0, 90))
#: 20-ft wind (mph) of the fires, in turn: fires of different sizes, three weather groups
WIND_MPH = (6.0, 9.0, 12.0)
DURATION_MIN = 120.0
GRASS = 102  # GR2


def flat_grass(size: int, cell_size_m: float = 30.0) -> Any:
    """A flat size x size landscape of GR2 grass, no canopy (what TileBatch.stack reads)."""
    z = np.zeros((size, size), np.float32)
    return SimpleNamespace(
        fuel_model=np.full((size, size), GRASS, np.int32),
        slope_fraction=z,
        aspect_deg=z - 1.0,
        canopy_cover_fraction=z,
        canopy_height_m=z,
        canopy_base_height_m=z,
        canopy_bulk_density_kg_m3=z,
        valid=np.ones((size, size), bool),
        cell_size_m=cell_size_m,
    )


def fires_for(size: int):
    """The benchmark's fires on a size x size landscape: the same fires whatever the size from
    256 up (smaller landscapes, for smoke tests, get the offsets scaled down)."""
    from fuelrl.simulators.scenarios import make_scenarios

    c = size // 2
    k = min(1.0, size / 256)
    cells = [(c + int(dr * k)) * size + (c + int(dc * k)) for dr, dc in OFFSETS]
    wind = [WIND_MPH[i % len(WIND_MPH)] for i in range(len(cells))]
    return make_scenarios(
        [cells],
        wind_speed_20ft_mph=np.asarray([wind]),
        wind_from_deg=225.0,
        moisture_pct=(6, 7, 8, 60, 90),
        duration_min=DURATION_MIN,
    )


def bench_trees(sizes=(256, 512, 1024), repeats: int = 3) -> dict[str, Any]:
    """ms per fire of the DPV trees and of one simulation of the same fires, per landscape size."""
    from fuelrl import registry
    from fuelrl.simulators.base import TileBatch
    from fuelrl.simulators.trees import dpv

    backend = registry.create("threaded", workers=1)
    rows = []
    for size in sizes:
        tiles = TileBatch.stack([flat_grass(size)])
        scenarios = fires_for(size)
        n = scenarios.shape[1]
        breaks = torch.zeros(tiles.shape, dtype=torch.bool)
        prepared = backend.prepare(tiles, scenarios)
        result = {}

        def simulate(prepared=prepared, breaks=breaks, result=result) -> None:
            result["r"] = backend.simulate_prepared(prepared, breaks)

        sim_s = rp.timed_repeats(simulate, repeats)
        arrival = result["r"].arrival_min

        def trees(breaks=breaks, arrival=arrival, prepared=prepared) -> None:
            dpv(prepared, breaks, arrival)

        dpv_s = rp.timed_repeats(trees, repeats)
        row = {
            "size": size,
            "fires": n,
            "burned_cells_per_fire": float(torch.isfinite(arrival).sum()) / n,
            "dpv_ms_per_fire": rp.summarize([1000 * s / n for s in dpv_s]),
            "simulate_ms_per_fire": rp.summarize([1000 * s / n for s in sim_s]),
        }
        row["dpv_vs_simulate"] = rp.ratio(row["dpv_ms_per_fire"], row["simulate_ms_per_fire"])
        rows.append(row)
    base = rows[0]["dpv_ms_per_fire"]
    for row in rows:
        row["dpv_vs_smallest"] = rp.ratio(row["dpv_ms_per_fire"], base)
    return {
        "what": (
            "DPV trees (fuelrl.simulators.trees.dpv on the backend's prepared spread fields) of "
            f"{len(OFFSETS)} fires "
            f"at fixed offsets from the centre of flat GR2 grass landscapes, winds {WIND_MPH} mph from "
            f"225 deg, {DURATION_MIN:g} min; beside one threaded (1 worker) simulate_prepared of the "
            "same fires"
        ),
        "repeats": repeats,
        "rows": rows,
    }


def markdown(section: dict[str, Any]) -> str:
    header = [
        "landscape",
        "fires",
        "burned cells/fire",
        "DPV trees ms/fire",
        "simulate ms/fire",
        "DPV / simulate",
        "DPV vs smallest",
    ]
    body = [
        [
            f"{r['size']}x{r['size']}",
            r["fires"],
            f"{r['burned_cells_per_fire']:.0f}",
            rp.fmt(r["dpv_ms_per_fire"]),
            rp.fmt(r["simulate_ms_per_fire"]),
            rp.fmt_ratio(r["dpv_vs_simulate"]),
            rp.fmt_ratio(r["dpv_vs_smallest"]),
        ]
        for r in section["rows"]
    ]
    return rp.md_table(header, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuelrl.bench.trees", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,512,1024")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (1 on a shared CPU)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    section = bench_trees(tuple(int(s) for s in args.sizes.split(",")), args.repeats)
    print(json.dumps(rp.jsonable(section), indent=1) if args.json else markdown(section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
