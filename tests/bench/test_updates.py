"""The bench's bare PyTorch loop is a parity oracle of ``fuelrl fit``'s Trainer: from the same
weights and replay batches, ``Trainer.fit`` (built by LightningCLI from the profile) and
:class:`fuelrl.bench.updates.BareDQN` reach the same network and target network."""

from __future__ import annotations

import pytest
import torch

from fuelrl.bench.profiles import load_profile, make_agent
from fuelrl.bench.suite_training import TINY_OPTIONS
from fuelrl.bench.updates import BareDQN, ReplayBatches, fill_replay, lightning_fit


@pytest.mark.parametrize(
    "options",
    [
        (),  # quickstart: imitation (large-margin loss, no TD term)
        ("--model.td_weight=1.0", "--trainer.accumulate_grad_batches=2", "--model.target_update_every=2"),
    ],
    ids=["imitation", "td_accumulate"],
)
def test_bare_loop_reaches_the_trainers_weights(tmp_path, options):
    torch.manual_seed(0)
    profile = load_profile("quickstart", options=(*TINY_OPTIONS, *options))
    assert profile.model["td_weight"] == (1.0 if options else 0.0)  # parsed by LightningCLI
    store = fill_replay(profile, 32, seed=0)
    batches = [store.sample() for _ in range(6)]
    agent = make_agent(profile, seed=0)
    bare = BareDQN(agent, profile)  # copies the initial weights
    start = [p.detach().clone() for p in agent.qnet.parameters()]
    lightning_fit(agent, profile, ReplayBatches(batches=batches), tmp_path, len(batches))
    for batch in batches:
        bare.train_batch(batch)
    assert bare.num_updates == int(agent.num_updates) == len(batches) // profile.accumulate_grad_batches
    moved = False
    for p0, p, q in zip(start, agent.qnet.parameters(), bare.qnet.parameters(), strict=True):
        torch.testing.assert_close(p.detach(), q.detach(), rtol=1e-5, atol=1e-6)
        moved |= not torch.equal(p0, p.detach())
    assert moved  # the updates did something
    for p, q in zip(agent.target_qnet.parameters(), bare.target.parameters(), strict=True):
        torch.testing.assert_close(p.detach(), q.detach(), rtol=1e-5, atol=1e-6)
