"""Lightning's overhead: training batches/s of ``fuelrl fit``'s Trainer against a bare PyTorch loop.

:func:`update_ratio` times :class:`fuelrl.agents.DQNAgent` under the ``Trainer`` that ``fuelrl fit``
builds for the profile (its callbacks, TensorBoard logger and precision; validation off) against
:class:`BareDQN`, the same update written as a plain loop: same network (same initial weights),
loss (:func:`fuelrl.agents.losses.agent_loss`, the function ``training_step`` calls), replay
batches, optimizer, precision, accumulation, gradient clipping and target update. Pairs are
interleaved (Lightning, bare, Lightning, bare, ...) so slow drifts of a shared machine hit both
alike; ``update_ratio_vs_bare`` is the ratio of the medians (goal >= 0.9). On a CPU the clock is
the process's CPU time (:func:`timer`), on CUDA the wall clock.

:class:`BareDQN` is also a parity oracle: from the same weights and batches it reaches the same
parameters as ``Trainer.fit`` (``tests/bench/test_updates.py``).
"""

from __future__ import annotations

import copy
import math
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from fuelrl.bench.profiles import Profile, make_agent, quiet_lightning
from fuelrl.bench.report import summarize


def _sync(device: torch.device) -> Callable[[], None]:
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


def timer(device: torch.device) -> Callable[[], float]:
    """The clock of the comparison: wall time on CUDA (after a synchronize); on a CPU the CPU time
    of this process (all its threads), which other jobs on a shared machine do not inflate, where
    they move wall-clock pairs by +-40% (the work compared, network and Lightning overhead, is
    all CPU work there)."""
    return time.perf_counter if device.type == "cuda" else time.process_time


def fill_replay(profile: Profile, frames: int, seed: int = 0):
    """A :class:`~fuelrl.agents.replay.ReplayStore` holding ``frames`` real FireEnv transitions of the
    profile's env (random legal actions, in-process env), sampled in the profile's batch size."""
    from fuelrl.agents.replay import ReplayStore
    from fuelrl.envs import make_env

    store = ReplayStore(
        max(frames, profile.batch_size),
        batch_size=profile.batch_size,
        observation_dtype=profile.data.get("observation_dtype", "float32"),
        seed=seed,
    )
    env = make_env(profile.data["env"], num_workers=0, seed=seed)
    try:
        td = env.reset()
        while len(store) < frames:
            td = env.rand_action(td)
            out, td = env.step_and_maybe_reset(td)
            store.extend(out)
    finally:
        env.close()
    return store


class ReplayBatches(torch.utils.data.IterableDataset):
    """An endless stream of ``store.sample()`` (or of a fixed list of batches, cycled)."""

    def __init__(self, store=None, batches: list | None = None):
        super().__init__()
        self.store = store
        self.batches = batches

    def __iter__(self) -> Iterator:
        i = 0
        while True:
            if self.batches is not None:
                yield self.batches[i % len(self.batches)]
                i += 1
            else:
                yield self.store.sample()


def _identity(batch):
    return batch


def loader(dataset: ReplayBatches) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=0, collate_fn=_identity)


def lightning_fit(agent, profile: Profile, dataset: ReplayBatches, root: Path, batches: int, callbacks=()):
    """``Trainer.fit`` of ``agent`` on ``batches`` training batches of ``dataset`` with the Trainer
    ``fuelrl fit`` builds for the profile (plus ``callbacks``); returns the trainer."""
    acc = profile.accumulate_grad_batches
    cli = profile.cli(root, f"--trainer.max_steps={math.ceil(batches / acc)}")
    trainer = cli.trainer
    trainer.callbacks.extend(callbacks)
    trainer.fit(agent, train_dataloaders=loader(dataset))
    return trainer


