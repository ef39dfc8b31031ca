"""`fuelrl behave LANDSCAPE --out DIR`: the FlamMap-style basic run.

Checked against independent things: GDAL (rasterio) reading the rasters back on the input's grid,
the batch calculator (point mode) on sampled cells, FlamMap 6's own per-cell outputs on TestMTT,
and properties of the physics (a uniform weather grid is the scalar weather; a mirrored landscape
under a mirrored wind gives the mirrored maps).
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
import rasterio

from fuelrl.cli import main
from fuelrl.commands.behave_map import NODATA, RASTERS, MapWeather, compute_maps
from fuelrl.landscape import open_landscape
from fuelrl.physics.validate import read_ascii_grid

SPEC = "synthetic:seed=5,size=40"
MOISTURE = "4,6,13,30,60"


@pytest.fixture(scope="module")
def synthetic():
    return open_landscape(SPEC)


def _weather(speed=20.0, wind_from=240.0, moisture=(4.0, 6.0, 13.0, 30.0, 60.0), foliar=100.0):
    return MapWeather(speed, wind_from, np.asarray(moisture), foliar, {})


def test_six_rasters_on_the_input_grid(tmp_path, synthetic, capsys):
    out = tmp_path / "maps"
    argv = ["behave", SPEC, "--wind-speed", "20", "--wind-from", "240", "--moisture", MOISTURE]
    assert main([*argv, "--out", str(out)]) == 0
    assert "fire behaviour of 40x40 cells" in capsys.readouterr().out
    names = sorted(p.name for p in out.iterdir())
    assert set(RASTERS) <= set(names)
    assert {"spread_rate.png", "crown_state.png", "summary.json"} <= set(names)
    maps = compute_maps(synthetic, _weather())
    for name, (description, unit) in RASTERS.items():
        with rasterio.open(out / name) as ds:
            assert ds.driver == "GTiff"
            assert (ds.height, ds.width) == synthetic.shape
            assert ds.transform == synthetic.transform
            assert ds.crs == synthetic.crs
            assert ds.nodata == NODATA
            assert ds.descriptions == (description,) and ds.units == (unit,)
            data = ds.read(1)
        np.testing.assert_array_equal(data, maps[name])
        assert (data[~synthetic.valid] == NODATA).all()
    # reused folder: --overwrite needed
    assert main([*argv, "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main([*argv, "--out", str(out), "--overwrite"]) == 0


def test_crown_codes(synthetic):
    maps = compute_maps(synthetic, _weather(speed=30.0))
    state = maps["crown_state.tif"]
    valid = synthetic.valid
    assert set(np.unique(state[valid]).tolist()) <= {0, 1, 2, 3}
    assert (state[valid & ~synthetic.burnable] == 0).all()
    ros = maps["spread_rate.tif"]
    assert ((state[valid] == 0) == (ros[valid] == 0)).all()  # 0: no fire spreads
    no_canopy = valid & (synthetic.canopy_cover_fraction == 0)
    assert (state[no_canopy] <= 1).all()  # no canopy, no crown fire
    crowning = valid & (state >= 2)
    assert crowning.any() and (state == 1).any()
    direction = maps["max_spread_dir.tif"]
    assert (direction[valid & (state == 0)] == NODATA).all()
    assert ((direction[ros > 0] >= 0) & (direction[ros > 0] < 360)).all()
    surface_only = compute_maps(synthetic, _weather(speed=30.0), crown_fire=False)["crown_state.tif"]
    assert set(np.unique(surface_only[valid]).tolist()) <= {0, 1}


def test_uniform_grid_is_the_scalar_weather_exactly(synthetic):
    h, w = synthetic.shape
    moisture = np.array([4.0, 6.0, 13.0, 30.0, 60.0])
    scalar = compute_maps(synthetic, _weather(20.0, 240.0, moisture))
    grid = MapWeather(
        np.full((h, w), 20.0),
        np.full((h, w), 240.0),
        np.broadcast_to(moisture, (h, w, 5)).copy(),
        np.full((h, w), 100.0),
        {},
    )
    gridded = compute_maps(synthetic, grid)
    for name in RASTERS:
        np.testing.assert_array_equal(gridded[name], scalar[name], err_msg=name)


def test_per_cell_weather_is_each_cells_own_scalar_run(synthetic):
    """A varying grid: every cell has what a uniform run at that cell's weather gives it."""
    h, w = synthetic.shape
    rng = np.random.default_rng(0)
    speed = rng.uniform(0.0, 40.0, (h, w))
    wind_from = rng.uniform(0.0, 360.0, (h, w))
    moist = np.stack(
        [
            rng.uniform(3, 12, (h, w)),
            rng.uniform(4, 14, (h, w)),
            rng.uniform(6, 20, (h, w)),
            np.full((h, w), 30.0),
            np.full((h, w), 60.0),
        ],
        -1,
    )
    gridded = compute_maps(synthetic, MapWeather(speed, wind_from, moist, 100.0, {}))
    for r, c in rng.integers(0, [h, w], size=(12, 2)):
        one = compute_maps(synthetic, _weather(speed[r, c], wind_from[r, c], moist[r, c]))
        for name in RASTERS:
            assert gridded[name][r, c] == one[name][r, c], (name, r, c)


