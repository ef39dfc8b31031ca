"""Double-DQN loss: masked argmax in the target, termination, agreement with TorchRL's DQNLoss."""

from __future__ import annotations

import copy

import pytest
import torch
from tensordict import TensorDict
from torch import nn
from torchrl.modules import QValueActor
from torchrl.objectives import DQNLoss

from fuelrl.agents.losses import double_dqn_loss, hard_update, masked_argmax, soft_update
from fuelrl.models import FuelBreakQNet, QNetConfig

from .helpers import transitions


class ChannelQ(nn.Module):
    """Q-values read from one observation channel times a scale (a hand-checkable 'network')."""

    def __init__(self, channel: int, scale: float):
        super().__init__()
        self.channel = channel
        self.scale = nn.Parameter(torch.tensor(scale))

    def forward(self, observation, budget_left=None):
        return observation[:, self.channel].flatten(1) * self.scale


def test_masked_argmax_never_picks_an_illegal_cell():
    q = torch.tensor([[5.0, 1.0, 3.0], [0.0, 9.0, -1.0]])
    mask = torch.tensor([[False, True, True], [True, False, True]])
    assert masked_argmax(q, mask).tolist() == [2, 0]
    assert masked_argmax(q.bfloat16(), mask).tolist() == [2, 0]


def test_target_uses_best_legal_cell_of_online_net_valued_by_target_net():
    obs = torch.zeros(1, 2, 1, 3)
    nxt = torch.zeros(1, 2, 1, 3)
    obs[0, 0, 0] = torch.tensor([0.0, 2.0, 0.0])  # online Q(s) = [0, 2, 0]; action 1 taken
    nxt[0, 0, 0] = torch.tensor([10.0, 1.0, 3.0])  # online Q(s'): cell 0 best but illegal -> cell 2
    nxt[0, 1, 0] = torch.tensor([100.0, 7.0, 4.0])  # target Q(s') = channel 1
    batch = TensorDict(
        {
            "observation": obs,
            "action": torch.tensor([1]),
            "next": {
                "observation": nxt,
                "action_mask": torch.tensor([[False, True, True]]),
                "reward": torch.tensor([[0.5]]),
                "terminated": torch.tensor([[False]]),
            },
        },
        batch_size=[1],
    )
    online, target = ChannelQ(0, 1.0), ChannelQ(1, 1.0)
    out = double_dqn_loss(online, target, batch, gamma=0.9)
    assert out.target.item() == pytest.approx(0.5 + 0.9 * 4.0)  # target net's value of cell 2
    assert out.q_taken.item() == pytest.approx(2.0)
    # plain DQN: argmax of the target net over legal cells (cell 1: 7)
    plain = double_dqn_loss(online, target, batch, gamma=0.9, double_dqn=False)
    assert plain.target.item() == pytest.approx(0.5 + 0.9 * 7.0)
    # termination: no bootstrap
    batch["next", "terminated"] = torch.tensor([[True]])
    assert double_dqn_loss(online, target, batch, gamma=0.9).target.item() == pytest.approx(0.5)
    # Huber loss of |y - q| = 1.5 - ... : smooth_l1 with |d| > 1 is |d| - 0.5
    d = abs(0.5 - 2.0)
    assert double_dqn_loss(online, target, batch, gamma=0.9).loss.item() == pytest.approx(d - 0.5)


def test_agrees_with_torchrl_dqnloss_double_dqn_with_action_mask():
    torch.manual_seed(0)
    batch = transitions(n=8, c=3)
    online = FuelBreakQNet(3, QNetConfig(width=8, blocks=1, norm_groups=2))
    target = copy.deepcopy(online)
    with torch.no_grad():
        for p in target.parameters():
            p.add_(0.05 * torch.randn_like(p))
    gamma = 0.93

    def actor(net):
        return QValueActor(
            module=net,
            in_keys=["observation", "budget_left"],
            action_space="categorical",
            action_mask_key="action_mask",
        )

    ref = DQNLoss(
        actor(online),
        loss_function="smooth_l1",
        delay_value=True,
        double_dqn=True,
        action_space="categorical",
    )
    ref.make_value_estimator(gamma=gamma)
    target_params = TensorDict.from_module(actor(target))
    ref.target_value_network_params.data.update_(target_params.data)

    expected = ref(batch.clone())["loss"]
    ours = double_dqn_loss(online, target, batch.clone(), gamma=gamma)
    torch.testing.assert_close(ours.loss, expected, rtol=1e-5, atol=1e-6)
    # and the two differ from the no-double-DQN loss, so the test would catch a wrong argmax source
    plain = double_dqn_loss(online, target, batch.clone(), gamma=gamma, double_dqn=False)
    assert not torch.allclose(plain.loss, expected)


