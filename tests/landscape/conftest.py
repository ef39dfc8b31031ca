"""Fixtures for landscape tests: small LANDFIRE-style folders made from a generated landscape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from fuelrl.errors import InputError
from fuelrl.landscape import Landscape, generate_landscape, open_landscape

LANDFIRE_NODATA = 32767

#: LANDFIRE file name -> function giving the stored int16 values (LANDFIRE conventions)
LANDFIRE_FILES = {
    "LC20_Elev_220.tif": lambda L: np.rint(L.elevation_m),
    "LC20_SlpP_220.tif": lambda L: np.rint(L.slope_fraction * 100.0),
    "LC20_Asp_220.tif": lambda L: np.where(L.slope_fraction == 0, -1, np.rint(L.aspect_deg) % 360),
    "LC22_F40_230.tif": lambda L: L.fuel_model,
    "LC22_CC_230.tif": lambda L: np.rint(L.canopy_cover_fraction * 100.0),
    "LC22_CH_230.tif": lambda L: np.rint(L.canopy_height_m * 10.0),
    "LC22_CBH_230.tif": lambda L: np.rint(L.canopy_base_height_m * 10.0),
    "LC22_CBD_230.tif": lambda L: np.rint(L.canopy_bulk_density_kg_m3 * 100.0),
}


def write_band(
    path: Path,
    data: np.ndarray,
    *,
    dtype: str,
    crs=None,
    transform=None,
    nodata=None,
    compress: str | None = None,
    units: str | None = None,
) -> Path:
    """Write ``data`` as a one-band GeoTIFF of ``dtype``; ``units`` tags the band (UnitOfMeasure)."""
    kw = {"transform": transform} if transform is not None else {}
    if compress:
        kw["compress"] = compress
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=data.shape[0],
        width=data.shape[1],
        count=1,
        dtype=dtype,
        crs=crs,
        nodata=nodata,
        **kw,
    ) as dst:
        dst.write(data.astype(dtype), 1)
        if units:
            dst.update_tags(1, UnitOfMeasure=units)
    return path


def write_int16(
    path: Path, data: np.ndarray, like: Landscape, *, nodata=LANDFIRE_NODATA, crs=None, transform=None
):
    write_band(
        path,
        data,
        dtype="int16",
        crs=like.crs if crs is None else crs,
        transform=like.transform if transform is None else transform,
        nodata=nodata,
        compress="deflate",
    )


def landscape_error(spec, **kw) -> str:
    """The message of the InputError ``open_landscape(spec, **kw)`` raises; it must be one line."""
    with pytest.raises(InputError) as info:
        open_landscape(spec, **kw)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def write_landfire_folder(
    landscape: Landscape, folder: Path, nodata_cells=(), flat_cells=()
) -> dict[str, np.ndarray]:
    """Write ``landscape`` as LANDFIRE single-layer int16 GeoTIFFs; returns the stored values.

    ``nodata_cells`` get 32767 in every layer; ``flat_cells`` get aspect -1 (LANDFIRE's flat) and
    a small slope of 3 %, as LANDFIRE stores near-flat cells."""
    folder.mkdir(parents=True, exist_ok=True)
    stored = {}
    for name, fn in LANDFIRE_FILES.items():
        data = np.asarray(fn(landscape)).astype(np.int16)
        for r, c in flat_cells:
            if "_Asp_" in name:
                data[r, c] = -1
            if "_SlpP_" in name:
                data[r, c] = 3
        for r, c in nodata_cells:
            data[r, c] = LANDFIRE_NODATA
        write_int16(folder / name, data, landscape)
        stored[name] = data
    return stored


@pytest.fixture
def small_landscape() -> Landscape:
    return generate_landscape(seed=11, shape=(48, 40))


@pytest.fixture
def landfire_folder(tmp_path, small_landscape) -> Path:
    folder = tmp_path / "landfire"
    write_landfire_folder(
        small_landscape, folder, nodata_cells=[(0, 0), (5, 7)], flat_cells=[(10, 10), (20, 3)]
    )
    return folder
