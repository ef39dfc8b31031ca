"""pyproject.toml's licence metadata: an SPDX expression and the licence file (no setuptools warning).

setuptools >= 77 warns (and will refuse after 2027-02-18) when ``project.license`` is a TOML table;
the slow test builds the wheel with the installed setuptools and checks the build says nothing about
the licence and that the wheel carries the file and the ``License-Expression`` field.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_license_is_an_spdx_string_with_its_files():
    project = _project()
    assert project["license"] == "MIT"  # an SPDX expression, not a table
    for name in project["license-files"]:
        assert (ROOT / name).is_file(), name
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    for plugin in sorted((ROOT / "plugins").glob("*/pyproject.toml")):  # installed beside fuelrl
        meta = tomllib.loads(plugin.read_text())
        assert isinstance(meta["project"]["license"], str), plugin  # not a table: setuptools warns


@pytest.mark.slow
def test_wheel_builds_without_a_license_warning(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", *_project()["license-files"]):
        (src / name).write_bytes((ROOT / name).read_bytes())
    (src / "fuelrl").mkdir()  # metadata only needs a package folder
    (src / "fuelrl" / "__init__.py").write_text("")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            str(src),
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "license" not in (proc.stdout + proc.stderr).lower().replace("license-file", ""), proc.stderr
    (wheel,) = tmp_path.glob("fuelrl-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = zf.read(next(n for n in names if n.endswith("dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in meta
    assert any(n.endswith("licenses/LICENSE") for n in names)
