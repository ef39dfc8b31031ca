"""data.env_device: where the training envs grow their fires (fuelrl.envs.factory.resolve_env_device).
The GPU itself is exercised by tests/agents/test_gpu.py (marked gpu)."""

from __future__ import annotations

import pytest
import torch

from fuelrl.agents.data import ReplayDataModule
from fuelrl.envs.factory import resolve_env_device
from fuelrl.errors import InputError
from tests.conftest import synthetic_env_config


@pytest.fixture
def one_gpu(monkeypatch):
    """Pretend torch sees one CUDA GPU (the resolver only asks; nothing is allocated)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)


def test_cpu_and_auto_without_a_gpu_are_the_cpu(no_gpu):
    assert resolve_env_device("cpu", "numpy") == torch.device("cpu")
    assert resolve_env_device(" CPU ", "torch") == torch.device("cpu")
    assert resolve_env_device("auto", "torch") == torch.device("cpu")


def test_a_gpu_is_used_only_by_a_backend_that_runs_there(one_gpu):
    assert resolve_env_device("cuda", "torch") == torch.device("cuda", 0)
    assert resolve_env_device("cuda:0", "torch") == torch.device("cuda", 0)
    assert resolve_env_device("auto", "torch") == torch.device("cuda", 0)
    assert resolve_env_device("auto", "numpy") == torch.device("cpu")  # numpy grows fires on the CPU
    with pytest.raises(InputError, match=r"backend 'numpy' runs on cpu only; set data.env.backend: torch"):
        resolve_env_device("cuda", "numpy")
    with pytest.raises(InputError, match=r"'cuda:1': torch sees 1 CUDA GPU"):
        resolve_env_device("cuda:1", "torch")


def test_bad_values_are_one_line_errors_naming_the_option(no_gpu):
    with pytest.raises(InputError, match=r"data.env_device 'cuda': torch .* sees no CUDA GPU"):
        resolve_env_device("cuda", "torch")
    for bad in ("gpu", "mps", "cuda:x", ""):
        with pytest.raises(InputError, match=r"data.env_device: expected one of cpu, cuda, cuda:N, auto"):
            resolve_env_device(bad, "torch")
    with pytest.raises(InputError, match="unknown simulator backend 'nope'"):
        resolve_env_device("cpu", "nope")


def test_the_data_module_builds_its_envs_on_the_resolved_device(no_gpu):
    cfg = synthetic_env_config(seed=1, size=96, batch_size=2, backend="torch")
    dm = ReplayDataModule(env=cfg, env_device="auto", frames_per_collect=2)
    assert dm.env_device == torch.device("cpu")
    env = dm.make_train_env()
    try:
        td = env.reset()
        assert env.device == torch.device("cpu") and td["observation"].device.type == "cpu"
    finally:
        env.close()
    with pytest.raises(InputError, match="data.env_device"):
        ReplayDataModule(env=cfg, env_device="cuda", frames_per_collect=2)
