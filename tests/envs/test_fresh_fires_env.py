"""FireEnv with ``fresh_fires``: new ignition cells for the observed fires at every simulation of an
episode, the same weather, the reward measured on the new set (fuelrl.envs.fresh_fires), checked
against independent simulations of the env's tiles, breaks and fires."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import rasterio
import torch
from torchrl.envs.utils import check_env_specs, step_mdp

from fuelrl.envs import FireEnv
from fuelrl.envs.observation import DPV_CHANNEL, WEATHER_CHANNELS
from fuelrl.envs.sources import WEATHER_FIELDS
from fuelrl.landscape import open_landscape
from tests.conftest import synthetic_env_config

EVERY = 3


def _env(fresh: bool = True, **kw) -> FireEnv:
    cfg = synthetic_env_config(seed=2, size=96, weather_channels=True, **kw)
    return FireEnv(cfg, seed=3, simulate_every=EVERY, fresh_fires=fresh)


def _legal(td) -> torch.Tensor:
    """The first legal cell of every tile (deterministic actions)."""
    return td["action_mask"].float().argmax(-1)


def _channel(env: FireEnv, td, name: str) -> torch.Tensor:
    return td["observation"][:, env.observation_channels.index(name)]


def _episode(env: FireEnv, check) -> int:
    """One episode per tile from reset, first legal cells; ``check(before, td, simulated)`` after
    every step (``before``: the env's scenarios, breaks and the breaks of each tile's previous
    simulation, cloned before the step). Returns the number of steps that simulated a tile."""
    td = env.reset()
    last_sim = torch.zeros_like(env.breaks)  # the breaks of each tile's previous simulation
    steps = torch.zeros(env.config.batch_size, dtype=torch.long)
    active = torch.ones(env.config.batch_size, dtype=torch.bool)
    simulations = 0
    while bool(active.any()):
        before = {
            "ignition": env.scenarios.ignition_cell.clone(),
            "weather": {k: getattr(env.scenarios, k).clone() for k in WEATHER_FIELDS},
            "last_sim": last_sim.clone(),
            "td": td.clone(),
        }
        td["action"] = _legal(td)
        td.set("_step", active.clone())
        td = env.step(td)
        steps += active.long()
        done = td["next", "done"].reshape(-1)
        simulated = active & (done | (steps % env.config.simulate_every == 0))
        check(before, td["next"], simulated)
        simulations += int(simulated.sum())
        last_sim[simulated] = env.breaks[simulated]
        active &= ~done
        td = step_mdp(td)
    return simulations


def test_ignitions_change_at_each_simulation_only_and_the_weather_never():
    env = _env()
    first = {}

    def check(before, td, simulated):
        if not first:  # the weather planes of the reset
            first["weather"] = _channels_of(before["td"])
        changed = (env.scenarios.ignition_cell != before["ignition"]).any(1)
        assert torch.equal(changed, simulated)
        for k in WEATHER_FIELDS:
            assert torch.equal(getattr(env.scenarios, k), before["weather"][k])
        assert torch.equal(_channels_of(td), first["weather"])

    def _channels_of(td):
        idx = [env.observation_channels.index(c) for c in WEATHER_CHANNELS]
        return td["observation"][:, idx].clone()

    assert _episode(env, check) >= 2 * env.config.batch_size


def test_without_fresh_fires_the_ignitions_never_change_within_an_episode():
    env = _env(fresh=False)

    def check(before, td, simulated):
        assert torch.equal(env.scenarios.ignition_cell, before["ignition"])

    assert _episode(env, check) > 0


def test_new_ignitions_are_untreated_burnable_cells_out_of_the_mask_and_old_ones_come_back():
    env = _env()
    burnable = None
    released = 0

    def check(before, td, simulated):
        nonlocal burnable, released
        if burnable is None:
            burnable = _channel(env, before["td"], "burnable").flatten(1) > 0.5
        mask, breaks = td["action_mask"], env.breaks.flatten(1)
        ign = env.scenarios.ignition_cell
        for i in simulated.nonzero().flatten().tolist():
            new = ign[i]
            assert burnable[i, new].all() and not breaks[i, new].any()
            assert not mask[i, new].any()
            old = sorted(set(before["ignition"][i].tolist()) - set(new.tolist()))
            old = torch.tensor(old, dtype=torch.long)
            old = old[~breaks[i, old]]
            assert mask[i, old].all()  # untreated old ignitions are legal again
            released += len(old)

    _episode(env, check)
    assert released > 0


@pytest.mark.parametrize("kw", [{}, {"values": ["generated"]}], ids=["burned_area", "values"])
def test_reward_and_burn_probability_are_those_of_the_new_fires(kw):
    env = _env(**kw)

    def loss(result) -> torch.Tensor:
        if env.config.values:
            burned = result.burned.double()
            return (burned * env._values[:, None].double()).sum((-2, -1)).mean(1)
        return result.burned_ha.double().mean(1)

    def check(before, td, simulated):
        sc = env.scenarios  # the new fires, grown independently of the env's prepared fields
        then = env.backend.simulate(env.tiles, before["last_sim"], sc)
        now = env.backend.simulate(env.tiles, env.breaks, sc)
        total = env._value_total if env.config.values else env.burnable_ha
        want = (loss(then) - loss(now)) / total
        got = td["reward"].reshape(-1).double()
        torch.testing.assert_close(got[simulated], want[simulated], rtol=1e-5, atol=1e-7)
        assert bool((got[~simulated] == 0).all())
        bp = _channel(env, td, "burn_probability")
        torch.testing.assert_close(bp[simulated], now.burn_probability().float()[simulated])
        if not env.config.values:
            burned = td["burned_ha"].reshape(-1).double()
            torch.testing.assert_close(burned[simulated], loss(now)[simulated], rtol=1e-6, atol=1e-6)

    assert _episode(env, check) > 0


def test_expert_labels_follow_the_new_fires():
    env = _env(dpv_channel=True, expert="dpv")

    def check(before, td, simulated):
        live = simulated & ~td["done"].reshape(-1)  # right after a simulation: the dpv/max input
        torch.testing.assert_close(td["expert_dpv"][live], _channel(env, td, DPV_CHANNEL).flatten(1)[live])

    _episode(env, check)


def test_prepared_fires_are_reused_without_backend_state_and_remade_with_it(monkeypatch):
    env = _env()
    real, calls = env.backend.prepare, []

    def prepare(tiles, scenarios):
        calls.append(int(tiles.shape[0]))
        return real(tiles, scenarios)

    monkeypatch.setattr(env.backend, "prepare", prepare)
    _episode(env, lambda before, td, simulated: None)
    assert calls == [env.config.batch_size]  # the reset only: the spread fields serve every new set

    def stateful(tiles, scenarios):  # a backend with private per-tile state: prepared afresh
        calls.append(int(tiles.shape[0]))
        return replace(real(tiles, scenarios), state=list(range(tiles.shape[0])))

    monkeypatch.setattr(env.backend, "prepare", stateful)
    calls.clear()

    def check(before, td, simulated):
        sc = env.scenarios
        assert torch.equal(env._prepared.scenarios.ignition_cell, sc.ignition_cell)
        then = env.backend.simulate(env.tiles, before["last_sim"], sc).burned_ha.double().mean(1)
        now = env.backend.simulate(env.tiles, env.breaks, sc).burned_ha.double().mean(1)
        want = (then - now) / env.burnable_ha
        torch.testing.assert_close(td["reward"].reshape(-1).double()[simulated], want[simulated])

    simulations = _episode(env, check)
    assert len(calls) > 1 and sum(calls) == env.config.batch_size + simulations


def test_specs_seeding_and_partial_resets():
    def run() -> list[torch.Tensor]:
        env = _env(dpv_channel=True, expert="dpv")
        check_env_specs(env)
        torch.manual_seed(0)  # rand_step's actions
        td, out, partial = env.reset(), [], 0
        for _ in range(40):  # tiles of different budgets end at different steps: partial resets
            td = env.rand_step(td)
            out += [td["next", "observation"].clone(), td["next", "reward"].clone()]
            out.append(env.scenarios.ignition_cell.clone())
            # the prepared fires grow the new set, also once partial resets have copied them
            assert torch.equal(env._prepared.scenarios.ignition_cell, env.scenarios.ignition_cell)
            td = step_mdp(td)
            if bool(td["done"].any()):
                partial += not bool(td["done"].all())
                td = env.reset(td.set("_reset", td["done"].clone()))
                assert not bool((td["action_mask"].sum(-1) == 0).any())
        assert partial > 0
        return out

    a, b = run(), run()
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def _raster(path, array, landscape) -> str:
    h, w = array.shape
    with rasterio.open(path, "w", driver="GTiff", height=h, width=w, count=1, dtype=array.dtype.name,
                       crs=landscape.crs, transform=landscape.transform) as dst:
        dst.write(array, 1)
    return str(path)


def test_untreatable_cells_stay_protected_and_ignitions_follow_the_density(tmp_path):
    spec = "synthetic:seed=3,size=48x48"
    land = open_landscape(spec)
    h, w = land.shape
    treatable = np.ones((h, w), np.uint8)
    treatable[:, : w // 2] = 0  # the west half cannot be treated
    density = np.zeros((h, w), np.float32)
    density[::2] = 1.0  # fires start on even rows only
    env = FireEnv(
        landscapes=[spec], split="all", min_burnable_fraction=0.0, tile_size=16, fires_per_tile=3,
        batch_size=2, simulate_every=2, fresh_fires=True, seed=1,
        treatable=[_raster(tmp_path / "t.tif", treatable, land)],
        ignition_density=[_raster(tmp_path / "d.tif", density, land)],
    )
    def check(before, td, simulated):
        mask = td["action_mask"].view(-1, 16, 16)
        for i in range(2):
            _, r0, c0, _, _ = env.source.dataset.footprint(int(env.tile_ids[i]))
            west = (c0 + torch.arange(16)) < w // 2
            assert not mask[i][:, west].any() and not env.breaks[i][:, west].any()
            if simulated[i]:
                rows = r0 + env.scenarios.ignition_cell[i] // 16
                assert bool((rows % 2 == 0).all())

    assert _episode(env, check) > 0


def test_a_whole_budget_episode_still_ends_when_new_ignitions_would_block_it():
    # budget 1: the last cells left may be new ignitions; those tiles then keep them treatable
    env = _env(budget_fraction=1.0, breaks_per_step=16, fires_per_tile=16)
    short = 0

    def check(before, td, simulated):
        nonlocal short
        left = (td["budget_left"].reshape(-1) > 0) & simulated
        assert bool((td["action_mask"][left].sum(-1) > 0).all())
        ign = env.scenarios.ignition_cell
        short += int(td["action_mask"].gather(1, ign)[left].any(-1).sum())  # an ignition left legal

    _episode(env, check)
    assert short > 0
