"""On a CUDA GPU: the low_mem profile's peak GPU memory stays within a 4 GB card (goal: <= 3.5 GiB)."""

from __future__ import annotations

import pytest

from .cli_helpers import LOW_MEM, fit_ok, scalars


@pytest.mark.gpu
@pytest.mark.slow
def test_low_mem_peak_gpu_memory_fits_a_4_gb_card(tmp_path):
    fit_ok(
        tmp_path,
        *LOW_MEM,
        "--trainer.accelerator=gpu",
        "--trainer.max_steps=200",
        "--trainer.val_check_interval=400",
        "--memory.every_n_steps=10",
        timeout=1800,
    )
    found = scalars(tmp_path)
    peak_reserved = max(v for _, v in found["memory/gpu_peak_reserved_mib"])
    print(f"low_mem peak GPU memory reserved: {peak_reserved:.0f} MiB")
    assert peak_reserved <= 3.5 * 1024
