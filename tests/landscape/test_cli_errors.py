"""A bad landscape through the command line: one line on stderr, exit status 2, nothing written."""

from __future__ import annotations

import pytest

from fuelrl import cli


@pytest.fixture(autouse=True)
def _needs_simulate():
    if "simulate" not in cli.COMMANDS:
        pytest.skip("the simulate command is not installed in this checkout")


def _run(capsys, landscape, out):
    code = cli.main(["simulate", str(landscape), "--fires", "2", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    return code, err


def test_missing_landscape_exits_2(tmp_path, capsys):
    code, err = _run(capsys, tmp_path / "nowhere", tmp_path / "out")
    assert code == 2 and "\n" not in err and "landscape not found" in err
    assert not (tmp_path / "out").exists()


def test_truncated_layer_exits_2(landfire_folder, tmp_path, capsys):
    path = landfire_folder / "LC22_CC_230.tif"
    path.write_bytes(path.read_bytes()[:-150])
    code, err = _run(capsys, landfire_folder, tmp_path / "out")
    assert code == 2 and "\n" not in err and "LC22_CC_230.tif (canopy cover)" in err
    assert not (tmp_path / "out").exists()
