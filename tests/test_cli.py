"""The `fuelrl` command as a user runs it (a subprocess on the installed console script)."""

from __future__ import annotations

import shutil
import subprocess
import sys

from fuelrl import cli


def _fuelrl(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("fuelrl")
    cmd = [exe] if exe else [sys.executable, "-m", "fuelrl.cli"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300)


def test_help_lists_every_subcommand_with_one_line():
    proc = _fuelrl("--help")
    assert proc.returncode == 0, proc.stderr
    for name, (_, help_text) in cli.COMMANDS.items():
        assert name in proc.stdout
        assert help_text.split()[0] in proc.stdout
    for name in cli.LIGHTNING_COMMANDS:
        assert name in proc.stdout


def test_backends_runs():
    proc = _fuelrl("backends")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split() == ["NAME", "DISTRIBUTION", "DEVICES", "DESCRIPTION"]


def test_unknown_subcommand_fails():
    proc = _fuelrl("no-such-command")
    assert proc.returncode != 0
    assert "invalid choice" in proc.stderr
