"""Landscapes of several cell sizes: one group of landscapes per cell size, one env worker per group.

A FireEnv holds one batch of tiles of a single cell size (its ``TileBatch`` has one
``cell_size_m``), and a :class:`~fuelrl.landscape.TileDataset` refuses landscapes of different cell
sizes. So when ``EnvConfig.landscapes`` hold several cell sizes, the landscapes are grouped by cell
size (groups ordered by cell size, landscapes in their dataset order) and env worker
``worker_index`` of ``num_workers`` takes group ``worker_index % n_groups``; the workers of a group
shard its tiles among themselves (worker ``worker_index // n_groups`` of the group's workers).
With one cell size there is one group and nothing changes.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace

from fuelrl.envs.config import EnvConfig
from fuelrl.errors import InputError
from fuelrl.landscape import expand_sources, generate_landscape, open_reader
from fuelrl.landscape.readers import is_synthetic_spec, parse_synthetic_spec

#: the EnvConfig lists that hold one entry per landscape (in the dataset's order)
PER_LANDSCAPE_FIELDS = ("values", "treatable", "ignition_density", "wind_grids", "moisture_grids")
_GENERATED = "generated"  # EnvConfig.values: a generated field, not a list of rasters
_SYNTHETIC_CELL_M = float(inspect.signature(generate_landscape).parameters["cell_size_m"].default)


@dataclass(frozen=True)
class CellSizeGroup:
    """The landscapes (expanded specs) of one cell size and their positions among all landscapes."""

    cell_size_m: float | None  # None: a single landscape, not opened (nothing to group)
    specs: tuple[str, ...]
    positions: tuple[int, ...]

    def describe(self) -> str:
        size = "?" if self.cell_size_m is None else f"{self.cell_size_m:g}"
        return f"{size} m: {', '.join(self.specs)}"


@dataclass(frozen=True)
class WorkerGroup:
    """The group an env worker draws from, and its shard of that group's tiles."""

    group: CellSizeGroup
    index: int  # the group's number (0 = smallest cell size)
    n_groups: int
    worker_index: int  # this worker's number among the group's workers
    num_workers: int  # the group's workers


def spec_cell_size_m(spec: str) -> float:
    """A landscape's cell size (m), from its metadata only (a synthetic spec: its ``cell=``)."""
    if is_synthetic_spec(spec) and "#" not in spec:
        return float(parse_synthetic_spec(spec).get("cell_size_m", _SYNTHETIC_CELL_M))
    reader = open_reader(spec)
    try:
        return float(reader.cell_size_m)
    finally:
        reader.close()


def cell_size_groups(landscapes: list[str] | tuple[str, ...]) -> list[CellSizeGroup]:
    """The landscapes grouped by cell size, smallest first (one group when they share it). Each
    landscape's metadata is opened once; a single landscape is not opened at all."""
    specs = expand_sources(list(landscapes))
    if len(specs) == 1:
        return [CellSizeGroup(None, tuple(specs), (0,))]
    by_size: dict[float, list[int]] = {}
    for i, spec in enumerate(specs):
        by_size.setdefault(spec_cell_size_m(spec), []).append(i)
    return [
        CellSizeGroup(size, tuple(specs[i] for i in by_size[size]), tuple(by_size[size]))
        for size in sorted(by_size)
    ]


def worker_group(groups: list[CellSizeGroup], worker_index: int, num_workers: int) -> WorkerGroup:
    """The group of env worker ``worker_index`` of ``num_workers``; a one-line InputError when
    there are fewer workers than cell sizes."""
    n = len(groups)
    if num_workers < n:
        raise InputError(
            f"landscapes of {n} cell sizes ({'; '.join(g.describe() for g in groups)}) but "
            f"{num_workers} env worker(s): each worker holds tiles of one cell size; "
            f"set data.num_workers to a multiple of {n} (one env worker per cell size)"
        )
    g = worker_index % n
    return WorkerGroup(groups[g], g, n, worker_index // n, len(range(g, num_workers, n)))


def group_config(cfg: EnvConfig, groups: list[CellSizeGroup], group: CellSizeGroup) -> EnvConfig:
    """``cfg`` restricted to one group: its landscapes, and its entries of the per-landscape lists
    (:data:`PER_LANDSCAPE_FIELDS`)."""
    n_specs = sum(len(g.specs) for g in groups)
    changes: dict[str, list[str]] = {"landscapes": list(group.specs)}
    for name in PER_LANDSCAPE_FIELDS:
        items = list(getattr(cfg, name) or [])
        if not items or (name == "values" and items == [_GENERATED]):
            continue
        if len(items) != n_specs:
            raise InputError(
                f"EnvConfig.{name} has {len(items)} entries for {n_specs} landscape(s) "
                f"({', '.join(s for g in groups for s in g.specs)}); give one per landscape"
            )
        changes[name] = [items[i] for i in group.positions]
    return replace(cfg, **changes)


def per_landscape_fields_set(cfg: EnvConfig) -> list[str]:
    """The per-landscape lists of ``cfg`` that name files (those a group must take its share of)."""
    return [
        name
        for name in PER_LANDSCAPE_FIELDS
        if list(getattr(cfg, name) or []) and not (name == "values" and list(cfg.values) == [_GENERATED])
    ]
