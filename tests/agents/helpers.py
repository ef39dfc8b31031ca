"""Hand-made transition batches shaped like FireEnv's (the contract in docs/env.md)."""

from __future__ import annotations

import torch
from tensordict import TensorDict


def transitions(
    n: int = 6, c: int = 4, h: int = 5, w: int = 5, seed: int = 0, p_legal: float = 0.6
) -> TensorDict:
    g = torch.Generator().manual_seed(seed)
    a = h * w

    def mask() -> torch.Tensor:
        m = torch.rand(n, a, generator=g) < p_legal
        m[:, 0] = True  # at least one legal cell per row
        return m

    m0 = mask()
    action = torch.stack([torch.multinomial(row.float(), 1, generator=g)[0] for row in m0])
    terminated = torch.zeros(n, 1, dtype=torch.bool)
    terminated[-1] = True
    return TensorDict(
        {
            "observation": torch.rand(n, c, h, w, generator=g),
            "budget_left": torch.rand(n, 1, generator=g),
            "action_mask": m0,
            "action": action,
            "done": torch.zeros(n, 1, dtype=torch.bool),
            "terminated": torch.zeros(n, 1, dtype=torch.bool),
            "next": {
                "observation": torch.rand(n, c, h, w, generator=g),
                "budget_left": torch.rand(n, 1, generator=g),
                "action_mask": mask(),
                "reward": torch.randn(n, 1, generator=g),
                "done": terminated.clone(),
                "terminated": terminated,
                "truncated": torch.zeros(n, 1, dtype=torch.bool),
                "burned_ha": torch.rand(n, 1, generator=g) * 50,
            },
        },
        batch_size=[n],
    )
