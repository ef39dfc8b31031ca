"""Validation of the fire behaviour physics against BehavePlus 5 and FlamMap 6.

Run ``python -m fuelrl.physics.validate`` (optionally ``--shared DIR``, the folder holding
``data/reference`` and ``data/landscapes``; default ``../shared`` beside the repository or
``$FUELRL_SHARED``). It prints the tables quoted in docs/science.md:

1. BehavePlus 5 reference values (40 Scott & Burgan models x 5 scenarios): head spread rate,
   fireline intensity, flame length, reaction intensity, direction of maximum spread, effective
   wind and L/W, with the relative error measured against the table's rounding interval (a value
   printed as 1.1 stands for [1.05, 1.15]; an answer inside it has zero error).
2. FlamMap 6 TestMTT per-cell outputs (spread rate, crown state, flame length, intensity,
   direction of maximum spread) against ``fire_behavior(..., conventions="flammap")``.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fuelrl.errors import InputError
from fuelrl.physics import units
from fuelrl.physics.behavior import fire_behavior
from fuelrl.physics.fuel_models import parse_fuel_model

BEHAVEPLUS_FILE = "behaveplus5_reference_values.csv"

# ------------------------------------------------------------------------------------------------
# BehavePlus 5
# ------------------------------------------------------------------------------------------------


def _orientation(value: str) -> tuple[float, float]:
    """(wind_from_deg, aspect_deg) for the table's ``orientation`` column. BehavePlus's cross-slope
    scenarios name the azimuth the wind blows from and the aspect (downslope azimuth); 'upslope'
    means the wind blows straight upslope; blank means no wind and no slope."""
    value = value.strip()
    if value in ("", "upslope"):
        return 180.0, 180.0  # slope faces south, wind from the south: blowing upslope (north)
    parts = value.split("_")  # wind_dir_90_aspect_180
    try:
        return float(parts[2]), float(parts[4])
    except (IndexError, ValueError) as exc:
        raise InputError(f"{BEHAVEPLUS_FILE}: unknown orientation {value!r}") from exc


def _decimals(text: str) -> int:
    """Significant decimals of a printed number ("2.0" -> 0, "0.19" -> 2)."""
    if "." not in text:
        return 0
    return len(text.split(".")[1].rstrip("0"))


def rounding_error(ours: np.ndarray, printed: list[str]) -> np.ndarray:
    """Relative error of ``ours`` against printed values, allowing for their rounding: zero inside
    the half-unit interval of the column's last printed digit, else the distance to the interval
    divided by the printed value (by the half unit where the printed value is 0). The column's
    resolution is its largest number of significant decimals: the table stores integer-rounded
    quantities (intensities) as "2.0", so a trailing ".0" is not a decimal."""
    decimals = max(_decimals(t) for t in printed)
    half = 0.5 * 10.0 ** (-decimals)
    out = np.zeros(len(printed))
    for i, (o, text) in enumerate(zip(ours, printed, strict=True)):
        v = float(text)
        gap = max(abs(o - v) - half, 0.0)
        out[i] = gap / max(abs(v), half)
    return out


@dataclass
class BehaveComparison:
    rows: list[dict[str, str]]
    ours: dict[str, np.ndarray]
    errors: dict[str, np.ndarray]  # relative error (rounding-aware) per compared quantity
    direction_error_deg: np.ndarray  # NaN where the table has no direction


def compare_behaveplus(path: str | Path) -> BehaveComparison:
    """Run every row of the BehavePlus 5 reference table through fire_behavior(conventions="behave")."""
    path = Path(path)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    codes = np.array([parse_fuel_model(r["fuel_model"]) for r in rows])
    moist = np.array(
        [
            [float(r[k]) / 100.0 for k in ("m1h_pct", "m10h_pct", "m100h_pct", "mherb_pct", "mwoody_pct")]
            for r in rows
        ]
    )
    wind_from, aspect = np.array([_orientation(r["orientation"]) for r in rows]).T
    fb = fire_behavior(
        codes,
        np.array([float(r["slope_pct"]) / 100.0 for r in rows]),
        aspect,
        0.0,
        0.0,
        0.0,
        0.0,
        wind_speed_20ft_m_min=None,
        midflame_wind_m_min=np.array([float(r["midflame_wind_mph"]) for r in rows]) * units.M_MIN_PER_MPH,
        wind_from_deg=wind_from,
        moisture_fraction=moist,
        foliar_moisture_fraction=1.0,
        conventions="behave",
        crown_fire=False,
    )
    hpa_btu_ft2 = fb.heat_per_unit_area_kj_m2 / units.KJ_M2_PER_BTU_FT2
    ours = {
        "ros_max_ch_h": fb.ros_head_m_min / units.M_MIN_PER_CH_H,
        "fireline_intensity_btu_ft_s": fb.fireline_intensity_kw_m / units.KW_M_PER_BTU_FT_S,
        "flame_length_ft": fb.flame_length_m / units.M_PER_FT,
        "reaction_intensity_btu_ft2_min": fb.reaction_intensity_kw_m2 / units.KW_M2_PER_BTU_FT2_MIN,
        "live_mx_ext_pct": fb.live_moisture_of_extinction_fraction * 100.0,
        "residence_time_min": fb.residence_time_min,
        "wind_factor": fb.wind_factor,
        "slope_factor": fb.slope_factor,
        "effective_wind_mph": fb.effective_wind_m_min / units.M_MIN_PER_MPH,
        "col6_unlabelled": fb.lw_ratio,  # the length-to-width ratio (1 + 0.25 U_e)
        "direction_max_ros_deg": fb.direction_max_deg,
        "heat_per_unit_area_btu_ft2": hpa_btu_ft2,
    }
    errors: dict[str, np.ndarray] = {}
    for key, values in ours.items():
        if key not in rows[0] or key == "direction_max_ros_deg":
            continue
        sel = [i for i, r in enumerate(rows) if r[key].strip() != ""]
        err = np.full(len(rows), np.nan)
        err[sel] = rounding_error(values[sel], [rows[i][key] for i in sel])
        errors[key] = err
    direction = np.full(len(rows), np.nan)
    for i, r in enumerate(rows):
        if r["direction_max_ros_deg"].strip():
            d = abs(ours["direction_max_ros_deg"][i] - float(r["direction_max_ros_deg"])) % 360.0
            direction[i] = min(d, 360.0 - d)
    return BehaveComparison(rows, ours, errors, direction)


def _summary(err: np.ndarray) -> tuple[int, float, float]:
    e = err[np.isfinite(err)]
    return len(e), float(np.median(e)) if len(e) else math.nan, float(np.max(e)) if len(e) else math.nan


def print_behaveplus_report(cmp: BehaveComparison, worst: int = 5) -> None:
    print("BehavePlus 5 reference values: fuelrl (conventions='behave') vs BehavePlus")
    print("relative error beyond the table's rounding interval")
    print(f"{'quantity':34s} {'n':>4s} {'median %':>9s} {'max %':>8s}")
    for key, err in cmp.errors.items():
        n, med, mx = _summary(err)
        print(f"{key:34s} {n:4d} {100 * med:9.3f} {100 * mx:8.3f}")
    n, med, mx = _summary(cmp.direction_error_deg)
    print(f"{'direction_max_ros_deg (abs deg)':34s} {n:4d} {med:9.3f} {mx:8.3f}")
    print()
    for key in ("ros_max_ch_h", "fireline_intensity_btu_ft_s", "flame_length_ft"):
        err = np.nan_to_num(cmp.errors[key], nan=-1.0)
        order = np.argsort(-err)[:worst]
        print(f"worst {key}:")
        for i in order:
            r = cmp.rows[i]
            scenario = r["scenario"].replace("behaveplus5-surface-fire-values-", "")
            print(
                f"  {r['fuel_model']:5s} {scenario:42s} table {r[key]:>8s}  ours {cmp.ours[key][i]:10.3f}"
                f"  err {100 * err[i]:.3f} %"
            )


# ------------------------------------------------------------------------------------------------
# FlamMap 6 TestMTT
# ------------------------------------------------------------------------------------------------


def read_ascii_grid(path: str | Path) -> np.ndarray:
    """An ESRI ASCII grid as float64 with NaN for NODATA (header keys case-insensitive)."""
    path = Path(path)
    header: dict[str, float] = {}
    with path.open() as f:
        for _ in range(6):
            key, value = f.readline().split()
            header[key.lower()] = float(value)
        data = np.loadtxt(f, dtype=np.float64)
    data = data.reshape(int(header["nrows"]), int(header["ncols"]))
    nodata = header.get("nodata_value")
    if nodata is not None:
        data[data == nodata] = np.nan
    return data


@dataclass
class FlamMapRun:
    """TestMTT inputs from the run's .input file (fixed here; checked against the file)."""

    wind_speed_mph: float = 36.0
    wind_from_deg: float = 299.0
    moisture_pct: tuple[float, float, float, float, float] = (3.0, 4.0, 10.0, 53.0, 131.0)
    foliar_moisture_pct: float = 100.0


