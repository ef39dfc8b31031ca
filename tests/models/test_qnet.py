"""The Q-network: one value per cell for any tile size, uses the budget, can fit a per-cell target."""

from __future__ import annotations

import pytest
import torch

from fuelrl.errors import InputError
from fuelrl.models import FuelBreakQNet, QNetConfig, count_parameters


@pytest.mark.parametrize("shape", [(16, 16), (32, 32), (7, 9), (24, 40)])
def test_one_q_value_per_cell_for_any_tile_size(shape):
    torch.manual_seed(0)
    net = FuelBreakQNet(5, QNetConfig.small())
    h, w = shape
    q = net(torch.randn(3, 5, h, w), torch.rand(3, 1))
    assert q.shape == (3, h * w)
    assert torch.isfinite(q).all()


def test_leading_dims_are_kept_and_rows_are_independent():
    torch.manual_seed(0)
    net = FuelBreakQNet(4, QNetConfig(width=16, blocks=2, norm_groups=4)).eval()
    obs, budget = torch.randn(2, 3, 4, 8, 8), torch.rand(2, 3, 1)
    q = net(obs, budget)
    assert q.shape == (2, 3, 64)
    single = net(obs[1, 2:3], budget[1, 2:3])
    torch.testing.assert_close(q[1, 2:3], single, rtol=1e-5, atol=1e-5)


def test_budget_left_changes_the_values():
    torch.manual_seed(0)
    net = FuelBreakQNet(3, QNetConfig.small())
    obs = torch.randn(1, 3, 12, 12)
    assert not torch.allclose(net(obs, torch.ones(1, 1)), net(obs, torch.zeros(1, 1)))


def test_attention_variant_trains_every_parameter():
    torch.manual_seed(0)
    net = FuelBreakQNet(3, QNetConfig(width=16, blocks=2, attention=True, attention_heads=4, norm_groups=4))
    net(torch.randn(2, 3, 10, 10), torch.rand(2, 1)).square().mean().backward()
    names = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert names == []
    assert any("attention" in n for n, _ in net.named_parameters())


def test_small_variant_is_small():
    small = count_parameters(FuelBreakQNet(16, QNetConfig.small()))
    base = count_parameters(FuelBreakQNet(16, QNetConfig()))
    assert small < 100_000 < base


def test_fits_a_per_cell_target():
    """Regressing Q onto one input channel (like 'break where burn probability is high') works."""
    torch.manual_seed(0)
    net = FuelBreakQNet(3, QNetConfig(width=16, blocks=2, norm_groups=4))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(150):
        obs = torch.rand(8, 3, 12, 12, generator=gen)
        loss = (net(obs, torch.ones(8, 1)) - obs[:, 1].flatten(1)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-10:]) / 10 < 0.1 * sum(losses[:10]) / 10


def test_bad_config_is_a_one_line_input_error():
    with pytest.raises(InputError, match="norm_groups"):
        FuelBreakQNet(3, QNetConfig(width=30, norm_groups=8))
    with pytest.raises(InputError, match="in_channels"):
        FuelBreakQNet(0)
    with pytest.raises(ValueError, match="observation"):
        FuelBreakQNet(3, QNetConfig.small())(torch.zeros(1, 4, 8, 8))


def test_dpv_residual_net_starts_as_the_dpv_channel_and_learns_a_correction():
    cfg = QNetConfig(width=8, blocks=2, dilations=[1, 2], norm_groups=2, dpv_residual=True, dpv_gain_init=2.0)
    net = FuelBreakQNet(3, cfg)
    obs = torch.rand(2, 3, 8, 10)
    q = net(obs, torch.ones(2, 1))
    torch.testing.assert_close(q, 2.0 * obs[:, -1].reshape(2, -1))  # the untrained net is DPV-greedy
    q.sum().backward()
    assert net.head[-1].weight.grad.abs().sum() > 0 and net.dpv_gain.grad is not None


def test_dpv_gate_net_only_scales_dpv_down_and_starts_with_its_ranking():
    cfg = QNetConfig(width=8, blocks=2, dilations=[1, 2], norm_groups=2, dpv_residual=True, dpv_mode="gate")
    net = FuelBreakQNet(3, cfg)
    obs = torch.rand(2, 3, 8, 10)
    q = net(obs, torch.ones(2, 1))
    dpv = obs[:, -1].reshape(2, -1)
    torch.testing.assert_close(q, dpv * torch.sigmoid(torch.tensor(3.0)))  # same order as DPV
    with torch.no_grad():
        net.head[-1].bias.fill_(5.0)
    assert bool((net(obs, torch.ones(2, 1)) <= dpv + 1e-6).all())  # never above the cell's DPV
    with pytest.raises(InputError, match="dpv_mode"):
        QNetConfig(dpv_residual=True, dpv_mode="multiply").validate()
