"""Training benchmarks: Lightning's overhead, end-to-end experience rate, warm-up curve, memory.

Four measurements, each on a training profile (``configs/<name>.yaml``: the net, batch, optimizer,
precision, gradient accumulation and env of that profile):

- :func:`update_ratio`: training batches per second of :class:`fuelrl.agents.DQNAgent` under a
  Lightning ``Trainer`` against a bare PyTorch loop with the same network (same initial weights),
  replay batches, optimizer, precision, accumulation, gradient clipping and target update.
  Pairs are interleaved (Lightning, bare, Lightning, bare, ...) so slow drifts of a shared machine
  hit both alike; ``update_ratio_vs_bare`` is the ratio of the medians (goal >= 0.9).
- :func:`fit_run`: ``Trainer.fit`` of the agent and :class:`fuelrl.agents.ReplayDataModule` from
  scratch, as ``fuelrl fit`` runs it; every collector batch is timestamped, giving the end-to-end
  experiences/s (collection + replay + learning) and the warm-up curve: experiences/s of each
  episode from the very first one, the first episode against the steady state (goal >= 0.8: no
  ramp like the original system's 27 -> 1500 exp/s over 400 episodes). On CUDA the same run
  records the peak GPU memory allocated and reserved.
- :func:`rss_run`: a long collection run (collector + replay buffer, no learning) that fills the
  buffer and then keeps overwriting it, sampling the resident memory of this process and its env
  workers; the least-squares slope after the fill should be ~0 (no leak).
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import yaml

from fuelrl.bench.report import MIB, summarize
from fuelrl.errors import InputError

PROFILES = ("quickstart", "low_mem", "default", "high_mem")


# ------------------------------------------------------------------------------------ profiles
def default_configs_dir() -> Path:
    """``configs/`` of the source checkout (the folder beside the ``fuelrl`` package)."""
    return Path(__file__).resolve().parents[2] / "configs"


@dataclass
class Profile:
    """What a benchmark needs from a training config file."""

    name: str
    path: Path
    model: dict[str, Any]  # DQNAgent keyword arguments (net as QNetConfig)
    data: dict[str, Any]  # ReplayDataModule keyword arguments (env as EnvConfig)
    precision: str = "32"
    accumulate_grad_batches: int = 1
    log_every_n_steps: int = 50
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        return int(self.data.get("batch_size", 64))


def load_profile(name: str, configs_dir: str | Path | None = None) -> Profile:
    """Read ``<configs_dir>/<name>.yaml`` (a ``fuelrl fit`` config) into a :class:`Profile`."""
    from fuelrl.envs import EnvConfig
    from fuelrl.models import QNetConfig

    folder = Path(configs_dir) if configs_dir is not None else default_configs_dir()
    path = folder / f"{name}.yaml"
    if not path.is_file():
        raise InputError(
            f"--profiles: {name!r}: no config file {path} (known profiles: {', '.join(PROFILES)}; "
            "--configs-dir points at the folder holding them)"
        )
    try:
        cfg = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from exc
    model = dict(cfg.get("model") or {})
    model["net"] = QNetConfig(**(model.get("net") or {}))
    data = dict(cfg.get("data") or {})
    data["env"] = EnvConfig(**(data.get("env") or {}))
    trainer = cfg.get("trainer") or {}
    return Profile(
        name=name,
        path=path,
        model=model,
        data=data,
        precision=str(trainer.get("precision", "32")),
        accumulate_grad_batches=int(trainer.get("accumulate_grad_batches", 1) or 1),
        log_every_n_steps=int(trainer.get("log_every_n_steps", 50)),
    )


def resolved_precision(profile: Profile, device: torch.device) -> str:
    """The precision ``fuelrl fit`` would use for this profile on ``device`` (see agents.precision)."""
    from fuelrl.agents.precision import resolve_precision

    precision, _ = resolve_precision(profile.precision, "gpu" if device.type == "cuda" else "cpu")
    return str(precision)


def make_agent(profile: Profile, seed: int = 0):
    from fuelrl.agents import DQNAgent
    from fuelrl.envs.observation import channel_layout

    env = profile.data["env"]
    names = list(channel_layout(dpv_channel=env.dpv_channel, weather_channels=env.weather_channels))
    torch.manual_seed(seed)  # the network's initial weights (nn.Module init uses the global RNG)
    return DQNAgent(in_channels=len(names), observation_channels=names, seed=seed, **profile.model)


def _sync(device: torch.device) -> Callable[[], None]:
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


def _trainer(profile: Profile, device: torch.device, max_steps: int, root: Path, callbacks: list):
    import lightning.pytorch as pl
    from lightning.pytorch.loggers import TensorBoardLogger

    return pl.Trainer(
        accelerator="gpu" if device.type == "cuda" else "cpu",
        devices=[device.index or 0] if device.type == "cuda" else 1,
        precision=resolved_precision(profile, device),
        accumulate_grad_batches=profile.accumulate_grad_batches,
        max_steps=max_steps,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        log_every_n_steps=profile.log_every_n_steps,
        logger=TensorBoardLogger(str(root), name="bench"),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks,
        default_root_dir=str(root),
    )


def _quiet_lightning() -> None:
    import logging
    import warnings

    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "torchrl"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for pattern in (
        r".*does not have many workers.*",
        r".*IterableDataset.*",
        r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",
        r".*You defined a `validation_step` but have no `val_dataloader`.*",
        r".*`training_step` returned `None`.*",
        r".*precision.*",
        r".*GPU available but not used.*",
        r".*TensorBoard.*",
    ):
        warnings.filterwarnings("ignore", message=pattern)


# ------------------------------------------------------------------------------ replay batches
def fill_replay(profile: Profile, frames: int, seed: int = 0):
    """A :class:`~fuelrl.agents.replay.ReplayStore` holding ``frames`` real FireEnv transitions of the
    profile's env (random legal actions, in-process env), sampled in the profile's batch size."""
    from fuelrl.agents.replay import ReplayStore
    from fuelrl.envs import make_env

    cfg = profile.data["env"]
    store = ReplayStore(
        max(frames, profile.batch_size),
        batch_size=profile.batch_size,
        observation_dtype=profile.data.get("observation_dtype", "float32"),
        seed=seed,
    )
    env = make_env(cfg, num_workers=0, seed=seed)
    try:
        td = env.reset()
        while len(store) < frames:
            td = env.rand_action(td)
            out, td = env.step_and_maybe_reset(td)
            store.extend(out)
    finally:
        env.close()
    return store


class _ReplayBatches(torch.utils.data.IterableDataset):
    def __init__(self, store):
        super().__init__()
        self.store = store

    def __iter__(self) -> Iterator:
        while True:
            yield self.store.sample()


def _identity(batch):
    return batch


# ---------------------------------------------------------------------- Lightning vs bare loop
def _lightning_rate(agent, store, profile, device, warmup: int, batches: int, root: Path) -> float:
    """Training batches per second of ``Trainer.fit`` over ``batches`` batches after ``warmup``."""
    import lightning.pytorch as pl

    sync = _sync(device)
    marks: dict[str, float] = {}

    class Clock(pl.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            if batch_idx == warmup - 1:
                sync()
                marks["start"] = time.perf_counter()
            elif batch_idx == warmup + batches - 1:
                sync()
                marks["end"] = time.perf_counter()
                trainer.should_stop = True

    acc = profile.accumulate_grad_batches
    steps = math.ceil((warmup + batches + acc) / acc)
    trainer = _trainer(profile, device, steps, root, [Clock()])
    loader = torch.utils.data.DataLoader(
        _ReplayBatches(store), batch_size=None, num_workers=0, collate_fn=_identity
    )
    trainer.fit(agent, train_dataloaders=loader)
    if "end" not in marks:
        raise RuntimeError("the Lightning run stopped before the timed batches were done")
    return batches / (marks["end"] - marks["start"])


class BareDQN:
    """The agent's update written as a plain PyTorch loop (what Lightning does for us).

    Same network (a copy of the agent's initial weights), loss (:func:`double_dqn_loss`), optimizer
    (Adam / AdamW), autocast precision, loss scaling for fp16, gradient accumulation, gradient norm
    clipping and target update; no logging, callbacks or hooks.
    """

    def __init__(self, agent, profile: Profile, device: torch.device):
        hp = agent.hparams
        self.hp = hp
        self.device = device
        self.qnet = copy.deepcopy(agent.qnet).to(device).train()
        self.target = copy.deepcopy(agent.target_qnet).to(device)
        if hp.weight_decay:
            self.opt = torch.optim.AdamW(self.qnet.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
        else:
            self.opt = torch.optim.Adam(self.qnet.parameters(), lr=hp.lr)
        precision = resolved_precision(profile, device)
        self.autocast_dtype = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(precision)
        self.scaler = torch.amp.GradScaler(device.type) if precision == "16-mixed" else None
        self.accumulate = profile.accumulate_grad_batches
        self.num_updates = 0
        self.batch_idx = 0

    def train_batch(self, batch) -> None:
        from fuelrl.agents.losses import double_dqn_loss, hard_update, soft_update

        hp = self.hp
        batch = batch.to(self.device)
        with torch.autocast(
            self.device.type,
            dtype=self.autocast_dtype or torch.float32,
            enabled=self.autocast_dtype is not None,
        ):
            out = double_dqn_loss(
                self.qnet,
                self.target,
                batch,
                gamma=hp.gamma,
                double_dqn=hp.double_dqn,
                loss_function=hp.loss_function,
                reward_scale=hp.reward_scale,
            )
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
        sync = _sync(self.device)
        for _ in range(warmup):
            self.train_batch(store.sample())
        sync()
        t0 = time.perf_counter()
        for _ in range(batches):
            self.train_batch(store.sample())
        sync()
        return batches / (time.perf_counter() - t0)


def update_ratio(
    profile: Profile,
    device: torch.device,
    *,
    repeats: int = 3,
    warmup: int = 5,
    batches: int = 30,
    replay_frames: int = 512,
    seed: int = 0,
) -> dict[str, Any]:
    """Lightning vs bare-PyTorch training batches/s on the same network, batches and optimizer."""
    _quiet_lightning()
    store = fill_replay(profile, replay_frames, seed=seed)
    agent = make_agent(profile, seed=seed)
    bare = BareDQN(agent, profile, device)
    lightning_rates, bare_rates = [], []
    with tempfile.TemporaryDirectory(prefix="fuelrl-bench-") as root:
        for i in range(repeats):
            lightning_rates.append(
                _lightning_rate(agent, store, profile, device, warmup, batches, Path(root) / str(i))
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
        "precision": resolved_precision(profile, device),
        "device": str(device),
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


# --------------------------------------------------------------------- end to end and warm-up
def fit_run(
    profile: Profile,
    device: torch.device,
    *,
    max_steps: int,
    overrides: dict[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """``Trainer.fit`` from scratch; returns the collector-batch timeline, the end-to-end rate, the
    warm-up curve and (on CUDA) the peak GPU memory. ``overrides`` replace ``data.*`` options."""

    from fuelrl.agents import ReplayDataModule

    _quiet_lightning()
    timeline: list[dict[str, float]] = []

    class ClockedData(ReplayDataModule):
        def ingest(self, batch, seconds: float) -> None:
            super().ingest(batch, seconds)
            timeline.append(
                {
                    "t": time.perf_counter(),
                    "collect_s": seconds,
                    "frames": self.stats.frames,
                    "episodes": self.stats.episodes,
                    "learning": float(self.stats.frames >= self.learning_starts),
                }
            )

    data_kwargs = {**profile.data, **(overrides or {})}
    with tempfile.TemporaryDirectory(prefix="fuelrl-bench-fit-") as root:
        if data_kwargs.get("storage") == "memmap":
            data_kwargs["scratch_dir"] = str(Path(root) / "replay_buffer")
        data = ClockedData(seed=seed, **data_kwargs)
        agent = make_agent(profile, seed=seed)
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        trainer = _trainer(profile, device, max_steps, Path(root), [])
        t0 = time.perf_counter()
        trainer.fit(agent, datamodule=data)
        wall = time.perf_counter() - t0
        gpu = None
        if device.type == "cuda":
            gpu = {
                "peak_allocated_gib": torch.cuda.max_memory_allocated(device) / 2**30,
                "peak_reserved_gib": torch.cuda.max_memory_reserved(device) / 2**30,
            }
        steps = int(trainer.global_step)
    out = summarize_timeline(timeline, t0, profile, data_kwargs)
    out.update(
        {
            "profile": profile.name,
            "device": str(device),
            "precision": resolved_precision(profile, device),
            "max_steps": max_steps,
            "optimizer_steps": steps,
            "wall_s": wall,
            "overrides": {k: v for k, v in (overrides or {}).items()},
            "gpu_memory": gpu,
        }
    )
    return out


def summarize_timeline(
    timeline: list[dict[str, float]], t_start: float, profile: Profile, data_kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Turn collector-batch timestamps into end-to-end rates, per-episode rates and the warm-up ratio.

    Window ``i`` is the wall time between collector batches ``i - 1`` and ``i`` (the first one is
    the collector time of batch 0, which includes the first reset); it covers the collection and
    the learning that followed the previous batch, so its rate is the end-to-end rate.
    """
    if len(timeline) < 4:
        raise RuntimeError(f"the fit run collected only {len(timeline)} batches; give it more max_steps")
    windows = []
    prev_t, prev_frames, prev_learning = None, 0, 0.0
    for row in timeline:
        dt = row["collect_s"] if prev_t is None else row["t"] - prev_t
        # a window holds the updates that followed the previous batch: it learned if that one did
        windows.append({**row, "dt": dt, "d_frames": row["frames"] - prev_frames, "learning": prev_learning})
        prev_t, prev_frames, prev_learning = row["t"], row["frames"], row["learning"]
    total_frames = timeline[-1]["frames"]
    steady = [w for w in windows if w["frames"] > total_frames / 2 and w["learning"]]
    steady_rates = [w["d_frames"] / w["dt"] for w in steady if w["dt"] > 0]
    steady_env = [w["d_frames"] / w["collect_s"] for w in steady if w["collect_s"] > 0]

    # one entry per episode (per batch of B tiles per worker: they finish together when no tile ends
    # early; an episode ends at the collector batch where the episode counter moved)
    episodes = []
    start_i, start_time = 0, timeline[0]["t"] - timeline[0]["collect_s"]
    last_episodes = 0
    for i, w in enumerate(windows):
        if w["episodes"] > last_episodes:
            frames = sum(x["d_frames"] for x in windows[start_i : i + 1])
            seconds = w["t"] - start_time
            episodes.append(
                {
                    "episodes_done": int(w["episodes"]),
                    "frames": int(w["frames"]),
                    "exp_per_s": frames / seconds if seconds > 0 else None,
                    "learning": bool(windows[start_i]["learning"]),
                }
            )
            start_i, start_time, last_episodes = i + 1, w["t"], w["episodes"]
    steady_stat = summarize(steady_rates)
    first = episodes[0]["exp_per_s"] if episodes else None
    first_learning = next((e["exp_per_s"] for e in episodes if e["learning"]), None)
    med = steady_stat["median"]
    return {
        "frames": int(total_frames),
        "startup_s": max(0.0, timeline[0]["t"] - timeline[0]["collect_s"] - t_start),
        "frames_per_collect": int(data_kwargs.get("frames_per_collect", 0)),
        "updates_per_collect": int(data_kwargs.get("updates_per_collect", 0)),
        "num_workers": int(data_kwargs.get("num_workers", 0)),
        "warmup_frames": int(data_kwargs.get("warmup_frames", 0)),
        "end_to_end_exp_per_s": steady_stat,
        "env_exp_per_s": summarize(steady_env),
        "episodes": episodes,
        "warmup": {
            "first_episode_exp_per_s": first,
            "first_learning_episode_exp_per_s": first_learning,
            "steady_exp_per_s": med,
            "first_vs_steady": first / med if first and med else None,
            "first_learning_vs_steady": first_learning / med if first_learning and med else None,
            "goal": 0.8,
        },
    }


# -------------------------------------------------------------------------------- host memory
def process_tree_rss_mib(pid: int | None = None) -> float:
    """Resident memory of a process and all its descendants (env workers), MiB (Linux ``/proc``)."""
    from fuelrl.callbacks import host_rss_mib

    root = os.getpid() if pid is None else pid
    proc = Path("/proc")
    if not proc.is_dir():
        return host_rss_mib()
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    page = os.sysconf("SC_PAGE_SIZE")
    total, todo = 0.0, [root]
    while todo:
        p = todo.pop()
        try:
            total += int((proc / str(p) / "statm").read_text().split()[1]) * page
        except (OSError, ValueError, IndexError):
            pass
        todo.extend(children.get(p, []))
    return total / MIB


def _slope_per_1000(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return 1000.0 * sum((x - mx) * (y - my) for x, y in points) / sxx


def rss_run(
    profile: Profile,
    *,
    buffer_frames: int,
    total_frames: int,
    num_workers: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Collect ``total_frames`` transitions into a replay buffer of ``buffer_frames`` (no learning),
    sampling one replay batch per collector batch, and record the RSS of this process and its env
    workers after every collector batch. Reports the slope before and after the buffer is full."""
    from torchrl.collectors import Collector
    from torchrl.envs.utils import ExplorationType

    from fuelrl.agents.replay import ReplayStore
    from fuelrl.envs import make_env

    if total_frames <= buffer_frames:
        raise InputError("rss run: total_frames must exceed buffer_frames (the point is after the fill)")
    workers = int(profile.data.get("num_workers", 0) if num_workers is None else num_workers)
    cfg = profile.data["env"]
    tiles = cfg.batch_size * max(1, workers)
    fpc = max(tiles, (int(profile.data.get("frames_per_collect", 64)) // tiles) * tiles)
    agent = make_agent(profile, seed=seed)
    agent.update_exploration(0, warmup_frames=total_frames)  # epsilon stays at its start
    store_dir = tempfile.TemporaryDirectory(prefix="fuelrl-bench-rss-")
    storage = profile.data.get("storage", "memory")
    store = ReplayStore(
        buffer_frames,
        storage=storage,
        scratch_dir=store_dir.name if storage == "memmap" else None,
        batch_size=profile.batch_size,
        observation_dtype=profile.data.get("observation_dtype", "float32"),
        seed=seed,
    )
    env = make_env(cfg, num_workers=workers, seed=seed)
    collector = Collector(
        env,
        agent.policy,
        frames_per_batch=fpc,
        total_frames=-1,
        storing_device="cpu",
        exploration_type=ExplorationType.RANDOM,
        split_trajs=False,
        auto_register_policy_transforms=False,
    )
    samples: list[tuple[int, float]] = [(0, process_tree_rss_mib())]
    frames = 0
    t0 = time.perf_counter()
    try:
        for batch in collector:
            frames += store.extend(batch)
            store.sample()
            samples.append((frames, process_tree_rss_mib()))
            if frames >= total_frames:
                break
    finally:
        collector.shutdown()
        if not env.is_closed:
            env.close()
        store_dir.cleanup()
    wall = time.perf_counter() - t0
    fill = [(f, r) for f, r in samples if 0 < f <= buffer_frames]
    after = [(f, r) for f, r in samples if f > buffer_frames]
    at_fill = fill[-1][1] if fill else samples[0][1]
    return {
        "profile": profile.name,
        "tile_size": cfg.tile_size,
        "num_workers": workers,
        "storage": storage,
        "buffer_frames": buffer_frames,
        "frames": frames,
        "wall_s": wall,
        "rss_start_mib": samples[0][1],
        "rss_at_fill_mib": at_fill,
        "rss_end_mib": samples[-1][1],
        "rss_max_after_fill_mib": max((r for _, r in after), default=None),
        "slope_during_fill_mib_per_1000_frames": _slope_per_1000(fill),
        "slope_after_fill_mib_per_1000_frames": _slope_per_1000(after),
        "growth_after_fill_mib": samples[-1][1] - at_fill,
        "samples": [{"frames": f, "rss_mib": round(r, 2)} for f, r in samples],
    }


def replace_env(profile: Profile, **env_overrides: Any) -> Profile:
    """A copy of the profile with some EnvConfig fields replaced."""
    data = dict(profile.data)
    data["env"] = replace(profile.data["env"], **env_overrides)
    return replace(profile, data=data)
