"""Experience throughput: env transitions and fire simulations per second, logged as ``collect/*``."""

from __future__ import annotations

import time

import lightning.pytorch as pl


class ThroughputMonitor(pl.Callback):
    """Log collection throughput every ``every_n_steps`` training batches.

    Reads the data module's counters (:class:`fuelrl.agents.data.CollectStats`) and logs:

    - ``collect/exp_per_s``: env transitions per wall-clock second since the last log (end to end:
      collection, replay sampling and learning together; shown in the progress bar as well);
    - ``collect/env_exp_per_s``: transitions per second of collector time only (env + acting);
    - ``collect/fires_per_s``: fire simulations per wall-clock second (F fires per simulated step);
    - ``collect/frames``, ``collect/episodes``, ``collect/buffer_size``;
    - ``collect/episode_burned_ha``: mean final expected burned area of the last 100 training episodes.
    """

    def __init__(self, every_n_steps: int = 10):
        super().__init__()
        self.every_n_steps = max(1, int(every_n_steps))
        self._last: tuple[float, int, int, float] | None = None

    def _stats(self, trainer: pl.Trainer):
        dm = trainer.datamodule
        return getattr(dm, "stats", None), dm

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        stats, _ = self._stats(trainer)
        if stats is not None:
            self._last = (time.perf_counter(), stats.frames, stats.fires, stats.collect_seconds)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx % self.every_n_steps:
            return
        stats, dm = self._stats(trainer)
        if stats is None:
            return
        now = time.perf_counter()
        if self._last is None:
            self._last = (now, stats.frames, stats.fires, stats.collect_seconds)
            return
        t0, frames0, fires0, collect0 = self._last
        dt = now - t0
        if dt <= 0 or stats.frames == frames0:
            return
        d_frames = stats.frames - frames0
        metrics = {
            "collect/exp_per_s": d_frames / dt,
            "collect/fires_per_s": (stats.fires - fires0) / dt,
            "collect/frames": float(stats.frames),
            "collect/episodes": float(stats.episodes),
        }
        d_collect = stats.collect_seconds - collect0
        if d_collect > 0:
            metrics["collect/env_exp_per_s"] = d_frames / d_collect
        replay = getattr(dm, "replay", None)
        if replay is not None:
            metrics["collect/buffer_size"] = float(len(replay))
        recent = getattr(dm, "recent_burned_ha", None)
        if recent:
            metrics["collect/episode_burned_ha"] = sum(recent) / len(recent)
        for key, value in metrics.items():
            pl_module.log(key, value, prog_bar=key == "collect/exp_per_s", batch_size=1)
        self._last = (now, stats.frames, stats.fires, stats.collect_seconds)
