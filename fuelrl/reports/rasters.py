"""Named GeoTIFF outputs on the landscape's exact grid (CRS, transform, shape).

A command lists the rasters it writes as :class:`Raster` objects and hands them to
:func:`write_rasters`; adding an output is adding an entry::

    rasters.append(Raster("conditional_flame_length", cfl_m, nodata=-1.0, units="m",
                          description="conditional flame length (m)"))

``outside`` says which cells get ``nodata``: ``"invalid"`` (cells outside the landscape's valid
area), ``"nonburnable"`` (those and the landscape's non-burnable cells: IFTDSS's convention for
burn probability, -1 non-burnable against 0 burnable but never burned), ``"nonfinite"`` (NaN / inf
values, e.g. cells a fire never reached) or ``None`` (as given).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Raster:
    """One GeoTIFF: ``name`` (the file is ``name.tif``), its [H, W] values and metadata."""

    name: str
    values: Any
    nodata: float | int
    description: str
    units: str | None = None
    dtype: Any = np.float32
    outside: str | None = "invalid"
    tags: Mapping[str, Any] = field(default_factory=dict)

    def array(self, landscape: Any) -> np.ndarray:
        """The values to store: ``dtype``, with ``nodata`` where :attr:`outside` says."""
        v = self.values
        if hasattr(v, "detach"):
            v = v.detach().cpu().numpy()
        v = np.asarray(v)
        if self.outside in ("invalid", "nonburnable"):
            keep = np.asarray(landscape.valid, dtype=bool)
            if self.outside == "nonburnable":
                keep = keep & np.asarray(landscape.burnable, dtype=bool)
            v = np.where(keep, v.astype(self.dtype), self.dtype(self.nodata))
        elif self.outside == "nonfinite":
            v = np.where(np.isfinite(v), v, self.nodata)
        elif self.outside is not None:
            raise ValueError(
                f"Raster.outside must be 'invalid', 'nonburnable', 'nonfinite' or None, got {self.outside!r}"
            )
        return v.astype(self.dtype)


def breaks_raster(name: str, breaks: np.ndarray, policy: str, budget: float, cells: int) -> Raster:
    """The break mask of ``policy``'s plan: uint8, 1 = treated, 0 = not, 255 = nodata."""
    return Raster(
        name,
        np.asarray(breaks).astype(np.uint8),
        nodata=255,
        description=f"fuel breaks placed by {policy} (1 = treated)",
        dtype=np.uint8,
        tags={"FUELRL_POLICY": policy, "FUELRL_BUDGET": budget, "FUELRL_BREAKS": cells},
    )


def probability_raster(name: str, prob: np.ndarray, description: str) -> Raster:
    """A burn probability map: float32 fraction; -1 (nodata) outside the landscape and on its
    non-burnable cells, 0 on burnable cells no fire reached (IFTDSS's convention)."""
    return Raster(name, prob, nodata=-1.0, description=description, units="fraction", outside="nonburnable")


def write_raster(folder: str | Path, raster: Raster, landscape: Any) -> Path:
    from fuelrl.landscape import write_geotiff

    return write_geotiff(
        Path(folder) / f"{raster.name}.tif",
        raster.array(landscape),
        landscape,
        nodata=raster.nodata,
        description=raster.description,
        tags=dict(raster.tags) or None,
        units=raster.units,
    )


def write_rasters(folder: str | Path, rasters: Iterable[Raster], landscape: Any) -> list[Path]:
    """Write every raster as ``folder/NAME.tif``; two with one name are an error."""
    rasters = list(rasters)
    names = [r.name for r in rasters]
    if len(set(names)) != len(names):
        raise ValueError(f"two rasters with the same name in {names}")
    return [write_raster(folder, r, landscape) for r in rasters]
