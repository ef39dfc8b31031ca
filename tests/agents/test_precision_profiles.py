"""Precision resolution (so every config runs on a CPU) and the GPU-memory profile rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fuelrl.agents.precision import resolve_precision
from fuelrl.agents.profiles import expand_auto_config, pick_profile

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only resolution")
def test_cpu_resolution():
    assert resolve_precision("32", "cpu") == ("32", None)
    assert resolve_precision("bf16-mixed", "cpu") == ("bf16-mixed", None)
    precision, notice = resolve_precision("16-mixed", "auto")
    assert precision == "32-true"
    assert "16-mixed" in notice and "CPU" in notice
    # a GPU asked for on a machine without one: the precision still resolves (Lightning reports devices)
    assert resolve_precision("16-mixed", "gpu")[0] == "32-true"
    assert resolve_precision(None, "cpu") == (None, None)


def test_pick_profile_rule():
    assert pick_profile(None) == "quickstart"
    assert pick_profile(4.0) == "low_mem"
    assert pick_profile(5.9) == "low_mem"
    assert pick_profile(6.0) == "default"
    assert pick_profile(16.0) == "default"
    assert pick_profile(24.0) == "high_mem"
    assert pick_profile(80.0) == "high_mem"


def test_auto_config_is_replaced_by_a_profile_file():
    auto = REPO / "configs" / "auto.yaml"
    out = expand_auto_config(["fit", "--config", str(auto), "--model.lr", "3e-4"])
    picked = Path(out[2])
    expected = pick_profile(
        torch.cuda.get_device_properties(0).total_memory / 2**30 if torch.cuda.is_available() else None
    )
    assert picked == auto.with_name(f"{expected}.yaml") and picked.is_file()
    assert out[3:] == ["--model.lr", "3e-4"]
    other = str(REPO / "configs" / "low_mem.yaml")
    assert expand_auto_config(["fit", f"--config={other}"]) == ["fit", f"--config={other}"]
