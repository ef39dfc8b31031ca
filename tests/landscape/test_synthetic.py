"""The generator and terrain derivatives: seeded, consistent, LANDFIRE-like."""

from __future__ import annotations

import numpy as np
import pytest

from fuelrl.landscape import LAYER_ATTRS, generate_landscape, hillshade, slope_aspect
from fuelrl.landscape.fuel_codes import KNOWN_CODES, NONBURNABLE_CODES, TIMBER_CODES


def _plane(dz_east: float, dz_north: float, shape=(20, 24), cell=30.0) -> np.ndarray:
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    x, y = cols * cell, -rows * cell  # north-up: y decreases with the row
    return 500.0 + dz_east * x + dz_north * y


@pytest.mark.parametrize(
    ("dz_east", "dz_north", "aspect"),
    [(0.0, 0.3, 180.0), (0.0, -0.3, 0.0), (0.2, 0.0, 270.0), (-0.2, 0.0, 90.0), (0.1, 0.1, 225.0)],
)
def test_slope_aspect_of_a_plane(dz_east, dz_north, aspect):
    """A plane rising to the north faces south (aspect 180, the downslope azimuth), etc."""
    s, a = slope_aspect(_plane(dz_east, dz_north), 30.0)
    np.testing.assert_allclose(s, np.hypot(dz_east, dz_north), rtol=1e-5)
    np.testing.assert_allclose(a, aspect, atol=1e-3)


def test_flat_ground_has_zero_slope_and_aspect():
    s, a = slope_aspect(np.full((8, 8), 100.0), 30.0)
    assert np.all(s == 0) and np.all(a == 0)


def test_hillshade_faces_the_sun():
    # slope of 45 degrees facing the light (azimuth 315, altitude 45): the sun is normal to it
    rising_to_se = _plane(np.sin(np.radians(135)) * 1.0, np.cos(np.radians(135)) * 1.0)
    hs = hillshade(rising_to_se, 30.0, azimuth_deg=315.0, altitude_deg=45.0)
    np.testing.assert_allclose(hs, 1.0, atol=1e-5)
    away = hillshade(-rising_to_se, 30.0, azimuth_deg=315.0, altitude_deg=45.0)
    np.testing.assert_allclose(away, 0.0, atol=1e-5)  # faces away at 45 deg: grazing light
    flat = hillshade(np.zeros((5, 5)), 30.0, altitude_deg=30.0)
    np.testing.assert_allclose(flat, np.sin(np.radians(30.0)), atol=1e-6)
    G = generate_landscape(seed=0, shape=(64, 64))
    h = hillshade(G.elevation_m, G.cell_size_m)
    assert h.min() >= 0 and h.max() <= 1 and h.std() > 0.02


def test_generator_is_seeded():
    a, b, c = (
        generate_landscape(5, (40, 50)),
        generate_landscape(5, (40, 50)),
        generate_landscape(6, (40, 50)),
    )
    for attr in LAYER_ATTRS:
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
    assert not np.array_equal(a.elevation_m, c.elevation_m)
    assert not np.array_equal(a.fuel_model, c.fuel_model)


def test_generator_grid_and_flags():
    G = generate_landscape(seed=1, shape=(32, 48), cell_size_m=30.0)
    assert G.shape == (32, 48) and G.synthetic and G.source.startswith("synthetic(seed=1")
    assert G.crs.to_epsg() == 5070 and G.transform.a == 30.0 and G.transform.e == -30.0
    assert G.transform.c % 30 == 15 and G.transform.f % 30 == 15  # LANDFIRE cell alignment
    assert G.valid.all() and G.cell_area_ha == pytest.approx(0.09)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_generator_layers_are_consistent(seed):
    G = generate_landscape(seed=seed, shape=(128, 128))
    s, a = slope_aspect(G.elevation_m, G.cell_size_m)
    np.testing.assert_allclose(G.slope_fraction, s, rtol=1e-6)
    np.testing.assert_allclose(G.aspect_deg, a, atol=1e-4)
    assert 0.08 < float(np.median(G.slope_fraction)) < 0.40
    codes = set(np.unique(G.fuel_model).tolist())
    assert codes <= KNOWN_CODES
    groups = {"GR": range(101, 110), "SH/GS": range(121, 150), "TU": range(161, 166), "TL": range(181, 190)}
    for name, rng in groups.items():
        share = np.isin(G.fuel_model, list(rng)).mean()
        assert 0.05 < share < 0.6, (name, share)
    nb_share = np.isin(G.fuel_model, sorted(NONBURNABLE_CODES)).mean()
    assert 0.03 < nb_share < 0.2 and {91, 98} <= codes
    timber = np.isin(G.fuel_model, sorted(TIMBER_CODES))
    canopy = [G.canopy_cover_fraction, G.canopy_height_m, G.canopy_base_height_m, G.canopy_bulk_density_kg_m3]
    for layer in canopy:
        assert np.all(layer[~timber] == 0) and np.all(layer[timber] > 0)
    assert np.all(G.canopy_base_height_m[timber] < G.canopy_height_m[timber])
    assert G.canopy_cover_fraction.max() <= 0.95 and G.canopy_bulk_density_kg_m3.max() <= 0.45
    # LANDFIRE storage steps: cover in 10 % classes ending in 5, heights 0.1 m, CBD 0.01 kg/m3
    cc = G.canopy_cover_fraction[timber] * 100
    np.testing.assert_allclose((cc - 5) % 10, 0, atol=1e-3)
    np.testing.assert_allclose(G.canopy_height_m * 10, np.rint(G.canopy_height_m * 10), atol=1e-3)
    # timber on north-facing slopes more than on south-facing ones (moisture gradient)
    steep = G.slope_fraction > 0.15
    north = steep & ((G.aspect_deg < 45) | (G.aspect_deg > 315))
    south = steep & (np.abs(G.aspect_deg - 180) < 45)
    if north.sum() > 200 and south.sum() > 200:
        assert timber[north].mean() > timber[south].mean()