def read_flammap_input(path: str | Path) -> FlamMapRun:
    """Wind, moistures and foliar moisture from a FlamMap command-line ``.input`` file."""
    lines = Path(path).read_text().splitlines()
    run = FlamMapRun()
    for i, line in enumerate(lines):
        key, _, value = line.partition(":")
        key = key.strip().upper()
        if key == "WIND_SPEED":
            run.wind_speed_mph = float(value)
        elif key == "WIND_DIRECTION":
            run.wind_from_deg = float(value)
        elif key == "FOLIAR_MOISTURE_CONTENT":
            run.foliar_moisture_pct = float(value)
        elif key == "FUEL_MOISTURES_DATA":
            fields = lines[i + 1].split()
            run.moisture_pct = tuple(float(v) for v in fields[1:6])  # type: ignore[assignment]
    return run


def flammap_landscape_behavior(testmtt_dir: str | Path, conventions: str = "flammap"):
    """fire_behavior for every TestMTT cell with the run's inputs; returns (FireBehavior, layers)."""
    import rasterio

    testmtt_dir = Path(testmtt_dir)
    with rasterio.open(testmtt_dir / "19545.tif") as ds:
        bands = {d: ds.read(i + 1).astype(np.float64) for i, d in enumerate(ds.descriptions)}
    run = read_flammap_input(testmtt_dir / "19545.input")
    slope_deg = bands["Slope"]  # the landscape stores whole degrees (FlamMap .lcp convention)
    aspect = np.where(bands["Aspect"] < 0, 0.0, bands["Aspect"])
    fb = fire_behavior(
        bands["Fuel Model"].astype(np.int64),
        np.tan(np.radians(slope_deg)),
        aspect,
        bands["Canopy Cover"] / 100.0,
        bands["Stand Height"] / 10.0,
        bands["Canopy Base Height"] / 10.0,
        bands["Canopy Bulk Density"] / 100.0,
        wind_speed_20ft_m_min=run.wind_speed_mph * units.M_MIN_PER_MPH,
        wind_from_deg=run.wind_from_deg,
        moisture_fraction=np.array(run.moisture_pct) / 100.0,
        foliar_moisture_fraction=run.foliar_moisture_pct / 100.0,
        conventions=conventions,
    )
    return fb, bands


