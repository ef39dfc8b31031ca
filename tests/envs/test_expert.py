"""FireEnv's expert labels (``expert: dpv``), weather planes and per-tile weather draws."""

from __future__ import annotations

import math

import pytest
import torch
from torchrl.envs.utils import check_env_specs, step_mdp

from fuelrl.baselines.dpv import downstream_protection_value
from fuelrl.envs import FireEnv
from fuelrl.envs.expert import greedy_labels
from fuelrl.envs.observation import (
    DPV_CHANNEL,
    OBSERVATION_CHANNELS,
    WEATHER_CHANNELS,
    channel_layout,
    weather_planes,
)
from fuelrl.errors import InputError
from fuelrl.simulators.scenarios import make_scenarios
from tests.conftest import synthetic_env_config


def _env(**kw) -> FireEnv:
    return FireEnv(synthetic_env_config(seed=2, size=96, **kw), seed=3)


def test_greedy_labels_take_the_best_available_cell_and_minus_one_without_signal():
    score = torch.tensor([[0.0, 3.0, 5.0, 1.0], [0.0, 0.0, 0.0, 0.0], [2.0, 2.0, 1.0, 0.0]])
    avail = torch.tensor([[True, True, False, True], [True, True, True, True], [True, True, True, True]])
    assert greedy_labels(score, avail).tolist() == [1, -1, 0]  # masked best skipped; tie: lowest index


def test_layout_orders_landscape_dynamic_weather_dpv():
    names = channel_layout(dpv_channel=True, weather_channels=True)
    assert names == (*OBSERVATION_CHANNELS, *WEATHER_CHANNELS, DPV_CHANNEL)
    env = _env(dpv_channel=True, weather_channels=True, expert="dpv", simulate_every=3)
    assert env.observation_channels == names
    check_env_specs(env)


def test_weather_planes_are_the_run_weather():
    s = make_scenarios([[1, 2]], wind_speed_20ft_mph=36, wind_from_deg=299, moisture_pct=[3, 4, 10, 53, 131],
                       duration_min=400)
    p = weather_planes(s, (2, 3))
    assert p.shape == (1, len(WEATHER_CHANNELS), 2, 3)
    to = math.radians(119.0)  # blowing from 299 deg = toward 119 deg
    expected = [36 / 30, math.sin(to), math.cos(to), 0.3, 400 / 480]
    torch.testing.assert_close(p[0, :, 1, 2], torch.tensor(expected, dtype=torch.float32))
    assert bool((p == p[..., :1, :1]).all())  # constant planes


def _tile_dpv(env: FireEnv, result, i: int) -> torch.Tensor:
    """Tile ``i``'s DPV per cell (flat) of its episode's fires with the breaks so far."""
    idx = torch.tensor([i])
    return downstream_protection_value(
        env.tiles.index(idx), env.breaks[i : i + 1], env.scenarios.index(idx),
        result.arrival_min[i : i + 1], env.backend.options,
    ).reshape(-1)


def test_expert_label_is_argmax_of_fresh_dpv_while_the_observation_stays_stale():
    env = _env(dpv_channel=True, expert="dpv", simulate_every=3)
    td = env.reset()
    for step in range(5):
        # the label: the legal cell of highest DPV of the episode's fires with the breaks so far
        result = env.backend.simulate(env.tiles, env.breaks, env.scenarios)
        mask = td["action_mask"]
        for i in range(3):
            dpv = _tile_dpv(env, result, i)
            label = int(td["expert_action"][i])
            if label < 0:
                assert float(dpv[mask[i]].max()) <= 0
            else:
                assert bool(mask[i, label])
                assert float(dpv[label]) == pytest.approx(float(dpv[mask[i]].max()), rel=1e-5)
        # expert_dpv: the fresh DPV on the scale of the (stale) dpv/max channel; equal to it on the
        # steps that just simulated (and at reset)
        fresh_map = td["expert_dpv"].view(3, -1)
        for i in range(3):
            dpv = _tile_dpv(env, result, i)
            top = float(env._dpv_top[i])
            if top > 0:
                torch.testing.assert_close(fresh_map[i].double(), dpv / top, rtol=1e-4, atol=1e-6)
        if step % 3 == 0:
            stale = td["observation"][:, -1].reshape(3, -1)
            torch.testing.assert_close(fresh_map, stale, rtol=1e-5, atol=1e-6)
        td["action"] = torch.where(td["expert_action"] >= 0, td["expert_action"], mask.float().argmax(-1))
        td = step_mdp(env.step(td))


def test_weather_per_tile_shares_one_draw_and_ranges_are_honoured():
    env = _env(weather_channels=True, weather_per_tile=True, wind_speed_20ft_mph_min=5.0,
               wind_speed_20ft_mph_max=40.0, moisture_dead_spread_pct=6.0, duration_max_min=600.0,
               duration_min=240.0)
    env.reset()
    s = env.scenarios
    for name in ("wind_speed_20ft_m_min", "wind_from_deg", "duration_min"):
        x = getattr(s, name)
        assert bool((x == x[:, :1]).all()), name
    assert bool(((s.duration_min >= 240) & (s.duration_min <= 600)).all())
    m1h = s.moisture_fraction[..., 0] * 100
    assert bool(((m1h >= 6.0 - 1e-4) & (m1h <= 12.0 + 1e-4)).all())  # default 6 % + [0, 6]
    obs = env.reset()["observation"]
    n = len(OBSERVATION_CHANNELS)
    torch.testing.assert_close(obs[:, n : n + len(WEATHER_CHANNELS)], weather_planes(env.scenarios, (16, 16)))


@pytest.mark.parametrize(
    "kw", [{"expert": "oracle"}, {"duration_max_min": 100.0}, {"moisture_dead_spread_pct": -1.0}]
)
def test_bad_expert_and_weather_options_are_one_line_errors(kw):
    with pytest.raises(InputError, match="EnvConfig"):
        _env(**kw)
