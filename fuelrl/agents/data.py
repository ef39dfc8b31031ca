"""Experience for the DQN: a TorchRL collector over FireEnv feeding the replay buffer, as a DataModule.

``ReplayDataModule.train_dataloader()`` is ``DataLoader(ReplayStream(...), batch_size=None)``: an
``IterableDataset`` whose iterator runs the collector (``frames_per_collect`` env transitions with
the agent's current epsilon-greedy policy), adds them to the replay buffer and yields
``updates_per_collect`` sampled batches; nothing is yielded until ``warmup_frames`` transitions are
stored. Optionally the first ``prefill_frames`` transitions come from a heuristic expert (the
"expert memories" of the original system): ``prefill_policy: burn_probability`` breaks on the legal
cell of highest current burn probability, ``prefill_policy: dpv`` on the legal cell of highest
downstream protection value (DPV-greedy, the strongest heuristic; needs ``env.dpv_channel: true``,
whose observation channel it reads).

Validation and test use a separate env on the held-out split with fixed seeds, so every evaluation
replays the same tiles and fires (``eval_env``).

With DDP every rank builds its own envs with seed ``seed + 1000 * rank`` and its own buffer.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import lightning.pytorch as pl
import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModuleBase, TensorDictSequential
from torch.utils.data import DataLoader, IterableDataset
from torchrl.collectors import Collector
from torchrl.envs import EnvBase
from torchrl.envs.utils import ExplorationType

from fuelrl.agents.losses import masked_argmax
from fuelrl.agents.replay import ReplayStore
from fuelrl.envs import EnvConfig, make_env
from fuelrl.envs.factory import make_eval_env, resolve_env_device
from fuelrl.envs.observation import DPV_CHANNEL, channel_layout
from fuelrl.errors import InputError

log = logging.getLogger(__name__)

RANK_SEED_STRIDE = 1000


@dataclass
class CollectStats:
    """Counters of collected experience (checkpointed, so a resumed run keeps counting)."""

    frames: int = 0  # env transitions collected (one per tile and step)
    episodes: int = 0  # episodes finished
    fires: int = 0  # fire simulations run (F fires per simulated step and per reset)
    collect_seconds: float = 0.0  # wall time spent in the collector (env + acting)


class ChannelGreedyHeuristic(TensorDictModuleBase):
    """While ``active``: break on the legal cell with the highest value of observation channel
    ``channel`` (the burn probability, or the DPV channel: greedy expert policies).

    Ties (e.g. cells no fire reaches) are broken by a small random jitter from ``generator``
    (1e-3 of the channel's [0, 1] range).
    """

    def __init__(self, channel: int, seed: int = 0):
        super().__init__()
        self.in_keys = ["observation", "action_mask"]
        self.out_keys = ["action"]
        self.channel = channel
        self.active = False
        self.generator = torch.Generator().manual_seed(seed)

    def forward(self, tensordict: TensorDictBase) -> TensorDictBase:
        if not self.active:
            return tensordict
        obs = tensordict.get("observation")
        bp = obs[..., self.channel, :, :].flatten(-2).float().cpu()
        jitter = torch.rand(bp.shape, generator=self.generator) * 1e-3
        action = masked_argmax(bp + jitter, tensordict.get("action_mask").cpu())
        tensordict.set("action", action.to(tensordict.get("action").device))
        return tensordict


#: the prefill expert of the original system, kept under its old name
BurnProbabilityHeuristic = ChannelGreedyHeuristic

#: prefill policy name -> the observation channel it is greedy on ("expert": the env's label)
PREFILL_CHANNELS = {"burn_probability": "burn_probability", "dpv": DPV_CHANNEL, "expert": None}


class ExpertLabelPolicy(TensorDictModuleBase):
    """While ``active``: take the env's ``expert_action`` (FireEnv's ``expert: dpv``, the cell of
    highest *fresh* DPV) where it has one; keep the policy's action where it has none (-1)."""

    def __init__(self):
        super().__init__()
        self.in_keys = ["expert_action", "action"]
        self.out_keys = ["action"]
        self.active = False

    def forward(self, tensordict: TensorDictBase) -> TensorDictBase:
        if not self.active:
            return tensordict
        action = tensordict.get("action")
        expert = tensordict.get("expert_action").to(action.device).reshape(action.shape)
        tensordict.set("action", torch.where(expert >= 0, expert, action))
        return tensordict


def _as_is(batch):
    return batch


