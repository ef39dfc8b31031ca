"""`fuelrl fit | validate | test` end to end: configs, TensorBoard tags, checkpoints, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
import yaml

from fuelrl.agents.cli import lightning_main

from .cli_helpers import CONFIGS, LOW_MEM, REPO, TINY, fit_ok, fuelrl_cmd, image_tags, run_fuelrl, scalars

REQUIRED_SCALARS = {
    "train/loss",
    "train/q_mean",
    "train/epsilon",
    "collect/exp_per_s",
    "collect/fires_per_s",
    "eval/burned_ha",
    "eval/burned_ha_random",
    "memory/host_rss_mib",
}


@pytest.mark.parametrize("name", ["quickstart", "default", "low_mem", "high_mem", "cpu_long"])
def test_print_config_for_every_profile(name, capsys):
    rc = lightning_main(
        ["fit", "--config", str(CONFIGS / f"{name}.yaml"), "--model.lr", "3e-4", "--print_config"]
    )
    assert rc == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    source = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())
    assert printed["model"]["lr"] == pytest.approx(3e-4)  # the override wins
    # every net option the profile sets is the one used (the others are the defaults)
    assert {k: printed["model"]["net"][k] for k in source["model"]["net"]} == source["model"]["net"]
    assert printed["data"]["env"]["tile_size"] == source["data"]["env"]["tile_size"]
    assert printed["checkpoint"]["save_last"] is True
    # the network's channels follow the env's (the DPV channel when the config turns it on)
    assert printed["data"]["env"]["dpv_channel"] == source["data"]["env"].get("dpv_channel", False)
    # Lightning's progress bar only on a terminal (pytest's captured stdout is not one), unless set
    assert printed["trainer"]["enable_progress_bar"] is source["trainer"].get("enable_progress_bar", False)


def test_progress_bar_on_a_terminal_unless_the_command_line_says_otherwise(monkeypatch, capsys):
    import sys

    def shown(*extra: str) -> bool:
        rc = lightning_main(["fit", "--config", str(CONFIGS / "quickstart.yaml"), *extra, "--print_config"])
        assert rc == 0
        return yaml.safe_load(capsys.readouterr().out)["trainer"]["enable_progress_bar"]

    assert shown() is False  # captured: not a terminal
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert shown() is True
    assert shown("--trainer.enable_progress_bar=false") is False


def test_bad_options_exit_2_with_an_error_naming_the_option(tmp_path, capsys):
    rc = lightning_main(["fit", *TINY, f"--trainer.default_root_dir={tmp_path}", "--data.storage=cloud"])
    assert rc == 2
    assert "storage" in capsys.readouterr().err
    rc = lightning_main(
        ["fit", *TINY, f"--trainer.default_root_dir={tmp_path}", "--data.frames_per_collect=6"]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("fuelrl fit: error: data.frames_per_collect") and "multiple" in err[-1]
    assert not (tmp_path / "checkpoints").exists()


def test_fit_writes_checkpoints_tags_and_maps_then_validate_and_test(tmp_path, capsys):
    root = tmp_path / "run"
    assert lightning_main(["fit", *TINY, f"--trainer.default_root_dir={root}"]) == 0
    printed = capsys.readouterr().out
    assert "fuelrl fit: finished at step 24" in printed
    assert f"checkpoints: {root / 'checkpoints'}" in printed
    assert f"TensorBoard logs: {root / 'lightning_logs'}" in printed
    ckpts = sorted(p.name for p in (root / "checkpoints").glob("*.ckpt"))
    assert "last.ckpt" in ckpts and "step0000008.ckpt" in ckpts and "step0000024.ckpt" in ckpts
    state = torch.load(root / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert state["global_step"] == 24
    assert state["ReplayDataModule"]["stats"]["frames"] >= 32 + 24 * 8 // 2

    found = scalars(root)
    missing = REQUIRED_SCALARS - set(found)
    assert not missing, f"missing TensorBoard tags: {sorted(missing)}; have {sorted(found)}"
    assert "eval/break_maps" in image_tags(root)
    assert len(found["eval/burned_ha"]) == 2  # after 12 and 24 steps
    assert all(v > 0 for _, v in found["eval/burned_ha_random"])
    eps = [v for _, v in sorted(found["train/epsilon"])]
    assert eps[0] > eps[-1] and all(a >= b for a, b in zip(eps, eps[1:], strict=False))

    ckpt = str(root / "checkpoints" / "last.ckpt")
    assert (
        lightning_main(["validate", *TINY, f"--trainer.default_root_dir={root}", f"--ckpt_path={ckpt}"]) == 0
    )
    assert lightning_main(["test", *TINY, f"--trainer.default_root_dir={root}", f"--ckpt_path={ckpt}"]) == 0
    tags = scalars(root)
    assert "test/burned_ha" in tags and "test/burned_ha_random" in tags


def test_sigkill_after_first_checkpoint_then_resume_from_last(tmp_path):
    root = tmp_path / "run"
    args = [
        *TINY,
        f"--trainer.default_root_dir={root}",
        "--trainer.max_steps=100000",
        "--trainer.val_check_interval=100000",
        "--data.storage=memmap",
    ]
    proc = subprocess.Popen(
        [*fuelrl_cmd(), "fit", *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    last = root / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            # wait for the first periodic checkpoint and one more step (so last.ckpt is complete)
            if (root / "checkpoints" / "step0000016.ckpt").exists():
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed = torch.load(last, map_location="cpu", weights_only=False)
    saved_step = killed["global_step"]
    saved_frames = killed["ReplayDataModule"]["stats"]["frames"]
    saved_eps = float(killed["state_dict"]["egreedy.eps"])
    assert saved_step >= 8 and killed["ReplayDataModule"]["replay"]["len"] > 0

    resume = run_fuelrl(
        "fit",
        *args[:-3],
        f"--trainer.max_steps={saved_step + 6}",
        "--data.storage=memmap",
        "--trainer.val_check_interval=100000",
        "--ckpt_path=last",
    )
    assert resume.returncode == 0, resume.stderr[-3000:]
    assert "replay buffer restored" in resume.stderr
    final = torch.load(last, map_location="cpu", weights_only=False)
    assert final["global_step"] == saved_step + 6
    assert final["ReplayDataModule"]["stats"]["frames"] > saved_frames
    assert float(final["state_dict"]["egreedy.eps"]) <= saved_eps
    # the resumed run logged its first loss after the saved step, not from step 0
    versions = sorted(Path(root / "lightning_logs").glob("version_*"))
    assert len(versions) == 2
    resumed_steps = [s for s, _ in scalars(versions[1])["train/loss"]]
    assert min(resumed_steps) >= saved_step


@pytest.mark.slow
def test_low_mem_profile_runs_on_cpu(tmp_path):
    proc = fit_ok(
        tmp_path,
        *LOW_MEM,
        "--trainer.max_steps=8",
        "--trainer.val_check_interval=16",
        "--data.warmup_frames=64",
        "--data.prefill_frames=32",
        "--data.eval_tiles=2",
        "--data.env.fires_per_tile=2",
        timeout=900,
    )
    if not torch.cuda.is_available():
        assert "precision 16-mixed cannot run" in proc.stderr
    assert (tmp_path / "checkpoints" / "last.ckpt").exists()
    assert list((tmp_path / "replay_buffer").glob("*.memmap"))
    assert "eval/burned_ha" in scalars(tmp_path)


@pytest.mark.slow
def test_ddp_two_cpu_processes_with_gloo(tmp_path):
    proc = fit_ok(
        tmp_path,
        *TINY,
        "--trainer.devices=2",
        "--trainer.strategy=ddp",
        "--trainer.max_steps=8",
        "--trainer.val_check_interval=8",
        timeout=900,
    )
    assert "distributed_backend=gloo" in proc.stderr and "Starting with 2 processes" in proc.stderr
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert state["global_step"] == 8
    assert "eval/burned_ha" in scalars(tmp_path)


@pytest.mark.slow
def test_pytorch_profiler_writes_traces_into_the_log_dir(tmp_path):
    fit_ok(
        tmp_path,
        *TINY,
        "--trainer.max_steps=6",
        "--trainer.val_check_interval=100",
        "--trainer.profiler=pytorch",
    )
    traces = list((tmp_path / "lightning_logs" / "version_0").glob("*.pt.trace.json"))
    assert traces, sorted(str(p) for p in tmp_path.rglob("*"))
    assert json.loads(traces[0].read_text())["traceEvents"]  # a Chrome trace Perfetto can open


def test_fit_with_the_teachers_own_fires_validates_without_them(tmp_path, capsys):
    """``data.env.expert_fires``: training labels from fires the agent never observes; the
    validation env (no expert labels) is built without them and the run goes through it."""
    root = tmp_path / "run"
    teacher = [
        "--trainer.max_steps=12",
        "--data.env.dpv_channel=true",
        "--data.env.expert=dpv",
        "--data.env.expert_fires=3",
        "--model.net.dpv_residual=true",
        "--model.td_weight=0",
        "--model.expert_loss=dpv_regression",
        "--model.expert_weight=1",
        "--data.prefill_policy=expert",
    ]
    assert lightning_main(["fit", *TINY, *teacher, f"--trainer.default_root_dir={root}"]) == 0
    assert "fuelrl fit: finished at step 12" in capsys.readouterr().out
    found = scalars(root)
    assert len(found["eval/burned_ha"]) == 1 and found["train/expert_dpv_mse"]


#: a DPV-residual network regressing the every-break teacher's map (configs/pretrained.yaml's method)
DPV_IMITATION = [
    "--data.env.dpv_channel=true",
    "--data.env.expert=dpv",
    "--model.net.dpv_residual=true",
    "--model.td_weight=0",
    "--model.expert_loss=dpv_regression",
    "--model.expert_weight=1",
]


def test_fit_with_the_teachers_next_interval_trains_on_the_sets_and_needs_them(tmp_path, capsys):
    """``data.env.expert_lookahead`` + ``model.expert_set_weight``: the listwise loss is logged;
    the weight without the env's sets is a one-line error naming the option (exit 2)."""
    teacher = ["--trainer.max_steps=12", *DPV_IMITATION, "--model.expert_set_weight=1"]
    teacher.append("--data.prefill_policy=expert")
    root = tmp_path / "run"
    args = ["fit", *TINY, *teacher, f"--trainer.default_root_dir={root}"]
    assert lightning_main([*args, "--data.env.expert_lookahead=true"]) == 0
    assert "fuelrl fit: finished at step 12" in capsys.readouterr().out
    found = scalars(root)
    assert found["train/expert_set_loss"] and found["train/expert_set_recall"]
    assert lightning_main([*args[:-1], f"--trainer.default_root_dir={tmp_path / 'bad'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "data.env.expert_lookahead" in err[-1] and "Traceback" not in "\n".join(err)
    assert not list((tmp_path / "bad").rglob("*.ckpt"))


def test_fit_fine_tunes_from_another_runs_weights_with_other_losses(tmp_path, capsys):
    """``model.init_weights``: an imitation run's weights start a run with a TD term (a new step
    count); a checkpoint of another network is a one-line error (exit 2), no checkpoint written."""
    import torch

    imitation = ["--trainer.max_steps=4", *DPV_IMITATION]
    first = tmp_path / "first"
    assert lightning_main(["fit", *TINY, *imitation, f"--trainer.default_root_dir={first}"]) == 0
    start = first / "checkpoints" / "last.ckpt"
    tuned = tmp_path / "tuned"
    args = ["fit", *TINY, *imitation[1:], "--trainer.max_steps=3", "--model.td_weight=1",
            f"--model.init_weights={start}", f"--trainer.default_root_dir={tuned}"]
    assert lightning_main(args) == 0
    assert "fuelrl fit: finished at step 3" in capsys.readouterr().out  # a new run, from step 0
    got = torch.load(tuned / "checkpoints" / "last.ckpt", weights_only=False)
    assert got["hyper_parameters"]["td_weight"] == 1 and "init_weights" not in got["hyper_parameters"]
    bad = tmp_path / "bad"
    wide = [*args[:-1], "--model.net.width=24", f"--trainer.default_root_dir={bad}"]
    assert lightning_main(wide) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "model.init_weights" in err[-1] and "Traceback" not in "\n".join(err)
    assert not list(bad.rglob("*.ckpt"))


def test_fit_with_a_guarded_teacher_validates_on_plain_envs(tmp_path, capsys):
    """``data.env.expert_ignition_guard_cells`` with teacher fires trains and validates (the
    evaluation envs, which carry no teacher, drop the guard with the teacher's fires)."""
    root = tmp_path / "run"
    teacher = ["--data.env.expert_fires=2", "--data.env.expert_ignition_guard_cells=1"]
    args = ["fit", *TINY, *DPV_IMITATION, *teacher, f"--trainer.default_root_dir={root}"]
    assert lightning_main(args) == 0
    assert "fuelrl fit: finished at step 24" in capsys.readouterr().out
    assert len(scalars(root)["eval/burned_ha"]) == 2  # validated after 12 and 24 steps
