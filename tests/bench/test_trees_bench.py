"""The DPV-trees benchmark grows the same fires on every landscape size and reports them."""

from __future__ import annotations

import numpy as np
import torch

from fuelrl import registry
from fuelrl.bench.trees import bench_trees, fires_for, flat_grass, markdown
from fuelrl.simulators.base import TileBatch


def test_the_fires_are_the_same_on_every_size():
    """Ignitions at the same offsets from the centre of uniform flat grass: the same burned shape."""
    sim = registry.create("threaded", workers=1)
    shapes = []
    for size in (256, 320):
        tiles = TileBatch.stack([flat_grass(size)])
        arrival = sim.simulate(tiles, torch.zeros(tiles.shape, dtype=torch.bool), fires_for(size)).arrival_min
        c = size // 2
        shapes.append(arrival[0, :, c - 128 : c + 128, c - 128 : c + 128].numpy())
    np.testing.assert_array_equal(shapes[0], shapes[1])
    assert np.isfinite(shapes[0]).sum(axis=(1, 2)).min() > 20  # every fire spreads


def test_section_rows_and_table():
    section = bench_trees((64, 96), repeats=1)
    rows = section["rows"]
    assert [r["size"] for r in rows] == [64, 96]
    for r in rows:
        assert r["fires"] == 12 and r["burned_cells_per_fire"] > 0
        assert r["dpv_ms_per_fire"]["median"] > 0 and r["simulate_ms_per_fire"]["median"] > 0
    assert rows[0]["dpv_vs_smallest"] == 1.0
    assert "64x64" in markdown(section) and "DPV trees ms/fire" in markdown(section)
