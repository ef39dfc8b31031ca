"""`fuelrl behave`: the batch calculator end to end through the CLI entry point."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fuelrl.cli import main

HEADER = "fuel_model,m1h_pct,m10h_pct,m100h_pct,mherb_pct,mwoody_pct,slope_pct,aspect_deg,wind_from_deg"
OUT_COLUMNS = [
    "ros_head_m_min",
    "ros_head_ch_h",
    "direction_max_deg",
    "effective_wind_mph",
    "lw_ratio",
    "reaction_intensity_kw_m2",
    "reaction_intensity_btu_ft2_min",
    "fireline_intensity_kw_m",
    "fireline_intensity_btu_ft_s",
    "flame_length_m",
    "flame_length_ft",
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


def _read(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_surface_rows_match_behaveplus(tmp_path, reference_dir):
    """Rows copied from the BehavePlus 5 table come back with BehavePlus's numbers."""
    rows = [
        r
        for r in _read(reference_dir / "behaveplus5_reference_values.csv")
        if r["scenario"].endswith(("with-wind-and-slope", "135-180"))
    ][::7]
    lines = [HEADER + ",midflame_wind_mph"]
    for r in rows:
        wind_from, aspect = (135, 180) if r["orientation"].startswith("wind_dir_135") else (180, 180)
        lines.append(
            ",".join(
                [
                    r["fuel_model"],
                    r["m1h_pct"],
                    r["m10h_pct"],
                    r["m100h_pct"],
                    r["mherb_pct"],
                    r["mwoody_pct"],
                    r["slope_pct"],
                    str(aspect),
                    str(wind_from),
                    r["midflame_wind_mph"],
                ]
            )
        )
    src = _write(tmp_path / "conditions.csv", "\n".join(lines))
    out = tmp_path / "results.csv"
    assert main(["behave", "--input", str(src), "--output", str(out)]) == 0
    got = _read(out)
    assert list(got[0])[-len(OUT_COLUMNS) :] == OUT_COLUMNS
    assert "fire_type" not in got[0]
    for ref, res in zip(rows, got, strict=True):
        assert res["fuel_model"] == ref["fuel_model"]
        assert float(res["ros_head_ch_h"]) == pytest.approx(
            float(ref["ros_max_ch_h"]), abs=0.05 + 0.003 * float(ref["ros_max_ch_h"])
        )
        assert float(res["flame_length_ft"]) == pytest.approx(float(ref["flame_length_ft"]), abs=0.06)
        assert float(res["ros_head_m_min"]) == pytest.approx(float(res["ros_head_ch_h"]) * 0.33528, rel=1e-4)
        assert float(res["flame_length_m"]) == pytest.approx(float(res["flame_length_ft"]) * 0.3048, rel=1e-4)


def test_crown_columns_give_fire_type_and_20ft_wind(tmp_path):
    src = _write(
        tmp_path / "c.csv",
        f"""
{HEADER},wind_20ft_mph,midflame_wind_mph,canopy_cover_pct,canopy_height_m,canopy_base_height_m,canopy_bulk_density_kg_m3,foliar_moisture_pct
TU5,3,4,6,60,90,30,180,180,25,,70,20,1,0.25,100
TU5,3,4,6,60,90,30,180,180,2,,70,20,10,0.05,100
TU5,3,4,6,60,90,30,180,180,8,,70,20,2,0.05,100
NB9,6,7,8,90,120,0,0,0,,4,0,0,0,0,100
""",
    )
    out = tmp_path / "r.csv"
    assert main(["behave", "--input", str(src), "--output", str(out)]) == 0
    got = _read(out)
    assert [r["fire_type"] for r in got] == ["active", "surface", "passive", "none"]
    assert float(got[0]["ros_head_m_min"]) > 3 * float(got[1]["ros_head_m_min"])
    assert float(got[3]["ros_head_m_min"]) == 0.0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("GR0,6,7,8,90,120,0,0,0,5", "row 1, column fuel_model"),
        ("GR1,abc,7,8,90,120,0,0,0,5", "row 1, column m1h_pct"),
        ("GR1,6,7,8,90,120,-5,0,0,5", "row 1, column slope_pct"),
        ("GR1,6,7,0,90,120,0,0,0,5", "row 1, column m100h_pct"),
        ("GR1,6,7,8,90,120,0,0,400,5", "row 1, column wind_from_deg"),
        ("GR1,6,7,8,,120,0,0,0,5", "row 1, column mherb_pct"),
    ],
)
def test_bad_row_exits_2_and_writes_nothing(tmp_path, capsys, row, message):
    good = "GR2,6,7,8,90,120,10,180,180,5"
    src = _write(tmp_path / "bad.csv", f"{HEADER},midflame_wind_mph\n{row}\n{good}")
    out = tmp_path / "out.csv"
    assert main(["behave", "--input", str(src), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(src) in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary file left either


def test_missing_columns(tmp_path, capsys):
    src = _write(tmp_path / "m.csv", "fuel_model,m1h_pct\nGR1,5")
    assert main(["behave", "--input", str(src), "--output", str(tmp_path / "o.csv")]) == 2
    assert "missing column m10h_pct" in capsys.readouterr().err
    src = _write(tmp_path / "w.csv", f"{HEADER}\nGR1,6,7,8,90,120,0,0,0")
    assert main(["behave", "--input", str(src), "--output", str(tmp_path / "o.csv")]) == 2
    assert "midflame_wind_mph or wind_20ft_mph" in capsys.readouterr().err
    src = _write(
        tmp_path / "c.csv", f"{HEADER},midflame_wind_mph,canopy_cover_pct\nGR1,6,7,8,90,120,0,0,0,5,50"
    )
    assert main(["behave", "--input", str(src), "--output", str(tmp_path / "o.csv")]) == 2
    assert "missing column canopy_height_m" in capsys.readouterr().err
    assert main(["behave", "--input", str(tmp_path / "nope.csv"), "--output", str(tmp_path / "o.csv")]) == 2


def test_existing_output_kept_on_error(tmp_path):
    out = _write(tmp_path / "results.csv", "previous results")
    src = _write(tmp_path / "bad.csv", f"{HEADER},midflame_wind_mph\nGR1,6,7,8,90,120,0,0,0,")
    assert main(["behave", "--input", str(src), "--output", str(out)]) == 2
    assert out.read_text() == "previous results\n"
