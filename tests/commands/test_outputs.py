"""Output folders: checked before computing, replaced atomically, cleaned up after signals."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from fuelrl import cli
from fuelrl.errors import InputError, Interrupted
from fuelrl.outputs import MARKER, atomic_output_dir, check_output_dir, clean_stale_temporaries

SPEC = "synthetic:seed=3,size=24"


def _simulate(capsys, out, *extra):
    code = cli.main(["simulate", SPEC, "--fires", "2", "--backend", "numpy", *extra, "--out", str(out)])
    return code, capsys.readouterr().err.strip()


def test_out_is_a_file(tmp_path, capsys):
    f = tmp_path / "f.txt"
    f.write_text("x")
    code, err = _simulate(capsys, f)
    assert code == 2 and "is a file; expected a folder" in err and "\n" not in err
    code, err = _simulate(capsys, f / "below")
    assert code == 2 and "is a file, so no folder can be made below it" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_out_not_writable(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        code, err = _simulate(capsys, ro / "out")
        assert code == 2 and "permission denied" in err
    finally:
        ro.chmod(0o700)


def test_not_writable_is_checked_before_computing(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(InputError, match="permission denied"):
        check_output_dir(tmp_path / "out")


def test_reuse_needs_overwrite_and_replaces_the_whole_folder(tmp_path, capsys):
    out = tmp_path / "out"
    assert _simulate(capsys, out)[0] == 0
    (out / "stale_from_another_run.tif").write_text("old")
    code, err = _simulate(capsys, out)
    assert code == 2 and "already holds an earlier run's outputs" in err and "--overwrite" in err
    assert _simulate(capsys, out, "--overwrite")[0] == 0
    names = sorted(p.name for p in out.iterdir())
    assert "stale_from_another_run.tif" not in names and MARKER in names
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # nothing left beside it


def test_a_folder_of_other_files_is_never_replaced(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    code, err = _simulate(capsys, out, "--overwrite")
    assert code == 2 and "not a fuelrl run's outputs" in err
    assert (out / "thesis.tex").read_text() == "precious"


def test_empty_existing_folder_is_used(tmp_path, capsys):
    out = tmp_path / "empty"
    out.mkdir()
    assert _simulate(capsys, out)[0] == 0 and (out / "summary.json").exists()


def test_outputs_honour_the_umask(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        assert _simulate(capsys, tmp_path / "out")[0] == 0
    finally:
        os.umask(old)
    for p in [tmp_path / "out", *(tmp_path / "out").iterdir()]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o755 if p.is_dir() else 0o644), (p.name, oct(mode))


def test_interrupt_inside_the_block_removes_the_temporary_folder(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(Interrupted):
        with atomic_output_dir(out) as tmp:
            (tmp / "part.tif").write_text("half")
            raise Interrupted(signal.SIGTERM)
    assert list(tmp_path.iterdir()) == []


def test_stale_temporaries_of_dead_runs_are_removed(tmp_path, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".out.tmp-{dead.pid}-deadbeef"
    stale.mkdir()
    (stale / "part.tif").write_text("half")
    live = tmp_path / f".out.tmp-{os.getpid()}-cafecafe"  # a run still going: kept
    live.mkdir()
    legacy = tmp_path / ".out.tmp-k3j4h5"  # older fuelrl, no pid: removed once old
    legacy.mkdir()
    os.utime(legacy, (time.time() - 7200, time.time() - 7200))
    removed = clean_stale_temporaries(tmp_path / "out")
    assert sorted(p.name for p in removed) == sorted([stale.name, legacy.name])
    assert live.exists() and not stale.exists()


def test_sigterm_while_simulating_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "fuelrl.cli",
        "simulate",
        "synthetic:seed=1,size=96",
        "--fires",
        "100000",
        "--fires-per-chunk",
        "2",
        "--backend",
        "numpy",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)  # imports, generation and the first chunks
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == "fuelrl simulate: interrupted (SIGTERM); partial outputs removed"
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_policy_file_names_are_unique():
    from fuelrl.commands.evaluate import unique_slugs

    slugs = unique_slugs(["agent:a.b", "agent:a_b", "Agent:A_B", "dpv"])
    assert len(set(s.lower() for s in slugs.values())) == 4 and slugs["dpv"] == "dpv"


def test_two_runs_last_checkpoints_get_distinct_labels(tmp_path):
    from fuelrl.baselines.evaluation import _checkpoint_labels

    a = tmp_path / "runA" / "checkpoints" / "last.ckpt"
    b = tmp_path / "runB" / "checkpoints" / "last.ckpt"
    labels = _checkpoint_labels([str(a), str(b), "dpv"])
    assert labels == {str(a): "agent:runA/last", str(b): "agent:runB/last"}
    assert _checkpoint_labels([str(a)]) == {str(a): "agent:last"}
