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
    """The values, treatable masks and ignition densities of a tile dataset's landscapes, read once
    per landscape on its whole grid (reprojected there if need be, with one notice) and cut per
    tile by its footprint; or generated values per tile."""

    def __init__(self, values: list[str], treatable: list[str], ignition_density: list[str], dataset: Any):
        check_config(values, treatable, ignition_density)
        specs = list(dataset.specs)
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
        self.dataset = dataset
        self.values = list(values)
        self.treatable = list(treatable)
        self.ignition_density = list(ignition_density)
        self._grids: dict[tuple[str, int], np.ndarray] = {}

    @property
    def has_values(self) -> bool:
        return bool(self.values)

    def _grid(self, name: str, source: int) -> np.ndarray:
        """The whole landscape ``source``'s layer ``name`` (float64 values / densities, bool mask)."""
        from types import SimpleNamespace

        from fuelrl.landscape.plan_inputs import read_grid, read_mask

        key = (name, source)
        if key not in self._grids:
            r = self.dataset.sources[source]
            grid = SimpleNamespace(shape=r.shape, crs=r.crs, transform=r.transform, bounds=None)
            path = getattr(self, name)[source]
            what = f"EnvConfig.{name}"
            if name == "treatable":
                self._grids[key] = read_mask(path, grid, what, require_overlap=False)
            else:
                arr = read_grid(path, grid, what)
                if (arr[np.isfinite(arr)] < 0).any():
                    raise InputError(f"{what} {path}: must be >= 0")
                self._grids[key] = np.where(np.isfinite(arr), arr, 0.0)
        return self._grids[key]

    def _cut(self, name: str, tile_id: int) -> np.ndarray:
        ref = self.dataset.tiles[tile_id]
        t = self.dataset.tile_size
        return self._grid(name, ref.source)[ref.row : ref.row + t, ref.col : ref.col + t]

    def usable(self, indices: list[int]) -> list[int]:
        """The dataset tiles of ``indices`` with at least one treatable cell (all without a mask)."""
        if not self.treatable:
            return list(indices)
        return [i for i in indices if self._cut("treatable", i).any()]

    def draw(
        self, tiles: list[Any], ids: list[int], generator: torch.Generator
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, np.ndarray | None]:
        """(values float32 [n, H, W] or None, treatable bool [n, H, W] or None, ignition weight
        float64 [n, H, W] or None) of ``tiles`` (the dataset tiles ``ids``)."""
        values = treatable = weight = None
        if self.values == [GENERATED]:
            values = torch.stack([generated_values(t.shape, generator) for t in tiles])
        elif self.values:
            values = torch.stack([torch.from_numpy(self._cut("values", i).astype(np.float32)) for i in ids])
        if values is not None:
            valid = torch.stack([torch.from_numpy(np.asarray(t.valid, dtype=bool)) for t in tiles])
            values = torch.where(valid, values, 0.0)
        if self.treatable:
            treatable = torch.from_numpy(np.stack([self._cut("treatable", i) for i in ids]))
        if self.ignition_density:
            out = []
            for t, i in zip(tiles, ids, strict=True):
                burnable = np.asarray(t.burnable, dtype=bool)
                d = np.where(burnable, self._cut("ignition_density", i), 0.0)
                out.append(d if (d > 0).any() else burnable.astype(np.float64))  # none here: uniform
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
