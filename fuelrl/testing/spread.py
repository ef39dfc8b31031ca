"""Conformance checks of the optional ``PreparedFires.spread`` fields (mixed into
:class:`fuelrl.testing.BackendConformance`).

A backend whose ``prepare`` fills ``spread`` (:class:`fuelrl.simulators.fields.SpreadFields`) gives
the fire-path trees (DPV maps: FireEnv's ``dpv/max`` channel, the ``dpv`` planner) its spread rates
instead of their rerunning fuelrl's physics; these checks say the fields are well formed and give a
sensible DPV. A backend that provides none skips them. ``spread_physics_is_fuelrl`` (default True):
the fields claim to be fuelrl's own physics, so the DPV from them must equal the DPV that
recomputes it.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
import torch

from fuelrl.simulators.fields import SpreadFields
from fuelrl.simulators.spread import weather_groups, weather_key
from fuelrl.simulators.trees import dpv


class SpreadFieldsConformance:
    """Mixin of :class:`~fuelrl.testing.BackendConformance` (uses its ``make_backend`` and
    ``_prepared_case``)."""

    spread_physics_is_fuelrl: ClassVar[bool] = True

    def _spread_case(self):
        backend = self.make_backend()
        tiles, sc, breaks = self._prepared_case()
        prepared = backend.prepare(tiles, sc)
        if prepared.spread is None:
            pytest.skip("this backend provides no spread fields (optional; see docs/plugins.md)")
        return backend, prepared, breaks

    def test_spread_fields_are_well_formed(self):
        _, prepared, _ = self._spread_case()
        spread = prepared.spread
        assert isinstance(spread, SpreadFields)
        b, h, w = prepared.tiles.shape
        assert len(spread.tiles) == b
        groups = weather_groups(prepared.scenarios)
        fmt = spread.format
        for g in range(len(groups)):
            t = int(groups.tile[g])
            row = spread.tiles[t].keys[weather_key(groups, g)]  # every fire's weather is there
            inv = fmt.to_numpy(spread.tiles[t].inv_ros[row])
            burn = fmt.to_numpy(spread.tiles[t].burnable[row])
            assert inv.shape == (16, h, w) and burn.shape == (h, w) and burn.dtype == bool
            assert np.isinf(inv[:, ~burn]).all(), "fire cannot enter a cell that does not burn"
            assert (inv[:, burn] > 0).all()
            assert not burn[~prepared.tiles.valid[t].cpu().numpy()].any(), "nodata never burns"

    def test_spread_fields_give_a_sensible_dpv(self):
        backend, prepared, breaks = self._spread_case()
        result = backend.simulate_prepared(prepared, breaks)
        got = dpv(prepared, breaks, result.arrival_min)
        burned = result.burned_ha.double().mean(dim=1)
        for t in range(prepared.tiles.shape[0]):
            assert float(got[t].max()) <= float(burned[t]) + 1e-9, "a cell protects at most what burned"
            assert float(got[t][breaks[t].to(got.device)].abs().sum()) == 0.0, "treated cells protect nothing"
        assert float(got.sum()) > 0
        if self.spread_physics_is_fuelrl:
            bare = type(prepared)(prepared.tiles, prepared.scenarios, prepared.options)  # no fields
            torch.testing.assert_close(got, dpv(bare, breaks, result.arrival_min), rtol=0, atol=0)

    def test_spread_fields_follow_index_and_update(self):
        _, prepared, _ = self._spread_case()
        one = prepared.index([1])
        assert one.spread.tiles[0] is prepared.spread.tiles[1]
        swapped = prepared.update([0], one)
        assert swapped.spread.tiles[0] is prepared.spread.tiles[1]
        assert swapped.spread.tiles[1] is prepared.spread.tiles[1]
