"""Memory monitor: host resident set size and, on CUDA, GPU memory allocated / reserved / peak."""

from __future__ import annotations

import os
import resource
import sys

import lightning.pytorch as pl
import torch

_MIB = 1024.0 * 1024.0


def host_rss_mib() -> float:
    """Current resident set size of this process, MiB (``/proc/self/statm``; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / _MIB
    except (OSError, ValueError, IndexError):
        return host_peak_rss_mib()


def host_peak_rss_mib() -> float:
    """Peak resident set size of this process, MiB (``getrusage``: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / _MIB if sys.platform == "darwin" else peak / 1024.0


def memory_metrics(device: torch.device | None = None) -> dict[str, float]:
    """``memory/*`` metrics in MiB: host RSS and peak, and GPU allocated/reserved/peak on CUDA."""
    out = {"memory/host_rss_mib": host_rss_mib(), "memory/host_peak_rss_mib": host_peak_rss_mib()}
    if device is not None and device.type == "cuda" and torch.cuda.is_available():
        out["memory/gpu_allocated_mib"] = torch.cuda.memory_allocated(device) / _MIB
        out["memory/gpu_reserved_mib"] = torch.cuda.memory_reserved(device) / _MIB
        out["memory/gpu_peak_allocated_mib"] = torch.cuda.max_memory_allocated(device) / _MIB
        out["memory/gpu_peak_reserved_mib"] = torch.cuda.max_memory_reserved(device) / _MIB
    return out


class MemoryMonitor(pl.Callback):
    """Log :func:`memory_metrics` every ``every_n_steps`` training batches and after each validation."""

    def __init__(self, every_n_steps: int = 50):
        super().__init__()
        self.every_n_steps = max(1, int(every_n_steps))

    def _log(self, pl_module: pl.LightningModule) -> None:
        for key, value in memory_metrics(pl_module.device).items():
            pl_module.log(key, value, batch_size=1)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx % self.every_n_steps == 0:
            self._log(pl_module)

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self._log(pl_module)
