"""``model.init_weights``: a new run starts its Q-networks from another run's weights (fine-tuning
with other losses), and a checkpoint that does not fit is a one-line error."""

from __future__ import annotations

import lightning
import pytest
import torch

from fuelrl.agents import DQNAgent
from fuelrl.envs.observation import channel_layout
from fuelrl.errors import InputError
from fuelrl.models import QNetConfig

NET = QNetConfig(width=8, blocks=2, norm_groups=2, dpv_residual=True)
NAMES = list(channel_layout(dpv_channel=True))


def _checkpoint(tmp_path, net=NET, names=NAMES):
    torch.manual_seed(0)
    agent = DQNAgent(in_channels=len(names), observation_channels=names, net=net, td_weight=0.0,
                     expert_weight=1.0, expert_loss="dpv_regression")
    for p in agent.qnet.parameters():
        p.data.add_(0.1 * torch.randn_like(p))  # not the initialisation a new model would draw
    path = tmp_path / "teacher.ckpt"
    torch.save({"state_dict": agent.state_dict(), "hyper_parameters": dict(agent.hparams),
                "pytorch-lightning_version": lightning.__version__}, path)
    return path, agent


def test_both_networks_start_from_the_checkpoints_weights_with_other_losses(tmp_path):
    path, teacher = _checkpoint(tmp_path)
    torch.manual_seed(1)
    student = DQNAgent(in_channels=len(NAMES), observation_channels=NAMES, net=NET, td_weight=1.0,
                       reward_scale=1.0, init_weights=str(path))
    for a, b, c in zip(student.qnet.parameters(), student.target_qnet.parameters(), teacher.qnet.parameters(),
                       strict=True):
        assert torch.equal(a, c) and torch.equal(b, c)
    assert "init_weights" not in student.hparams  # a restored run does not read the file again
    fresh = DQNAgent(in_channels=len(NAMES), observation_channels=NAMES, net=NET)
    assert not torch.equal(next(fresh.qnet.parameters()), next(teacher.qnet.parameters()))


def test_a_checkpoint_that_does_not_fit_is_a_one_line_error(tmp_path):
    path, _ = _checkpoint(tmp_path)
    other = list(channel_layout(dpv_channel=True, weather_channels=True))
    with pytest.raises(InputError, match="reads the observation channels") as e:
        DQNAgent(in_channels=len(other), observation_channels=other, net=NET, init_weights=str(path))
    assert "\n" not in str(e.value)
    wider = QNetConfig(width=16, blocks=2, norm_groups=2, dpv_residual=True)
    with pytest.raises(InputError, match="other layers or widths than model.net"):
        DQNAgent(in_channels=len(NAMES), observation_channels=NAMES, net=wider, init_weights=str(path))
    with pytest.raises(InputError, match="checkpoint not found"):
        DQNAgent(in_channels=len(NAMES), observation_channels=NAMES, net=NET, init_weights="x.ckpt")
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a fuelrl fit checkpoint"):
        DQNAgent(in_channels=len(NAMES), observation_channels=NAMES, net=NET, init_weights=str(bad))
