"""The example plugin (plugins/fuelrl-ca) as a third party ships it: found through its entry point
only, listed by `fuelrl backends`, usable by `fuelrl simulate`, and passing its own tests (which
subclass fuelrl's conformance suite). scripts/test.sh installs it (scripts/_venv.sh)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

from fuelrl import registry

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "plugins" / "fuelrl-ca"


def _fuelrl(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("fuelrl")
    cmd = [exe] if exe else [sys.executable, "-m", "fuelrl.cli"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def installed():
    try:
        dist = distribution("fuelrl-ca")
    except PackageNotFoundError:
        pytest.fail("fuelrl-ca is not installed: run scripts/test.sh (or pip install -e plugins/fuelrl-ca)")
    return dist


def test_plugin_registers_only_through_its_entry_point(installed):
    eps = [ep for ep in installed.entry_points if ep.group == registry.GROUP]
    assert [ep.name for ep in eps] == ["ca"]
    registry.refresh()
    info = {i.name: i for i in registry.entries()}["ca"]
    assert info.distribution == "fuelrl-ca"
    assert info.cls.__module__ == "fuelrl_ca.backend"
    # fuelrl itself never imports the plugin
    fuelrl_src = "\n".join(p.read_text() for p in (REPO / "fuelrl").rglob("*.py"))
    assert "fuelrl_ca" not in fuelrl_src


def test_fuelrl_backends_lists_the_plugin(installed):
    proc = _fuelrl("backends")
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines()[1:] if line.strip()}
    assert rows["ca"][1:3] == ["fuelrl-ca", installed.version]
    for builtin in ("numpy", "threaded", "torch"):
        assert rows[builtin][1] == "fuelrl"


def test_plugin_passes_its_own_conformance_tests(installed):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PLUGIN / "tests")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
