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
