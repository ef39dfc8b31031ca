"""Values at risk and treatable masks of FireEnv's tiles (``EnvConfig.values``, ``EnvConfig.treatable``).

* ``values``: ``[]`` (every burned cell counts its area), ``["generated"]`` (a fresh value field per
  episode for training: a low background and 1-3 Gaussian hot spots, drawn from the env's
  generator) or one raster per landscape of ``EnvConfig.landscapes`` (after expansion of folders
  and globs, in the dataset's order), read on each tile's grid
  (:func:`fuelrl.landscape.plan_inputs.read_grid`: a window of the raster's own grid, or
  reprojected);
* ``treatable``: ``[]`` (every burnable cell may be treated) or one mask per landscape (a raster's
  non-zero cells or polygons in any OGR format); cells outside it leave the action mask, and the
  budget is a fraction of the tile's treatable burnable cells;
* ``ignition_density``: ``[]`` (fires start uniformly on burnable cells) or one raster per
  landscape of relative ignition probability (the sampler's ``ignition_weight``).

With values the env's reward is the drop in expected value burned divided by the tile's total
value (an episode's rewards sum to the share of the value saved), and the observation gains a last
channel ``value/max`` (the values divided by their tile maximum). See docs/env.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from fuelrl.errors import InputError

GENERATED = "generated"
#: the observation channel of the values (last, after dpv/max)
VALUE_CHANNEL = "value/max"


def check_config(values: list[str], treatable: list[str], ignition_density: list[str] = ()) -> None:
    """InputError for a bad ``values`` / ``treatable`` / ``ignition_density`` entry (before the
    dataset is opened)."""
    for name, items in (("values", values), ("treatable", treatable), ("ignition_density", ignition_density)):
        if not isinstance(items, list | tuple):
            raise InputError(f"EnvConfig.{name} must be a list of paths; got {items!r}")
        for item in items:
            if name == "values" and item == GENERATED:
                if len(items) != 1:
                    raise InputError("EnvConfig.values: 'generated' must be the only entry")
                continue
            if not Path(item).exists():
                raise InputError(f"EnvConfig.{name}: {item}: file not found")


class TileInputs:
    """Reads (or generates) the values and treatable masks of drawn tiles."""

    def __init__(
        self, values: list[str], treatable: list[str], ignition_density: list[str], specs: list[str]
    ):
        check_config(values, treatable, ignition_density)
        for name, items in (
            ("values", values),
            ("treatable", treatable),
            ("ignition_density", ignition_density),
        ):
            if items and items != [GENERATED] and len(items) != len(specs):
                raise InputError(
                    f"EnvConfig.{name} has {len(items)} file(s) for {len(specs)} landscape(s) "
                    f"({', '.join(specs)}); give one per landscape"
                )
        self.values = list(values)
        self.treatable = list(treatable)
        self.ignition_density = list(ignition_density)

    @property
    def has_values(self) -> bool:
        return bool(self.values)

    def draw(
        self, tiles: list[Any], sources: list[int], generator: torch.Generator
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, np.ndarray | None]:
        """(values float32 [n, H, W] or None, treatable bool [n, H, W] or None, ignition weight
        float64 [n, H, W] or None) of ``tiles`` (from the landscapes ``sources``: indices into the
        dataset's specs)."""
        from fuelrl.landscape.plan_inputs import read_grid, read_mask

        values = treatable = None
        if self.values == [GENERATED]:
            values = torch.stack([generated_values(t.shape, generator) for t in tiles])
        elif self.values:
            out = []
            for t, s in zip(tiles, sources, strict=True):
                v = read_grid(self.values[s], t, "EnvConfig.values")
                v = np.where(np.asarray(t.valid) & np.isfinite(v), v, 0.0)
                if (v < 0).any():
                    raise InputError(f"EnvConfig.values {self.values[s]}: values must be >= 0")
                out.append(torch.from_numpy(v.astype(np.float32)))
            values = torch.stack(out)
        if values is not None:
            valid = torch.stack([torch.from_numpy(np.asarray(t.valid, dtype=bool)) for t in tiles])
            values = torch.where(valid, values, 0.0)
        if self.treatable:
            masks = [
                read_mask(self.treatable[s], t, "EnvConfig.treatable", require_overlap=False)
                for t, s in zip(tiles, sources, strict=True)
            ]
            treatable = torch.from_numpy(np.stack(masks))
        weight = None
        if self.ignition_density:
            out = []
            for t, s in zip(tiles, sources, strict=True):
                d = read_grid(self.ignition_density[s], t, "EnvConfig.ignition_density")
                ok = np.asarray(t.burnable) & np.isfinite(d)
                if (d[ok] < 0).any():
                    raise InputError(f"EnvConfig.ignition_density {self.ignition_density[s]}: must be >= 0")
                d = np.where(ok, d, 0.0)
                if not (d > 0).any():  # no density on this tile: uniform on its burnable cells
                    d = np.asarray(t.burnable, dtype=np.float64)
                out.append(d)
            weight = np.stack(out)
        return values, treatable, weight


def generated_values(shape: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
    """float32 [H, W]: a training value field, 0.05 everywhere plus 1-3 Gaussian hot spots of
    height 0.5-1 and width H/10-H/4 at random centres (drawn from ``generator``)."""
    h, w = shape
    rows = torch.arange(h, dtype=torch.float32)[:, None]
    cols = torch.arange(w, dtype=torch.float32)[None, :]
    field = torch.full((h, w), 0.05)
    spots = int(torch.randint(1, 4, (1,), generator=generator))
    u = torch.rand(spots, 4, generator=generator)
    for r, c, sig, amp in u.tolist():
        sigma = max(1.0, (0.1 + 0.15 * sig) * h)
        d2 = (rows - r * (h - 1)) ** 2 + (cols - c * (w - 1)) ** 2
        field = field + (0.5 + 0.5 * amp) * torch.exp(-d2 / (2.0 * sigma**2))
    return field
