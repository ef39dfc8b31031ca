"""Planner inputs (issue 15 items 1-3, 6, 7): values at risk, cost budgets, treatable masks, units.

The done-when check of issue 15 on TestMTT 19545: with a values raster that puts high value on a
cluster of cells and an untreatable polygon, no break lands on untreatable land (checked with
shapely's point-in-polygon on the file OGR reads, not with our rasterization), ``dpv`` with values
protects more value than ``dpv`` without them on the same held-out fires, and a cost budget is
never exceeded (the cost read back with rasterio). Bad inputs: one line, exit 2, nothing written.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from rasterio.crs import CRS
from scipy import ndimage

from fuelrl import registry
from fuelrl.baselines import HEURISTICS, make_planner
from fuelrl.baselines.budget import resolve_budget
from fuelrl.baselines.evaluation import plan_and_score, simulate_split
from fuelrl.cli import main
from fuelrl.errors import InputError
from fuelrl.landscape import open_landscape
from fuelrl.landscape.plan_inputs import PlanInputs, load_plan_inputs, read_values
from fuelrl.simulators.base import SimulationOptions, TileBatch
from fuelrl.simulators.scenarios import WeatherDistribution

# the TestMTT run's weather (../shared/data/landscapes/flammap_testmtt_19545/19545.input)
WEATHER = WeatherDistribution(
    wind_speed_20ft_mph=36.0, wind_from_deg=299.0, moisture_pct=(3, 4, 10, 53, 131), duration_min=400.0
)
CLI_WEATHER = ["--wind-speed", "36", "--wind-from", "299", "--moisture", "3,4,10,53,131", "--duration", "400"]


def _write(path, array, landscape, **kw):
    h, w = array.shape
    profile = dict(driver="GTiff", height=h, width=w, count=1, dtype=array.dtype.name)
    profile.update(crs=landscape.crs, transform=landscape.transform)
    profile.update(kw)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return path


def _polygon(path, landscape, r0, r1, c0, c1, crs=None):
    """A rectangle around cells rows r0..r1, cols c0..c1 (edges half a cell outside the centres)."""
    (x0, y0), (x1, y1) = landscape.rowcol_to_xy(r0, c0), landscape.rowcol_to_xy(r1, c1)
    half = landscape.cell_size_m / 2
    poly = shapely.box(min(x0, x1) - half, min(y0, y1) - half, max(x0, x1) + half, max(y0, y1) + half)
    wkt = (crs or landscape.crs).to_wkt()
    geom = np.array([shapely.to_wkb(poly)], dtype=object)
    pyogrio.raw.write(path, geom, [], [], geometry_type="Polygon", crs=wkt, driver="GPKG")
    return poly


@pytest.fixture
def testmtt(testmtt_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return open_landscape(testmtt_dir / "19545.tif")


@pytest.fixture
def files(testmtt, tmp_path):
    """values.tif (1 per cell, 1000 on a 15x15 cluster where the planning and the held-out fires
    both burn), cost.tif (1, 3 west of column 40) and untreatable.gpkg (11x16 cells next to the
    cluster, upwind)."""
    h, w = testmtt.shape
    values = np.ones((h, w), np.float32)
    values[25:40, 55:70] = 1000.0
    cost = np.ones((h, w), np.float32)
    cost[:, :40] = 3.0
    poly = _polygon(tmp_path / "untreatable.gpkg", testmtt, 22, 32, 40, 55)
    return {
        "values": _write(tmp_path / "values.tif", values, testmtt),
        "cost": _write(tmp_path / "cost.tif", cost, testmtt),
        "untreatable": tmp_path / "untreatable.gpkg",
        "polygon": poly,
    }


def test_done_when_values_masks_cost_on_19545(testmtt, files):
    backend = registry.create("threaded", options=SimulationOptions(conventions="flammap"))
    common = dict(scoring_fires=8, planning_fires=8, seed=0, budget=0.05)
    with_values = load_plan_inputs(
        testmtt, values=files["values"], cost=files["cost"], untreatable=files["untreatable"]
    )
    without = load_plan_inputs(testmtt, cost=files["cost"], untreatable=files["untreatable"])
    runs = {}
    for label, inputs in (("values", with_values), ("area", without)):
        runs[label] = plan_and_score(
            testmtt, {"dpv": make_planner("dpv")}, backend, WEATHER, inputs=inputs, **common
        )
    assert runs["values"].fires_info["scoring"]["sha256"] == runs["area"].fires_info["scoring"]["sha256"]

    # no break on untreatable land: the polygon as OGR reads it, cell centres tested by shapely
    _, _, wkb, _ = pyogrio.raw.read(files["untreatable"])
    poly = shapely.from_wkb(wkb[0])
    with rasterio.open(files["cost"]) as src:
        cost = src.read(1).astype(np.float64)
    burnable = np.asarray(testmtt.burnable)
    rows, cols = np.indices(testmtt.shape)
    xs, ys = rasterio.transform.xy(testmtt.transform, rows.ravel(), cols.ravel())
    inside = shapely.contains_xy(poly, np.asarray(xs), np.asarray(ys)).reshape(testmtt.shape)
    assert inside.sum() == 11 * 16
    budget = 0.05 * cost[burnable & ~inside].sum()
    for run in runs.values():
        breaks = run.plans["dpv"].breaks
        assert breaks.any() and not (breaks & inside).any()
        assert cost[breaks].sum() <= budget * (1 + 1e-9)
        assert cost[breaks].sum() >= budget - 3.0  # spent: what is left buys no more cell
    # the same held-out fires, scored by value: the value-aware plan protects more value
    tiles = TileBatch.stack([testmtt])
    with rasterio.open(files["values"]) as src:
        values = src.read(1).astype(np.float64)
    scoring = runs["values"].scoring if hasattr(runs["values"], "scoring") else None
    if scoring is None:  # draw them again (the same seed and stream)
        from fuelrl.baselines.scoring import fire_sets

        _, scoring, _ = fire_sets(testmtt.burnable, WEATHER, planning_fires=8, scoring_fires=8, seed=0)
    burned = {}
    for label, run in runs.items():
        _, _, value = simulate_split(backend, tiles, run.plans["dpv"].breaks, scoring, values)
        burned[label] = value.mean()
    np.testing.assert_allclose(burned["values"], runs["values"].value_burned["dpv"].mean())
    assert burned["values"] < burned["area"]


def test_cost_budgets_are_never_exceeded_by_any_policy(testmtt, files):
    backend = registry.create("threaded", options=SimulationOptions())
    inputs = load_plan_inputs(testmtt, cost=files["cost"])
    budget = resolve_budget(testmtt, cost_budget=100.5, cost=inputs.cost)
    planners = {name: make_planner(name) for name in HEURISTICS}
    run = plan_and_score(
        testmtt,
        planners,
        backend,
        WEATHER,
        budget=budget,
        scoring_fires=2,
        planning_fires=2,
        seed=1,
        inputs=inputs,
    )
    for plan in run.plans.values():
        spent = inputs.cost[plan.breaks].sum()
        assert spent <= 100.5 and spent > 100.5 - 3.0
    # --budget-ha: area, at unit cost
    ha = resolve_budget(testmtt, ha=2.0)
    assert ha.cells == 22 and ha.cost == 22  # 2.0 ha / 0.09 ha per cell, rounded down


def test_unit_cost_budget_is_the_historical_cell_budget(testmtt):
    from fuelrl.baselines import budget_cells

    n = int(np.count_nonzero(testmtt.burnable))
    b = resolve_budget(testmtt, fraction=0.05)
    assert b.cells == budget_cells(n, 0.05) == int(b.cost)


def test_min_units_and_stop_when_no_gain():
    from tests.baselines.helpers import small_problem

    base = small_problem(budget=40, recompute_every=10, fires=6)
    unit = small_problem(budget=40, recompute_every=10, fires=6)
    unit.min_unit_cells = 5
    plain = make_planner("dpv").plan(base)
    units = make_planner("dpv").plan(unit)
    assert plain.cells == units.cells == 40
    labels, n = ndimage.label(units.breaks)  # 4-connected patches
    sizes = np.bincount(labels.ravel())[1:]
    assert n <= 8 and sizes.min() >= 5
    assert ndimage.label(plain.breaks)[1] > n
    for name in ("burn_probability", "random"):
        p = make_planner(name).plan(unit)
        assert p.cells == 40 and np.bincount(ndimage.label(p.breaks)[0].ravel())[1:].min() >= 5

    zero = small_problem(budget=40, recompute_every=10, fires=6)
    zero.stop_gain = 0.0
    assert np.array_equal(make_planner("dpv").plan(zero).breaks, plain.breaks)
    huge = small_problem(budget=40, recompute_every=10, fires=6)
    huge.stop_gain = 1e9
    stopped = make_planner("dpv").plan(huge)
    assert stopped.cells == 0 and stopped.info["stopped_no_gain"]


def test_values_reprojected_from_another_crs_with_a_notice(testmtt, tmp_path):
    from rasterio.warp import calculate_default_transform

    dst_crs = CRS.from_epsg(4326)
    h, w = testmtt.shape
    transform, width, height = calculate_default_transform(
        testmtt.crs, dst_crs, w + 20, h + 20, *testmtt.bounds
    )
    # a constant 7 everywhere: bilinear resampling must give 7 on every cell (an exact property)
    path = tmp_path / "v4326.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=height,
        width=width,
        count=1,
        dtype="float32",
        crs=dst_crs,
        transform=transform,
    ) as dst:
        dst.write(np.full((height, width), 7.0, np.float32), 1)
    with pytest.warns(UserWarning, match="reprojected to the landscape's"):
        v = read_values(path, testmtt)
    valid = np.asarray(testmtt.valid)
    inner = valid.copy()
    inner[[0, -1], :] = inner[:, [0, -1]] = False
    np.testing.assert_allclose(v[inner], 7.0, rtol=1e-6)


def test_plan_cli_reports_values_cost_and_untreatable(testmtt_dir, testmtt, files, tmp_path):
    import json

    out = tmp_path / "plan"
    argv = ["plan", str(testmtt_dir / "19545.tif"), "--policy", "burn_probability", "--fires", "2"]
    argv += ["--budget", "0.02"]
    argv += [*CLI_WEATHER, "--values", str(files["values"]), "--cost", str(files["cost"])]
    argv += ["--untreatable", str(files["untreatable"]), "--out", str(out)]
    assert main(argv) == 0
    s = json.loads((out / "summary.json").read_text())
    assert len(s["value_burned_before"]) == len(s["value_burned_after"]) == 2
    assert s["value_burned_after_mean"] <= s["value_burned_before_mean"]
    assert s["untreatable_cells"] == 11 * 16 and s["untreatable_ha"] == pytest.approx(11 * 16 * 0.09)
    assert s["cost_used"] <= s["budget_cost"] * (1 + 1e-12)
    with rasterio.open(out / "breaks.tif") as src, rasterio.open(files["cost"]) as c:
        b = src.read(1) == 1
        assert c.read(1)[b].sum() == pytest.approx(s["cost_used"])
        assert b.sum() * 0.09 == pytest.approx(s["area_used_ha"])


@pytest.mark.parametrize(
    "case, expect",
    [
        ("negative_values", "--values"),
        ("values_other_shape", "no CRS and transform"),
        ("zero_cost", "--cost"),
        ("nan_cost", "--cost"),
        ("mask_no_overlap", "do not overlap"),
        ("budget_buys_nothing", "buys nothing"),
        ("budget_ha_too_small", "less than one"),
    ],
)
def test_bad_inputs_one_line_exit_2_nothing_written(case, expect, testmtt_dir, testmtt, tmp_path, capsys):
    h, w = testmtt.shape
    extra: list[str] = []
    if case == "negative_values":
        v = np.ones((h, w), np.float32)
        v[3, 4] = -1
        extra = ["--values", str(_write(tmp_path / "v.tif", v, testmtt))]
    elif case == "values_other_shape":
        path = tmp_path / "v.tif"
        with rasterio.open(path, "w", driver="GTiff", height=10, width=10, count=1, dtype="float32") as dst:
            dst.write(np.ones((10, 10), np.float32), 1)
        extra = ["--values", str(path)]
    elif case in ("zero_cost", "nan_cost"):
        c = np.ones((h, w), np.float32)
        burnable = np.argwhere(np.asarray(testmtt.burnable))[0]
        c[tuple(burnable)] = 0.0 if case == "zero_cost" else np.nan
        extra = ["--cost", str(_write(tmp_path / "c.tif", c, testmtt))]
    elif case == "mask_no_overlap":
        path = tmp_path / "far.gpkg"
        geom = np.array([shapely.to_wkb(shapely.box(10.0, 10.0, 11.0, 11.0))], dtype=object)
        pyogrio.raw.write(path, geom, [], [], geometry_type="Polygon", crs="EPSG:4326", driver="GPKG")
        extra = ["--untreatable", str(path)]
    elif case == "budget_buys_nothing":
        extra = ["--budget-cost", "0.5"]
    elif case == "budget_ha_too_small":
        extra = ["--budget-ha", "0.01"]
    out = tmp_path / "out"
    argv = [
        "plan",
        str(testmtt_dir / "19545.tif"),
        "--policy",
        "dpv",
        "--fires",
        "2",
        *extra,
        "--out",
        str(out),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("fuelrl plan: error")]
    assert len(errors) == 1 and expect in errors[0], err
    assert not out.exists()


def test_treatable_and_untreatable_combine_and_no_treatable_cell_is_an_error(testmtt, tmp_path):
    _polygon(tmp_path / "a.gpkg", testmtt, 10, 30, 10, 30)
    _polygon(tmp_path / "b.gpkg", testmtt, 10, 20, 10, 20)
    both = load_plan_inputs(testmtt, treatable=tmp_path / "a.gpkg", untreatable=tmp_path / "b.gpkg")
    assert both.treatable.sum() == 21 * 21 - 11 * 11
    with pytest.raises(InputError, match="no burnable cell may be treated"):
        load_plan_inputs(testmtt, treatable=tmp_path / "b.gpkg", untreatable=tmp_path / "a.gpkg")
    assert isinstance(both, PlanInputs)


def test_line_units_cross_the_fire_path_and_contain_a_corridor_fire():
    """A grass corridor 8 cells wide between non-burnable walls, wind from the west, fires lit at
    its west end, breaks allowed from column 20 on: one line unit of 8 cells crosses the corridor
    (one column, every row) and the fires burn only the 20 columns west of it; a compact patch of
    the same 8 cells does not stop them."""
    import torch

    from fuelrl.baselines import PlanningProblem
    from fuelrl.simulators.scenarios import make_scenarios
    from tests.baselines.helpers import GRASS, NB, flat_landscape

    fuel = np.full((12, 60), GRASS)
    fuel[:2] = NB
    fuel[10:] = NB
    corridor = flat_landscape(fuel)
    treatable = np.zeros(fuel.shape, bool)
    treatable[:, 20:] = True
    backend = registry.create("numpy", options=SimulationOptions())
    tiles = TileBatch.stack([corridor])
    fires = make_scenarios(
        [5 * 60 + 2, 6 * 60 + 3],
        wind_speed_20ft_mph=15.0,
        wind_from_deg=270.0,
        moisture_pct=(6, 7, 8, 60, 90),
        duration_min=600.0,
    )
    burned = {}
    for shape in ("line", "patch"):
        problem = PlanningProblem(
            corridor,
            tiles,
            backend,
            fires,
            budget_cells=8,
            recompute_every=8,
            seed=0,
            min_unit_cells=8,
            unit_shape=shape,
            treatable=treatable,
        )
        plan = make_planner("dpv").plan(problem)
        assert plan.cells == 8
        result = backend.simulate(tiles, torch.as_tensor(plan.breaks[None]), fires)
        burned[shape] = result.burned_ha[0].double().numpy()
        if shape == "line":
            rows, cols = np.nonzero(plan.breaks)
            assert set(cols.tolist()) == {20} and set(rows.tolist()) == set(range(2, 10))
    np.testing.assert_allclose(burned["line"], 20 * 8 * corridor.cell_area_ha, rtol=1e-6)
    assert (burned["patch"] > 2 * burned["line"]).all()


def test_shapefile_without_crs_is_read_in_the_landscape_crs(testmtt_dir, testmtt):
    """TestMTT's barrier polygon (a shapefile with no .prj) lies around map point (-1200, 4905),
    cell row 37, col 29 of 19545 (../shared/DESIGN.md)."""
    from fuelrl.landscape.plan_inputs import read_mask

    mask = read_mask(testmtt_dir / "barrier2.shp", testmtt, "--untreatable")
    assert mask[37, 29] and mask.sum() <= 4
