"""``fuelrl fit`` stopped by SIGTERM (what ``timeout``, Slurm and ``docker stop`` send) leaves a
consistent run folder: one line on stderr, exit 143, every checkpoint file whole (Lightning writes
them to a temporary file and renames it), no temporary or partial files, a ``last.ckpt`` at the
step reached, and no env worker left running; ``--ckpt_path last`` resumes from it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
QUICK = str(REPO / "configs" / "quickstart.yaml")
SMALL = [
    "--data.env.tile_size=8", "--data.env.fires_per_tile=2", "--data.env.batch_size=2",
    "--data.env.duration_min=60", "--data.env.duration_max_min=120", "--data.num_workers=2",
    "--data.frames_per_collect=8", "--data.updates_per_collect=2", "--data.batch_size=8",
    "--data.warmup_frames=16", "--data.prefill_frames=16", "--data.eval_tiles=2",
    "--trainer.val_check_interval=100000", "--checkpoint.every_n_train_steps=3",
]  # fmt: skip


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.mark.slow
def test_sigterm_leaves_whole_checkpoints_and_resumes(tmp_path):
    root = tmp_path / "run"
    cmd = [sys.executable, "-m", "fuelrl.cli", "fit", "--config", QUICK, *SMALL,
           f"--trainer.default_root_dir={root}"]  # fmt: skip
    proc = subprocess.Popen(
        [*cmd, "--trainer.max_steps=100000"], cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    ckpts = root / "checkpoints"
    deadline = time.monotonic() + 900
    while not list(ckpts.glob("step*.ckpt")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
    assert proc.poll() is None, proc.stderr.read()[-3000:]
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 128 + signal.SIGTERM, err[-3000:]
    lines = [line for line in err.strip().splitlines() if line.startswith("fuelrl")]
    assert lines[-1].startswith("fuelrl fit: interrupted (SIGTERM) at step "), err[-3000:]
    assert "Traceback" not in err
    step = int(lines[-1].split(" at step ")[1].split(";")[0])
    files = sorted(p.name for p in ckpts.iterdir())
    assert files and all(name.endswith(".ckpt") and not name.startswith(".") for name in files), files
    for name in files:  # every file is a whole checkpoint
        ckpt = torch.load(ckpts / name, map_location="cpu", weights_only=False)
        assert "state_dict" in ckpt and ckpt["global_step"] <= step
    assert torch.load(ckpts / "last.ckpt", map_location="cpu", weights_only=False)["global_step"] == step
    time.sleep(2.0)
    alive = [pid for pid in workers if os.path.exists(f"/proc/{pid}")]
    assert not alive, f"env workers still running: {alive}"

    resumed = subprocess.run(
        [*cmd, f"--trainer.max_steps={step + 2}", "--ckpt_path=last"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"finished at step {step + 2}" in resumed.stdout
