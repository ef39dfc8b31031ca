"""prepare / simulate_prepared: the spread fields computed once, break cells redone per call."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fuelrl import registry
from fuelrl.simulators.base import PreparedFires, SimulationOptions, SimulatorBackend
from fuelrl.simulators.engine import prepare_fires, reusable_spread
from fuelrl.simulators.fields import PhysicsFormat
from fuelrl.simulators.scenarios import make_scenarios
from fuelrl.simulators.spread import group_inverse_ros, inverse_ros, prepare_spread, weather_groups
from fuelrl.testing import BackendConformance, mixed_landscape
from fuelrl.testing.simulators import assert_same_fires

CASE = BackendConformance()._prepared_case  # two tiles, several weather groups, breaks
NUMPY = PhysicsFormat.for_device("cpu")
TORCH64 = PhysicsFormat(torch, torch.float64)


@pytest.mark.parametrize("treatment_fuel_model", [91, 101, 142], ids=["NB1", "GR1", "SH2"])
def test_group_inverse_ros_from_cache_equals_physics_on_the_whole_tile(treatment_fuel_model):
    """The cached fields with only the break cells recomputed are the physics on the treated tile
    (numpy float64 and torch float64). To the last bit or so: numpy's vectorised kernels may round
    the last bit of a transcendental function differently depending on where an element falls in
    the array (measured: 16 of 76800 values differ by 1 ulp when the break cells are gathered)."""
    tiles, sc, breaks = CASE()
    options = SimulationOptions(treatment_fuel_model=treatment_fuel_model)
    groups = weather_groups(sc)
    ids = np.arange(len(groups))
    for fmt in (NUMPY, TORCH64):
        spread = prepare_spread(tiles, sc, options, fmt)
        want_inv, want_burn = inverse_ros(tiles, breaks, groups, ids, options, fmt)
        got_inv, got_burn = group_inverse_ros(tiles, breaks, groups, ids, options, fmt, spread=spread)
        np.testing.assert_allclose(np.asarray(got_inv), np.asarray(want_inv), rtol=1e-13, atol=0)
        np.testing.assert_array_equal(np.asarray(got_burn), np.asarray(want_burn))
        # a subset of groups, in another order
        sub = ids[::-1][:3]
        want_inv, _ = inverse_ros(tiles, breaks, groups, sub, options, fmt)
        got_inv, _ = group_inverse_ros(tiles, breaks, groups, sub, options, fmt, spread=spread)
        np.testing.assert_allclose(np.asarray(got_inv), np.asarray(want_inv), rtol=1e-13, atol=0)
        # the cache itself is untouched by the breaks
        clean, _ = inverse_ros(tiles, torch.zeros_like(breaks), groups, ids, options, fmt)
        cached = np.concatenate([np.asarray(s.inv_ros) for s in spread.tiles])
        np.testing.assert_array_equal(cached, np.asarray(clean))


def test_a_burnable_treatment_changes_only_the_break_cells():
    tiles, sc, breaks = CASE()
    groups = weather_groups(sc)
    ids = np.arange(len(groups))
    options = SimulationOptions(treatment_fuel_model=101)
    spread = prepare_spread(tiles, sc, options, NUMPY)
    got, _ = group_inverse_ros(tiles, breaks, groups, ids, options, NUMPY, spread=spread)
    clean, _ = inverse_ros(tiles, torch.zeros_like(breaks), groups, ids, options, NUMPY)
    changed = np.any(got != clean, axis=1)  # [G, H, W]
    assert not (changed & ~breaks.numpy()[groups.tile]).any()
    assert changed.any()


@pytest.mark.parametrize("name", ["numpy", "threaded", "torch"])
def test_over_the_memory_limit_nothing_is_cached_and_results_are_unchanged(name):
    tiles, sc, breaks = CASE()
    backend = registry.create(name, **({"device": "cpu"} if name == "torch" else {}))
    tiny = prepare_fires(backend, tiles, sc, NUMPY, max_mb=0.001)
    assert tiny.spread is None
    want = backend.simulate(tiles, breaks, sc).arrival_min
    torch.testing.assert_close(backend.simulate_prepared(tiny, breaks).arrival_min, want, rtol=0, atol=0)


def test_cpu_backends_share_prepared_fields_and_ignore_other_formats():
    """numpy, threaded and torch-on-CPU keep the same physics format: one backend's prepared fires
    serve another; fields in another format (e.g. torch float32) are ignored, not misused."""
    tiles, sc, breaks = CASE()
    numpy_b, threaded = registry.create("numpy"), registry.create("threaded", workers=2)
    torch_b = registry.create("torch", device="cpu")
    prepared = numpy_b.prepare(tiles, sc)
    assert reusable_spread(prepared, NUMPY) is not None
    for backend in (threaded, torch_b):
        assert_same_fires(backend.simulate_prepared(prepared, breaks), backend.simulate(tiles, breaks, sc))
    other = prepare_fires(torch_b, tiles, sc, PhysicsFormat(torch, torch.float32))
    assert other.spread is not None and reusable_spread(other, NUMPY) is None
    want = numpy_b.simulate(tiles, breaks, sc).arrival_min
    torch.testing.assert_close(numpy_b.simulate_prepared(other, breaks).arrival_min, want, rtol=0, atol=0)


class _SimulateOnly(SimulatorBackend):
    """A third-party backend that implements only ``simulate`` (delegating to numpy here)."""

    description = "test double"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.inner = registry.create("numpy", options=self.options)
        self.calls = 0

    def simulate(self, tiles, breaks, scenarios):
        self.calls += 1
        return self.inner.simulate(tiles, breaks, scenarios)


def test_a_backend_without_prepare_still_works_through_the_default():
    tiles, sc, breaks = CASE()
    backend = _SimulateOnly()
    prepared = backend.prepare(tiles, sc)
    assert isinstance(prepared, PreparedFires) and prepared.state is None and prepared.spread is None
    got = backend.simulate_prepared(prepared, breaks)
    assert backend.calls == 1
    want = registry.create("numpy").simulate(tiles, breaks, sc)
    torch.testing.assert_close(got.arrival_min, want.arrival_min, rtol=0, atol=0)
    # partial replacement and sub-batches work on the default too
    swapped = prepared.update([1], prepared.index([0]))
    got = backend.simulate_prepared(swapped, breaks[[0, 0]]).arrival_min
    torch.testing.assert_close(got[1], want.arrival_min[0], rtol=0, atol=0)


def test_prepare_checks_the_scenarios_match_the_tiles():
    from fuelrl.errors import InputError

    tiles = mixed_landscape()
    sc = make_scenarios(
        [[5], [6]], wind_speed_20ft_mph=5.0, wind_from_deg=0.0, moisture_pct=(3, 4, 5, 30, 60)
    )
    for backend in (registry.create("numpy"), _SimulateOnly()):
        with pytest.raises(InputError):
            backend.prepare(tiles, sc)


def test_dpv_from_prepared_fields_equals_dpv_from_the_physics():
    """The MTT trees (DPV) read the same float64 spread fields the simulators use; from the
    prepared fields they give the same DPV as recomputing the physics."""
    from fuelrl.simulators.trees import dpv

    tiles, sc, breaks = CASE()
    backend = registry.create("numpy")
    prepared = backend.prepare(tiles, sc)
    arrival = backend.simulate(tiles, breaks, sc).arrival_min
    spread = prepared.spread
    assert spread is not None
    want = dpv(PreparedFires(tiles, sc, backend.options), breaks, arrival)
    got = dpv(prepared, breaks, arrival)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    assert float(want.sum()) > 0
