"""FireEnv's teacher with fires of its own (``expert_fires`` > 0): the labels come from fires the
observation never shows (fuelrl.envs.expert.TeacherFires)."""

from __future__ import annotations

import pytest
import torch
from torchrl.envs.utils import check_env_specs, step_mdp

from fuelrl.envs import FireEnv
from fuelrl.envs.sources import WEATHER_FIELDS
from fuelrl.errors import InputError
from fuelrl.simulators.trees import dpv
from tests.conftest import synthetic_env_config

WEATHER = {"weather_per_tile": True, "wind_speed_20ft_mph_min": 10.0, "wind_speed_20ft_mph_max": 30.0}


def _env(expert_fires: int = 6, **kw) -> FireEnv:
    cfg = synthetic_env_config(seed=2, size=96, **WEATHER, **kw)
    return FireEnv(cfg, seed=3, dpv_channel=True, expert="dpv", expert_fires=expert_fires, simulate_every=3)


def test_the_observed_fires_are_those_of_the_default_teacher_and_the_teacher_fires_others():
    plain, own = _env(expert_fires=0), _env(expert_fires=6)
    a, b = plain.reset(), own.reset()
    for name in ("ignition_cell", *WEATHER_FIELDS):  # the first episode's observed fires: the same
        torch.testing.assert_close(getattr(plain.scenarios, name), getattr(own.scenarios, name))
    torch.testing.assert_close(a["observation"], b["observation"])
    teacher = own.teacher.scenarios
    assert teacher.ignition_cell.shape == (3, 6)
    for name in WEATHER_FIELDS:  # weather_per_tile: the tile's weather
        x = getattr(teacher, name)
        torch.testing.assert_close(x, getattr(own.scenarios, name)[:, :1].expand_as(x).contiguous())
    assert not torch.equal(teacher.ignition_cell[:, :4], own.scenarios.ignition_cell)
    # right after a simulation the default target is the dpv/max input; the teacher's own is not
    stale = b["observation"][:, -1].flatten(1)
    torch.testing.assert_close(a["expert_dpv"], stale)
    assert float((b["expert_dpv"] - stale).abs().max()) > 0.05


def test_target_is_the_teacher_fires_dpv_less_each_fire_at_its_own_ignition():
    env = _env(expert_fires=6)
    td = env.reset()
    for _ in range(4):
        first_legal = td["action_mask"].float().argmax(-1)
        td["action"] = torch.where(td["expert_action"] >= 0, td["expert_action"], first_legal)
        td = step_mdp(env.step(td))
    t = env.teacher
    result = env.backend.simulate(env.tiles, env.breaks, t.scenarios)  # independently of the prepared fields
    raw = dpv(env.backend.prepare(env.tiles, t.scenarios), env.breaks, result.arrival_min)  # [3, H, W]
    ign = t.scenarios.ignition_cell
    for i in range(3):
        want = raw[i].flatten().clone()
        for j in range(ign.shape[1]):
            one = t.scenarios.index([i])
            one = type(one)(**{k: getattr(one, k)[:, j : j + 1] for k in ("ignition_cell", *WEATHER_FIELDS)})
            alone = dpv(env.backend.prepare(env.tiles.index([i]), one), env.breaks[i : i + 1],
                        result.arrival_min[i : i + 1, j : j + 1])
            cell = int(ign[i, j])
            own = float(alone.flatten()[cell])  # fire j's subtree sum at its own ignition
            assert own > 0
            want[cell] -= own / ign.shape[1]
        top = float(want.max())  # on the scale of the teacher's own map (observed fires may burn ~0)
        assert top > 0
        assert float(td["expert_dpv"][i].max()) == pytest.approx(1.0)
        torch.testing.assert_close(td["expert_dpv"][i].double(), want / top, rtol=1e-4, atol=1e-6)


def test_labels_follow_partial_resets_and_the_seed():
    def run() -> list[torch.Tensor]:
        env = _env(expert_fires=4)
        check_env_specs(env)
        torch.manual_seed(0)  # rand_step's actions
        td, out, partial = env.reset(), [], 0
        for _ in range(60):  # tiles of different budgets end at different steps: partial resets
            td = env.rand_step(td)
            out.append(td["next", "expert_dpv"].clone())
            td = step_mdp(td)
            if bool(td["done"].any()):
                partial += not bool(td["done"].all())
                td = env.reset(td.set("_reset", td["done"].clone()))
        assert partial > 0
        return out

    a, b = run(), run()
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("kw", [{"expert_fires": -1}, {"expert": "none", "expert_fires": 4}])
def test_bad_expert_fires_are_one_line_errors(kw):
    with pytest.raises(InputError, match="EnvConfig.expert_fires"):
        FireEnv(synthetic_env_config(seed=2, size=96, **kw))


def test_a_guarded_teacher_leaves_out_its_fires_near_their_ignitions():
    """``expert_ignition_guard_cells``: the target is the teacher fires' DPV with each fire's value
    within N cells of its own ignition left out (trees.dpv's ignition guard), on the teacher map's
    own scale; it differs from the unguarded target and never exceeds it where both are scaled alike."""
    plain, guarded = _env(expert_fires=6), _env(expert_fires=6, expert_ignition_guard_cells=2)
    a, b = plain.reset(), guarded.reset()
    torch.testing.assert_close(a["observation"], b["observation"])  # the same tiles and fires
    t = guarded.teacher
    result = guarded.backend.simulate(guarded.tiles, guarded.breaks, t.scenarios)
    prepared = guarded.backend.prepare(guarded.tiles, t.scenarios)
    want = dpv(prepared, guarded.breaks, result.arrival_min, without_ignitions=True, ignition_guard_cells=2)
    raw = dpv(prepared, guarded.breaks, result.arrival_min, without_ignitions=True)
    assert bool((want <= raw + 1e-12).all()) and float(want.sum()) < float(raw.sum())
    for i in range(3):
        top = float(want[i].max())
        assert top > 0
        torch.testing.assert_close(b["expert_dpv"][i].double(), want[i].flatten() / top, rtol=1e-4, atol=1e-6)
    assert float((a["expert_dpv"] - b["expert_dpv"]).abs().max()) > 0.05


@pytest.mark.parametrize("kw", [{"expert_ignition_guard_cells": -1}, {"expert_ignition_guard_cells": 2}])
def test_bad_teacher_guards_are_one_line_errors(kw):
    fires = {} if kw["expert_ignition_guard_cells"] == 2 else {"expert_fires": 4}  # 2: without teacher fires
    with pytest.raises(InputError, match="EnvConfig.expert_ignition_guard_cells"):
        FireEnv(synthetic_env_config(seed=2, size=96, expert="dpv", **fires, **kw))
