"""``fuelrl fit`` errors: one line naming the file / key / option, exit 2, before training starts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fuelrl import cli
from fuelrl.agents.cli import one_line_config_error

REPO = Path(__file__).resolve().parents[2]
QUICK = str(REPO / "configs" / "quickstart.yaml")


def _fit(capsys, *args):
    code = cli.main(["fit", "--config", QUICK, *args])
    return code, capsys.readouterr().err.strip()


def test_bad_key_in_a_config_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  net:\n    widht: 3\n")
    code, err = _fit(capsys, "--config", str(bad))
    assert code == 2 and "\n" not in err
    assert "key model.net: Option 'widht' is not accepted" in err and str(bad) in err


def test_unknown_option_is_one_line(capsys):
    code, err = _fit(capsys, "--trainer.max_stepz", "3")
    assert code == 2 and "\n" not in err and "unrecognized arguments: --trainer.max_stepz" in err


@pytest.mark.parametrize("content", [None, b"garbage", b"PK\x03\x04truncated"])
def test_missing_or_unreadable_checkpoint(tmp_path, capsys, content):
    ckpt = tmp_path / "x.ckpt"
    if content is not None:
        ckpt.write_bytes(content)
    code, err = _fit(capsys, "--ckpt_path", str(ckpt))
    assert code == 2 and "\n" not in err and "Traceback" not in err
    assert ("checkpoint not found" if content is None else "cannot read the checkpoint") in err


def test_model_option_that_the_checkpoint_would_override(tmp_path, capsys):
    ckpt = tmp_path / "w16.ckpt"
    torch.save({"hyper_parameters": {"net": {"width": 16, "blocks": 3}}, "state_dict": {}}, ckpt)
    code, err = _fit(capsys, "--ckpt_path", str(ckpt), "--model.net.width", "32")
    assert code == 2 and "\n" not in err
    assert "--model.net.width 32" in err and "model.net.width=16" in err


def test_one_line_config_error_keeps_key_and_reason():
    msg = "Parser key \"model.net\":\n  Does not validate\n  Errors:\n    - Option 'x' is not accepted\n"
    assert one_line_config_error(msg) == "key model.net: Option 'x' is not accepted"


@pytest.mark.slow
def test_bad_env_option_under_parallel_env_is_one_line(tmp_path):
    """``fuelrl fit`` whose env workers (ParallelEnv, 2 processes) stop on a user error at their
    first reset prints that error on one line and exits 2 (not TorchRL's "worker N dead")."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "fuelrl.cli", "fit", "--config", QUICK, "--data.num_workers", "2",
         "--data.env.batch_size", "2", "--data.env.tile_size", "4", "--data.env.fires_per_tile", "64",
         "--data.env.min_burnable_fraction", "1.0", "--data.env.split", "all",
         "--trainer.max_steps", "1", "--trainer.default_root_dir", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert errors == [errors[0]] and errors[0].startswith("fuelrl fit: error: a tile of"), proc.stderr
    assert "no cell that can take a break" in errors[0]
    assert "Traceback" not in proc.stderr and "dead" not in proc.stderr
