"""simulate runs fires in chunks: the burn probability does not depend on the chunk size, and the
backend never holds more than one chunk of fires, whatever --fires is."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
import torch

from fuelrl import cli
from fuelrl.commands import simulate
from fuelrl.simulators.base import SimulationResult

SPEC = "synthetic:seed=4,size=40"


def _bp(path):
    with rasterio.open(path / "burn_probability.tif") as ds:
        return ds.read(1)


@pytest.mark.parametrize("chunk", [1, 3])
def test_burn_probability_is_the_same_for_any_chunk_size(tmp_path, chunk):
    base = ["simulate", SPEC, "--fires", "7", "--seed", "2", "--backend", "numpy"]
    assert cli.main([*base, "--fires-per-chunk", "7", "--out", str(tmp_path / "whole")]) == 0
    assert cli.main([*base, "--fires-per-chunk", str(chunk), "--out", str(tmp_path / "chunked")]) == 0
    np.testing.assert_array_equal(_bp(tmp_path / "whole"), _bp(tmp_path / "chunked"))
    a = json.loads((tmp_path / "whole" / "summary.json").read_text())
    b = json.loads((tmp_path / "chunked" / "summary.json").read_text())
    assert a["burned_ha"] == b["burned_ha"] and b["fires_per_chunk"] == chunk


def test_default_chunk_fits_the_budget():
    h, w = 613, 549  # the Worcester clip
    chunk = simulate.fires_per_chunk((h, w), 10_000)
    assert 1 <= chunk < 10_000
    assert chunk * h * w * simulate.BYTES_PER_CELL_FIRE <= simulate.CHUNK_BUDGET_BYTES
    assert simulate.fires_per_chunk((h, w), 5) == 5
    assert simulate.fires_per_chunk((20_000, 20_000), 10) == 1


class _CountingBackend:
    """A stand-in backend: every cell burns at t=1 for even fires, none for odd ones."""

    public_name = "counting"

    def __init__(self):
        from fuelrl.simulators.base import SimulationOptions

        self.options = SimulationOptions()
        self.device = torch.device("cpu")
        self.calls: list[int] = []

    def simulate(self, tiles, breaks, scenarios):
        ign = scenarios.ignition_cell
        b, f = ign.shape
        self.calls.append(f)
        h, w = breaks.shape[-2:]
        arrival = torch.full((b, f, h, w), float("inf"))
        arrival[:, 0::2] = 1.0
        return SimulationResult(arrival_min=arrival, burned_ha=torch.ones(b, f))


def test_ten_thousand_fires_never_reach_the_backend_at_once(tmp_path, monkeypatch):
    backend = _CountingBackend()
    monkeypatch.setattr(simulate, "make_backend", lambda args, **kwargs: backend)
    out = tmp_path / "out"
    args = ["simulate", SPEC, "--fires", "10000", "--fires-per-chunk", "64", "--out", str(out)]
    assert cli.main(args) == 0
    assert sum(backend.calls) == 10_000 and max(backend.calls) == 64
    bp = _bp(out)
    # fires 0, 2, 4, ... burn everything in every chunk of 64 (an even size): half the fires
    assert np.allclose(bp[bp >= 0], 0.5)
