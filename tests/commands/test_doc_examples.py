"""Every command example in docs/, README.md and the ``--help`` texts runs as written (with tiny
fire counts), so examples cannot drift from the code again.

Examples run in order, in one scratch folder beside a link to ../shared, so an example may use
the outputs of an earlier one (``--breaks runs/plan/breaks.tif``). Synopsis lines (with
placeholders such as ``LANDSCAPE`` or ``[--seed S]``) and printed output are not examples.
Training and benchmark examples take minutes: they are listed, with the reason, in :data:`NOT_RUN`.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fuelrl import cli

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("FUELRL_SHARED", REPO.parent / "shared")).resolve()
#: subcommands whose examples are not run here, and why
NOT_RUN = {
    "fit": "training takes minutes; tests/agents runs the quickstart config",
    "validate": "needs a trained checkpoint (fuelrl fit)",
    "test": "needs a trained checkpoint (fuelrl fit)",
    "bench": "benchmarks take minutes; tests/bench runs them",
}
_PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]{2,}\b|\[|\.\.\.|\|")
_START = re.compile(r"^(?:\$ )?fuelrl [a-z]")


def _joined(lines: list[str], i: int) -> tuple[str, int]:
    cmd = lines[i].strip().removeprefix("$ ")
    while cmd.endswith("\\") and i + 1 < len(lines):
        i += 1
        cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
    return cmd, i


def _from_text(text: str, where: str, *, code_only: bool) -> list[tuple[str, str]]:
    out, in_code = [], not code_only
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if code_only and stripped.startswith("```"):
            in_code = not in_code
        elif in_code and _START.match(stripped):
            start = i
            cmd, i = _joined(lines, i)
            out.append((f"{where}:{start + 1}", cmd))
        i += 1
    return out


def examples() -> list[tuple[str, str]]:
    found = []
    for md in [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]:
        found += _from_text(md.read_text(), md.relative_to(REPO).as_posix(), code_only=True)
    for name, (module_name, _) in sorted(cli.COMMANDS.items()):
        doc = importlib.import_module(f"fuelrl.commands.{module_name}").__doc__ or ""
        if "Examples::" in doc:
            block = doc.split("Examples::", 1)[1].split("\n\n", 2)[1]
            found += _from_text(block, f"fuelrl {name} --help", code_only=False)
    return found


def runnable(cmd: str) -> tuple[list[str] | None, str]:
    """The argv to run (tiny fire counts), or None and why not."""
    if ": error:" in cmd or ": notice:" in cmd:
        return None, "printed output"
    words = shlex.split(cmd, comments=True)
    if _PLACEHOLDER.search(" ".join(words[2:]).replace("--", " ")):
        return None, "synopsis"
    if words[1] in NOT_RUN:
        return None, NOT_RUN[words[1]]
    if any(w.endswith(".ckpt") for p in words for w in p.split(",")):
        return None, "needs a trained checkpoint (fuelrl fit)"
    if "cuda" in words and not torch.cuda.is_available():
        return None, "needs a CUDA GPU"
    argv = list(words[1:])
    for flag in ("--fires", "--planning-fires"):
        if flag in argv:
            argv[argv.index(flag) + 1] = "2"
    if "--out" in argv:
        argv.append("--overwrite")
    return argv, ""


def test_examples_are_found():
    found = examples()
    where = {w.split(":")[0] for w, _ in found}
    assert {"fuelrl simulate --help", "fuelrl plan --help", "fuelrl evaluate --help"} <= where
    assert len(found) > 20


@pytest.mark.slow
def test_every_documented_example_runs(tmp_path):
    if not SHARED.exists():
        pytest.skip(f"shared data not found: {SHARED}")
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "shared").symlink_to(SHARED)
    for name in ("configs", "docs"):
        (work / name).symlink_to(REPO / name)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    failures, ran = [], 0
    for where, cmd in examples():
        argv, why = runnable(cmd)
        if argv is None:
            continue
        proc = subprocess.run(
            [sys.executable, "-m", "fuelrl.cli", *argv],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        ran += 1
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            failures.append(f"{where}: {cmd}\n    -> exit {proc.returncode}: {last}")
    assert ran > 5
    assert not failures, "examples that do not run as written:\n" + "\n".join(failures)
