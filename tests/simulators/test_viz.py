"""PNG maps: readable files with the parts a reader needs (colour bar, scale, title, notes)."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest

from fuelrl.landscape import open_landscape
from fuelrl.viz import fuel_groups, map_figure, nice_length, save_map


@pytest.fixture(scope="module")
def land():
    return open_landscape("synthetic:seed=2,size=30x50")


def _texts(fig):
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts] + [ax.get_title(), ax.get_ylabel()]
    return out


def test_map_has_colour_bar_scale_title_and_synthetic_note(land):
    values = np.random.default_rng(0).random(land.shape)
    breaks = np.zeros(land.shape, bool)
    breaks[10, :] = True
    fig = map_figure(
        values,
        land,
        title="Burn probability",
        colorbar_label="fraction of fires",
        vmin=0,
        vmax=1,
        overlays=[(breaks, "#00e5ff", "fuel breaks")],
        points=[(5, 5, "ignition")],
    )
    texts = " | ".join(_texts(fig))
    assert "Burn probability" in texts
    assert "fraction of fires" in texts  # the colour bar's label
    assert "SYNTHETIC landscape" in texts
    assert any(t.endswith(" m") or t.endswith(" km") for t in _texts(fig)), texts  # scale bar
    assert "ignition" in texts and "N" in _texts(fig)
    assert len(fig.axes) == 2  # map + colour bar


def test_save_map_writes_a_png(tmp_path, land):
    path = save_map(
        tmp_path / "m.png", np.ones(land.shape), land, title="t", colorbar_label="c", underlay="fuel"
    )
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[2] in (3, 4) and img.shape[1] >= 800


def test_nice_length_and_fuel_groups():
    assert nice_length(1234.0) == 1000.0
    assert nice_length(480.0) == 200.0
    assert nice_length(5.5) == 5.0
    groups = fuel_groups(np.array([0, 91, 102, 1, 142, 5, 165, 9, 202, 12]))
    assert groups.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_crs_label_is_short_for_custom_wkt():
    from rasterio.crs import CRS

    from fuelrl.viz import _crs_label

    assert _crs_label(CRS.from_epsg(5070)) == "EPSG:5070"
    custom = CRS.from_wkt(
        'PROJCS["My Albers",GEOGCS["NAD83",DATUM["North_American_Datum_1983",'
        'SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],'
        'UNIT["degree",0.0174532925199433]],PROJECTION["Albers_Conic_Equal_Area"],'
        'PARAMETER["latitude_of_center",23],PARAMETER["longitude_of_center",-96],'
        'PARAMETER["standard_parallel_1",29.5],PARAMETER["standard_parallel_2",45.5],'
        'PARAMETER["false_easting",1],PARAMETER["false_northing",0],UNIT["metre",1]]'
    )
    assert _crs_label(custom) == "My Albers"
    assert _crs_label(None) == "map units"
