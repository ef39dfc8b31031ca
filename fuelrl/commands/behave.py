"""`fuelrl behave`: BehavePlus-style fire behaviour for each row of a CSV, or for every cell of a landscape.

Two modes:

  fuelrl behave --input conditions.csv --output results.csv      (batch calculator, below)
  fuelrl behave LANDSCAPE --out DIR [weather flags]               (FlamMap-style basic run:
      spread_rate.tif, flame_length.tif, fireline_intensity.tif, crown_state.tif,
      max_spread_dir.tif, midflame_wind.tif; see fuelrl.commands.behave_map and docs/science.md)

Examples::

    fuelrl behave ../shared/data/landscapes/flammap_testmtt_19545/19545.lcp --wind-speed 36 \\
        --wind-from 299 --moisture 3,4,10,53,131 --conventions flammap --out runs/behave_testmtt
    fuelrl behave synthetic:seed=7,size=96 --wind-speed 20 --moisture 4,6,13,30,60 --out runs/behave_syn

Batch calculator input columns (one row per case; units in the names):

  fuel_model            GR1 ... SB4, FM1 ... FM13, NB1/2/3/8/9, or a number (101-204, 1-13, 91-99)
  m1h_pct m10h_pct m100h_pct   dead fuel moistures, % of dry weight (0-100]
  mherb_pct mwoody_pct         live fuel moistures, % (0-500]
  slope_pct             slope, % (rise/run x 100), 0-600
  aspect_deg            azimuth the slope faces (downslope), 0-360
  wind_from_deg         azimuth the wind blows from, 0-360
  midflame_wind_mph     midflame wind, or
  wind_20ft_mph         20-ft wind (the wind adjustment factor then applies)
  optional, all five together for crown fire: canopy_cover_pct, canopy_height_m,
  canopy_base_height_m, canopy_bulk_density_kg_m3, foliar_moisture_pct

Output: the input columns followed by ros_head_m_min, ros_head_ch_h, direction_max_deg,
effective_wind_mph, lw_ratio, reaction_intensity_kw_m2, reaction_intensity_btu_ft2_min,
fireline_intensity_kw_m, fireline_intensity_btu_ft_s, flame_length_m, flame_length_ft, and
fire_type (none / surface / passive / active) when the canopy columns are given.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from fuelrl.errors import InputError
from fuelrl.physics import units
from fuelrl.physics.behavior import CONVENTIONS, FIRE_TYPES, fire_behavior
from fuelrl.physics.fuel_models import parse_fuel_model

REQUIRED = (
    "fuel_model",
    "m1h_pct",
    "m10h_pct",
    "m100h_pct",
    "mherb_pct",
    "mwoody_pct",
    "slope_pct",
    "aspect_deg",
    "wind_from_deg",
)
WIND_COLUMNS = ("midflame_wind_mph", "wind_20ft_mph")
CANOPY_COLUMNS = (
    "canopy_cover_pct",
    "canopy_height_m",
    "canopy_base_height_m",
    "canopy_bulk_density_kg_m3",
    "foliar_moisture_pct",
)
# column -> (low, high, low inclusive?) accepted range
RANGES: dict[str, tuple[float, float, bool]] = {
    "m1h_pct": (0.0, 100.0, False),
    "m10h_pct": (0.0, 100.0, False),
    "m100h_pct": (0.0, 100.0, False),
    "mherb_pct": (0.0, 500.0, False),
    "mwoody_pct": (0.0, 500.0, False),
    "slope_pct": (0.0, 600.0, True),
    "aspect_deg": (0.0, 360.0, True),
    "wind_from_deg": (0.0, 360.0, True),
    "midflame_wind_mph": (0.0, 150.0, True),
    "wind_20ft_mph": (0.0, 150.0, True),
    "canopy_cover_pct": (0.0, 100.0, True),
    "canopy_height_m": (0.0, 150.0, True),
    "canopy_base_height_m": (0.0, 150.0, True),
    "canopy_bulk_density_kg_m3": (0.0, 2.0, True),
    "foliar_moisture_pct": (0.0, 400.0, False),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from fuelrl.commands.behave_map import add_map_arguments

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n", 2)[2]

    parser.add_argument("--input", type=Path, help="batch mode: conditions CSV, one case per row")
    parser.add_argument("--output", type=Path, help="batch mode: results CSV to write")
    parser.add_argument(
        "--conventions",
        choices=CONVENTIONS,
        default="behave",
        help="behave: BehavePlus 5 (wind limit, Behave L/W); flammap: FlamMap 6 / FARSITE (default behave)",
    )
    add_map_arguments(parser)


def _number(path: Path, row: int, column: str, text: str | None) -> float:
    where = f"{path}: row {row}, column {column}"
    if text is None or text.strip() == "":
        raise InputError(f"{where}: empty value")
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: {text!r} is not a finite number")
    lo, hi, lo_inclusive = RANGES[column]
    if value > hi or value < lo or (value == lo and not lo_inclusive):
        bracket = "[" if lo_inclusive else "("
        raise InputError(f"{where}: {text} is out of range, expected {bracket}{lo:g}, {hi:g}]")
    return value


def read_conditions(path: Path) -> tuple[list[str], list[dict[str, str]], dict[str, np.ndarray], bool]:
    """Parse and check the conditions CSV; returns (header, rows, numeric columns, has_canopy)."""
    if not path.is_file():
        raise InputError(f"{path}: input file not found")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in (reader.fieldnames or [])]
        rows = [{(k or "").strip(): v for k, v in r.items()} for r in reader]
    if not header:
        raise InputError(f"{path}: empty file, expected a header row with columns {', '.join(REQUIRED)}")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"{path}: missing column {missing[0]} (required: {', '.join(REQUIRED)})")
    winds = [c for c in WIND_COLUMNS if c in header]
    if not winds:
        raise InputError(f"{path}: missing column midflame_wind_mph or wind_20ft_mph (give one of them)")
    canopy_given = [c for c in CANOPY_COLUMNS if c in header]
    if canopy_given and len(canopy_given) < len(CANOPY_COLUMNS):
        absent = [c for c in CANOPY_COLUMNS if c not in header]
        raise InputError(
            f"{path}: missing column {absent[0]} (crown fire needs all of {', '.join(CANOPY_COLUMNS)})"
        )
    if not rows:
        raise InputError(f"{path}: no data rows")
    has_canopy = bool(canopy_given)

    n = len(rows)
    cols: dict[str, np.ndarray] = {c: np.zeros(n) for c in (*REQUIRED[1:], *CANOPY_COLUMNS)}
    cols["fuel_model"] = np.zeros(n, dtype=np.int64)
    cols["midflame_wind_mph"] = np.full(n, np.nan)
    cols["wind_20ft_mph"] = np.full(n, np.nan)
    for i, r in enumerate(rows):
        row = i + 1
        if None in r:
            raise InputError(f"{path}: row {row} has more fields than the header")
        try:
            cols["fuel_model"][i] = parse_fuel_model(r.get("fuel_model") or "")
        except InputError as exc:
            raise InputError(f"{path}: row {row}, column fuel_model: {exc}") from None
        for c in REQUIRED[1:]:
            cols[c][i] = _number(path, row, c, r.get(c))
        filled = [c for c in winds if (r.get(c) or "").strip() != ""]
        if len(filled) != 1:
            what = "both" if len(filled) > 1 else "neither"
            raise InputError(
                f"{path}: row {row}, column {winds[0]}: {what} of midflame_wind_mph and wind_20ft_mph "
                "given, expected exactly one"
            )
        cols[filled[0]][i] = _number(path, row, filled[0], r.get(filled[0]))
        if has_canopy:
            for c in CANOPY_COLUMNS:
                cols[c][i] = _number(path, row, c, r.get(c))
    return header, rows, cols, has_canopy


def compute(cols: dict[str, np.ndarray], has_canopy: bool, conventions: str) -> dict[str, np.ndarray]:
    """Fire behaviour for every row (numpy), in the output columns' units."""
    mid = cols["midflame_wind_mph"]
    u20 = cols["wind_20ft_mph"]
    use_mid = np.isfinite(mid)
    moisture = np.stack(
        [cols[c] for c in ("m1h_pct", "m10h_pct", "m100h_pct", "mherb_pct", "mwoody_pct")], -1
    )
    common = dict(
        fuel_model=cols["fuel_model"],
        slope_fraction=cols["slope_pct"] / 100.0,
        aspect_deg=cols["aspect_deg"],
        canopy_cover_fraction=cols["canopy_cover_pct"] / 100.0,
        canopy_height_m=cols["canopy_height_m"],
        canopy_base_height_m=cols["canopy_base_height_m"],
        canopy_bulk_density_kg_m3=cols["canopy_bulk_density_kg_m3"],
    )
    kwargs = dict(
        wind_from_deg=cols["wind_from_deg"],
        moisture_fraction=moisture / 100.0,
        foliar_moisture_fraction=np.where(has_canopy, cols["foliar_moisture_pct"], 100.0) / 100.0,
        conventions=conventions,
        crown_fire=has_canopy,
    )
    # Rows with a 20-ft wind and rows with a midflame wind are computed separately and merged.
    by_20ft = fire_behavior(
        *common.values(), wind_speed_20ft_m_min=np.nan_to_num(u20) * units.M_MIN_PER_MPH, **kwargs
    )
    by_mid = fire_behavior(
        *common.values(),
        wind_speed_20ft_m_min=None,
        midflame_wind_m_min=np.nan_to_num(mid) * units.M_MIN_PER_MPH,
        **kwargs,
    )
    fb = type(by_20ft)(*[np.where(use_mid, a, b) for a, b in zip(by_mid, by_20ft, strict=True)])
    out = {
        "ros_head_m_min": fb.ros_head_m_min,
        "ros_head_ch_h": fb.ros_head_m_min / units.M_MIN_PER_CH_H,
        "direction_max_deg": fb.direction_max_deg,
        "effective_wind_mph": fb.effective_wind_m_min / units.M_MIN_PER_MPH,
        "lw_ratio": fb.lw_ratio,
        "reaction_intensity_kw_m2": fb.reaction_intensity_kw_m2,
        "reaction_intensity_btu_ft2_min": fb.reaction_intensity_kw_m2 / units.KW_M2_PER_BTU_FT2_MIN,
        "fireline_intensity_kw_m": fb.fireline_intensity_kw_m,
        "fireline_intensity_btu_ft_s": fb.fireline_intensity_kw_m / units.KW_M_PER_BTU_FT_S,
        "flame_length_m": fb.flame_length_m,
        "flame_length_ft": fb.flame_length_m / units.M_PER_FT,
    }
    if has_canopy:
        out["fire_type"] = np.asarray(fb.fire_type)
    return out


