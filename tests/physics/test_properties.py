"""Physical properties of the surface and crown fire model, and numpy/torch agreement."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fuelrl.errors import InputError
from fuelrl.physics import crown
from fuelrl.physics.behavior import fire_behavior, ros_at_azimuth
from fuelrl.physics.fuel_models import FUEL_MODELS, NONBURNABLE_CODES

ALL_MODELS = np.array(sorted(FUEL_MODELS))
MOISTURE = np.array([0.06, 0.07, 0.08, 0.60, 0.90])


def behave(codes, *, slope=0.0, aspect=0.0, u20=0.0, wind_from=0.0, moisture=MOISTURE, midflame=None, **kw):
    return fire_behavior(
        codes,
        slope,
        aspect,
        kw.pop("cc", 0.0),
        kw.pop("ch", 0.0),
        kw.pop("cbh", 0.0),
        kw.pop("cbd", 0.0),
        wind_speed_20ft_m_min=None if midflame is not None else u20,
        midflame_wind_m_min=midflame,
        wind_from_deg=wind_from,
        moisture_fraction=moisture,
        foliar_moisture_fraction=kw.pop("fmc", 1.0),
        **kw,
    )


@pytest.mark.parametrize("conventions", ["behave", "flammap"])
def test_ros_rises_with_wind(conventions):
    winds = np.linspace(0.0, 1200.0, 13)[:, None]  # 20-ft wind, m/min
    ros = behave(
        ALL_MODELS[None, :], u20=winds, wind_from=180.0, conventions=conventions, crown_fire=False
    ).ros_head_m_min
    assert np.all(ros[0] > 0)
    assert np.all(np.diff(ros, axis=0) >= -1e-12)  # never falls (the wind limit may cap it)
    assert np.all(ros[-1] > ros[0])


@pytest.mark.parametrize("conventions", ["behave", "flammap"])
def test_ros_rises_with_slope(conventions):
    slopes = np.linspace(0.0, 1.0, 11)[:, None]
    ros = behave(
        ALL_MODELS[None, :], slope=slopes, aspect=90.0, conventions=conventions, crown_fire=False
    ).ros_head_m_min
    # BehavePlus caps the slope's effect too (the wind limit bounds the effective wind)
    assert np.all(np.diff(ros, axis=0) >= 0)
    unlimited = behave(
        ALL_MODELS[None, :],
        slope=slopes,
        aspect=90.0,
        conventions=conventions,
        crown_fire=False,
        wind_limit=False,
    ).ros_head_m_min
    assert np.all(np.diff(unlimited, axis=0) > 0)


def test_ros_falls_with_dead_moisture_and_is_zero_at_extinction():
    m1 = np.linspace(0.02, 0.60, 59)
    moisture = np.stack(np.broadcast_arrays(m1, 0.07, 0.08, 0.9, 1.2), -1)[:, None, :]
    fb = behave(ALL_MODELS[None, :], u20=300.0, moisture=moisture, crown_fire=False)
    ros = fb.ros_head_m_min
    assert np.all(np.diff(ros, axis=0) <= 1e-12)
    mx = np.array([FUEL_MODELS[c].dead_moisture_of_extinction_fraction for c in ALL_MODELS])
    # dead fuels at or above extinction and live fuels too wet to burn: no spread
    wet = behave(
        ALL_MODELS,
        u20=300.0,
        moisture=np.stack([mx, mx, mx, np.full_like(mx, 5.0), np.full_like(mx, 5.0)], -1),
    )
    assert np.all(wet.ros_head_m_min == 0) and np.all(wet.fire_type == 0)
    assert np.all(wet.reaction_intensity_kw_m2 == 0)


def test_live_moisture_lowers_ros_of_live_fuel_models():
    live = np.array([c for c, m in FUEL_MODELS.items() if m.load_woody_kg_m2 > 0])
    woody = np.linspace(0.6, 3.0, 13)[:, None]
    moisture = np.stack(np.broadcast_arrays(0.06, 0.07, 0.08, 0.9, woody), -1)
    ros = behave(live[None, :], u20=200.0, moisture=moisture, crown_fire=False).ros_head_m_min
    assert np.all(np.diff(ros, axis=0) <= 1e-12)
    assert np.all(ros[-1] < ros[0])


@pytest.mark.parametrize("code", [0, *sorted(NONBURNABLE_CODES), 14, 250])
def test_nonburnable_codes_do_not_burn(code):
    fb = behave(np.array([code]), slope=0.5, u20=900.0, cc=0.6, ch=20.0, cbh=1.0, cbd=0.3)
    for field in (
        "ros_head_m_min",
        "ros_surface_m_min",
        "fireline_intensity_kw_m",
        "flame_length_m",
        "eccentricity",
        "reaction_intensity_kw_m2",
    ):
        assert getattr(fb, field)[0] == 0.0, field
    assert fb.fire_type[0] == 0


def test_aspect_irrelevant_on_flat_ground_and_direction_follows_wind():
    a = behave(ALL_MODELS, u20=500.0, wind_from=30.0, aspect=0.0, crown_fire=False)
    b = behave(ALL_MODELS, u20=500.0, wind_from=30.0, aspect=250.0, crown_fire=False)
    np.testing.assert_allclose(a.ros_head_m_min, b.ros_head_m_min)
    np.testing.assert_allclose(a.direction_max_deg, 210.0)


def test_cross_slope_mirror_symmetry():
    """Wind from 90 or 270 degrees across a south-facing slope: same rate, mirrored direction."""
    east = behave(ALL_MODELS, slope=0.4, aspect=180.0, u20=400.0, wind_from=90.0, crown_fire=False)
    west = behave(ALL_MODELS, slope=0.4, aspect=180.0, u20=400.0, wind_from=270.0, crown_fire=False)
    np.testing.assert_allclose(east.ros_head_m_min, west.ros_head_m_min, rtol=1e-12)
    np.testing.assert_allclose((east.direction_max_deg + west.direction_max_deg) % 360.0, 0.0, atol=1e-9)
    # the slope pulls the head from the downwind direction (270 resp. 90) toward upslope (0)
    assert np.all((east.direction_max_deg > 270.0) & (east.direction_max_deg < 360.0))


def test_aligned_wind_and_slope_add():
    fb = behave(
        ALL_MODELS,
        slope=0.3,
        aspect=180.0,
        midflame=100.0,
        wind_from=180.0,
        crown_fire=False,
        wind_limit=False,
    )
    expected = fb.ros_no_wind_no_slope_m_min * (1.0 + fb.wind_factor + fb.slope_factor)
    np.testing.assert_allclose(fb.ros_head_m_min, expected, rtol=1e-12)
    np.testing.assert_allclose(fb.direction_max_deg, 0.0, atol=1e-9)


def test_ellipse_rates():
    head, e, theta = 10.0, 0.8, 40.0
    assert ros_at_azimuth(head, e, theta, theta) == pytest.approx(head)
    assert ros_at_azimuth(head, e, theta, theta + 180.0) == pytest.approx(head * (1 - e) / (1 + e))
    assert ros_at_azimuth(head, 0.0, theta, 123.0) == pytest.approx(head)
    az = np.linspace(0, 360, 73)
    r = ros_at_azimuth(head, e, theta, az)
    assert r.max() == pytest.approx(head) and np.all(r > 0)
    np.testing.assert_allclose(
        ros_at_azimuth(head, e, theta, theta + 25.0), ros_at_azimuth(head, e, theta, theta - 25.0)
    )
    t = ros_at_azimuth(torch.tensor(head), torch.tensor(e), torch.tensor(theta), torch.as_tensor(az))
    np.testing.assert_allclose(t.numpy(), r, rtol=1e-5)


def test_lw_ratio_behave_form_and_cap():
    fb = behave(
        np.array([101, 165]),
        midflame=np.array([[0.0], [200.0], [5000.0]]),
        wind_limit=False,
        crown_fire=False,
    )
    ue_mph = fb.effective_wind_m_min / 26.8224
    np.testing.assert_allclose(fb.lw_ratio, np.minimum(1 + 0.25 * ue_mph, 8.0))
    assert np.all(fb.lw_ratio[-1] == 8.0)
    np.testing.assert_allclose(fb.eccentricity, np.sqrt(fb.lw_ratio**2 - 1) / fb.lw_ratio)


def test_van_wagner_initiation_and_crown_types():
    # I0 = (0.010 * 4 * (460 + 25.9 * 100)) ** 1.5 = 122 ** 1.5
    assert crown.critical_surface_intensity_kw_m(4.0, 100.0) == pytest.approx(122.0**1.5)
    winds = np.array([0.0, 300.0, 900.0, 2000.0])[:, None]
    cbh = np.array([0.5, 2.0, 8.0])[None, :]
    for conventions in ("behave", "flammap"):
        fb = behave(
            np.array([165]),
            u20=winds,
            wind_from=0.0,
            cc=0.7,
            ch=20.0,
            cbh=cbh,
            cbd=0.25,
            conventions=conventions,
        )
        # crowning needs surface intensity above I0; higher bases crown later
        crowning = fb.fire_type >= 2
        np.testing.assert_array_equal(
            crowning, fb.surface_fireline_intensity_kw_m >= fb.critical_intensity_kw_m
        )
        assert np.all(np.diff(crowning.astype(int), axis=1) <= 0)  # rising CBH never starts a crown fire
        assert np.all(np.diff(fb.fire_type, axis=0) >= 0)  # stronger wind never lowers the fire type
        assert fb.fire_type.max() == 3 and fb.fire_type.min() == 1
        # a crown fire spreads at least as fast as the surface fire and is more intense
        assert np.all(fb.ros_head_m_min >= fb.ros_surface_m_min - 1e-9)
        assert np.all(fb.fireline_intensity_kw_m[crowning] >= fb.surface_fireline_intensity_kw_m[crowning])
    # without a canopy there is no crown fire
    open_ground = behave(np.array([165]), u20=2000.0, cc=0.0, ch=0.0, cbh=0.5, cbd=0.25)
    assert open_ground.fire_type[0] == 1


def test_active_crown_rate_is_rothermel_1991():
    fb = behave(
        np.array([165]), u20=1500.0, wind_from=0.0, cc=0.8, ch=20.0, cbh=1.0, cbd=0.3, conventions="flammap"
    )
    fm10 = behave(
        np.array([10]), midflame=0.4 * 1500.0, wind_from=0.0, conventions="flammap", crown_fire=False
    )
    assert fb.fire_type[0] == 3
    assert fb.ros_active_crown_m_min[0] == pytest.approx(3.34 * fm10.ros_head_m_min[0])


def test_sheltered_wind_is_slower():
    open_ = behave(np.array([165]), u20=500.0, crown_fire=False)
    under = behave(np.array([165]), u20=500.0, cc=0.6, ch=20.0, cbh=5.0, cbd=0.1, crown_fire=False)
    assert under.wind_adjustment_factor[0] < open_.wind_adjustment_factor[0]
    assert under.ros_head_m_min[0] < open_.ros_head_m_min[0]


def test_bad_arguments():
    with pytest.raises(InputError):
        behave(np.array([101]), conventions="farsite")
    with pytest.raises(InputError):
        behave(np.array([101]), moisture=np.array([0.06, 0.07, 0.08, 0.6]))


def _inputs(rng, b=2, f=3, h=24, w=20):
    codes = rng.choice(
        [0, 91, 99, 1, 4, 10, 101, 102, 121, 122, 145, 147, 165, 183, 188, 204], size=(b, 1, h, w)
    )
    cell = lambda lo, hi: rng.uniform(lo, hi, (b, 1, h, w))  # noqa: E731
    weather = lambda lo, hi: rng.uniform(lo, hi, (b, f, 1, 1))  # noqa: E731
    moisture = np.stack(
        [weather(0.02, 0.15), weather(0.03, 0.15), weather(0.05, 0.2), weather(0.3, 1.5), weather(0.6, 2.0)],
        -1,
    )
    layers = (
        codes,
        cell(0, 1.0),
        cell(0, 360),
        rng.choice([0.0, 0.3, 0.7], (b, 1, h, w)),
        cell(2, 30),
        cell(0.3, 6),
        cell(0.02, 0.35),
    )
    return layers, dict(
        wind_speed_20ft_m_min=weather(0, 1500),
        wind_from_deg=weather(0, 360),
        moisture_fraction=moisture,
        foliar_moisture_fraction=weather(0.8, 1.2),
    )


def _angle_diff(a, b):
    d = np.abs(a - b) % 360.0
    return np.minimum(d, 360.0 - d)


@pytest.mark.parametrize("conventions", ["behave", "flammap"])
def test_numpy_and_torch_agree(conventions):
    layers, weather = _inputs(np.random.default_rng(7))
    a = fire_behavior(*layers, **weather, conventions=conventions)
    t = lambda x: torch.as_tensor(x, dtype=torch.float64)  # noqa: E731
    b = fire_behavior(
        t(layers[0]).long(),
        *[t(x) for x in layers[1:]],
        **{k: t(v) for k, v in weather.items()},
        conventions=conventions,
    )
    assert a.ros_head_m_min.shape == (2, 3, 24, 20)
    assert isinstance(b.ros_head_m_min, torch.Tensor) and b.ros_head_m_min.dtype == torch.float64
    for name in a._fields:
        x, y = np.asarray(getattr(a, name)), getattr(b, name).numpy()
        if name == "direction_max_deg":
            assert _angle_diff(x, y).max() < 1e-6
        else:
            np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-9, err_msg=name)
    # float32 (the simulators' default) agrees to single precision
    c = fire_behavior(
        torch.as_tensor(layers[0]),
        *[torch.as_tensor(x, dtype=torch.float32) for x in layers[1:]],
        **{k: torch.as_tensor(v, dtype=torch.float32) for k, v in weather.items()},
        conventions=conventions,
    )
    assert c.ros_head_m_min.dtype == torch.float32
    np.testing.assert_allclose(c.ros_head_m_min.double().numpy(), a.ros_head_m_min, rtol=2e-4, atol=1e-5)
    assert (c.fire_type.numpy() != a.fire_type).mean() < 1e-3  # only cells on a threshold may flip


@pytest.mark.gpu
def test_cuda_matches_cpu():
    layers, weather = _inputs(np.random.default_rng(3))
    cpu = fire_behavior(
        torch.as_tensor(layers[0]),
        *[torch.as_tensor(x, dtype=torch.float32) for x in layers[1:]],
        **{k: torch.as_tensor(v, dtype=torch.float32) for k, v in weather.items()},
    )
    gpu = fire_behavior(
        torch.as_tensor(layers[0]).cuda(),
        *[torch.as_tensor(x, dtype=torch.float32).cuda() for x in layers[1:]],
        **{k: torch.as_tensor(v, dtype=torch.float32).cuda() for k, v in weather.items()},
    )
    assert gpu.ros_head_m_min.is_cuda
    torch.testing.assert_close(gpu.ros_head_m_min.cpu(), cpu.ros_head_m_min, rtol=1e-4, atol=1e-4)
