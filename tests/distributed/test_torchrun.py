"""`fuelrl simulate`, `evaluate` and `plan` on 2 local processes (torchrun, gloo) write exactly
what one process writes, and a rank that fails makes the run fail with nothing written (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

pytestmark = pytest.mark.slow

LANDSCAPE = "synthetic:seed=7,size=40"
FIRE = ["--duration", "120", "--wind-speed", "20", "--backend", "numpy"]
#: fields that record how the run went, not what it computed
RUN_FIELDS = {"sim_seconds", "seconds_per_fire", "plan_seconds", "processes"}

COMMANDS = {
    "simulate": ["simulate", LANDSCAPE, "--fires", "9", "--fires-per-chunk", "4", *FIRE],
    "simulate_one_fire": ["simulate", LANDSCAPE, "--fires", "1", *FIRE],
    "evaluate": [
        "evaluate",
        LANDSCAPE,
        "--policies",
        "random,burn_probability,dpv",
        "--budget",
        "0.05",
        "--fires",
        "7",
        "--planning-fires",
        "5",
        *FIRE,
    ],
    "plan": [
        "plan",
        LANDSCAPE,
        "--policy",
        "dpv",
        "--budget",
        "0.05",
        "--fires",
        "6",
        "--planning-fires",
        "5",
        "--recompute-every",
        "10",
        *FIRE,
    ],
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    return env


def _run(cwd: Path, argv: list[str], processes: int, script: list[str] | None = None):
    cwd.mkdir(parents=True, exist_ok=True)
    if processes == 1:
        cmd = [sys.executable, "-m", "fuelrl.cli", *argv]
    else:
        launch = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={processes}",
        ]
        cmd = [*launch, *(script or ["-m", "fuelrl.cli"]), *argv]
    return subprocess.run(
        cmd + ["--out", "out"], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=600
    )


def _without_run_fields(x):
    if isinstance(x, dict):
        return {k: _without_run_fields(v) for k, v in x.items() if k not in RUN_FIELDS}
    if isinstance(x, list):
        return [_without_run_fields(v) for v in x]
    return x


def _assert_same_outputs(one: Path, two: Path) -> int:
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file() and p.name != ".fuelrl-run.json")
    assert files == sorted(
        p.relative_to(two) for p in two.rglob("*") if p.is_file() and p.name != ".fuelrl-run.json"
    )
    rasters = 0
    for rel in files:
        a, b = one / rel, two / rel
        if rel.suffix == ".tif":
            with rasterio.open(a) as da, rasterio.open(b) as db:
                assert (da.crs, da.transform, da.tags()) == (db.crs, db.transform, db.tags()), rel
                xa, xb = da.read(), db.read()
                assert xa.dtype == xb.dtype and xa.tobytes() == xb.tobytes(), rel
            assert a.read_bytes() == b.read_bytes(), rel
            rasters += 1
        elif rel.suffix == ".json":
            ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
            assert jb.get("processes", 2) == 2
            assert _without_run_fields(ja) == _without_run_fields(jb), rel
        elif rel.suffix == ".csv":
            assert a.read_bytes() == b.read_bytes(), rel
    return rasters


@pytest.mark.parametrize("name", list(COMMANDS))
def test_two_processes_write_what_one_process_writes(name, tmp_path):
    argv = COMMANDS[name]
    single = _run(tmp_path / "one", argv, 1)
    assert single.returncode == 0, single.stderr[-3000:]
    double = _run(tmp_path / "two", argv, 2)
    assert double.returncode == 0, double.stderr[-3000:]
    assert _assert_same_outputs(tmp_path / "one" / "out", tmp_path / "two" / "out") >= 1
    # rank 0 alone reports (the other rank prints nothing)
    assert double.stdout.count(" -> out") == 1
    if name == "simulate_one_fire":
        with rasterio.open(tmp_path / "two" / "out" / "arrival_time.tif") as ds:
            assert np.isfinite(ds.read(1, masked=True).compressed()).any()


FAILING = """
import os
import sys

from fuelrl.commands import simulate

if os.environ.get("RANK") == "1":
    def lost(*args, **kwargs):
        raise RuntimeError("rank 1 lost its simulator")
    simulate.simulate_chunked = lost

from fuelrl.cli import main

raise SystemExit(main(sys.argv[1:]))
"""


def test_a_failed_rank_fails_the_run_with_a_clear_message_and_nothing_written(tmp_path):
    script = tmp_path / "failing.py"
    script.write_text(FAILING)
    proc = _run(tmp_path / "run", COMMANDS["simulate"], 2, script=[str(script)])
    assert proc.returncode != 0
    err = proc.stderr
    assert "rank 1 lost its simulator" in err
    assert "error (rank 0 of 2): another process of this run failed or left" in err
    assert "nothing was written" in err
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == []  # no out, no temporary folder
