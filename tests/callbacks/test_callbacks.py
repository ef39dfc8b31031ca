"""Callbacks: memory numbers against the OS, throughput arithmetic, break-map rendering."""

from __future__ import annotations

import resource
import types

import numpy as np
import pytest
import torch

from fuelrl.callbacks import BreakMapImages, ThroughputMonitor, memory_metrics, render_break_maps
from fuelrl.envs import FireEnv


def test_host_rss_tracks_an_allocation():
    before = memory_metrics()["memory/host_rss_mib"]
    block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    after = memory_metrics()["memory/host_rss_mib"]
    assert after - before == pytest.approx(64, abs=16)
    peak = memory_metrics()["memory/host_peak_rss_mib"]
    assert peak >= after - 1 and peak == pytest.approx(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    del block


def test_no_gpu_keys_on_cpu():
    assert not any("gpu" in k for k in memory_metrics(torch.device("cpu")))


class _Stats:
    frames = 0
    fires = 0
    episodes = 0
    collect_seconds = 0.0


def test_throughput_is_frames_over_wall_time(monkeypatch):
    clock = iter([100.0, 104.0])
    monkeypatch.setattr("fuelrl.callbacks.throughput.time.perf_counter", lambda: next(clock))
    stats = _Stats()
    dm = types.SimpleNamespace(stats=stats, replay=[0] * 7, recent_burned_ha=[2.0, 4.0])
    trainer = types.SimpleNamespace(datamodule=dm)
    logged = {}
    module = types.SimpleNamespace(log=lambda k, v, **kw: logged.__setitem__(k, v))
    cb = ThroughputMonitor(every_n_steps=1)
    cb.on_train_start(trainer, module)
    stats.frames, stats.fires, stats.collect_seconds = 200, 800, 2.0
    cb.on_train_batch_end(trainer, module, None, None, 0)
    assert logged["collect/exp_per_s"] == pytest.approx(50.0)  # 200 frames in 4 s
    assert logged["collect/fires_per_s"] == pytest.approx(200.0)
    assert logged["collect/env_exp_per_s"] == pytest.approx(100.0)  # 200 frames in 2 s of collection
    assert logged["collect/buffer_size"] == 7 and logged["collect/episode_burned_ha"] == 3.0


def test_break_maps_render_one_row_per_policy():
    c = len(FireEnv.observation_channels)
    obs = torch.zeros(3, c, 10, 10)
    obs[:, FireEnv.observation_channels.index("burnable")] = 1.0
    obs[:, FireEnv.observation_channels.index("break"), 4, :] = 1.0
    image = render_break_maps(
        {"greedy": obs, "random": obs}, {"greedy": torch.ones(3), "random": torch.ones(3)}, max_tiles=2
    )
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[0] > image.shape[1] * 0.5  # two rows of panels
    # the breaks are drawn in cyan-ish colour (low red, high green and blue)
    cyan = (image[..., 0] < 80) & (image[..., 1] > 150) & (image[..., 2] > 150)
    assert cyan.sum() > 50


def test_break_map_callback_skips_without_episodes():
    cb = BreakMapImages()
    trainer = types.SimpleNamespace(sanity_checking=False, is_global_zero=True, loggers=[])
    cb.on_validation_epoch_end(trainer, types.SimpleNamespace(last_eval_episodes={}))
