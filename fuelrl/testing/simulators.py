"""Conformance tests for simulator backends, to subclass in a plugin's own test suite.

Like pandas' extension-array tests: the checks live here, a backend's test module subclasses
:class:`BackendConformance` and says which backend to build and how close to the reference it must
be::

    # tests/test_conformance.py of a plugin
    from fuelrl.testing import BackendConformance

    class TestMyBackend(BackendConformance):
        backend_name = "mybackend"            # the entry-point name
        backend_options = {"seed": 0}         # passed to the class
        reference_dice_min = 0.8              # a crude model declares a loose tolerance
        reference_area_rtol = 0.3
        reference_arrival_rtol = None         # None: arrival times are not compared

Every test builds small synthetic tiles in memory (no data files) and runs in about a second.
The checks: result shapes, dtype and units; non-burnable and nodata cells never burn; breaks block
spread and a treated ignition does not spread; arrival times grow with distance in uniform fuel;
wind pushes the fire downwind; determinism; burned area never shrinks with a longer duration;
agreement with the ``numpy`` reference within the declared tolerance; for a backend that declares
``gridded_weather = True``: a uniform weather grid gives exactly the scalar-weather result, and a
varying grid agrees with the ``numpy`` reference (and moves the fire); bad input shapes raise
:class:`fuelrl.errors.InputError`; prepare / simulate_prepared agree with simulate; and, for a
backend whose ``prepare`` provides spread fields (``PreparedFires.spread``, optional), that they are
well formed and give a sensible DPV (:mod:`fuelrl.testing.spread`).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, ClassVar

import numpy as np
import pytest
import torch

from fuelrl import registry
from fuelrl.errors import InputError
from fuelrl.simulators.base import SimulationOptions, SimulationResult, SimulatorBackend, TileBatch
from fuelrl.simulators.scenarios import make_scenarios
from fuelrl.testing.spread import SpreadFieldsConformance
from fuelrl.testing.weather import GriddedWeatherConformance

CELL_M = 30.0
GRASS = 102  # Scott & Burgan GR2, low load dry climate grass
SHRUB = 142  # SH2
TIMBER = 165  # TU5
NB_URBAN, NB_WATER = 91, 98
DRY_PCT = (3.0, 4.0, 5.0, 30.0, 60.0)


def make_tiles(
    fuel_model: np.ndarray,
    *,
    slope_fraction: float | np.ndarray = 0.0,
    aspect_deg: float | np.ndarray = 0.0,
    canopy_cover_fraction: float | np.ndarray = 0.0,
    canopy_height_m: float | np.ndarray = 0.0,
    canopy_base_height_m: float | np.ndarray = 0.0,
    canopy_bulk_density_kg_m3: float | np.ndarray = 0.0,
    valid: np.ndarray | None = None,
    cell_size_m: float = CELL_M,
) -> TileBatch:
    """A TileBatch from a fuel array [B, H, W] (or [H, W]) and constant or per-cell layers."""
    fuel = np.asarray(fuel_model, dtype=np.int32)
    if fuel.ndim == 2:
        fuel = fuel[None]
    shape = fuel.shape

    def layer(x: Any) -> torch.Tensor:
        arr = np.broadcast_to(np.asarray(x, dtype=np.float32), shape)
        return torch.from_numpy(np.array(arr))

    ok = np.ones(shape, bool) if valid is None else np.broadcast_to(np.asarray(valid, bool), shape)
    return TileBatch(
        fuel_model=torch.from_numpy(fuel.copy()),
        slope_fraction=layer(slope_fraction),
        aspect_deg=layer(aspect_deg),
        canopy_cover_fraction=layer(canopy_cover_fraction),
        canopy_height_m=layer(canopy_height_m),
        canopy_base_height_m=layer(canopy_base_height_m),
        canopy_bulk_density_kg_m3=layer(canopy_bulk_density_kg_m3),
        valid=torch.from_numpy(np.array(ok, dtype=bool)),
        cell_size_m=cell_size_m,
    )


def mixed_landscape(h: int = 40, w: int = 40, seed: int = 7) -> TileBatch:
    """A small heterogeneous tile: grass, shrub and timber patches under canopy, a slope, some
    non-burnable cells and a nodata corner (deterministic for ``seed``)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 3, size=(h // 8 + 1, w // 8 + 1))
    patches = np.kron(coarse, np.ones((8, 8), int))[:h, :w]
    fuel = np.choose(patches, [GRASS, SHRUB, TIMBER]).astype(np.int32)
    fuel[rng.random((h, w)) < 0.04] = NB_URBAN
    valid = np.ones((h, w), bool)
    valid[:4, -4:] = False
    fuel[~valid] = 0
    yy = np.arange(h, dtype=np.float32)[:, None] / h
    timber = fuel == TIMBER
    return make_tiles(
        fuel,
        slope_fraction=0.1 + 0.4 * np.broadcast_to(yy, (h, w)),
        aspect_deg=np.full((h, w), 200.0, np.float32),
        canopy_cover_fraction=np.where(timber, 0.6, 0.0),
        canopy_height_m=np.where(timber, 18.0, 0.0),
        canopy_base_height_m=np.where(timber, 2.0, 0.0),
        canopy_bulk_density_kg_m3=np.where(timber, 0.12, 0.0),
        valid=valid,
    )


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Overlap 2|A and B| / (|A| + |B|) of two boolean maps (1 when both are empty)."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else float(2.0 * (a & b).sum() / total)


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy()


def assert_same_fires(got: SimulationResult, want: SimulationResult) -> None:
    """The same burned cells and burned area, and arrival times equal to float32 rounding (the
    prepared path recomputes break cells on their own, where numpy's vectorised kernels may round
    the last bit of the float64 physics differently; the built-ins agree exactly in practice)."""
    g, w = got.arrival_min.cpu(), want.arrival_min.cpu()
    assert torch.equal(torch.isfinite(g), torch.isfinite(w)), "burned cells differ"
    torch.testing.assert_close(g, w, rtol=1e-6, atol=1e-4)
    torch.testing.assert_close(got.burned_ha.cpu(), want.burned_ha.cpu(), rtol=0, atol=0)


class BackendConformance(SpreadFieldsConformance, GriddedWeatherConformance):
    """The simulator contract as tests. Subclass and set the class attributes below."""

    #: the registered (entry-point) name of the backend under test
    backend_name: ClassVar[str] = ""
    #: keyword options for the backend class (e.g. ``{"device": "cpu", "seed": 0}``)
    backend_options: ClassVar[dict[str, Any]] = {}
    #: agreement with the numpy reference on :func:`mixed_landscape`: minimum Dice of burned cells
    reference_dice_min: ClassVar[float] = 0.995
    #: ... relative difference of the burned area
    reference_area_rtol: ClassVar[float] = 0.01
    #: ... relative difference of arrival times on cells both burn (None: not compared)
    reference_arrival_rtol: ClassVar[float | None] = 1e-3

    # ---- helpers a subclass may override -------------------------------------------------------
    def make_backend(self, options: SimulationOptions | None = None) -> SimulatorBackend:
        if not self.backend_name:
            pytest.fail(f"{type(self).__name__} must set backend_name")
        return registry.create(self.backend_name, options=options, **self.backend_options)

    def simulate(self, tiles, breaks=None, scenarios=None, options=None) -> SimulationResult:
        backend = self.make_backend(options)
        if breaks is None:
            breaks = torch.zeros(tiles.shape, dtype=torch.bool)
        return backend.simulate(tiles, breaks, scenarios)

    @staticmethod
    def scenarios(ignitions, **kw):
        weather = {
            "wind_speed_20ft_mph": 10.0,
            "wind_from_deg": 270.0,
            "moisture_pct": DRY_PCT,
            "foliar_moisture_pct": 100.0,
            "duration_min": 120.0,
        }
        weather.update(kw)
        return make_scenarios(ignitions, **weather)

    # ---- the contract --------------------------------------------------------------------------
    def test_registered(self):
        info = {i.name: i for i in registry.entries()}
        assert self.backend_name in info, f"{self.backend_name!r} not found in {sorted(info)}"
        assert "cpu" in info[self.backend_name].devices or torch.cuda.is_available()
        assert info[self.backend_name].description

    def test_shapes_dtype_units(self):
        tiles = make_tiles(np.full((2, 24, 30), GRASS))
        ign = [[12 * 30 + 10, 5 * 30 + 5, 20 * 30 + 25], [0, 12 * 30 + 15, 23 * 30 + 29]]
        sc = self.scenarios(ign, duration_min=[[60.0, 90.0, 30.0], [45.0, 60.0, 10.0]])
        res = self.simulate(tiles, scenarios=sc)
        assert tuple(res.arrival_min.shape) == (2, 3, 24, 30)
        assert res.arrival_min.dtype == torch.float32
        assert tuple(res.burned_ha.shape) == (2, 3)
        arr = _np(res.arrival_min)
        burned = np.isfinite(arr)
        assert not np.isnan(arr).any()
        assert (arr[burned] >= 0).all()
        dur = _np(sc.duration_min)[:, :, None, None]
        assert (np.where(burned, arr, 0) <= dur + 1e-3).all(), "arrival beyond the fire's duration"
        ha = burned.sum(axis=(2, 3)) * tiles.cell_area_ha
        np.testing.assert_allclose(_np(res.burned_ha), ha, rtol=1e-5)
        np.testing.assert_allclose(_np(res.burned_acres), ha * 2.4710538146716536, rtol=1e-5)
        for b in range(2):
            for f in range(3):
                r, c = divmod(int(ign[b][f]), 30)
                assert burned[b, f, r, c], "the ignition cell itself must burn"

    def test_nonburnable_and_nodata_never_burn(self):
        rng = np.random.default_rng(1)
        fuel = np.full((32, 32), GRASS)
        nb = rng.random((32, 32)) < 0.2
        fuel[nb] = rng.choice([91, 92, 93, 98, 99], size=int(nb.sum()))
        valid = np.ones((32, 32), bool)
        valid[:, :3] = False
        fuel[~valid] = 0
        fuel[16, 16] = GRASS
        tiles = make_tiles(fuel, valid=valid)
        res = self.simulate(tiles, scenarios=self.scenarios([16 * 32 + 16], duration_min=600.0))
        burned = _np(res.burned)[0, 0]
        assert burned.sum() > 20, "the fire should spread in grass"
        assert not burned[fuel != GRASS].any()

    def test_breaks_block_spread(self):
        fuel = np.full((30, 30), GRASS)
        tiles = make_tiles(fuel)
        breaks = torch.zeros((1, 30, 30), dtype=torch.bool)
        breaks[0, :, 15] = True
        sc = self.scenarios([15 * 30 + 5], wind_speed_20ft_mph=20.0, wind_from_deg=270.0, duration_min=600.0)
        open_ = _np(self.simulate(tiles, scenarios=sc).burned)[0, 0]
        assert open_[:, 20:].any(), "without the break the fire crosses the tile"
        blocked = _np(self.simulate(tiles, breaks=breaks, scenarios=sc).burned)[0, 0]
        assert blocked[:, :15].any()
        assert not blocked[:, 15:].any(), "fire crossed a full-height break"

    def test_treated_ignition_does_not_spread(self):
        tiles = make_tiles(np.full((20, 20), GRASS))
        breaks = torch.zeros((1, 20, 20), dtype=torch.bool)
        breaks[0, 10, 10] = True
        res = self.simulate(tiles, breaks=breaks, scenarios=self.scenarios([10 * 20 + 10]))
        assert not _np(res.burned).any()
        assert float(res.burned_ha.sum()) == 0.0

    def test_arrival_grows_with_distance_in_uniform_fuel(self):
        n = 41
        tiles = make_tiles(np.full((n, n), GRASS))
        sc = self.scenarios([20 * n + 20], wind_speed_20ft_mph=0.0, duration_min=2000.0)
        arr = _np(self.simulate(tiles, scenarios=sc).arrival_min)[0, 0]
        rr, cc = np.mgrid[0:n, 0:n]
        dist = np.hypot(rr - 20, cc - 20)
        ok = np.isfinite(arr)
        assert ok[dist <= 15].all(), "a windless grass fire should reach 15 cells in 2000 min"
        bins = np.arange(0, 16, 3)
        means = [arr[ok & (dist >= lo) & (dist < lo + 3)].mean() for lo in bins]
        assert np.all(np.diff(means) > 0), f"mean arrival by distance must increase: {means}"
        assert np.corrcoef(dist[ok & (dist <= 15)], arr[ok & (dist <= 15)])[0, 1] > 0.95

    def test_wind_pushes_fire_downwind(self):
        n = 41
        tiles = make_tiles(np.full((n, n), GRASS))
        sc = self.scenarios([20 * n + 20], wind_speed_20ft_mph=15.0, wind_from_deg=270.0, duration_min=60.0)
        burned = _np(self.simulate(tiles, scenarios=sc).burned)[0, 0]
        east, west = burned[:, 21:].sum(), burned[:, :20].sum()
        assert east > 2 * max(west, 1), f"wind from the west: east {east} cells vs west {west}"

    def test_deterministic(self):
        tiles = mixed_landscape()
        sc = self.scenarios([[700, 300, 1210]], wind_speed_20ft_mph=15.0, duration_min=240.0)
        a = self.simulate(tiles, scenarios=sc)
        b = self.simulate(tiles, scenarios=sc)
        np.testing.assert_array_equal(_np(a.arrival_min), _np(b.arrival_min))

    def test_burned_area_nondecreasing_with_duration(self):
        tiles = mixed_landscape()
        durations = [30.0, 60.0, 120.0, 240.0, 480.0]
        sc = self.scenarios([[820] * len(durations)], wind_speed_20ft_mph=12.0, duration_min=[durations])
        res = self.simulate(tiles, scenarios=sc)
        area = _np(res.burned_ha)[0]
        assert np.all(np.diff(area) >= 0), f"burned area by duration {durations}: {area}"
        assert area[-1] > area[0]

    def test_agrees_with_numpy_reference(self):
        tiles = mixed_landscape()
        breaks = torch.zeros(tiles.shape, dtype=torch.bool)
        breaks[0, 10:30, 25] = True
        sc = self.scenarios(
            [[820, 410, 1530]],
            wind_speed_20ft_mph=[[15.0, 8.0, 20.0]],
            wind_from_deg=[[250.0, 10.0, 135.0]],
            duration_min=240.0,
        )
        options = SimulationOptions()
        ref = registry.create("numpy", options=options).simulate(tiles, breaks, sc)
        got = self.simulate(tiles, breaks=breaks, scenarios=sc, options=options)
        ra, ga = _np(ref.arrival_min), _np(got.arrival_min)
        for f in range(ra.shape[1]):
            d = dice(np.isfinite(ra[0, f]), np.isfinite(ga[0, f]))
            assert d >= self.reference_dice_min, f"fire {f}: Dice {d:.4f} < {self.reference_dice_min}"
        np.testing.assert_allclose(_np(got.burned_ha), _np(ref.burned_ha), rtol=self.reference_area_rtol)
        if self.reference_arrival_rtol is not None:
            both = np.isfinite(ra) & np.isfinite(ga)
            np.testing.assert_allclose(ga[both], ra[both], rtol=self.reference_arrival_rtol, atol=1e-3)

    def test_bad_shapes_raise_input_error(self):
        tiles = make_tiles(np.full((10, 10), GRASS))
        backend = self.make_backend()
        with pytest.raises(InputError):
            backend.simulate(tiles, torch.zeros((1, 9, 10), dtype=torch.bool), self.scenarios([5]))
        with pytest.raises(InputError):
            backend.simulate(tiles, torch.zeros((1, 10, 10), dtype=torch.bool), self.scenarios([100]))

    # ---- prepare / simulate_prepared (optional for a plugin: the default reuses simulate) -------
    @staticmethod
    def _two_tiles() -> TileBatch:
        a, b = mixed_landscape(seed=7), mixed_landscape(seed=8)
        return TileBatch(
            **{
                f.name: torch.cat([getattr(a, f.name), getattr(b, f.name)])
                for f in fields(TileBatch)
                if isinstance(getattr(a, f.name), torch.Tensor)
            },
            cell_size_m=a.cell_size_m,
        )

    def _prepared_case(self) -> tuple[TileBatch, Any, torch.Tensor]:
        """Two tiles, fires in several weather groups per tile, breaks: a line across the first
        tile's fires, scattered cells (some non-burnable or nodata), one ignition cell."""
        tiles = self._two_tiles()
        sc = self.scenarios(
            [[820, 410, 1205, 820], [615, 1025, 235, 1410]],
            wind_speed_20ft_mph=[[10.0, 10.0, 20.0, 20.0], [5.0, 15.0, 15.0, 15.0]],
            wind_from_deg=[[270.0, 270.0, 200.0, 200.0], [90.0, 0.0, 0.0, 0.0]],
            duration_min=180.0,
        )
        rng = np.random.default_rng(0)
        breaks = torch.from_numpy(rng.random(tiles.shape) < 0.05)
        breaks[0, :, 25] = True
        breaks[1, 25, 25] = True  # the ignition cell of tile 1's second fire
        breaks[0, :4, -4:] = True  # nodata cells
        return tiles, sc, breaks

    @pytest.mark.parametrize("treatment_fuel_model", [91, 101], ids=["NB1", "GR1"])
    def test_prepared_matches_simulate(self, treatment_fuel_model):
        """simulate_prepared(prepare(tiles, fires), breaks) == simulate(tiles, breaks, fires), for
        a non-burnable and a burnable treatment, call after call on one prepared set (a break
        mask never leaks into the next call)."""
        options = SimulationOptions(treatment_fuel_model=treatment_fuel_model)
        backend = self.make_backend(options)
        tiles, sc, breaks = self._prepared_case()
        prepared = backend.prepare(tiles, sc)
        none = torch.zeros_like(breaks)
        fewer = breaks.clone()
        fewer[:, :, :20] = False
        for mask in (breaks, none, fewer, breaks):
            want = backend.simulate(tiles, mask, sc)
            got = backend.simulate_prepared(prepared, mask)
            assert_same_fires(got, want)
        # the breaks matter here (the test would not see them ignored)
        assert float(want.burned_ha.sum()) < float(backend.simulate(tiles, none, sc).burned_ha.sum())

    def test_prepared_index_and_update(self):
        """A sub-batch and a partial replacement of prepared fires simulate as their tiles do."""
        backend = self.make_backend()
        tiles, sc, breaks = self._prepared_case()
        prepared = backend.prepare(tiles, sc)
        one = prepared.index([1])
        want = backend.simulate(tiles.index([1]), breaks[1:], sc.index([1]))
        got = backend.simulate_prepared(one, breaks[1:])
        assert_same_fires(got, want)
        # replace tile 0 by a copy of tile 1 (and its fires): a batch of tile 1 twice
        swapped = prepared.update([0], one)
        got = backend.simulate_prepared(swapped, breaks[[1, 1]])
        assert_same_fires(got, backend.simulate(tiles.index([1, 1]), breaks[[1, 1]], sc.index([1, 1])))
        # the original is untouched
        assert_same_fires(backend.simulate_prepared(prepared, breaks), backend.simulate(tiles, breaks, sc))

    def test_prepared_with_other_options_raises(self):
        tiles, sc, breaks = self._prepared_case()
        prepared = self.make_backend(SimulationOptions(treatment_fuel_model=101)).prepare(tiles, sc)
        with pytest.raises(InputError):
            self.make_backend(SimulationOptions()).simulate_prepared(prepared, breaks)
