"""scripts/gpu_check.sh: on a machine without CUDA it runs nothing GPU-bound, says so in one line and
exits 0; its report (results.json + results.md) has every step and the figures of each bench step.

The full script runs only on a GPU (the next session lent one runs it); here the CPU-only answer is
checked, the report is built from a real (tiny) bench run, and, marked slow, the whole script is
rehearsed on the CPU at smoke-test scale (GPU_CHECK_REHEARSE=1).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "gpu_check.sh"


def _reporter():
    path = REPO / "scripts" / "gpu_check_report.py"
    spec = importlib.util.spec_from_file_location("gpu_check_report", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _has_gpu() -> bool:
    return torch.cuda.is_available() or shutil.which("nvidia-smi") is not None


def _run(out: Path, timeout: float, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "GPU_CHECK_PYTHON": sys.executable, **env}
    full.pop("GPU_CHECK_STEPS", None)
    return subprocess.run(
        ["bash", str(SCRIPT), str(out)], capture_output=True, text=True, timeout=timeout, env=full, cwd=REPO
    )


def _check_results(out: Path, cuda: bool) -> dict:
    results = json.loads((out / "results.json").read_text())
    steps = _reporter().STEPS
    assert results["gpu_check"] == 1 and results["cuda"] is cuda
    assert [s["name"] for s in results["steps"]] == list(steps)
    for key in ("date", "cpu_count", "usable_cores", "versions", "gpus", "cuda_available"):
        assert key in results["machine"]
    assert results["machine"]["versions"]["torch"] == torch.__version__
    md = (out / "results.md").read_text()
    assert md.startswith("# GPU check, ") and "## Steps" in md
    for name in steps:
        assert f"| {name} |" in md
    return results


@pytest.mark.skipif(_has_gpu(), reason="this machine has a GPU: the script would run the whole check")
def test_without_cuda_it_says_so_in_one_line_and_exits_0(tmp_path):
    out = tmp_path / "out"
    proc = _run(out, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and proc.stderr == ""
    assert "no CUDA" in lines[0] and "nothing GPU-bound was run" in lines[0]
    results = _check_results(out, cuda=False)
    assert all(s["status"] == "skipped: no CUDA" for s in results["steps"])
    assert results["figures"] == {} and "no CUDA" in results["reason"]
    assert "No CUDA: nothing GPU-bound was run" in (out / "results.md").read_text()
    # nothing else: no logs of steps that never ran
    assert sorted(p.name for p in out.iterdir()) == ["gpu_check.log", "results.json", "results.md"]


def test_help_and_a_missing_argument_exit_2():
    proc = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "gpu_check.sh OUTDIR" in proc.stderr


def test_report_holds_the_figures_of_each_bench_step(tmp_path):
    """results.json/md from real bench output (a tiny simulator run) and a pytest junit file."""
    from fuelrl.bench.report import jsonable
    from fuelrl.bench.suite import BenchOptions, run_suite

    rep = _reporter()
    work, out = tmp_path / "work", tmp_path / "out"
    (work / "logs").mkdir(parents=True)
    (work / "cmd").mkdir()
    opts = BenchOptions(
        tiny=True,
        device="cpu",
        sections=("sim",),
        sim_backends=("numpy", "threaded"),
        sim_sizes=(32,),
        sim_fires=(2,),
        threaded_workers=(1, 2),
    )
    bench = jsonable(run_suite(opts, log=lambda _: None))
    for step in ("sim_cuda", "cpu_sim"):
        (work / step).mkdir()
        (work / step / "bench.json").write_text(json.dumps(bench))
    (work / "pytest_gpu.xml").write_text(
        '<testsuites><testsuite name="pytest" tests="2">'
        '<testcase classname="tests.a" name="test_one"/>'
        '<testcase classname="tests.b" name="test_two"><skipped message="x"/></testcase>'
        "</testsuite></testsuites>"
    )
    lines = [
        ("setup", "ok", "0", "3", "", ""),
        ("pytest_gpu", "ok", "0", "20", "100", "pytest -m gpu"),
        ("sim_cuda", "ok", "0", "5", "50", ""),
        ("sim_cuda_1024", "timeout", "124", "50", "50", ""),
        ("cpu_sim", "ok", "0", "5", "60", ""),
    ]
    (work / "steps.tsv").write_text("".join("\t".join(row) + "\n" for row in lines))
    (work / "logs" / "sim_cuda.log").write_text("log\n")
    (work / "machine.json").write_text(json.dumps(rep.machine()))
    rep.report(work, out)

    results = _check_results(out, cuda=torch.cuda.is_available())
    status = {s["name"]: s["status"] for s in results["steps"]}
    assert status["sim_cuda_1024"] == "timeout" and status["fit_default"] == "skipped: not reached"
    fig = results["figures"]
    assert fig["pytest_gpu"]["counts"] == {"passed": 1, "failed": 0, "error": 0, "skipped": 1}
    rows = fig["cpu_sim"]["rows"]
    assert {r["backend"] for r in rows} == {"numpy", "threaded x1", "threaded x2"}
    for r in rows:
        assert r["fires_per_s"] > 0 and r["cell_updates_per_s"] == pytest.approx(r["fires_per_s"] * 32 * 32)
    (thr,) = fig["cpu_sim"]["threaded"]
    assert thr["workers"] == 2 and thr["speedup_vs_numpy"] > 0 and thr["speedup_all_cores_vs_1"] > 0
    md = (out / "results.md").read_text()
    assert "## Simulator on the CPU: numpy vs threaded workers" in md and "| threaded x2 |" in md
    with tarfile.open(out / "logs.tar.gz") as tar:
        names = tar.getnames()
    assert "logs/sim_cuda.log" in names and "cpu_sim/bench.json" in names


def test_missing_lists_only_what_is_not_installed(tmp_path):
    rep = _reporter()
    req = tmp_path / "req.txt"
    req.write_text("# comment\ntorch==0.0.1\nno-such-package-fuelrl==1.0\n\nnumpy==1.0  # any version\n")
    assert rep.missing(str(req)) == ["no-such-package-fuelrl==1.0"]


@pytest.mark.slow
def test_rehearsal_runs_every_step_on_the_cpu(tmp_path):
    """GPU_CHECK_REHEARSE=1: every step at smoke-test scale on the CPU (minutes on 2 cores)."""
    out = tmp_path / "out"
    proc = _run(out, timeout=900, GPU_CHECK_REHEARSE="1", GPU_CHECK_WORK=str(tmp_path / "work"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = _check_results(out, cuda=False)
    assert results["rehearsal"] is True
    assert all(s["status"] == "ok" for s in results["steps"]), results["steps"]
    fig = results["figures"]
    every = {"pytest_gpu", "sim_cuda", "sim_cuda_1024", "train", "memory", "cpu_sim", "cpu_env"}
    every.add("fit_default")
    assert every <= set(fig)
    assert fig["fit_default"]["profiler_traces"]
    assert (out / "profiler.tar.gz").is_file() and (out / "logs.tar.gz").is_file()
