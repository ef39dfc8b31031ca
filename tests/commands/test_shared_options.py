"""Every command validates the shared options the same way: one line naming the option, exit 2,
nothing written, before anything is read or computed."""

from __future__ import annotations

import pytest

from fuelrl import cli

SPEC = "synthetic:seed=3,size=24"

BAD = [
    (["--wind-from", "nan"], "--wind-from must be a number in -360..720"),
    (["--wind-speed", "inf"], "--wind-speed must be a number"),
    (["--duration", "inf"], "--duration must be a number in 1..43200"),
    (["--duration", "0"], "--duration must be a number in 1..43200"),
    (["--foliar-moisture", "nan"], "--foliar-moisture must be a number"),
    (["--moisture", "6,7,8"], "--moisture must be 5 comma-separated"),
    (["--seed", "-1"], "--seed must be an integer in 0..2**63-1"),
    (["--fires", "1000000000"], "--fires must be an integer in 1..1,000,000"),
    (["--fires", "0"], "--fires must be an integer in 1..1,000,000"),
    (["--treatment-fuel-model", "55"], "--treatment-fuel-model 55 is not a fuel model"),
    (["--units", "canopy_cover"], "--units must be LAYER=UNIT"),
    (["--units", "canopy_cover=furlongs"], "canopy_cover cannot be 'furlongs'"),
    (["--cell-size", "0.0003"], "--cell-size must be a number in 1..1000 m"),
    (["--cell-size", "30"], "units, cell size and mapping apply to files"),
]


def _run(capsys, command, extra, out):
    base = {
        "simulate": ["simulate", SPEC, "--fires", "2"],
        "plan": ["plan", SPEC, "--policy", "random", "--fires", "2"],
        "evaluate": ["evaluate", SPEC, "--policies", "random", "--fires", "2"],
    }[command]
    args = list(base)
    # a repeated option: the later value wins in argparse, so the bad one goes last
    args += [*extra, "--out", str(out)]
    code = cli.main(args)
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize("command", ["simulate", "plan", "evaluate"])
@pytest.mark.parametrize(("extra", "expected"), BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_shared_option(tmp_path, capsys, command, extra, expected):
    out = tmp_path / "out"
    code, err = _run(capsys, command, extra, out)
    assert code == 2, err
    assert "\n" not in err and expected in err and err.startswith(f"fuelrl {command}: error:")
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("extra", [["--ignition", "nan", "nan"], ["--ignition", "1", "inf"]])
def test_non_finite_ignition(tmp_path, capsys, extra):
    code = cli.main(["simulate", SPEC, *extra, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--ignition X Y must be finite" in err and "\n" not in err


def test_plan_ranges_also_apply_to_simulate(tmp_path, capsys):
    """The same range in every command: what plan refuses, simulate refuses."""
    for command in ("plan", "simulate"):
        code, err = _run(capsys, command, ["--wind-speed", "250"], tmp_path / "o")
        assert code == 2 and "--wind-speed must be a number in 0..200" in err


def test_simulate_help_example_ignition_is_inside_worcester(worcester_dir):
    from fuelrl.commands import simulate
    from fuelrl.landscape import open_landscape

    land = open_landscape(worcester_dir)
    row, col = land.xy_to_rowcol(1841940, 2608590)
    assert "--ignition 1841940 2608590" in simulate.__doc__ and land.burnable[row, col]
