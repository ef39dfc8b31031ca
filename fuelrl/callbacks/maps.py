"""Images of the break maps the greedy agent and random placement make on the evaluation tiles."""

from __future__ import annotations

import io

import lightning.pytorch as pl
import numpy as np
import torch

from fuelrl.envs import FireEnv


def _channel(name: str) -> int:
    return FireEnv.observation_channels.index(name)


def render_break_maps(
    observations: dict[str, torch.Tensor],
    burned_ha: dict[str, torch.Tensor],
    *,
    max_tiles: int = 4,
    dpi: int = 80,
) -> np.ndarray:
    """An RGB image (uint8 [H, W, 3]): one row per policy, one column per tile.

    Each panel shows the landscape (relative elevation, grey; non-burnable cells white), the final
    burn probability of the episode's fires (transparent to dark red) and the breaks (cyan), titled
    with the tile's expected burned area in ha.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    cyan = matplotlib.colors.ListedColormap(["#00e5ff"])
    names = list(observations)
    n_tiles = min(max_tiles, min(int(o.shape[0]) for o in observations.values()))
    fig, axes = plt.subplots(
        len(names), n_tiles, figsize=(2.4 * n_tiles, 2.6 * len(names)), squeeze=False, dpi=dpi
    )
    i_elev, i_burn = _channel("elevation_m_rel/100"), _channel("burnable")
    i_break, i_bp = _channel("break"), _channel("burn_probability")
    for r, name in enumerate(names):
        obs = observations[name].float().cpu().numpy()
        for c in range(n_tiles):
            ax = axes[r][c]
            elev = obs[c, i_elev]
            burnable = obs[c, i_burn] > 0.5
            shade = np.where(burnable, elev, np.nan)
            ax.imshow(shade, cmap="Greys_r", interpolation="nearest")
            bp = np.ma.masked_less_equal(obs[c, i_bp], 0.0)
            ax.imshow(bp, cmap="Reds", vmin=0.0, vmax=1.0, alpha=0.7, interpolation="nearest")
            breaks = np.ma.masked_less(obs[c, i_break], 0.5)
            ax.imshow(breaks, cmap=cyan, vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{name} tile {c}: {float(burned_ha[name][c]):.1f} ha", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    buf.seek(0)
    image = matplotlib.image.imread(buf, format="png")
    return (image[..., :3] * 255).astype(np.uint8)


class BreakMapImages(pl.Callback):
    """After each validation, log ``eval/break_maps`` to TensorBoard (greedy and random rows)."""

    def __init__(self, max_tiles: int = 4):
        super().__init__()
        self.max_tiles = max_tiles

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        episodes = getattr(pl_module, "last_eval_episodes", None)
        if trainer.sanity_checking or not episodes or not trainer.is_global_zero:
            return
        image = render_break_maps(
            {k: e.final_observation for k, e in episodes.items()},
            {k: e.burned_ha for k, e in episodes.items()},
            max_tiles=self.max_tiles,
        )
        for logger in trainer.loggers:
            experiment = getattr(logger, "experiment", None)
            if hasattr(experiment, "add_image"):
                experiment.add_image("eval/break_maps", image, trainer.global_step, dataformats="HWC")
