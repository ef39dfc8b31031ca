"""Evaluation episodes: a policy's final expected burned area on a fixed set of tiles and fires.

The env is re-seeded before every run, so the greedy agent, random placement and any baseline are
scored on the same tiles and the same fires (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from tensordict import TensorDictBase
from torchrl.envs import EnvBase

from fuelrl.agents.exploration import random_legal_actions
from fuelrl.agents.losses import masked_argmax

ActionFn = Callable[[TensorDictBase], torch.Tensor]


@dataclass
class EpisodeResult:
    """Per tile: burned area with the plan, without it, the final observation and episode length."""

    burned_ha: torch.Tensor  # [B] expected burned area at the end of the episode (ha)
    burned_ha_untreated: torch.Tensor | None  # [B] before any break (ha), when the env reports it at reset
    final_observation: torch.Tensor  # [B, C, H, W] observation at the end of the episode
    steps: torch.Tensor  # [B] number of breaks placed


def _flat_batch(td: TensorDictBase) -> int:
    return max(1, td.batch_size.numel())


@torch.no_grad()
def run_episodes(env: EnvBase, act: ActionFn, *, seed: int, max_steps: int = 100_000) -> EpisodeResult:
    """Run one episode on every tile of ``env`` (a batched env) from ``env.set_seed(seed)``.

    Tiles that finish early are reset by the env and their later steps ignored; the loop ends when
    every tile has finished once.
    """
    env.set_seed(seed)
    td = env.reset()
    n = _flat_batch(td)
    untreated = td.get("burned_ha", None)
    untreated = untreated.reshape(n).float().clone() if untreated is not None else None
    finished = torch.zeros(n, dtype=torch.bool)
    burned = torch.zeros(n)
    steps = torch.zeros(n, dtype=torch.long)
    final_obs = td["observation"].reshape(n, *td["observation"].shape[-3:]).clone()
    for _ in range(max_steps):
        td.set("action", act(td).reshape(td.batch_size))
        out, td = env.step_and_maybe_reset(td)
        nxt = out["next"]
        done = nxt["done"].reshape(n).cpu()
        steps += (~finished).long()
        new = done & ~finished
        if new.any():
            burned[new] = nxt["burned_ha"].reshape(n).float().cpu()[new]
            final_obs[new] = nxt["observation"].reshape(n, *final_obs.shape[1:]).cpu()[new]
            finished |= new
        if finished.all():
            break
    else:
        raise RuntimeError(f"evaluation did not finish within {max_steps} steps per tile")
    return EpisodeResult(burned, untreated, final_obs, steps)


def greedy_action_fn(qnet: torch.nn.Module) -> ActionFn:
    """The greedy policy of a Q-network: masked argmax of ``qnet(observation, budget_left)``."""

    def act(td: TensorDictBase) -> torch.Tensor:
        device = next(qnet.parameters()).device
        obs = td["observation"].to(device)
        budget = td.get("budget_left", None)
        q = qnet(obs, budget.to(device) if budget is not None else None)
        return masked_argmax(q, td["action_mask"].to(device)).cpu()

    return act


def random_action_fn(seed: int) -> ActionFn:
    """Uniformly random legal cells, from a dedicated generator seeded with ``seed``."""
    gen = torch.Generator().manual_seed(seed)

    def act(td: TensorDictBase) -> torch.Tensor:
        return random_legal_actions(td["action_mask"].cpu(), gen)

    return act


def channel_greedy_action_fn(channel: int) -> ActionFn:
    """The heuristic that treats the legal cell of highest observation ``channel`` (e.g. ``dpv/max``:
    DPV-greedy on the env's simulation schedule, the yardstick of a DPV-residual network)."""

    def act(td: TensorDictBase) -> torch.Tensor:
        score = td["observation"][..., channel, :, :].flatten(-2).float()
        return masked_argmax(score, td["action_mask"].to(score.device)).cpu()

    return act
