"""The gridded-weather part of the backend conformance suite (mixed into
:class:`fuelrl.testing.BackendConformance`): for a backend that declares ``gridded_weather = True``,
a uniform weather grid gives exactly the scalar-weather result, and a varying grid agrees with the
``numpy`` reference and moves the fires. Backends that do not declare it skip these tests (and
refuse gridded tiles with an :class:`~fuelrl.errors.InputError`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fuelrl import registry
from fuelrl.landscape.weather_grids import GriddedWeather, uniform_weather
from fuelrl.physics.behavior import CONVENTIONS
from fuelrl.physics.units import M_MIN_PER_MPH
from fuelrl.simulators.base import SimulationOptions, SimulatorBackend


class GriddedWeatherConformance:
    """Mixin of :class:`~fuelrl.testing.BackendConformance` (its helpers: ``make_backend``,
    ``scenarios``, ``reference_*`` tolerances)."""

    def _gridded_backend(self, options: SimulationOptions | None = None) -> SimulatorBackend:
        backend = self.make_backend(options)
        if not type(backend).gridded_weather:
            pytest.skip(f"{type(backend).__name__} does not declare gridded_weather")
        return backend

    def test_gridded_tiles_refused_unless_declared(self):
        """A backend that does not declare ``gridded_weather`` refuses gridded tiles (one
        InputError) rather than silently growing the fires under the scalar weather."""
        from fuelrl.errors import InputError
        from fuelrl.testing.simulators import mixed_landscape

        backend = self.make_backend()
        if type(backend).gridded_weather:
            pytest.skip("the backend takes gridded weather")
        tiles = mixed_landscape()
        gridded = tiles.with_weather([self.varying_weather(tiles.shape[1:])])
        with pytest.raises(InputError, match="gridded weather"):
            backend.simulate(gridded, torch.zeros(tiles.shape, dtype=torch.bool), self.scenarios([[820]]))

    @staticmethod
    def varying_weather(shape: tuple[int, int], seed: int = 3) -> GriddedWeather:
        """A wind grid faster and turned toward the east side, and a 1-h moisture gradient."""
        h, w = shape
        cols = np.broadcast_to(np.linspace(0.0, 1.0, w, dtype=np.float64)[None], (h, w))
        rows = np.broadcast_to(np.linspace(0.0, 1.0, h, dtype=np.float64)[:, None], (h, w))
        speed = (8.0 + 14.0 * cols) * M_MIN_PER_MPH
        return GriddedWeather(
            wind_speed_20ft_m_min=speed.astype(np.float32),
            wind_from_deg=(240.0 + 60.0 * rows).astype(np.float32),
            moisture_fraction={"1h": (0.03 + 0.05 * rows).astype(np.float32)},
            reference_wind_speed_20ft_mph=15.0,
            reference_wind_from_deg=270.0,
        )

    @pytest.mark.parametrize("conventions", CONVENTIONS)
    def test_uniform_grid_gives_exactly_the_scalar_result(self, conventions):
        """Tiles carrying a uniform grid (wind and all five moistures equal to the fires') give
        the same arrival times, bit for bit, as scalar weather, through simulate and prepare."""
        options = SimulationOptions(conventions=conventions)
        backend = self._gridded_backend(options)
        from fuelrl.testing.simulators import mixed_landscape

        tiles = mixed_landscape()
        sc = self.scenarios(
            [[820, 410, 1530]], wind_speed_20ft_mph=15.0, wind_from_deg=250.0, duration_min=240.0
        )
        grid = uniform_weather(
            tiles.shape[1:],
            wind_speed_20ft_mph=15.0,
            wind_from_deg=250.0,
            moisture_pct=dict(zip(("1h", "10h", "100h", "herb", "woody"), _dry_pct(), strict=True)),
        )
        gridded = tiles.with_weather([grid])
        assert gridded.gridded and not tiles.gridded
        breaks = torch.zeros(tiles.shape, dtype=torch.bool)
        breaks[0, 10:30, 25] = True
        want = backend.simulate(tiles, breaks, sc)
        got = backend.simulate(gridded, breaks, sc)
        assert torch.equal(got.arrival_min.cpu(), want.arrival_min.cpu())
        assert torch.equal(got.burned_ha.cpu(), want.burned_ha.cpu())
        prepared = backend.simulate_prepared(backend.prepare(gridded, sc), breaks)
        assert torch.equal(prepared.arrival_min.cpu(), want.arrival_min.cpu())

    def test_gridded_weather_agrees_with_numpy_reference(self):
        """A varying grid moves the fires (it is read), and the backend agrees with ``numpy`` on it
        as closely as on scalar weather; prepared fires give the same result."""
        backend = self._gridded_backend()
        from fuelrl.testing.simulators import mixed_landscape

        tiles = mixed_landscape()
        gridded = tiles.with_weather([self.varying_weather(tiles.shape[1:])])
        sc = self.scenarios(
            [[820, 410, 1530]], wind_speed_20ft_mph=15.0, wind_from_deg=270.0, duration_min=240.0
        )
        breaks = torch.zeros(tiles.shape, dtype=torch.bool)
        ref = registry.create("numpy").simulate(gridded, breaks, sc)
        scalar = registry.create("numpy").simulate(tiles, breaks, sc)
        assert not torch.equal(ref.arrival_min, scalar.arrival_min), "the grid was ignored"
        got = backend.simulate(gridded, breaks, sc)
        from fuelrl.testing.simulators import assert_same_fires, dice

        ra, ga = ref.arrival_min.cpu().numpy(), got.arrival_min.cpu().numpy()
        for f in range(ra.shape[1]):
            d = dice(np.isfinite(ra[0, f]), np.isfinite(ga[0, f]))
            assert d >= self.reference_dice_min, f"fire {f}: Dice {d:.4f} < {self.reference_dice_min}"
        np.testing.assert_allclose(
            got.burned_ha.cpu().numpy(), ref.burned_ha.cpu().numpy(), rtol=self.reference_area_rtol
        )
        if self.reference_arrival_rtol is not None:
            both = np.isfinite(ra) & np.isfinite(ga)
            np.testing.assert_allclose(ga[both], ra[both], rtol=self.reference_arrival_rtol, atol=1e-3)
        assert_same_fires(backend.simulate_prepared(backend.prepare(gridded, sc), breaks), got)


def _dry_pct() -> tuple[float, ...]:
    from fuelrl.testing.simulators import DRY_PCT

    return DRY_PCT