@dataclass
class FlamMapComparison:
    n_cells: int
    stats: dict[str, tuple[int, float, float, float]]  # name -> (n, median, p99, max) relative error
    crown_state_agreement: float
    crown_state_confusion: np.ndarray  # 4x4 counts, rows FlamMap 0-3, cols ours 0-3
    direction_error_deg: tuple[int, float, float]


def compare_flammap(testmtt_dir: str | Path) -> FlamMapComparison:
    testmtt_dir = Path(testmtt_dir)
    out = testmtt_dir / "outputs"
    fb, _ = flammap_landscape_behavior(testmtt_dir)
    ref = {
        "spread_rate_m_min": read_ascii_grid(out / "testMTT_SPREADRATE.asc"),
        "flame_length_m": read_ascii_grid(out / "testMTT_FLAMELENGTH.asc"),
        "fireline_intensity_kw_m": read_ascii_grid(out / "testMTT_INTENSITY.asc"),
    }
    ours = {
        "spread_rate_m_min": fb.ros_head_m_min,
        "flame_length_m": fb.flame_length_m,
        "fireline_intensity_kw_m": fb.fireline_intensity_kw_m,
    }
    stats = {}
    for key, r in ref.items():
        sel = np.isfinite(r) & (r > 0)
        rel = np.abs(ours[key][sel] - r[sel]) / r[sel]
        stats[key] = (int(sel.sum()), float(np.median(rel)), float(np.quantile(rel, 0.99)), float(rel.max()))
    state_ref = read_ascii_grid(out / "testMTT_CROWNSTATE.asc")
    sel = np.isfinite(state_ref)
    confusion = np.zeros((4, 4), dtype=np.int64)
    for a, b in zip(state_ref[sel].astype(int), np.asarray(fb.fire_type)[sel], strict=True):
        confusion[a, b] += 1
    agreement = float(np.trace(confusion) / confusion.sum())
    dir_ref = read_ascii_grid(out / "testMTT_MAXSPREADDIR.asc")
    sel = np.isfinite(dir_ref) & (np.asarray(fb.ros_head_m_min) > 0)
    ref_deg = np.degrees(dir_ref[sel]) if np.nanmax(dir_ref) <= 2 * math.pi + 1e-6 else dir_ref[sel]
    d = np.abs(fb.direction_max_deg[sel] - ref_deg) % 360.0
    d = np.minimum(d, 360.0 - d)
    return FlamMapComparison(
        int(np.isfinite(state_ref).sum()),
        stats,
        agreement,
        confusion,
        (int(sel.sum()), float(np.median(d)), float(d.max())),
    )


