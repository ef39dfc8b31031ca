"""Fuel model tables: codes, names, units, burnable masks."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from fuelrl.errors import InputError
from fuelrl.physics import units
from fuelrl.physics.fuel_models import (
    FUEL_MODELS,
    KNOWN_CODES,
    NONBURNABLE_CODES,
    is_burnable,
    parse_fuel_model,
)


def test_model_counts_and_codes():
    assert len([c for c in FUEL_MODELS if 1 <= c <= 13]) == 13
    assert len([c for c in FUEL_MODELS if 101 <= c <= 204]) == 40
    assert NONBURNABLE_CODES == {91, 92, 93, 98, 99}
    assert KNOWN_CODES == set(FUEL_MODELS) | NONBURNABLE_CODES
    assert 0 not in KNOWN_CODES


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("GR1", 101),
        ("gr1", 101),
        ("101", 101),
        (101, 101),
        ("FM4", 4),
        ("4", 4),
        (4, 4),
        ("SB4", 204),
        ("NB9", 99),
        (" TL8 ", 188),
        (13.0, 13),
    ],
)
def test_parse_fuel_model(value, code):
    assert parse_fuel_model(value) == code


@pytest.mark.parametrize("value", ["GR0", "XX", "", "14", 100, 205, -1, "1.5", None, True])
def test_parse_fuel_model_rejects(value):
    with pytest.raises(InputError):
        parse_fuel_model(value)


def test_si_units_against_published_table(reference_dir):
    """Our copy of the facts, converted to SI, equals the published table (t/ac, 1/ft, ft)."""
    with (reference_dir / "sb40_fuel_models.csv").open() as f:
        for row in csv.DictReader(f):
            m = FUEL_MODELS[int(row["number"])]
            assert m.label == row["code"]
            assert m.load_1h_kg_m2 == pytest.approx(float(row["load_1h_t_ac"]) * 0.224170, rel=1e-5)
            assert m.load_herb_kg_m2 == pytest.approx(float(row["load_live_herb_t_ac"]) * 0.224170, rel=1e-5)
            assert m.sav_1h_m_1 == pytest.approx(float(row["sav_1h_ft-1"]) / 0.3048, rel=1e-9)
            assert m.depth_m == pytest.approx(float(row["fuel_bed_depth_ft"]) * 0.3048, rel=1e-9)
            assert m.dead_moisture_of_extinction_fraction == pytest.approx(
                float(row["dead_mx_ext_pct"]) / 100
            )
            assert m.heat_content_dead_kj_kg == pytest.approx(
                float(row["heat_content_btu_lb"]) * 2.326, rel=1e-4
            )
            assert m.dynamic == (row["dynamic"] == "yes")


def test_unit_factors():
    assert units.KG_M2_PER_T_AC == pytest.approx(0.2241702, rel=1e-6)
    assert units.KW_M_PER_BTU_FT_S == pytest.approx(3.4614, rel=1e-4)
    assert units.M_MIN_PER_MPH == pytest.approx(26.8224, rel=1e-9)
    assert units.M_MIN_PER_CH_H == pytest.approx(0.33528, rel=1e-9)


def test_is_burnable_numpy_and_torch():
    codes = np.array([[0, 1, 13, 14, 91, 99], [101, 204, 205, -5, 300, 188]])
    expected = np.array([[False, True, True, False, False, False], [True, True, False, False, False, True]])
    np.testing.assert_array_equal(is_burnable(codes), expected)
    got = is_burnable(torch.as_tensor(codes))
    assert isinstance(got, torch.Tensor) and got.dtype == torch.bool
    np.testing.assert_array_equal(got.numpy(), expected)