def test_gradients_flow_only_into_the_online_net():
    online = FuelBreakQNet(3, QNetConfig(width=8, blocks=1, norm_groups=2))
    target = copy.deepcopy(online).requires_grad_(False)
    double_dqn_loss(online, target, transitions(c=3), gamma=0.9).loss.backward()
    assert all(p.grad is not None for p in online.parameters())
    assert all(p.grad is None for p in target.parameters())


def test_hard_and_soft_updates():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    before = [p.clone() for p in b.parameters()]
    soft_update(b, a, tau=0.25)
    for pb, pa, p0 in zip(b.parameters(), a.parameters(), before, strict=True):
        torch.testing.assert_close(pb, 0.75 * p0 + 0.25 * pa)
    hard_update(b, a)
    for pb, pa in zip(b.parameters(), a.parameters(), strict=True):
        assert torch.equal(pb, pa)


def test_large_margin_loss_is_zero_only_when_the_expert_leads_by_the_margin():
    from fuelrl.agents.losses import large_margin_loss

    mask = torch.tensor([[True, True, True, False]] * 3)
    q = torch.tensor([[1.0, 0.5, 0.2, 9.0], [0.5, 1.0, 0.2, 9.0], [1.0, 0.95, 0.2, 9.0]], requires_grad=True)
    expert = torch.tensor([0, 0, 0])
    loss, agree = large_margin_loss(q, expert, mask, margin=0.1)
    # row 0 leads by 0.5 -> 0; row 1: 1.0 + 0.1 - 0.5 = 0.6; row 2: 0.95 + 0.1 - 1.0 = 0.05 (9: illegal)
    assert float(loss) == pytest.approx((0.0 + 0.6 + 0.05) / 3)
    assert float(agree) == pytest.approx(2 / 3)
    loss.backward()
    assert float(q.grad[1, 0]) < 0 and float(q.grad[1, 1]) > 0 and float(q.grad[0].abs().sum()) == 0
    # unlabelled rows (-1) are left out; none labelled: zero loss
    loss2, _ = large_margin_loss(q, torch.tensor([-1, -1, -1]), mask, margin=0.1)
    assert float(loss2) == 0.0


def test_dpv_regression_loss_counts_only_legal_cells():
    from fuelrl.agents.losses import dpv_regression_loss

    q = torch.tensor([[1.0, 0.0, 5.0], [0.5, 0.5, 0.5]], requires_grad=True)
    target = torch.tensor([[0.0, 0.0, 0.0], [0.5, 1.5, 0.5]])
    mask = torch.tensor([[True, True, False], [True, True, True]])
    loss = dpv_regression_loss(q, target, mask)
    assert float(loss) == pytest.approx((1.0 + 0.0 + 0.0 + 1.0 + 0.0) / 5)  # the illegal 5.0 is ignored
    loss.backward()
    assert float(q.grad[0, 2]) == 0.0 and float(q.grad[1, 1]) < 0


def test_dpv_regression_value_weight_counts_valuable_cells_more():
    from fuelrl.agents.losses import dpv_regression_loss

    q = torch.tensor([[0.0, 0.0]])
    target = torch.tensor([[1.0, 0.0]])
    mask = torch.ones(1, 2, dtype=torch.bool)
    plain = dpv_regression_loss(q, target, mask)
    weighted = dpv_regression_loss(q, target, mask, value_weight=4.0)
    assert float(plain) == pytest.approx(0.5) and float(weighted) == pytest.approx(2.5)  # (1 + 4) * 1 / 2