def test_mirrored_landscape_and_wind_give_mirrored_maps(synthetic):
    """East-west mirror: columns reversed, aspect and wind azimuths a -> 360 - a."""
    from dataclasses import replace

    flipped = replace(
        synthetic,
        **{k: np.ascontiguousarray(v[:, ::-1]) for k, v in synthetic.layers().items()},
        valid=np.ascontiguousarray(synthetic.valid[:, ::-1]),
    )
    flipped.aspect_deg = np.where(flipped.slope_fraction > 0, (360.0 - flipped.aspect_deg) % 360.0, 0.0)
    a = compute_maps(synthetic, _weather(25.0, 250.0))
    b = compute_maps(flipped, _weather(25.0, 110.0))
    for name in ("spread_rate.tif", "flame_length.tif", "fireline_intensity.tif", "midflame_wind.tif"):
        np.testing.assert_allclose(b[name][:, ::-1], a[name], rtol=1e-5, atol=1e-6, err_msg=name)
    np.testing.assert_array_equal(b["crown_state.tif"][:, ::-1], a["crown_state.tif"])
    da, db = a["max_spread_dir.tif"], b["max_spread_dir.tif"][:, ::-1]
    ok = da != NODATA
    diff = np.abs((360.0 - db[ok]) % 360.0 - da[ok]) % 360.0
    assert np.minimum(diff, 360.0 - diff).max() < 1e-3


