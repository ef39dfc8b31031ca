"""Progress bars: on a terminal (a pseudo-terminal here) `plan` and `simulate` show them; in a pipe
or a log they print nothing of the kind."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fuelrl.landscape import generate_landscape, write_landscape

FAST = ["--duration", "90", "--wind-speed", "15", "--backend", "numpy"]


@pytest.fixture(scope="module")
def land(tmp_path_factory):
    path = tmp_path_factory.mktemp("ls") / "land.tif"
    write_landscape(generate_landscape(seed=3, shape=(30, 30)), path)
    return path


def _run(argv: list[str], tty: bool, tmp_path) -> str:
    """stderr of ``fuelrl ARGV``, given a pseudo-terminal (``tty``) or a pipe."""
    env = {k: v for k, v in os.environ.items() if k != "FUELRL_PROGRESS"}
    cmd = [sys.executable, "-m", "fuelrl.cli", *argv]
    if not tty:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stderr
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=300) == 0
    finally:
        os.close(master)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("tty", [True, False])
def test_plan_shows_a_bar_on_a_terminal_only(land, tmp_path, tty):
    argv = ["plan", str(land), "--policy", "dpv", "--fires", "6", "--budget", "0.05", *FAST]
    err = _run([*argv, "--out", str(tmp_path / "out")], tty, tmp_path)
    if tty:
        assert "dpv breaks" in err and "\r" in err, err
    else:
        assert "breaks" not in err and "units" not in err and "\r" not in err, err


def test_simulate_shows_fires_on_a_terminal(land, tmp_path):
    argv = ["simulate", str(land), "--fires", "4", "--fires-per-chunk", "2", *FAST]
    err = _run([*argv, "--out", str(tmp_path / "out")], True, tmp_path)
    assert "fires:" in err and "/4 [" in err, err
