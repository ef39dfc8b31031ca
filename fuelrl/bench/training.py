"""Training benchmarks: end-to-end experience rate, warm-up curve and memory of a training profile.

Each measurement runs a training profile (``configs/<name>.yaml``, parsed by LightningCLI as
``fuelrl fit`` parses it: :mod:`fuelrl.bench.profiles`); Lightning's per-update overhead against a
bare PyTorch loop is :mod:`fuelrl.bench.updates`.

- :func:`fit_run`: ``Trainer.fit`` of the agent and :class:`fuelrl.agents.ReplayDataModule` from
  scratch, as ``fuelrl fit`` builds them; every collector batch is timestamped, giving the end-to-end
  experiences/s (collection + replay + learning) and the warm-up curve: experiences/s of each
  episode from the very first one, the first episode against the steady state (goal >= 0.8: no
  ramp like the original system's 27 -> 1500 exp/s over 400 episodes). On CUDA the same run
  records the peak GPU memory allocated and reserved.
- :func:`rss_run`: a long collection run (collector + replay buffer, no learning) that fills the
  buffer and then keeps overwriting it, sampling the resident memory of this process and its env
  workers; the least-squares slope after the fill should be ~0 (no leak).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from fuelrl.bench.profiles import PROFILES, Profile, load_profile, make_agent, quiet_lightning
from fuelrl.bench.report import MIB, summarize
from fuelrl.errors import InputError

__all__ = ["PROFILES", "fit_run", "load_profile", "process_tree_rss_mib", "rss_run", "summarize_timeline"]


# --------------------------------------------------------------------- end to end and warm-up
def fit_run(
    profile: Profile,
    *,
    max_steps: int,
    overrides: dict[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """``Trainer.fit`` from scratch with the agent, data module and Trainer ``fuelrl fit`` builds for
    the profile; returns the collector-batch timeline, the end-to-end rate, the warm-up curve and
    (on CUDA) the peak GPU memory. ``overrides`` replace ``data.*`` options."""
    quiet_lightning()
    device = profile.device
    timeline: list[dict[str, float]] = []
    data_kwargs = {**profile.data, **(overrides or {})}
    options = [f"--data.{k}={v}" for k, v in (overrides or {}).items()]
    options += [f"--seed_everything={seed}", f"--data.seed={seed}", f"--model.seed={seed}"]
    with tempfile.TemporaryDirectory(prefix="fuelrl-bench-fit-") as root:
        if data_kwargs.get("storage") == "memmap":
            options.append(f"--data.scratch_dir={Path(root) / 'replay_buffer'}")
        cli = profile.cli(root, f"--trainer.max_steps={max_steps}", *options)
        data, trainer = cli.datamodule, cli.trainer
        ingest = data.ingest

        def clocked_ingest(batch, seconds: float) -> None:
            ingest(batch, seconds)
            timeline.append(
                {
                    "t": time.perf_counter(),
                    "collect_s": seconds,
                    "frames": data.stats.frames,
                    "episodes": data.stats.episodes,
                    "learning": float(data.stats.frames >= data.learning_starts),
                }
            )

        data.ingest = clocked_ingest
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        trainer.fit(cli.model, datamodule=data)
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
            "precision": profile.precision,
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