def test_landscape_mode_equals_point_mode(tmp_path, synthetic):
    """Sampled cells written as batch-calculator rows give the rasters' numbers."""
    maps = compute_maps(synthetic, _weather(18.0, 200.0))
    cells = np.argwhere(synthetic.burnable)[::23][:25]
    header = (
        "fuel_model,m1h_pct,m10h_pct,m100h_pct,mherb_pct,mwoody_pct,slope_pct,aspect_deg,wind_from_deg,"
        "wind_20ft_mph,canopy_cover_pct,canopy_height_m,canopy_base_height_m,canopy_bulk_density_kg_m3,"
        "foliar_moisture_pct"
    )
    lines = [header]
    for r, c in cells:
        s = synthetic
        lines.append(
            f"{int(s.fuel_model[r, c])},4,6,13,30,60,{100 * float(s.slope_fraction[r, c])!r},"
            f"{float(s.aspect_deg[r, c])!r},200,18,{100 * float(s.canopy_cover_fraction[r, c])!r},"
            f"{float(s.canopy_height_m[r, c])!r},{float(s.canopy_base_height_m[r, c])!r},"
            f"{float(s.canopy_bulk_density_kg_m3[r, c])!r},100"
        )
    src = tmp_path / "cells.csv"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "cells_out.csv"
    assert main(["behave", "--input", str(src), "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    codes = {"none": 0, "surface": 1, "passive": 2, "active": 3}
    for (r, c), row in zip(cells, rows, strict=True):
        assert float(row["ros_head_m_min"]) == pytest.approx(
            maps["spread_rate.tif"][r, c], rel=1e-5, abs=1e-6
        )
        assert float(row["flame_length_m"]) == pytest.approx(
            maps["flame_length.tif"][r, c], rel=1e-5, abs=1e-6
        )
        assert float(row["fireline_intensity_kw_m"]) == pytest.approx(
            maps["fireline_intensity.tif"][r, c], rel=1e-5, abs=1e-6
        )
        assert codes[row["fire_type"]] == maps["crown_state.tif"][r, c]
        if float(row["ros_head_m_min"]) > 0:
            assert float(row["direction_max_deg"]) == pytest.approx(
                maps["max_spread_dir.tif"][r, c], abs=1e-3
            )


def test_testmtt_matches_flammap(tmp_path, testmtt_dir):
    """behave's rasters on 19545.lcp vs FlamMap 6's SPREADRATE and CROWNSTATE (0.005 % median)."""
    out = tmp_path / "mtt"
    argv = ["behave", str(testmtt_dir / "19545.lcp"), "--wind-speed", "36", "--wind-from", "299"]
    argv += ["--moisture", "3,4,10,53,131", "--conventions", "flammap", "--out", str(out)]
    assert main(argv) == 0
    ref = testmtt_dir / "outputs"
    with rasterio.open(out / "spread_rate.tif") as ds:
        ros = ds.read(1)
    with rasterio.open(out / "crown_state.tif") as ds:
        state = ds.read(1)
    fm_ros = read_ascii_grid(ref / "testMTT_SPREADRATE.asc")
    fm_state = read_ascii_grid(ref / "testMTT_CROWNSTATE.asc")
    sel = np.isfinite(fm_ros) & (fm_ros > 0)
    rel = np.abs(ros[sel] - fm_ros[sel]) / fm_ros[sel]
    assert sel.sum() > 7000
    assert np.median(rel) < 1e-4 and rel.max() < 0.01
    known = np.isfinite(fm_state)
    np.testing.assert_array_equal(state[known], fm_state[known].astype(np.int16))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["synthetic:seed=5,size=40"], "needs --out DIR"),
        (["synthetic:seed=5,size=40", "--input", "x.csv", "--out", "o"], "not both"),
        ([], "give --input CONDITIONS.csv and --output RESULTS.csv"),
        (["nope.lcp", "--out", "o"], "nope.lcp"),
        (["synthetic:seed=5,size=40", "--moisture", "4,6", "--out", "o"], "--moisture"),
        (["synthetic:seed=5,size=40", "--wind-speed", "-3", "--out", "o"], "--wind-speed"),
        (["synthetic:seed=5,size=40", "--foliar-moisture", "1000", "--out", "o"], "--foliar-moisture"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["behave", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert list(tmp_path.iterdir()) == []


def _grid(path, landscape, values, **kw):
    from fuelrl.landscape import write_geotiff

    write_geotiff(path, np.asarray(values, np.float32), landscape, nodata=kw.get("nodata"))
    return str(path)


def test_uniform_weather_grids_give_the_scalar_run(tmp_path, synthetic):
    """--wind-grid and raster --moisture holding one value everywhere: the scalar run's rasters
    (to float32 storage of the grids)."""
    shape = synthetic.shape
    speed = _grid(tmp_path / "speed.tif", synthetic, np.full(shape, 20.0))
    direction = _grid(tmp_path / "dir.tif", synthetic, np.full(shape, 240.0))
    m1 = _grid(tmp_path / "m1.tif", synthetic, np.full(shape, 0.04))
    m10 = _grid(tmp_path / "m10.tif", synthetic, np.full(shape, 6.0))  # percent: max > 1
    argv = ["behave", SPEC, "--conventions", "flammap"]
    assert (
        main(
            [
                *argv,
                "--wind-speed",
                "20",
                "--wind-from",
                "240",
                "--moisture",
                MOISTURE,
                "--out",
                str(tmp_path / "a"),
            ]
        )
        == 0
    )
    grid_argv = [
        "--wind-grid",
        speed,
        direction,
        "--moisture",
        f"{m1},{m10},13,30,60",
        "--out",
        str(tmp_path / "b"),
    ]
    assert main([*argv, *grid_argv]) == 0
    for name in RASTERS:
        with rasterio.open(tmp_path / "a" / name) as a, rasterio.open(tmp_path / "b" / name) as b:
            assert (a.transform, a.crs, a.shape) == (b.transform, b.crs, b.shape)
            np.testing.assert_allclose(b.read(1), a.read(1), rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("nan_speed", "speed.tif"),
        ("negative_speed", "speed.tif"),
        ("wet", "m1.tif"),
        ("shape", "speed.tif"),
    ],
)
def test_bad_weather_grids_one_line_exit_2_nothing_written(tmp_path, synthetic, capsys, what, message):
    shape = synthetic.shape
    speed = np.full(shape, 20.0)
    m1 = np.full(shape, 0.05)
    if what == "nan_speed":
        speed[5, 5] = np.nan
    if what == "negative_speed":
        speed[3, 4] = -2.0
    if what == "wet":
        m1[2, 2] = 500.0  # percent (max > 1), above 400 %
    s = _grid(tmp_path / "speed.tif", synthetic, speed)
    if what == "shape":
        import rasterio as rio

        with rio.open(
            tmp_path / "speed.tif", "w", driver="GTiff", height=7, width=9, count=1, dtype="float32"
        ) as ds:
            ds.write(np.full((1, 7, 9), 20.0, np.float32))
    d = _grid(tmp_path / "dir.tif", synthetic, np.full(shape, 240.0))
    m = _grid(tmp_path / "m1.tif", synthetic, m1)
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = [
        "behave",
        SPEC,
        "--wind-grid",
        s,
        d,
        "--moisture",
        f"{m},6,13,30,60",
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if "error" in line]
    assert len(errors) == 1 and message in errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_2427464_gridded_window_is_each_cells_uniform_run():
    """The TestFlamMap sample's own gridded winds and conditioned moistures (issue 16's conditions,
    FlamMap conventions) on a window: every sampled cell equals a uniform run at its weather."""
    from tests.conftest import shared_path

    folder = shared_path("landscapes", "flammap_testflammap_2427464")
    from fuelrl.landscape.weather_grids import read_weather_grids

    land = open_landscape(folder / "2427464.lcp").window(150, 150, 48, 48)
    g = folder / "gridded_inputs"
    grids = read_weather_grids(
        land,
        wind=(g / "test_WINDSPEEDGRID.tif", g / "test_WINDDIRGRID.tif"),
        moisture={
            "1h": g / "test_FUELMOISTURE1.tif",
            "10h": g / "test_FUELMOISTURE10.tif",
            "100h": g / "test_FUELMOISTURE100.tif",
        },
    )
    speed = grids.wind_speed_20ft_m_min.astype(np.float64) / 26.8224
    wind_from = grids.wind_from_deg.astype(np.float64)
    moist = np.stack(
        [grids.moisture_fraction[k].astype(np.float64) * 100 for k in ("1h", "10h", "100h")]
        + [np.full(land.shape, 30.0), np.full(land.shape, 60.0)],
        -1,
    )
    maps = compute_maps(land, MapWeather(speed, wind_from, moist, 100.0, {}), conventions="flammap")
    assert (maps["crown_state.tif"][land.burnable] >= 1).mean() > 0.5
    rng = np.random.default_rng(1)
    for r, c in np.argwhere(land.burnable)[rng.choice(int(land.burnable.sum()), 20, replace=False)]:
        one = compute_maps(land, _weather(speed[r, c], wind_from[r, c], moist[r, c]), conventions="flammap")
        for name in RASTERS:
            assert maps[name][r, c] == one[name][r, c], (name, r, c)


def test_behaveplus_table_through_the_landscape_mode(reference_dir):
    """The 200 BehavePlus 5 cases as the cells of one landscape, each with its own weather (the
    table's midflame wind as a per-cell 20-ft wind through the unsheltered WAF; moistures, slope,
    aspect and wind direction per cell): BehavePlus's numbers, to the table's rounding."""
    from types import SimpleNamespace

    from fuelrl.physics import units
    from fuelrl.physics.fuel_models import FUEL_MODELS, parse_fuel_model
    from fuelrl.physics.validate import _orientation, rounding_error
    from fuelrl.physics.wind import unsheltered_waf

    rows = list(csv.DictReader((reference_dir / "behaveplus5_reference_values.csv").open()))
    n = len(rows)
    codes = np.array([[parse_fuel_model(r["fuel_model"]) for r in rows]])
    wind_from, aspect = np.array([_orientation(r["orientation"]) for r in rows]).T
    depth_ft = np.array([FUEL_MODELS[int(c)].depth_m for c in codes[0]]) / units.M_PER_FT
    midflame = np.array([float(r["midflame_wind_mph"]) for r in rows])
    zeros = np.zeros((1, n))
    land = SimpleNamespace(
        fuel_model=codes,
        slope_fraction=np.array([[float(r["slope_pct"]) / 100.0 for r in rows]]),
        aspect_deg=aspect[None],
        canopy_cover_fraction=zeros,
        canopy_height_m=zeros,
        canopy_base_height_m=zeros,
        canopy_bulk_density_kg_m3=zeros,
        valid=np.ones((1, n), bool),
    )
    keys = ("m1h_pct", "m10h_pct", "m100h_pct", "mherb_pct", "mwoody_pct")
    moisture = np.array([[[float(r[k]) for k in keys] for r in rows]])
    weather = MapWeather(
        (midflame / unsheltered_waf(depth_ft, np))[None], wind_from[None], moisture, 100.0, {}
    )
    maps = compute_maps(land, weather, crown_fire=False)
    ours = {
        "ros_max_ch_h": maps["spread_rate.tif"][0] / units.M_MIN_PER_CH_H,
        "flame_length_ft": maps["flame_length.tif"][0] / units.M_PER_FT,
        "fireline_intensity_btu_ft_s": maps["fireline_intensity.tif"][0] / units.KW_M_PER_BTU_FT_S,
    }
    for key, values in ours.items():
        err = rounding_error(values.astype(np.float64), [r[key] for r in rows])
        assert err.max() < 0.002, (key, rows[int(err.argmax())]["fuel_model"], err.max())
    has_dir = [i for i, r in enumerate(rows) if r["direction_max_ros_deg"].strip()]
    for i in has_dir:
        d = abs(maps["max_spread_dir.tif"][0, i] - float(rows[i]["direction_max_ros_deg"])) % 360.0
        assert min(d, 360.0 - d) <= 0.5 + 1e-3


def test_row_blocks_give_the_whole_grid_numbers(synthetic):
    """landscape_behavior in blocks of a few rows (and keeping a few fields) == one call."""
    from fuelrl.physics.cellwise import LAYER_ARGS, landscape_behavior

    layers = {k: np.asarray(getattr(synthetic, k), np.float64) for k in LAYER_ARGS}
    layers["fuel_model"] = synthetic.fuel_model.astype(np.int64)
    h, w = synthetic.shape
    wx = dict(
        wind_speed_20ft_m_min=np.linspace(0, 900, h * w).reshape(h, w),
        wind_from_deg=240.0,
        moisture_fraction=np.array([0.04, 0.06, 0.13, 0.3, 0.6]),
        foliar_moisture_fraction=1.0,
    )
    whole = landscape_behavior(layers, **wx, block_cells=1 << 20)
    blocks = landscape_behavior(layers, **wx, block_cells=3 * w, keep=("ros_head_m_min", "fire_type"))
    np.testing.assert_array_equal(blocks.ros_head_m_min, whole.ros_head_m_min)
    np.testing.assert_array_equal(blocks.fire_type, whole.fire_type)
    assert blocks.flame_length_m is None