def write_results(
    path: Path, header: list[str], rows: list[dict[str, str]], results: dict[str, np.ndarray]
) -> None:
    """Write atomically: a temporary file beside ``path`` renamed over it on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            names = [c for c in results if c not in header]
            writer.writerow([*header, *names])
            for i, r in enumerate(rows):
                values = []
                for c in names:
                    v = results[c][i]
                    values.append(FIRE_TYPES[int(v)] if c == "fire_type" else f"{float(v):.6g}")
                writer.writerow([r.get(h, "") for h in header] + values)
        from fuelrl.outputs import chmod_umask

        chmod_umask(tmp)  # mkstemp made it 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    if getattr(args, "landscape", None) is not None:
        if args.input is not None or args.output is not None:
            raise InputError(
                f"give a LANDSCAPE ({args.landscape}) with --out DIR, or --input CSV with --output CSV, "
                "not both"
            )
        from fuelrl.commands.behave_map import run_map

        return run_map(args)
    if args.input is None or args.output is None:
        raise InputError(
            "give --input CONDITIONS.csv and --output RESULTS.csv (batch mode), "
            "or a LANDSCAPE and --out DIR (landscape mode)"
        )
    if args.out is not None:
        raise InputError(
            "--out is for the landscape mode (fuelrl behave LANDSCAPE --out DIR); "
            "the batch mode writes --output"
        )
    header, rows, cols, has_canopy = read_conditions(args.input)
    results = compute(cols, has_canopy, args.conventions)
    write_results(args.output, header, rows, results)
    print(f"wrote {len(rows)} rows to {args.output}")
    return 0