def test_expert_set_loss_matches_the_multi_positive_cross_entropy_by_hand():
    import math

    from fuelrl.agents.losses import expert_set_loss

    q = torch.tensor([[1.0, 0.5, 0.2, 9.0], [0.3, 0.3, 0.3, 0.3]], requires_grad=True)
    mask = torch.tensor([[True, True, True, False], [True, True, True, True]])
    teacher = torch.tensor([[False, True, False, False], [False, False, False, False]])  # row 1: no set
    loss, rows, recall = expert_set_loss(q, teacher, mask, temperature=0.5)
    # row 0: t = cell 1 against the legal cells outside the set (0 and 2; cell 3 is illegal)
    e = [math.exp(v / 0.5) for v in (1.0, 0.5, 0.2)]
    assert float(loss) == pytest.approx(-math.log(e[1] / (e[1] + e[0] + e[2])), rel=1e-5)
    assert rows.tolist() == [True, False] and float(recall) == 0.0  # cell 0 ranks first
    loss.backward()
    assert float(q.grad[0, 1]) < 0 and float(q.grad[0, 0]) > 0 and float(q.grad[0, 3]) == 0.0
    assert float(q.grad[1].abs().sum()) == 0.0


def test_expert_set_loss_is_order_free_within_the_set_and_falls_as_the_set_rises():
    from fuelrl.agents.losses import expert_set_loss

    mask = torch.ones(1, 5, dtype=torch.bool)
    teacher = torch.tensor([[True, False, True, False, False]])
    low = torch.tensor([[0.1, 0.9, 0.2, 0.8, 0.0]])
    high = low + 2.0 * teacher.float()
    swapped = torch.tensor([[0.2, 0.9, 0.1, 0.8, 0.0]])  # the set's two cells exchanged
    l_low, _, r_low = expert_set_loss(low, teacher, mask, 0.1)
    l_high, _, r_high = expert_set_loss(high, teacher, mask, 0.1)
    l_swap, _, _ = expert_set_loss(swapped, teacher, mask, 0.1)
    assert float(l_high) < float(l_low) and float(r_high) == 1.0 and float(r_low) == 0.0
    assert float(l_swap) == pytest.approx(float(l_low))
    none, rows, _ = expert_set_loss(low, torch.zeros_like(teacher), mask, 0.1)
    assert float(none) == 0.0 and not bool(rows.any())


def test_agent_loss_leaves_the_set_rows_out_of_the_regression_and_asks_for_the_sets():
    from fuelrl.agents.losses import agent_loss
    from fuelrl.errors import InputError

    class Fixed(nn.Module):
        def __init__(self, q):
            super().__init__()
            self.q = nn.Parameter(q)

        def forward(self, obs, budget=None):
            return self.q

    q = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    batch = TensorDict(
        {
            "observation": torch.zeros(2, 1, 1, 2),
            "action": torch.zeros(2, dtype=torch.int64),
            "action_mask": torch.ones(2, 2, dtype=torch.bool),
            "expert_action": torch.tensor([1, 1]),
            "expert_dpv": torch.tensor([[0.0, 1.0], [1.0, 0.0]]),  # row 1 off by 1 on both cells
            "expert_set": torch.tensor([[False, False], [True, False]]),
        },
        batch_size=[2],
    )
    hp = {"td_weight": 0.0, "expert_weight": 1.0, "expert_margin": 0.1, "expert_loss": "dpv_regression",
          "expert_value_weight": 0.0, "expert_set_weight": 0.0}
    net = Fixed(q.clone())
    plain = agent_loss(net, net, batch, hp)
    assert float(plain.metrics["expert_dpv_mse"]) == pytest.approx(2.0 / 4)
    with_set = agent_loss(net, net, batch, {**hp, "expert_set_weight": 1.0, "expert_set_temperature": 1.0})
    assert float(with_set.metrics["expert_dpv_mse"]) == 0.0  # only row 0, where q is the target
    assert float(with_set.metrics["expert_set_recall"]) == 0.0  # cell 0 of row 1 ranks second
    with pytest.raises(InputError, match="data.env.expert_lookahead"):
        agent_loss(net, net, batch.exclude("expert_set"), {**hp, "expert_set_weight": 1.0})
