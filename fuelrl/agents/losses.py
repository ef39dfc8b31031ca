"""Double-DQN loss with masked argmax (illegal cells are never chosen as the next action).

Equivalent to TorchRL's ``DQNLoss(double_dqn=True)`` over a ``QValueActor`` with
``action_mask_key`` (``tests/agents/test_losses.py`` checks the two agree), written out because the
trainer also needs the Q-values for logging (``train/q_mean``), wants the target network as a plain
module (checkpointed, soft/hard-updated in place, no functional-parameter copies under DDP), and
treats "no legal cell left" as the end of the episode's value.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tensordict import TensorDictBase
from torch import nn


def masked_argmax(q_values: torch.Tensor, action_mask: torch.Tensor) -> torch.Tensor:
    """Argmax over the last dim restricted to ``action_mask`` (bool, same shape) -> int64 ``[*]``.

    Rows without a legal cell return 0 (callers zero their value).
    """
    neg = torch.finfo(q_values.dtype).min
    return q_values.masked_fill(~action_mask, neg).argmax(-1)


@dataclass
class DQNLossOutput:
    loss: torch.Tensor
    q_taken: torch.Tensor  # Q(s, a) of the stored actions [N]
    target: torch.Tensor  # r + gamma * Q_target(s', a*) [N]
    td_error: torch.Tensor  # target - q_taken [N]
    q_all: torch.Tensor | None = None  # Q(s, .) of the online net [N, A], with gradient


def double_dqn_loss(
    online: nn.Module,
    target: nn.Module,
    batch: TensorDictBase,
    *,
    gamma: float,
    double_dqn: bool = True,
    loss_function: str = "smooth_l1",
    reward_scale: float = 1.0,
) -> DQNLossOutput:
    """The (double) DQN temporal-difference loss of a flat batch of transitions.

    ``batch`` has ``observation [N, C, H, W]``, ``budget_left [N, 1]``, ``action [N]`` and under
    ``next``: ``observation``, ``budget_left``, ``action_mask [N, A]``, ``reward [N, 1]``,
    ``terminated [N, 1]``. The target bootstraps on truncation but not on termination:

        a* = argmax_{a legal in s'} Q_online(s', a)    (double DQN; Q_target when double_dqn=False)
        y  = reward_scale * r + gamma * (1 - terminated) * Q_target(s', a*)

    ``loss_function``: "smooth_l1" (Huber, delta 1) or "l2".
    """
    obs = batch["observation"]
    budget = batch.get("budget_left", None)
    action = batch["action"].reshape(-1).long()
    nxt = batch["next"]
    reward = nxt["reward"].reshape(-1).float() * reward_scale
    terminated = nxt["terminated"].reshape(-1).bool()
    next_mask = nxt["action_mask"].reshape(action.shape[0], -1).bool()

    q_all = online(obs, budget)
    q_taken = q_all.gather(-1, action[:, None]).squeeze(-1)
    with torch.no_grad():
        q_next_target = target(nxt["observation"], nxt.get("budget_left", None))
        chooser = online(nxt["observation"], nxt.get("budget_left", None)) if double_dqn else q_next_target
        next_action = masked_argmax(chooser, next_mask)
        next_value = q_next_target.gather(-1, next_action[:, None]).squeeze(-1).float()
        live = ~terminated & next_mask.any(-1)
        y = reward + gamma * torch.where(live, next_value, torch.zeros_like(next_value))
    q_f = q_taken.float()
    if loss_function == "smooth_l1":
        loss = F.smooth_l1_loss(q_f, y)
    elif loss_function == "l2":
        loss = F.mse_loss(q_f, y)
    else:
        raise ValueError(f"loss_function: expected 'smooth_l1' or 'l2', got {loss_function!r}")
    return DQNLossOutput(loss=loss, q_taken=q_f.detach(), target=y, td_error=(y - q_f).detach(), q_all=q_all)


def large_margin_loss(
    q_values: torch.Tensor, expert_action: torch.Tensor, action_mask: torch.Tensor, margin: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """DQfD's supervised loss on demonstrations (Hester et al. 2018, AAAI, eq. 2):

        J_E = max over legal a of [Q(s, a) + l(a_E, a)] - Q(s, a_E),   l = margin if a != a_E else 0

    which pushes the expert's cell ``margin`` above every other legal cell. ``q_values`` [N, A],
    ``expert_action`` int64 [N] (-1: no label, left out), ``action_mask`` bool [N, A]. Returns
    (mean loss over labelled rows, 0 when none; share of labelled rows whose argmax is the expert's).
    """
    labelled = expert_action >= 0
    if not bool(labelled.any()):
        zero = q_values.sum() * 0.0
        return zero, zero.detach()
    q = q_values[labelled].float()
    a_e = expert_action[labelled].long()
    mask = action_mask[labelled].bool()
    mask = mask.scatter(1, a_e[:, None], True)  # the expert's cell is legal by construction
    bonus = torch.full_like(q, float(margin)).scatter(1, a_e[:, None], 0.0)
    neg = torch.finfo(q.dtype).min
    best = (q + bonus).masked_fill(~mask, neg).amax(dim=1)
    q_e = q.gather(1, a_e[:, None]).squeeze(1)
    agree = (q.masked_fill(~mask, neg).argmax(dim=1) == a_e).float().mean()
    return (best - q_e).mean(), agree.detach()


@torch.no_grad()
def hard_update(target: nn.Module, online: nn.Module) -> None:
    """Copy the online parameters and buffers into the target network."""
    target.load_state_dict(online.state_dict())


@torch.no_grad()
def soft_update(target: nn.Module, online: nn.Module, tau: float) -> None:
    """Polyak averaging: ``target <- (1 - tau) * target + tau * online``."""
    t_params = [p for p in target.parameters()]
    o_params = [p.detach() for p in online.parameters()]
    torch._foreach_lerp_(t_params, o_params, tau)
    for tb, ob in zip(target.buffers(), online.buffers(), strict=True):
        tb.copy_(ob)


def dpv_regression_loss(
    q_values: torch.Tensor, expert_dpv: torch.Tensor, action_mask: torch.Tensor, value_weight: float = 0.0
) -> torch.Tensor:
    """Mean squared error, over the legal cells, between the Q-values of a DPV-residual network
    and the teacher's *fresh* DPV map on the observation's ``dpv/max`` scale (FireEnv's
    ``expert_dpv``): the network learns how the breaks placed since the last simulation change
    every cell's DPV, a dense target (one value per cell) where the large-margin loss has one
    label per state. ``q_values``, ``expert_dpv`` [N, A]; ``action_mask`` bool [N, A].
    ``value_weight`` k > 0 weighs each cell's error by ``1 + k x expert_dpv``, so the cells that
    compete for the next break count most."""
    mask = action_mask.bool()
    target = expert_dpv.float()
    err = (q_values.float() - target).square() * (1.0 + float(value_weight) * target.clamp_min(0.0))
    return torch.where(mask, err, 0.0).sum() / mask.sum().clamp_min(1)


def expert_set_loss(
    q_values: torch.Tensor, expert_set: torch.Tensor, action_mask: torch.Tensor, temperature: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A listwise loss on the cells the every-break teacher treats over the next interval
    (FireEnv's ``expert_set``, :func:`fuelrl.envs.expert.lookahead_set`), for the rows that carry
    one (the states right after a simulation, where a planner takes the interval's breaks from one
    map). Each teacher cell t competes with the legal cells outside the set:

        J = mean over t in T of  -log( e^{Q_t / tau} / (e^{Q_t / tau} + sum_{c not in T} e^{Q_c / tau}) )

    so the set's cells rise above the rest without being ordered among themselves (the
    multi-positive softmax cross-entropy of ranking losses). ``q_values`` [N, A], ``expert_set``,
    ``action_mask`` bool [N, A]; ``temperature`` tau in Q units. Returns (mean over the rows with a
    set, 0 when none; their row mask [N]; the share of each set found among the row's top-|T| legal
    cells, the metric ``train/expert_set_recall``).
    """
    rows = expert_set.bool().any(dim=1)
    if not bool(rows.any()):
        zero = q_values.sum() * 0.0
        return zero, rows, zero.detach()
    q = q_values[rows].float() / float(temperature)
    pos = expert_set[rows].bool()
    legal = action_mask[rows].bool() | pos
    neg = torch.finfo(q.dtype).min
    rest = torch.logsumexp(q.masked_fill(~legal | pos, neg), dim=1, keepdim=True)  # [n, 1]
    per_cell = torch.logaddexp(q, rest) - q
    size = pos.sum(dim=1)
    loss = (torch.where(pos, per_cell, 0.0).sum(dim=1) / size).mean()
    with torch.no_grad():
        order = q.masked_fill(~legal, neg).argsort(dim=1, descending=True)
        ranks = torch.arange(q.shape[1], device=q.device).expand_as(order)
        rank_of = torch.empty_like(order).scatter_(1, order, ranks)
        recall = ((rank_of < size[:, None]) & pos).sum(dim=1).float() / size
    return loss, rows, recall.mean()


@dataclass
class AgentLossOutput:
    loss: torch.Tensor  # the total loss, with gradient
    metrics: dict[str, torch.Tensor]  # detached scalars, logged as ``train/<name>``
    batch_size: int


def agent_loss(online: nn.Module, target: nn.Module, batch: TensorDictBase, hp) -> AgentLossOutput:
    """The agent's whole training loss of one replay batch (what ``DQNAgent.training_step`` and the
    bench's bare-PyTorch parity loop both minimise).

    ``hp``: the agent's hyperparameters (a mapping with ``td_weight``, ``gamma``, ``double_dqn``,
    ``loss_function``, ``reward_scale``, ``expert_weight``, ``expert_margin``, ``expert_loss``,
    ``expert_value_weight``):

        loss = td_weight x TD loss (:func:`double_dqn_loss`; skipped at td_weight 0)
             + expert_weight x (large-margin loss on ``expert_action``, or with expert_loss
               "dpv_regression" the DPV regression on ``expert_dpv``)
             + expert_set_weight x the listwise loss on ``expert_set`` (:func:`expert_set_loss`;
               with it, the regression leaves out the rows that carry a set: there the fresh
               DPV target is the input itself)
    """
    expert = batch.get("expert_action", None)
    metrics: dict[str, torch.Tensor] = {}
    if hp["td_weight"] > 0:
        out = double_dqn_loss(
            online,
            target,
            batch,
            gamma=hp["gamma"],
            double_dqn=hp["double_dqn"],
            loss_function=hp["loss_function"],
            reward_scale=hp["reward_scale"],
        )
        q_all, loss = out.q_all, hp["td_weight"] * out.loss
        n = out.q_taken.shape[0]
        metrics["td_loss"] = out.loss.detach()
        metrics["q_mean"] = out.q_taken.mean()
        metrics["target_mean"] = out.target.mean()
        metrics["td_abs_mean"] = out.td_error.abs().mean()
    else:  # pure imitation: no TD target to compute
        if expert is None:
            from fuelrl.errors import InputError

            raise InputError("model.td_weight 0 needs expert labels: set data.env.expert: dpv")
        q_all = online(batch["observation"], batch.get("budget_left", None))
        n = q_all.shape[0]
        loss = q_all.sum() * 0.0
        taken = q_all.gather(-1, batch["action"].reshape(n, 1).long()).squeeze(-1)
        metrics["q_mean"] = taken.detach().float().mean()
    set_weight = hp.get("expert_set_weight", 0.0)
    with_set = None
    if set_weight > 0:
        if batch.get("expert_set", None) is None:
            from fuelrl.errors import InputError

            raise InputError(
                "model.expert_set_weight > 0 needs the teacher's sets: set data.env.expert_lookahead: true"
            )
        mask = batch["action_mask"].reshape(n, -1)
        set_loss, with_set, recall = expert_set_loss(
            q_all, batch["expert_set"].reshape(n, -1), mask, hp.get("expert_set_temperature", 0.05)
        )
        loss = loss + set_weight * set_loss
        metrics["expert_set_loss"] = set_loss.detach()
        metrics["expert_set_recall"] = recall
    if hp["expert_weight"] > 0 and expert is not None:
        mask = batch["action_mask"].reshape(n, -1)
        margin, agree = large_margin_loss(q_all, expert.reshape(-1), mask, hp["expert_margin"])
        if hp.get("expert_loss", "margin") == "dpv_regression":
            keep = mask if with_set is None else mask & ~with_set[:, None]
            regression = dpv_regression_loss(
                q_all, batch["expert_dpv"].reshape(n, -1), keep, hp.get("expert_value_weight", 0.0)
            )
            loss = loss + hp["expert_weight"] * regression
            metrics["expert_dpv_mse"] = regression.detach()
        else:
            loss = loss + hp["expert_weight"] * margin
        metrics["expert_margin_loss"] = margin.detach()
        metrics["expert_agreement"] = agree
    metrics["loss"] = loss.detach()
    return AgentLossOutput(loss=loss, metrics=metrics, batch_size=n)
