"""The data module's pieces that do not need a Trainer: options, the prefill heuristic, per-rank seeds."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict

from fuelrl.agents.data import BurnProbabilityHeuristic, ReplayDataModule
from fuelrl.envs import EnvConfig, FireEnv
from fuelrl.errors import InputError


def test_heuristic_breaks_on_the_most_likely_legal_cell_only_while_active():
    c = len(FireEnv.observation_channels)
    bp = FireEnv.observation_channels.index("burn_probability")
    obs = torch.zeros(2, c, 3, 3)
    obs[:, bp] = torch.tensor([[0.9, 0.1, 0.2], [0.3, 0.8, 0.0], [0.0, 0.0, 0.5]])
    mask = torch.ones(2, 9, dtype=torch.bool)
    mask[1, 0] = False  # tile 1: the most likely cell is illegal -> next best (cell 4, 0.8)
    td = TensorDict({"observation": obs, "action_mask": mask, "action": torch.tensor([7, 7])}, batch_size=[2])
    h = BurnProbabilityHeuristic(bp)
    assert h(td.clone())["action"].tolist() == [7, 7]
    h.active = True
    assert h(td.clone())["action"].tolist() == [0, 4]


def test_options_are_checked():
    with pytest.raises(InputError, match="frames_per_collect"):
        ReplayDataModule(env=EnvConfig(batch_size=4), frames_per_collect=10)
    with pytest.raises(InputError, match="prefill_frames"):
        ReplayDataModule(warmup_frames=10, prefill_frames=20)
    with pytest.raises(InputError, match="batch_size"):
        ReplayDataModule(batch_size=0)


def test_ranks_get_distinct_seeds_and_channels_match_the_env():
    dm = ReplayDataModule(seed=5)
    seeds = set()
    for rank in range(4):
        dm._rank = rank
        seeds.add(dm.rank_seed)
    assert len(seeds) == 4
    assert dm.num_observation_channels == len(FireEnv.observation_channels)
    assert dm.fires_per_frame == EnvConfig().fires_per_tile / EnvConfig().simulate_every


def test_resuming_without_a_stored_buffer_refills_before_learning():
    dm = ReplayDataModule(warmup_frames=100)
    dm.setup("fit")  # no trainer: an in-memory buffer
    dm.load_state_dict(
        {"stats": {"frames": 5000, "episodes": 40, "fires": 9, "collect_seconds": 1.0}, "replay": {}}
    )
    assert dm.stats.frames == 5000 and len(dm.replay) == 0
    assert dm.learning_starts == 5100  # learning waits for a fresh warm-up
    assert dm.warmup_frames == 100  # ... while epsilon keeps its schedule (it reads warmup_frames)