class ReplayStream(IterableDataset):
    """Infinite stream of replay batches; iterating it drives the collector (see module docstring)."""

    def __init__(self, datamodule: ReplayDataModule):
        super().__init__()
        self.dm = datamodule

    def __iter__(self) -> Iterator[TensorDictBase]:
        return self.dm.stream()


class ReplayDataModule(pl.LightningDataModule):
    """Collector + replay buffer + evaluation envs.

    Args:
        env: the training env (:class:`fuelrl.envs.EnvConfig`; ``env.batch_size`` tiles per env).
        num_workers: 0: the env runs in this process; N >= 1: a ParallelEnv of N worker processes.
        env_device: where the training and evaluation envs run and grow their fires: "cpu"
            (default), "cuda" / "cuda:N" (a simulator backend that runs there: ``env.backend:
            torch``) or "auto" (a GPU when there is one and the backend runs on it).
        frames_per_collect: env transitions per collector batch (a multiple of the tiles per step).
        updates_per_collect: replay batches yielded (gradient steps before accumulation) per collector batch.
        warmup_frames: transitions stored before the first batch is yielded (epsilon stays at its start).
        prefill_frames: of those, how many the ``prefill_policy`` expert chooses (0: none).
        prefill_policy: the expert of the prefill: "burn_probability" (greedy on the burn-probability
            channel) or "dpv" (greedy on the DPV channel; needs ``env.dpv_channel: true``).
        batch_size: transitions per replay batch.
        buffer_size: replay capacity in transitions.
        storage: "memory" or "memmap" (on disk in ``scratch_dir``; survives a restart).
        scratch_dir: folder of the memmap buffer (default ``<trainer.default_root_dir>/replay_buffer``).
        observation_dtype: storage dtype of observations ("float32", "float16", "bfloat16").
        eval_split: split of the evaluation tiles ("heldout": regions never trained on).
        eval_tiles: tiles per evaluation (the eval env's batch; split evenly, rounded up, among the
            cell sizes when the landscapes have several).
        eval_episodes: evaluation batches per validation (each with its own fixed seed).
        eval_seed: seed of the first evaluation batch (the next ones add 1, 2, ...).
        test_seed: seed of the first test batch (different fires from validation).
        seed: base seed of the training env(s) and of replay sampling (DDP rank r adds 1000 * r).
    """

    def __init__(
        self,
        env: EnvConfig | None = None,
        num_workers: int = 0,
        env_device: str = "cpu",
        frames_per_collect: int = 64,
        updates_per_collect: int = 8,
        warmup_frames: int = 1000,
        prefill_frames: int = 0,
        prefill_policy: Literal["burn_probability", "dpv", "expert"] = "burn_probability",
        batch_size: int = 64,
        buffer_size: int = 50_000,
        storage: Literal["memory", "memmap"] = "memory",
        scratch_dir: str | None = None,
        observation_dtype: Literal["float32", "float16", "bfloat16"] = "float32",
        eval_split: str = "heldout",
        eval_tiles: int = 8,
        eval_episodes: int = 1,
        eval_seed: int = 10_000,
        test_seed: int = 20_000,
        seed: int = 0,
    ):
        super().__init__()
        self.env_config = (env or EnvConfig()).validate()
        for name, value, low in (
            ("num_workers", num_workers, 0),
            ("frames_per_collect", frames_per_collect, 1),
            ("updates_per_collect", updates_per_collect, 1),
            ("warmup_frames", warmup_frames, 0),
            ("prefill_frames", prefill_frames, 0),
            ("batch_size", batch_size, 1),
            ("eval_tiles", eval_tiles, 1),
            ("eval_episodes", eval_episodes, 1),
        ):
            if value < low:
                raise InputError(f"data.{name}: expected >= {low}, got {value}")
        tiles_per_step = self.env_config.batch_size * max(1, num_workers)
        if frames_per_collect % tiles_per_step:
            raise InputError(
                f"data.frames_per_collect: {frames_per_collect} is not a multiple of the tiles stepped "
                f"at once (env.batch_size {self.env_config.batch_size} x workers {max(1, num_workers)})"
            )
        if prefill_frames > warmup_frames:
            raise InputError(
                f"data.prefill_frames ({prefill_frames}) must be <= warmup_frames ({warmup_frames})"
            )
        if prefill_policy not in PREFILL_CHANNELS:
            raise InputError(
                f"data.prefill_policy: expected one of {sorted(PREFILL_CHANNELS)}, got {prefill_policy!r}"
            )
        if prefill_policy == "dpv" and not self.env_config.dpv_channel:
            raise InputError(
                "data.prefill_policy 'dpv' reads the DPV observation channel: set data.env.dpv_channel: true"
            )
        if prefill_policy == "expert" and self.env_config.expert == "none":
            raise InputError("data.prefill_policy 'expert' takes the env's labels: set data.env.expert: dpv")
        if storage not in ("memory", "memmap"):
            raise InputError(f"data.storage: expected 'memory' or 'memmap', got {storage!r}")
        self.num_workers = num_workers
        self.env_device = resolve_env_device(env_device, self.env_config.backend)
        self.frames_per_collect = frames_per_collect
        self.updates_per_collect = updates_per_collect
        self.warmup_frames = warmup_frames
        self.prefill_frames = prefill_frames
        self.prefill_policy = prefill_policy
        self.learning_starts = warmup_frames  # frame count at which batches start (moves on a refill)
        self.batch_size = batch_size
        self.buffer_size = buffer_size
        self.storage = storage
        self.scratch_dir = scratch_dir
        self.observation_dtype = observation_dtype
        self.eval_split = eval_split
        self.eval_tiles = eval_tiles
        self.eval_episodes = eval_episodes
        self.eval_seed = eval_seed
        self.test_seed = test_seed
        self.seed = seed
        self.stats = CollectStats()
        self.recent_burned_ha: deque[float] = deque(maxlen=100)
        self.replay: ReplayStore | None = None
        self._pending_state: dict[str, Any] | None = None
        self._eval_envs: dict[str, EnvBase] = {}
        self._collector: Collector | None = None
        self._rank = 0

    # --------------------------------------------------------------------------- properties
    @property
    def num_observation_channels(self) -> int:
        """Channels of the env observation (linked to ``model.in_channels`` by the CLI)."""
        return len(self.observation_channels)

    @property
    def observation_channels(self) -> list[str]:
        """Names of the env observation's channels (linked to ``model.observation_channels``)."""
        cfg = self.env_config
        return list(
            channel_layout(
                dpv_channel=cfg.dpv_channel,
                weather_channels=cfg.weather_channels,
                value_channel=bool(cfg.values),
            )
        )

    @property
    def fires_per_frame(self) -> float:
        """Fire simulations per env transition (every ``simulate_every`` steps, F fires; every step
        with expert labels)."""
        every = 1 if self.env_config.expert != "none" else self.env_config.simulate_every
        return self.env_config.fires_per_tile / every

    @property
    def rank_seed(self) -> int:
        return self.seed + RANK_SEED_STRIDE * self._rank

    # --------------------------------------------------------------------------- lifecycle
    def setup(self, stage: str) -> None:
        trainer = self.trainer
        self._rank = trainer.global_rank if trainer is not None else 0
        if stage == "fit" and self.replay is None:
            scratch = self.scratch_dir
            if self.storage == "memmap" and scratch is None:
                root = trainer.default_root_dir if trainer is not None else "."
                scratch = str(Path(root) / "replay_buffer")
            if self.storage == "memmap" and trainer is not None and trainer.world_size > 1:
                scratch = str(Path(scratch) / f"rank{self._rank}")
            self.replay = ReplayStore(
                self.buffer_size,
                storage=self.storage,
                scratch_dir=scratch,
                batch_size=self.batch_size,
                observation_dtype=self.observation_dtype,
                seed=self.rank_seed,
            )
            if self._pending_state is not None:
                self._apply_state(self._pending_state)

    def teardown(self, stage: str) -> None:
        if self._collector is not None:
            self._collector.shutdown()
            self._collector = None
        for env in self._eval_envs.values():
            if not env.is_closed:
                env.close()
        self._eval_envs.clear()

    def train_dataloader(self) -> DataLoader:
        # collate_fn: batches are already TensorDicts (the default would take them apart as mappings)
        return DataLoader(ReplayStream(self), batch_size=None, num_workers=0, collate_fn=_as_is)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(
            [self.eval_seed + i for i in range(self.eval_episodes)], batch_size=None, collate_fn=_as_is
        )

    def test_dataloader(self) -> DataLoader:
        return DataLoader(
            [self.test_seed + i for i in range(self.eval_episodes)], batch_size=None, collate_fn=_as_is
        )

    # --------------------------------------------------------------------------- envs
    def make_train_env(self) -> EnvBase:
        return make_env(
            self.env_config, num_workers=self.num_workers, seed=self.rank_seed, device=self.env_device
        )

    def eval_env(self, stage: str = "validate") -> EnvBase:
        """The evaluation env (held-out tiles, ``eval_tiles`` of them, rounded up to a multiple of
        the number of cell sizes), built once per stage."""
        if stage not in self._eval_envs:
            # the evaluation scores the policy: no expert labels (they cost a simulation per step)
            # landscapes of several cell sizes: one SerialEnv worker per cell size (make_eval_env);
            # one fixed fire set per episode (fresh_fires would score each policy on other fires)
            cfg = replace(
                self.env_config,
                split=self.eval_split,
                expert="none",
                expert_fires=0,
                expert_ignition_guard_cells=0,
                expert_lookahead=False,
                fresh_fires=False,
            )
            self._eval_envs[stage] = make_eval_env(
                cfg, self.eval_tiles, seed=self.eval_seed, device=self.env_device
            )
        return self._eval_envs[stage]

    # --------------------------------------------------------------------------- collection
    def _agent(self):
        agent = self.trainer.lightning_module if self.trainer is not None else None
        if agent is None or not hasattr(agent, "policy"):
            raise RuntimeError("ReplayDataModule needs a fuelrl DQNAgent in the trainer")
        return agent

    def _make_collector(self, agent) -> tuple[Collector, TensorDictModuleBase]:
        env = self.make_train_env()
        channel = PREFILL_CHANNELS[self.prefill_policy]
        heuristic = (
            ExpertLabelPolicy()
            if channel is None
            else ChannelGreedyHeuristic(self.observation_channels.index(channel), seed=self.rank_seed + 1)
        )
        policy = TensorDictSequential(agent.actor, agent.egreedy, heuristic)
        device = next(agent.parameters()).device
        collector = Collector(
            env,
            policy,
            frames_per_batch=self.frames_per_collect,
            total_frames=-1,
            policy_device=device,
            env_device=env.device,
            storing_device="cpu",
            exploration_type=ExplorationType.RANDOM,
            split_trajs=False,
            auto_register_policy_transforms=False,
        )
        return collector, heuristic

    def _prepare_for_collection(self, agent, heuristic: TensorDictModuleBase) -> None:
        heuristic.active = self.stats.frames < self.prefill_frames
        agent.update_exploration(self.stats.frames, warmup_frames=self.warmup_frames)

    def ingest(self, batch: TensorDictBase, seconds: float) -> None:
        """Store a collector batch and update the counters."""
        frames = self.replay.extend(batch)
        done = batch["next", "done"].reshape(-1)
        n_done = int(done.sum())
        if n_done:
            self.recent_burned_ha.extend(batch["next", "burned_ha"].reshape(-1)[done].tolist())
        s = self.stats
        s.frames += frames
        s.episodes += n_done
        s.fires += int(round(self.env_config.fires_per_tile * n_done + frames * self.fires_per_frame))
        s.collect_seconds += seconds

    def stream(self) -> Iterator[TensorDictBase]:
        agent = self._agent()
        if self._collector is None:
            agent.reseed_exploration(self.rank_seed + 2)
            self._collector, self._heuristic = self._make_collector(agent)
        self._prepare_for_collection(agent, self._heuristic)
        t0 = time.perf_counter()
        for batch in self._collector:
            self.ingest(batch, time.perf_counter() - t0)
            self._prepare_for_collection(agent, self._heuristic)
            if len(self.replay) >= self.batch_size and self.stats.frames >= self.learning_starts:
                for _ in range(self.updates_per_collect):
                    yield self.replay.sample()
            t0 = time.perf_counter()

    # --------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "stats": vars(self.stats).copy(),
            "replay": self.replay.state() if self.replay is not None else {"kind": self.storage, "len": 0},
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if self.replay is None:
            self._pending_state = state_dict
        else:
            self._apply_state(state_dict)

    def _apply_state(self, state: dict[str, Any]) -> None:
        self._pending_state = None
        self.stats = CollectStats(**state.get("stats", {}))
        restored = self.replay.restore(state.get("replay", {})) if self.replay is not None else False
        if not restored and self.stats.frames:
            log.info(
                "resuming at %d frames with an empty %s replay buffer: refilling for %d warm-up frames",
                self.stats.frames,
                self.storage,
                self.warmup_frames,
            )
            # the buffer must hold warm-up data again before learning resumes; epsilon keeps its schedule
            self.learning_starts = self.stats.frames + self.warmup_frames
