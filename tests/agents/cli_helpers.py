"""Running `fuelrl fit|validate|test` as a user does, with a tiny, fast configuration."""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"

# quickstart shrunk to seconds: 8x8 tiles, 2 fires, a one-block net, 24 optimizer steps
TINY = [
    "--config",
    str(CONFIGS / "quickstart.yaml"),
    "--trainer.max_steps=24",
    "--trainer.val_check_interval=12",
    "--trainer.log_every_n_steps=2",
    "--trainer.enable_progress_bar=false",
    "--model.net.width=8",
    "--model.net.blocks=1",
    "--model.net.norm_groups=2",
    "--model.eps_decay_frames=200",
    "--data.env.tile_size=8",
    "--data.env.batch_size=4",
    "--data.env.fires_per_tile=2",
    "--data.env.budget_fraction=0.1",
    "--data.frames_per_collect=8",
    "--data.updates_per_collect=2",
    "--data.warmup_frames=32",
    "--data.prefill_frames=16",
    "--data.batch_size=16",
    "--data.buffer_size=500",
    "--data.eval_tiles=4",
    "--checkpoint.every_n_train_steps=8",
    "--throughput.every_n_steps=2",
    "--memory.every_n_steps=2",
]

#: the low_mem profile as the tests run it (no progress bar)
LOW_MEM = ["--config", str(CONFIGS / "low_mem.yaml"), "--trainer.enable_progress_bar=false"]


def fuelrl_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("fuelrl")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("fuelrl")
    return [found] if found else [sys.executable, "-m", "fuelrl.cli"]


def run_fuelrl(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*fuelrl_cmd(), *args], capture_output=True, text=True, timeout=timeout, cwd=REPO)


def fit_ok(root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """``fuelrl fit ARGS`` writing its logs and checkpoints under ``root``; it must exit 0 (the
    assertion shows the tail of its stderr)."""
    proc = run_fuelrl("fit", *args, f"--trainer.default_root_dir={root}", timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def scalars(logdir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in the TensorBoard event files under ``logdir``, read with TensorBoard's own reader."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out: dict[str, list[tuple[int, float]]] = {}
    for events in sorted(glob.glob(str(logdir / "**" / "events.out.tfevents.*"), recursive=True)):
        acc = EventAccumulator(events, size_guidance={"scalars": 0, "images": 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            out.setdefault(tag, []).extend((e.step, e.value) for e in acc.Scalars(tag))
    return out


def image_tags(logdir: Path) -> set[str]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags: set[str] = set()
    for events in glob.glob(str(logdir / "**" / "events.out.tfevents.*"), recursive=True):
        acc = EventAccumulator(events, size_guidance={"images": 0})
        acc.Reload()
        tags |= set(acc.Tags()["images"])
    return tags
