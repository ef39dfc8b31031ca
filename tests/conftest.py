"""Shared fixtures: where the shared reference data lives, and skips when it is absent; small
synthetic env configurations."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FUELRL_SHARED", REPO.parent / "shared")).resolve()
SHARED_DATA = SHARED / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data; skips the calling test with a reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found: {path} (set FUELRL_SHARED to the folder holding data/)")
    return path


@pytest.fixture
def worcester_dir() -> Path:
    return shared_path("landscapes", "worcester_vt")


@pytest.fixture
def testmtt_dir() -> Path:
    return shared_path("landscapes", "flammap_testmtt_19545")


@pytest.fixture
def reference_dir() -> Path:
    return shared_path("reference")


def synthetic_env_config(
    seed: int, size: int, *, tile_size: int = 16, fires_per_tile: int = 4, batch_size: int = 3, **kw
):
    """An ``EnvConfig`` on the generated ``size`` x ``size`` landscape of ``seed``; ``kw`` are
    further EnvConfig fields."""
    from fuelrl.envs import EnvConfig  # here, so that collecting tests does not import the env

    return EnvConfig(
        landscapes=[f"synthetic:seed={seed},size={size}x{size}"],
        tile_size=tile_size,
        fires_per_tile=fires_per_tile,
        batch_size=batch_size,
        **kw,
    )


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
