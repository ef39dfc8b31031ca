"""DQNAgent pieces on hand-made batches: loss and logging, clipping, target updates, checkpoint state."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict
from torchrl.envs.utils import ExplorationType, set_exploration_type

from fuelrl.agents import DQNAgent
from fuelrl.errors import InputError
from fuelrl.models import QNetConfig

from .helpers import transitions

NET = QNetConfig(width=8, blocks=1, norm_groups=2)


def _agent(**kw) -> DQNAgent:
    torch.manual_seed(0)
    return DQNAgent(in_channels=3, net=NET, **kw)


def _step(agent: DQNAgent, batch: TensorDict) -> torch.Tensor:
    """One manual optimisation step the way Lightning does it (loss, backward, clip, step, target)."""
    opt = agent.configure_optimizers()
    agent.log = lambda *a, **k: None  # no trainer attached
    loss = agent.training_step(batch, 0)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(agent.qnet.parameters(), agent.hparams.max_grad_norm)
    opt.step()
    opt.zero_grad()
    agent.num_updates += 1
    agent.update_target()
    return loss


def test_policy_acts_on_legal_cells_greedily_and_with_exploration():
    agent = _agent()
    td = transitions(n=64, c=3).exclude("next", "action")
    agent.egreedy.set_epsilon(0.0)
    with set_exploration_type(ExplorationType.DETERMINISTIC):
        greedy = agent.policy(td.clone())
    q = agent.qnet(td["observation"], td["budget_left"])
    best_legal = q.masked_fill(~td["action_mask"], -torch.inf).argmax(-1)
    assert torch.equal(greedy["action"], best_legal)
    agent.egreedy.set_epsilon(1.0)
    explored = agent.policy(td.clone())["action"]
    assert td["action_mask"].gather(1, explored[:, None]).all()
    assert not torch.equal(explored, best_legal)


def test_hard_target_update_every_n_steps():
    agent = _agent(target_update="hard", target_update_every=3, lr=1e-2)
    batch = transitions(n=16, c=3)
    t0 = [p.clone() for p in agent.target_qnet.parameters()]
    for step in range(1, 4):
        _step(agent, batch)
        same_as_online = all(
            torch.equal(a, b)
            for a, b in zip(agent.target_qnet.parameters(), agent.qnet.parameters(), strict=True)
        )
        unchanged = all(torch.equal(a, b) for a, b in zip(agent.target_qnet.parameters(), t0, strict=True))
        assert (same_as_online, unchanged) == ((True, False) if step == 3 else (False, True))


def test_soft_target_update_moves_a_fraction_tau():
    agent = _agent(target_update="soft", tau=0.1, lr=1e-2)
    t0 = [p.clone() for p in agent.target_qnet.parameters()]
    _step(agent, transitions(n=16, c=3))
    for t, t_old, o in zip(agent.target_qnet.parameters(), t0, agent.qnet.parameters(), strict=True):
        torch.testing.assert_close(t, 0.9 * t_old + 0.1 * o)


def test_learning_reduces_the_td_loss_on_a_fixed_batch():
    agent = _agent(lr=3e-3, target_update="hard", target_update_every=10_000, reward_scale=1.0)
    batch = transitions(n=32, c=3)
    first = _step(agent, batch).item()
    for _ in range(60):
        last = _step(agent, batch).item()
    assert last < 0.5 * first


def test_checkpoint_state_holds_target_epsilon_and_update_count():
    agent = _agent(target_update="soft", tau=0.5)
    _step(agent, transitions(n=8, c=3))
    agent.update_exploration(5000, warmup_frames=0)
    state = agent.state_dict()
    other = _agent(target_update="soft", tau=0.5)
    other.load_state_dict(state)
    assert other.epsilon == pytest.approx(agent.epsilon) and agent.epsilon < 1.0
    assert int(other.num_updates) == 1
    for a, b in zip(other.target_qnet.parameters(), agent.target_qnet.parameters(), strict=True):
        assert torch.equal(a, b)


def test_bad_options_are_input_errors():
    with pytest.raises(InputError, match="in_channels"):
        DQNAgent()
    with pytest.raises(InputError, match="target_update"):
        DQNAgent(in_channels=3, target_update="sometimes")
    with pytest.raises(InputError, match="eps"):
        DQNAgent(in_channels=3, eps_start=0.1, eps_end=0.5)
