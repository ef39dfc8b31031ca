"""Treatment units a GIS can use: ``treatments.gpkg`` (polygons) and ``treatments.csv`` (the same
rows, no geometry), ForSys / Planscape style.

A **unit** is a 4-connected patch of treated cells (cells that share an edge; two cells touching at
a corner are two units, so every unit is one valid polygon, possibly with holes). Columns:

- ``rank``: order of placement, 1 = the unit whose first cell the planner placed first
  (:attr:`fuelrl.baselines.base.Plan.order`);
- ``cells``, ``area_ha``, ``area_acres``;
- ``cost``: the sum of the cost raster over the unit's cells (1 per cell without ``--cost``);
- ``burned_ha_saved``: the marginal reduction in expected burned area (ha per held-out fire) the
  unit brings, **leave one out**: mean over the held-out fires of (burned with every unit but this
  one) - (burned with every unit). Units interact (two units can block the same fire path), so
  these do not add up to the plan's total reduction; a unit whose removal no fire would notice
  scores 0;
- ``value_saved``: the same for the value burned (the ``--values`` raster's units); without
  values every cell is valued at its area in ha, so it equals ``burned_ha_saved``.

Only the fires that can notice a unit are grown again, fire by fire with the fire's spread fields
prepared once (:meth:`SimulatorBackend.prepare`): a unit no held-out fire burns within
:data:`REACH_CELLS` cells of (with every unit in place) cannot change any fire, since a fire can
only cross a cell it reaches (a fire lit on a unit counts as reaching it). Polygons come from
:func:`rasterio.features.shapes` in the landscape's CRS; the GeoPackage is written by OGR through
pyogrio.
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

#: a unit is scored against the fires that burned within this many cells of it (the 16-neighbour
#: stencil spans 2 cells; 2 more for the corner-node arrival times)
REACH_CELLS = 4
#: fires grown at once while scoring units
FIRES_PER_CALL = 64
COLUMNS = ("rank", "cells", "area_ha", "area_acres", "cost", "burned_ha_saved", "value_saved")


@dataclass
class TreatmentUnits:
    """The units of one plan: ``labels`` int32 [H, W] (0 = untreated, k = unit of rank k), the
    table (one array per column of :data:`COLUMNS`, rows in rank order) and the polygons."""

    labels: np.ndarray
    table: dict[str, np.ndarray]
    geometries: list[Any]

    def __len__(self) -> int:
        return len(self.geometries)


def label_units(breaks: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """int32 [H, W]: 0 off the breaks, else the unit's rank (1 = placed first; without ``order``,
    the raster order of each unit's first cell)."""
    from scipy import ndimage

    breaks = np.asarray(breaks, dtype=bool)
    raw, n = ndimage.label(breaks, structure=[[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    if n == 0:
        return raw.astype(np.int32)
    flat = raw.reshape(-1)
    seq = np.asarray(order if order is not None else np.flatnonzero(flat), dtype=np.int64).reshape(-1)
    first = np.full(n + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, flat[seq], np.arange(seq.size, dtype=np.int64))
    first[0] = -1  # untreated
    rank_of = np.empty(n + 1, dtype=np.int32)
    rank_of[np.argsort(first, kind="stable")] = np.arange(n + 1, dtype=np.int32)
    return rank_of[raw].astype(np.int32)


def unit_polygons(labels: np.ndarray, transform: Any) -> list[Any]:
    """Shapely polygons of units 1..N (index k-1 = rank k), in the transform's coordinates."""
    from rasterio import features
    from shapely.geometry import shape

    n = int(labels.max()) if labels.size else 0
    polys: list[Any] = [None] * n
    for geom, value in features.shapes(labels, mask=labels > 0, connectivity=4, transform=transform):
        polys[int(value) - 1] = shape(geom)
    return polys


def _fires(scenarios: Any, idx: np.ndarray) -> Any:
    """The fires ``idx`` of a [1, F] scenario set."""
    t = torch.as_tensor(idx, dtype=torch.long, device=scenarios.ignition_cell.device)
    return replace(scenarios, **{f.name: getattr(scenarios, f.name)[:, t] for f in fields(scenarios)})


def _grow(backend: Any, tiles: Any, breaks: np.ndarray, scenarios: Any, values: np.ndarray, cell_ha: float):
    """(burned ha [f], value burned [f], burned bool [f, H, W]) of the fires with ``breaks``
    (areas from the burned cells in float64, so equal burns give exactly equal areas)."""
    b = torch.as_tensor(np.asarray(breaks, dtype=bool)[None], device=backend.device)
    result = backend.simulate(tiles, b, scenarios)
    burned = result.burned[0]
    v = torch.as_tensor(values, dtype=torch.float64, device=burned.device)
    value = (burned.to(torch.float64) * v).sum(dim=(-2, -1)).cpu().numpy()
    cells = burned.sum(dim=(-2, -1), dtype=torch.int64).cpu().numpy()
    return cells * float(cell_ha), value, burned.cpu().numpy()


def _grow_prepared(backend: Any, prepared: Any, breaks: np.ndarray, values: np.ndarray, cell_ha: float):
    """:func:`_grow` of fires the backend prepared once (their spread fields reused)."""
    b = torch.as_tensor(np.asarray(breaks, dtype=bool)[None], device=backend.device)
    burned = backend.simulate_prepared(prepared, b).burned[0]
    v = torch.as_tensor(values, dtype=torch.float64, device=burned.device)
    value = (burned.to(torch.float64) * v).sum(dim=(-2, -1)).cpu().numpy()
    cells = burned.sum(dim=(-2, -1), dtype=torch.int64).cpu().numpy()
    return cells * float(cell_ha), value


def marginal_savings(
    backend: Any,
    tiles: Any,
    labels: np.ndarray,
    scenarios: Any,
    values: np.ndarray,
    cell_ha: float,
    *,
    desc: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(burned ha saved, value saved) per unit (index k-1 = rank k), leave one out, each the mean
    over the F held-out fires of ``scenarios`` [1, F]; see the module docstring. Fire by fire,
    the backend prepares the fire once (:meth:`SimulatorBackend.prepare`) and grows it again
    without each unit it reaches; ``desc`` labels a progress bar (on a terminal)."""
    from scipy import ndimage

    from fuelrl.progress import Progress

    n_units = int(labels.max()) if labels.size else 0
    n_fires = int(scenarios.shape[1])
    breaks = labels > 0
    near_units: list[np.ndarray] = []  # units near each fire
    reach = ndimage.generate_binary_structure(2, 2)
    ignitions = scenarios.ignition_cell[0].detach().cpu().numpy()
    for start in range(0, n_fires, FIRES_PER_CALL):
        idx = np.arange(start, min(n_fires, start + FIRES_PER_CALL))
        _, _, burned = _grow(backend, tiles, breaks, _fires(scenarios, idx), values, cell_ha)
        for j, mask in zip(idx, burned, strict=True):
            mask.reshape(-1)[ignitions[j]] = True  # a fire lit on a unit burns nothing with it
            near = ndimage.binary_dilation(mask, structure=reach, iterations=REACH_CELLS)
            near_units.append(np.unique(labels[near & breaks]).astype(np.int64))
    saved_ha = np.zeros(n_units + 1)
    saved_value = np.zeros(n_units + 1)
    pairs = int(sum(u.size for u in near_units))
    with Progress(pairs, desc or "units", "run", enabled=None if desc else False, leave=False) as bar:
        for j, units in enumerate(near_units):
            if units.size == 0:
                continue
            fire = _fires(scenarios, np.array([j]))
            prepared = backend.prepare(tiles, fire) if hasattr(backend, "prepare") else None

            def grow(b: np.ndarray, fire=fire, prepared=prepared):
                if prepared is None:
                    return _grow(backend, tiles, b, fire, values, cell_ha)[:2]
                return _grow_prepared(backend, prepared, b, values, cell_ha)

            # the fire alone with every unit, by the same path: an unchanged burn saves exactly 0
            ha0, value0 = grow(breaks)
            for u in units.tolist():
                ha, value = grow(breaks & (labels != u))
                saved_ha[u] += float(ha[0] - ha0[0])
                saved_value[u] += float(value[0] - value0[0])
                bar.update(1)
            del prepared
    return saved_ha[1:] / max(n_fires, 1), saved_value[1:] / max(n_fires, 1)


def treatment_units(
    plan: Any,
    landscape: Any,
    backend: Any,
    tiles: Any,
    scenarios: Any,
    *,
    values: np.ndarray | None = None,
    cost: np.ndarray | None = None,
    desc: str = "treatment units",
    score: bool = True,
) -> TreatmentUnits:
    """The units of ``plan`` (a :class:`fuelrl.baselines.base.Plan`) with their table and polygons,
    scored on the held-out ``scenarios`` [1, F] grown by ``backend`` on ``tiles`` (``score=False``:
    the savings are NaN, written as empty / null)."""
    labels = label_units(plan.breaks, plan.order)
    n = int(labels.max()) if labels.size else 0
    idx = np.arange(1, n + 1)
    cells = np.bincount(labels.reshape(-1), minlength=n + 1)[1:].astype(np.int64)
    per_cell_cost = np.ones(labels.shape) if cost is None else np.asarray(cost, dtype=np.float64)
    unit_cost = np.bincount(labels.reshape(-1), weights=per_cell_cost.reshape(-1), minlength=n + 1)[1:]
    cell_values = (
        np.full(labels.shape, float(landscape.cell_area_ha))
        if values is None
        else np.nan_to_num(np.asarray(values, dtype=np.float64))
    )
    if not score:
        saved_ha = saved_value = np.full(n, np.nan)
    else:
        saved_ha, saved_value = marginal_savings(
            backend, tiles, labels, scenarios, cell_values, float(landscape.cell_area_ha), desc=desc
        )
    table = {
        "rank": idx.astype(np.int64),
        "cells": cells,
        "area_ha": cells * float(landscape.cell_area_ha),
        "area_acres": cells * float(landscape.cell_area_acres),
        "cost": unit_cost.astype(np.float64),
        "burned_ha_saved": saved_ha,
        "value_saved": saved_value,
    }
    return TreatmentUnits(labels, table, unit_polygons(labels, landscape.transform))


def write_treatments(folder: str | Path, stem: str, units: TreatmentUnits, crs: Any) -> tuple[Path, Path]:
    """``folder/STEM.gpkg`` (layer ``treatments``, polygons in ``crs``) and ``folder/STEM.csv``."""
    import pyogrio.raw
    import shapely

    folder = Path(folder)
    gpkg, table_csv = folder / f"{stem}.gpkg", folder / f"{stem}.csv"
    geometry = np.array([shapely.to_wkb(g) for g in units.geometries], dtype=object)
    with warnings.catch_warnings():
        # a landscape without a CRS (e.g. an .lcp with no .prj) gives units without one, as its rasters
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        pyogrio.raw.write(
            gpkg,
            geometry,
            [np.asarray(units.table[c]) for c in COLUMNS],
            list(COLUMNS),
            layer="treatments",
            driver="GPKG",
            geometry_type="Polygon",
            crs=crs.to_wkt() if crs is not None else None,
        )
    with open(table_csv, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for i in range(len(units)):
            writer.writerow([_cell(units.table[c][i]) for c in COLUMNS])
    return gpkg, table_csv


def _cell(x: Any) -> Any:
    """A CSV cell: ints as ints, floats in full precision (``repr``), so the CSV reads back equal."""
    if isinstance(x, np.integer):
        return int(x)
    x = float(x)
    return repr(x) if np.isfinite(x) else ""  # not scored: empty, as the GeoPackage's null


def score_plan_units(
    run: Any, name: str, backend: Any, desc: str | None = None, *, score: bool = True
) -> TreatmentUnits:
    """:func:`treatment_units` of policy ``name``'s plan in ``run`` (a
    :class:`fuelrl.baselines.evaluation.LandscapeRun`), on its held-out fires, with the run's
    values and cost rasters when it has them."""
    from fuelrl.simulators.base import TileBatch

    tiles = getattr(run, "tiles", None)  # the tiles the held-out fires grew on
    if tiles is None:
        grids = getattr(run, "weather_grids", None)  # the gridded weather the fires grew under
        tiles = TileBatch.stack([run.landscape], device=backend.device, weather=[grids])
    inputs = getattr(run, "inputs", None)
    return treatment_units(
        run.plans[name],
        run.landscape,
        backend,
        tiles,
        run.scoring,
        values=getattr(inputs, "values", None),
        cost=getattr(inputs, "cost", None),
        desc=desc or f"{name} units",
        score=score,
    )


def units_summary(units: TreatmentUnits, files: dict[str, str]) -> dict[str, Any]:
    """What a summary records about the treatment units."""
    t = units.table
    return {
        "units": len(units),
        "single_cell_units": int((t["cells"] == 1).sum()),
        "largest_unit_ha": float(t["area_ha"].max()) if len(units) else 0.0,
        "marginal": "leave one out on the held-out fires (ha and value saved per fire)"
        if bool(np.isfinite(t["burned_ha_saved"]).all())
        else "not scored (--no-unit-scores)",
        **files,
    }