def _lightning_rate(agent, store, profile, warmup: int, batches: int, root: Path) -> float:
    """Training batches per second of ``Trainer.fit`` over ``batches`` batches after ``warmup``."""
    import lightning.pytorch as pl

    sync, now = _sync(profile.device), timer(profile.device)
    marks: dict[str, float] = {}

    class Clock(pl.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            if batch_idx == warmup - 1:
                sync()
                marks["start"] = now()
            elif batch_idx == warmup + batches - 1:
                sync()
                marks["end"] = now()
                trainer.should_stop = True

    acc = profile.accumulate_grad_batches
    lightning_fit(agent, profile, ReplayBatches(store), root, warmup + batches + acc, [Clock()])
    if "end" not in marks:
        raise RuntimeError("the Lightning run stopped before the timed batches were done")
    return batches / (marks["end"] - marks["start"])


class BareDQN:
    """The agent's update written as a plain PyTorch loop (what Lightning does for us).

    Same network (a copy of the agent's weights), loss (:func:`fuelrl.agents.losses.agent_loss`),
    optimizer (Adam / AdamW), autocast precision, loss scaling for fp16, gradient accumulation,
    gradient norm clipping and target update; no logging, callbacks or hooks.
    """

    def __init__(self, agent, profile: Profile):
        hp = agent.hparams
        self.hp = hp
        self.device = profile.device
        self.qnet = copy.deepcopy(agent.qnet).to(self.device).train()
        self.target = copy.deepcopy(agent.target_qnet).to(self.device)
        if hp.weight_decay:
            self.opt = torch.optim.AdamW(self.qnet.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
        else:
            self.opt = torch.optim.Adam(self.qnet.parameters(), lr=hp.lr)
        precision = profile.precision
        self.autocast_dtype = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(precision)
        self.scaler = torch.amp.GradScaler(self.device.type) if precision == "16-mixed" else None
        self.accumulate = profile.accumulate_grad_batches
        self.num_updates = int(agent.num_updates)
        self.batch_idx = 0

    def train_batch(self, batch) -> None:
        from fuelrl.agents.losses import agent_loss, hard_update, soft_update

        hp = self.hp
        batch = batch.to(self.device)
        with torch.autocast(
            self.device.type,
            dtype=self.autocast_dtype or torch.float32,
            enabled=self.autocast_dtype is not None,
        ):
            out = agent_loss(self.qnet, self.target, batch, hp)
        loss = out.loss / self.accumulate
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
        self.batch_idx += 1
        if self.batch_idx % self.accumulate:
            return
        if self.scaler is not None:
            self.scaler.unscale_(self.opt)
        if hp.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(self.qnet.parameters(), hp.max_grad_norm)
        if self.scaler is not None:
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        self.num_updates += 1
        with torch.no_grad():
            if hp.target_update == "soft":
                soft_update(self.target, self.qnet, hp.tau)
            elif self.num_updates % hp.target_update_every == 0:
                hard_update(self.target, self.qnet)

    def rate(self, store, warmup: int, batches: int) -> float:
        """Training batches per second over ``batches`` batches after ``warmup`` untimed ones."""
        sync, now = _sync(self.device), timer(self.device)
        for _ in range(warmup):
            self.train_batch(store.sample())
        sync()
        t0 = now()
        for _ in range(batches):
            self.train_batch(store.sample())
        sync()
        return batches / (now() - t0)


def update_ratio(
    profile: Profile,
    *,
    repeats: int = 3,
    warmup: int = 5,
    batches: int = 30,
    replay_frames: int = 512,
    seed: int = 0,
) -> dict[str, Any]:
    """Lightning vs bare-PyTorch training batches/s on the same network, batches and optimizer."""
    quiet_lightning()
    store = fill_replay(profile, replay_frames, seed=seed)
    agent = make_agent(profile, seed=seed)
    bare = BareDQN(agent, profile)
    lightning_rates, bare_rates = [], []
    with tempfile.TemporaryDirectory(prefix="fuelrl-bench-") as root:
        for i in range(repeats):
            lightning_rates.append(
                _lightning_rate(agent, store, profile, warmup, batches, Path(root) / str(i))
            )
            bare_rates.append(bare.rate(store, warmup, batches))
    lit, raw = summarize(lightning_rates), summarize(bare_rates)
    acc = profile.accumulate_grad_batches
    pair = [a / b for a, b in zip(lightning_rates, bare_rates, strict=True)]
    return {
        "profile": profile.name,
        "net": _net_summary(agent),
        "batch_size": profile.batch_size,
        "tile_size": profile.data["env"].tile_size,
        "accumulate_grad_batches": acc,
        "precision": profile.precision,
        "device": str(profile.device),
        "clock": "wall" if profile.device.type == "cuda" else "process CPU time",
        "repeats": repeats,
        "warmup_batches": warmup,
        "timed_batches": batches,
        "lightning_batches_per_s": lit,
        "bare_batches_per_s": raw,
        "lightning_updates_per_s": _scaled(lit, 1.0 / acc),
        "bare_updates_per_s": _scaled(raw, 1.0 / acc),
        "update_ratio_vs_bare": lit["median"] / raw["median"],
        "update_ratio_pairs": summarize(pair),
        "goal_update_ratio": 0.9,
    }


def _scaled(stat: dict[str, Any], factor: float) -> dict[str, Any]:
    out = dict(stat)
    for key in ("median", "q1", "q3", "min", "max"):
        if out.get(key) is not None:
            out[key] = out[key] * factor
    out["values"] = [v * factor for v in stat.get("values", [])]
    return out


def _net_summary(agent) -> str:
    from fuelrl.models import count_parameters

    net = agent.hparams.net
    attn = " + attention" if net.attention else ""
    return f"{net.width} ch x {net.blocks} blocks{attn} ({count_parameters(agent.qnet):,} parameters)"
