"""Epsilon-greedy exploration over legal cells, with its own random generator, and its schedule.

TorchRL's ``EGreedyModule`` draws from the global torch RNG and writes the action mask into the
(shared) action spec; this module does the same job with a dedicated ``torch.Generator`` (the
project's reproducibility rule) and reads the mask from the tensordict only.
"""

from __future__ import annotations

import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictModuleBase
from torchrl.envs.utils import ExplorationType, exploration_type


def linear_epsilon(
    frames: int, *, start: float, end: float, decay_frames: int, warmup_frames: int = 0
) -> float:
    """Epsilon after ``frames`` env transitions: ``start`` during warm-up, then linear to ``end``.

    The schedule is a pure function of the frame count, so a resumed run (which restores the frame
    count) continues with exactly the epsilon it stopped at.
    """
    if frames <= warmup_frames or decay_frames <= 0:
        return float(start if frames <= warmup_frames else end)
    frac = min(1.0, (frames - warmup_frames) / decay_frames)
    return float(start + frac * (end - start))


def random_legal_actions(action_mask: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One uniformly random legal cell per row of ``action_mask`` ``[*, A]`` (bool) -> ``[*]`` int64.

    Rows without any legal cell (an exhausted tile) get action 0; the env ignores or ends them.
    """
    flat = action_mask.reshape(-1, action_mask.shape[-1])
    weights = flat.to(torch.float32)
    empty = ~flat.any(-1)
    if empty.any():
        weights = weights.clone()
        weights[empty, 0] = 1.0
    gen_device = generator.device if generator is not None else weights.device
    idx = torch.multinomial(weights.to(gen_device), 1, generator=generator).squeeze(-1)
    return idx.to(action_mask.device).reshape(action_mask.shape[:-1])


class MaskedEpsilonGreedy(TensorDictModuleBase):
    """Replace the greedy ``action`` by a random legal cell with probability ``eps``.

    Acts only under ``ExplorationType.RANDOM`` (the collector's default); under
    ``set_exploration_type(ExplorationType.DETERMINISTIC)`` it is a no-op, which is how evaluation
    runs the greedy policy. ``eps`` is a buffer, so it is saved in checkpoints.
    """

    def __init__(
        self,
        eps: float = 1.0,
        *,
        action_key: str = "action",
        action_mask_key: str = "action_mask",
        seed: int = 0,
    ):
        super().__init__()
        self.in_keys = [action_key, action_mask_key]
        self.out_keys = [action_key]
        self.action_key = action_key
        self.action_mask_key = action_mask_key
        self.register_buffer("eps", torch.tensor(float(eps)))
        self.generator = torch.Generator().manual_seed(seed)

    def set_epsilon(self, eps: float) -> None:
        if not 0.0 <= eps <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {eps}")
        self.eps.fill_(eps)

    def forward(self, tensordict: TensorDictBase) -> TensorDictBase:
        if exploration_type() not in (ExplorationType.RANDOM, None):
            return tensordict
        action = tensordict.get(self.action_key)
        mask = tensordict.get(self.action_mask_key)
        explore = torch.rand(action.shape, generator=self.generator) < float(self.eps)
        if explore.any():
            random_action = random_legal_actions(mask.cpu(), self.generator).to(action.device)
            action = torch.where(explore.to(action.device), random_action, action)
            tensordict.set(self.action_key, action)
        return tensordict
