"""The training sections of the ``fuelrl bench`` suite (train, warmup, memory): which profiles, at
which scale, and the calls into :mod:`fuelrl.bench.updates` and :mod:`fuelrl.bench.training`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from fuelrl.bench import report as rp
from fuelrl.bench.report import log as _log

if TYPE_CHECKING:
    from fuelrl.bench.suite import BenchOptions


def default_profiles(device: torch.device, quick: bool) -> tuple[str, ...]:
    from fuelrl.bench.training import PROFILES

    if device.type == "cuda":
        return PROFILES
    return ("quickstart", "low_mem")


#: ``fuelrl fit`` options of the smoke-test scale (``--tiny``)
TINY_OPTIONS = (
    "--data.env.tile_size=8",
    "--data.env.fires_per_tile=2",
    "--data.env.batch_size=2",
    "--data.env.duration_min=60.0",
    "--data.frames_per_collect=8",
    "--data.updates_per_collect=2",
    "--data.batch_size=8",
)


def load_profiles(opts: BenchOptions, device: torch.device):
    from fuelrl.bench.profiles import load_profile

    names = opts.profiles or (("quickstart",) if opts.tiny else default_profiles(device, opts.quick))
    options = TINY_OPTIONS if opts.tiny else ()
    return [load_profile(name, opts.configs_dir, device=device, options=options) for name in names]


def bench_updates(opts: BenchOptions, device: torch.device, profiles) -> list[dict[str, Any]]:
    from fuelrl.bench.updates import update_ratio

    rows = []
    for prof in profiles:
        acc = prof.accumulate_grad_batches
        heavy = prof.name in ("default", "high_mem") or prof.data["env"].tile_size >= 32
        if opts.tiny:
            warm, batches = 2, 4
        elif opts.quick:
            warm, batches = max(3, acc), (12 * acc if heavy and device.type == "cpu" else 40)
        else:
            warm, batches = max(5, 2 * acc), (24 * acc if heavy and device.type == "cpu" else 100)
        frames = 64 if opts.tiny else 512
        row = update_ratio(prof, repeats=opts.n_repeats, warmup=warm, batches=batches, replay_frames=frames)
        rows.append(row)
        _log(f"train {prof.name}: update_ratio_vs_bare {row['update_ratio_vs_bare']:.3f}")
    return rows


def bench_fits(opts: BenchOptions, device: torch.device, profiles) -> list[dict[str, Any]]:
    """One ``Trainer.fit`` from scratch per profile: end-to-end exp/s, warm-up curve, GPU memory."""
    from fuelrl.bench.training import fit_run

    rows = []
    for prof in profiles:
        if opts.tiny:
            steps, warm = 12, 16
        elif opts.quick:
            steps, warm = opts.fit_steps or 100, 256
        else:
            steps, warm = opts.fit_steps or 600, 2000
        configured = int(prof.data.get("warmup_frames", 0))
        warm = min(configured, warm) if configured else warm
        fpc = int(prof.data.get("frames_per_collect", 64))
        warm = max(warm, fpc)
        overrides = {
            "warmup_frames": warm,
            "prefill_frames": min(int(prof.data.get("prefill_frames", 0)), warm // 2),
            "buffer_size": min(int(prof.data.get("buffer_size", 20_000)), 20_000),
        }
        row = fit_run(prof, max_steps=steps, overrides=overrides)
        rows.append(row)
        _log(
            f"fit {prof.name}: {rp.fmt(row['end_to_end_exp_per_s'])} exp/s end to end; first episode / "
            f"steady {rp.fmt_ratio(row['warmup']['first_vs_steady'])}"
        )
    return rows


def bench_rss(opts: BenchOptions) -> dict[str, Any]:
    from fuelrl.bench.profiles import load_profile
    from fuelrl.bench.training import rss_run

    if opts.tiny:
        prof = load_profile("quickstart", opts.configs_dir, options=TINY_OPTIONS)
        buffer, total = opts.rss_frames or (32, 96)
    else:
        prof = load_profile("quickstart", opts.configs_dir)
        buffer, total = opts.rss_frames or ((1500, 4500) if opts.quick else (5000, 20000))
    row = rss_run(prof, buffer_frames=buffer, total_frames=total)
    _log(
        f"memory: host RSS {row['rss_at_fill_mib']:.0f} MiB at fill, "
        f"{row['rss_end_mib']:.0f} MiB at the end; "
        f"slope after fill {row['slope_after_fill_mib_per_1000_frames']} MiB/1000 frames"
    )
    return row
