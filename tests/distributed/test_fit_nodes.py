"""The multi-node `fuelrl fit` recipe of docs/scaling.md, as far as one machine allows: 2 "nodes"
of 1 process each (torchrun's rendezvous on localhost, Lightning DDP, gloo), rank-0-only
checkpoints and TensorBoard, and a resume from the last checkpoint (slow)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _two_nodes(root: Path, steps: int, *extra: str) -> list[subprocess.CompletedProcess]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    procs = []
    for node in (0, 1):
        cmd = [
            sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1",
            "--node_rank", str(node), "--master_addr", "127.0.0.1", "--master_port", str(port),
            "-m", "fuelrl.cli", "fit", "--config", str(REPO / "configs" / "quickstart.yaml"),
            "--trainer.accelerator", "cpu", "--trainer.num_nodes", "2", "--trainer.devices", "1",
            "--trainer.strategy", "ddp", "--trainer.max_steps", str(steps),
            "--trainer.default_root_dir", str(root), *extra,
        ]  # fmt: skip
        procs.append(subprocess.Popen(cmd, cwd=root.parent, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))  # fmt: skip
    out = []
    for p in procs:
        stdout, _ = p.communicate(timeout=900)
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, ""))
    return out


def test_two_nodes_train_write_once_and_resume(tmp_path):
    root = tmp_path / "run"
    first = _two_nodes(root, 20)
    for node, proc in enumerate(first):
        assert proc.returncode == 0, f"node {node}:\n{proc.stdout[-3000:]}"
    assert "MEMBER: 1/2" in first[0].stdout and "MEMBER: 2/2" in first[1].stdout
    assert "fuelrl fit: finished at step 20" in first[0].stdout
    assert "fuelrl fit: finished" not in first[1].stdout  # rank 0 alone reports
    assert [p.name for p in (root / "checkpoints").iterdir()] == ["last.ckpt"]
    assert [p.name for p in (root / "lightning_logs").iterdir()] == ["version_0"]
    assert len(list((root / "lightning_logs" / "version_0").glob("events.out.tfevents.*"))) == 1

    again = _two_nodes(root, 30, "--ckpt_path", "last")  # the job resubmitted after a lost node
    for node, proc in enumerate(again):
        assert proc.returncode == 0, f"node {node}:\n{proc.stdout[-3000:]}"
        assert "resuming at" in proc.stdout  # each rank restores the collector state
    assert "fuelrl fit: finished at step 30" in again[0].stdout
    ckpt = torch.load(root / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert ckpt["global_step"] == 30