def print_flammap_report(cmp: FlamMapComparison) -> None:
    print("FlamMap 6 TestMTT: fuelrl (conventions='flammap') vs FlamMap per-cell outputs")
    print(f"{'quantity':26s} {'cells':>6s} {'median %':>9s} {'p99 %':>8s} {'max %':>8s}")
    for key, (n, med, p99, mx) in cmp.stats.items():
        print(f"{key:26s} {n:6d} {100 * med:9.4f} {100 * p99:8.4f} {100 * mx:8.4f}")
    n, med, mx = cmp.direction_error_deg
    print(f"{'direction_max (abs deg)':26s} {n:6d} {med:9.4f} {'':8s} {mx:8.4f}")
    print(f"crown state agreement: {100 * cmp.crown_state_agreement:.2f} % of {cmp.n_cells} cells")
    print("confusion (rows FlamMap 0-3, columns fuelrl 0-3):")
    for row in cmp.crown_state_confusion:
        print("  " + " ".join(f"{v:6d}" for v in row))


def print_behaveplus_table(cmp: BehaveComparison, scenario_suffix: str) -> None:
    """A markdown table, one row per fuel model, of one scenario: BehavePlus vs fuelrl."""
    print("| model | ROS ch/h BP | ours | FLI BTU/ft/s BP | ours | FL ft BP | ours | dir deg BP | ours |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i, r in enumerate(cmp.rows):
        if not r["scenario"].endswith(scenario_suffix):
            continue
        o = cmp.ours
        d = r["direction_max_ros_deg"] or "-"
        od = f"{o['direction_max_ros_deg'][i]:.1f}" if r["direction_max_ros_deg"] else "-"
        print(
            f"| {r['fuel_model']} | {r['ros_max_ch_h']} | {o['ros_max_ch_h'][i]:.2f} "
            f"| {float(r['fireline_intensity_btu_ft_s']):.0f} | {o['fireline_intensity_btu_ft_s'][i]:.1f} "
            f"| {r['flame_length_ft']} | {o['flame_length_ft'][i]:.2f} | {d} | {od} |"
        )


def _default_shared() -> Path:
    env = os.environ.get("FUELRL_SHARED")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fuelrl.physics.validate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--shared", type=Path, default=_default_shared(), help="folder holding data/")
    parser.add_argument(
        "--table",
        metavar="SCENARIO_SUFFIX",
        help="also print a markdown table of one BehavePlus scenario, e.g. 'cross-wind-and-slope-135-180'",
    )
    args = parser.parse_args(argv)
    ref = args.shared / "data" / "reference" / BEHAVEPLUS_FILE
    mtt = args.shared / "data" / "landscapes" / "flammap_testmtt_19545"
    if not ref.exists():
        raise SystemExit(f"not found: {ref}")
    behave_cmp = compare_behaveplus(ref)
    print_behaveplus_report(behave_cmp)
    print()
    if args.table:
        print_behaveplus_table(behave_cmp, args.table)
        print()
    if mtt.exists():
        print_flammap_report(compare_flammap(mtt))
    else:
        print(f"FlamMap TestMTT data not found at {mtt}: skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
