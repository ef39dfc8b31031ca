"""Writing GeoTIFFs that GDAL and QGIS open: the landscape's exact grid, deflate, nodata, names.

:func:`write_geotiff` writes any [H, W] or [bands, H, W] array on a landscape's grid (used by
simulate, plan and evaluate); :func:`write_landscape` writes the eight layers as one 8-band GeoTIFF
in SI units that :func:`~fuelrl.landscape.open_landscape` reads back identically.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio

from fuelrl import __version__
from fuelrl.errors import InputError
from fuelrl.landscape.core import LAYERS, Landscape

#: nodata written by write_landscape in every band (outside the valid mask)
LANDSCAPE_NODATA = -9999.0


def _storable(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.bool_:
        return array.astype(np.uint8)
    if array.dtype in (np.int64, np.uint64):
        info = np.iinfo(np.int32 if array.dtype == np.int64 else np.uint32)
        if array.size == 0 or (array.min() >= info.min and array.max() <= info.max):
            return array.astype(np.int32 if array.dtype == np.int64 else np.uint32)
        return array.astype(np.float64)
    if array.dtype == np.float16:
        return array.astype(np.float32)
    return array


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_geotiff(
    path: str | Path,
    array: Any,
    like: Landscape,
    *,
    nodata: float | None = None,
    description: str | Sequence[str] | None = None,
    tags: Mapping[str, Any] | None = None,
    units: str | Sequence[str] | None = None,
) -> Path:
    """Write ``array`` ([H, W] or [bands, H, W]; numpy or torch) on the grid of ``like``.

    The file has ``like``'s CRS, transform and shape, deflate compression (with a predictor), the
    given ``nodata``, band ``description`` (one string per band) and ``units``, and dataset ``tags``;
    ``FUELRL_SYNTHETIC=yes`` is added when ``like`` is a generated landscape, and
    ``FUELRL_SOURCE`` names the landscape. The file appears atomically (written beside, then renamed).
    """
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    data = _storable(np.asarray(array))
    if data.ndim == 2:
        data = data[None]
    path = Path(path)
    if data.ndim != 3 or tuple(data.shape[1:]) != like.shape:
        raise InputError(
            f"{path.name}: array of shape {tuple(np.shape(array))} does not fit the landscape grid "
            f"{like.shape} "
            "(expected [H, W] or [bands, H, W])"
        )
    count, h, w = data.shape
    descriptions = [description] if isinstance(description, str) else list(description or [])
    if descriptions and len(descriptions) != count:
        raise InputError(f"{path.name}: {len(descriptions)} band descriptions for {count} bands")
    unit_list = [units] if isinstance(units, str) else list(units or [])
    if unit_list and len(unit_list) != count:
        raise InputError(f"{path.name}: {len(unit_list)} band units for {count} bands")
    all_tags = {"FUELRL_VERSION": __version__, "FUELRL_SOURCE": like.source}
    if like.synthetic:
        all_tags["FUELRL_SYNTHETIC"] = "yes"
    all_tags.update({str(k): str(v) for k, v in (tags or {}).items()})
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "height": h,
        "width": w,
        "count": count,
        "dtype": data.dtype.name,
        "crs": like.crs,
        "transform": like.transform,
        "nodata": nodata,
        "compress": "deflate",
        "predictor": 3 if np.issubdtype(data.dtype, np.floating) else 2,
        "BIGTIFF": "IF_SAFER",
    }
    if h >= 256 and w >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.tif", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data)
            for b, desc in enumerate(descriptions, start=1):
                dst.set_band_description(b, str(desc))
            if unit_list:
                dst.units = tuple(str(u) for u in unit_list)
            dst.update_tags(**all_tags)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp made it 0600
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_landscape(landscape: Landscape, path: str | Path) -> Path:
    """Write the eight layers as an 8-band float32 GeoTIFF in SI units.

    Bands in the order of :data:`~fuelrl.landscape.core.LAYERS`, described by the Landscape attribute
    names (``elevation_m``, ``slope_fraction``, ...) with their units; cells outside ``valid`` hold
    -9999 (nodata) in every band. :func:`~fuelrl.landscape.open_landscape` reads it back identically.
    """
    names = [attr for attr, _, _ in LAYERS.values()]
    units = [unit for _, unit, _ in LAYERS.values()]
    stack = np.stack([np.asarray(getattr(landscape, a), dtype=np.float32) for a in names])
    stack[:, ~np.asarray(landscape.valid, dtype=bool)] = LANDSCAPE_NODATA
    return write_geotiff(
        path,
        stack,
        landscape,
        nodata=LANDSCAPE_NODATA,
        description=names,
        units=units,
        tags={"FUELRL_LAYOUT": "landscape-8band-si"},
    )
