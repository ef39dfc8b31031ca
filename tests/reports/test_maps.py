"""The shared map scheme: non-burnable cells drawn apart from burnable cells no fire reached,
planner inputs and treatment units drawn when given, an arrival-time map for one fire."""

from __future__ import annotations

import json

import matplotlib.colors as mcolors
import numpy as np
import pytest
import rasterio

from fuelrl.cli import main
from fuelrl.landscape import generate_landscape, write_landscape
from fuelrl.viz import SCHEME, map_figure


def _texts(fig):
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
    return out


def _pixel(fig, landscape, row, col):
    """RGB (0-1) of the rendered figure at the centre of cell (row, col)."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    ax = fig.axes[0]
    x, y = landscape.rowcol_to_xy(row, col)
    px, py = ax.transData.transform((x, y))
    return rgba[int(round(rgba.shape[0] - py)), int(round(px)), :3] / 255.0


@pytest.fixture(scope="module")
def land():
    ls = generate_landscape(seed=9, shape=(40, 40))
    fuel = np.asarray(ls.fuel_model).copy()
    fuel[5:10, 5:10] = 91  # urban: non-burnable
    ls.fuel_model = fuel
    return ls


def test_nonburnable_is_not_the_unburned_colour_and_inputs_are_drawn(land):
    values = np.zeros(land.shape)
    values[20:24, 20:24] = 100.0
    values[30:, 30:] = 1.0
    untreatable = np.zeros(land.shape, bool)
    untreatable[:, :3] = True
    labels = np.zeros(land.shape, np.int32)
    labels[15, 15:18] = 1
    labels[25, 10] = 2
    fig = map_figure(
        np.zeros(land.shape),  # nothing burned anywhere
        land,
        title="t",
        colorbar_label="c",
        vmin=0,
        vmax=1,
        underlay="none",
        untreatable=untreatable,
        values_at_risk=values,
        units=(labels, {1: 0.5, 2: 0.0}),
    )
    texts = " | ".join(_texts(fig))
    assert "non-burnable" in texts and "untreatable" in texts and "high value" in texts
    assert "#1" in texts and "#2" not in texts  # only units that save something get a rank label
    nb = _pixel(fig, land, 7, 7)
    unburned = _pixel(fig, land, 35, 12)
    assert np.allclose(nb, mcolors.to_rgb(SCHEME["nonburnable"]), atol=0.02)
    assert not np.allclose(nb, unburned, atol=0.1)


def test_one_fire_gets_an_arrival_time_map(tmp_path):
    ls = generate_landscape(seed=3, shape=(30, 30))
    path = tmp_path / "land.tif"
    write_landscape(ls, path)
    x, y = ls.rowcol_to_xy(15, 15)
    out = tmp_path / "one"
    argv = ["simulate", str(path), "--ignition", str(x), str(y), "--duration", "60", "--backend", "numpy"]
    assert main([*argv, "--out", str(out)]) == 0
    assert (out / "arrival_time.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with rasterio.open(out / "arrival_time.tif") as ds:
        assert ds.read(1, masked=True).count() > 1
    assert json.loads((out / "summary.json").read_text())["fires"] == 1
    many = tmp_path / "many"
    assert (
        main(
            [
                "simulate",
                str(path),
                "--fires",
                "2",
                "--duration",
                "60",
                "--backend",
                "numpy",
                "--out",
                str(many),
            ]
        )
        == 0
    )
    assert not (many / "arrival_time.png").exists()
