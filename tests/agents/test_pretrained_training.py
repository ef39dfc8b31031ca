"""`fuelrl fit --config configs/pretrained.yaml`, shortened: it trains on the real Worcester rows
< 400 window and the 60 m TestFlamMap landscape (one env worker per cell size), learns from the
teacher's labels, and its checkpoint plans as ``pretrained`` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from .cli_helpers import CONFIGS, REPO, run_fuelrl, scalars

LANDSCAPES = REPO.parent / "shared" / "data" / "landscapes"
SHARED = LANDSCAPES / "worcester_vt"
TESTFLAMMAP = LANDSCAPES / "flammap_testflammap_2427464" / "2427464.lcp"


@pytest.mark.slow
def test_shortened_pretrained_training_runs_and_its_checkpoint_plans(tmp_path: Path):
    for need in (SHARED, TESTFLAMMAP):
        if not need.exists():
            pytest.skip(f"shared data not found: {need}")
    root = tmp_path / "run"
    proc = run_fuelrl(
        "fit", "--config", str(CONFIGS / "pretrained.yaml"),
        "--trainer.max_steps=16", "--trainer.val_check_interval=16", f"--trainer.default_root_dir={root}",
        "--trainer.enable_progress_bar=false", "--trainer.log_every_n_steps=2",
        "--data.env.tile_size=24", "--data.env.batch_size=4",
        "--data.frames_per_collect=8", "--data.warmup_frames=64", "--data.prefill_frames=32",
        "--data.eval_tiles=4", "--checkpoint.every_n_train_steps=16", timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "vs DPV-greedy" in proc.stdout  # the closing lines compare with random and DPV
    tags = scalars(root / "lightning_logs")
    for tag in ("train/expert_dpv_mse", "train/expert_agreement", "eval/burned_ha_dpv", "eval/burned_ha"):
        assert tag in tags, tag
    ckpt = root / "checkpoints" / "last.ckpt"
    out = tmp_path / "plan"
    proc = run_fuelrl(
        "plan", "synthetic:seed=3,size=48x48", "--policy", str(ckpt), "--budget", "0.05",
        "--fires", "4", "--seed", "0", "--out", str(out),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "breaks.tif").is_file()
