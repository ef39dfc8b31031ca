"""Replay buffer: memmap restart record, capacity, compact observation storage, seeded sampling."""

from __future__ import annotations

import torch

from fuelrl.agents.replay import ReplayStore

from .helpers import transitions


def test_memmap_buffer_reopens_from_its_restart_record(tmp_path):
    data = transitions(n=12, c=3)
    store = ReplayStore(20, storage="memmap", scratch_dir=tmp_path / "rb", batch_size=5)
    store.extend(data)
    state = store.state()
    assert state["len"] == 12 and state["cursor"] == 12
    fresh = ReplayStore(20, storage="memmap", scratch_dir=tmp_path / "rb", batch_size=5)
    assert fresh.restore(state) and len(fresh) == 12
    stored = fresh.buffer._storage._storage
    torch.testing.assert_close(stored["observation"][:12], data["observation"])
    torch.testing.assert_close(stored["next", "reward"][:12], data["next", "reward"])
    fresh.extend(transitions(n=10, c=3, seed=1))  # the writer continues at the cursor and wraps
    assert len(fresh) == 20 and fresh.buffer._writer._cursor == 2


def test_restore_refuses_a_different_buffer(tmp_path):
    store = ReplayStore(20, storage="memmap", scratch_dir=tmp_path / "a", batch_size=5)
    store.extend(transitions(n=6, c=3))
    other = ReplayStore(30, storage="memmap", scratch_dir=tmp_path / "a", batch_size=5)
    assert not other.restore(store.state()) and len(other) == 0
    assert not ReplayStore(20, batch_size=5).restore(store.state())  # in-memory: nothing to reopen


def test_capacity_keeps_the_newest():
    store = ReplayStore(8, batch_size=4)
    store.extend(transitions(n=6, c=2, seed=0))
    newest = transitions(n=6, c=2, seed=1)
    store.extend(newest)
    assert len(store) == 8
    kept = store.buffer._storage._storage["action"]
    # slots 0..3 were overwritten by the last 4 of the newest batch; slots 4, 5 hold the first 2
    assert torch.equal(kept[:4], newest["action"][2:])
    assert torch.equal(kept[6:8], newest["action"][:2])


def test_float16_observations_come_back_as_float32():
    data = transitions(n=10, c=3)
    store = ReplayStore(10, batch_size=10, observation_dtype="float16")
    store.extend(data)
    assert store.buffer._storage._storage["observation"].dtype == torch.float16
    batch = store.sample()
    assert batch["observation"].dtype == torch.float32
    assert batch["observation"].shape == data["observation"].shape
    err = (store.buffer._storage._storage["observation"].float() - data["observation"]).abs().max()
    assert err < 1e-3


def test_same_seed_same_samples():
    data = transitions(n=30, c=2)
    a, b = ReplayStore(30, batch_size=8, seed=3), ReplayStore(30, batch_size=8, seed=3)
    a.extend(data)
    b.extend(data)
    assert torch.equal(a.sample()["action"], b.sample()["action"])
