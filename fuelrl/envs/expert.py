"""Expert labels for imitation: the cell a DPV-greedy planner that regrows the fires after every
break would treat next (``EnvConfig.expert: "dpv"``).

That planner (``fuelrl plan --policy dpv --recompute-every 1``) is a stronger teacher than the
default ``dpv`` policy, which regrows the fires only about 20 times per plan: on TestMTT 19545 it
burns about 10% less (docs/evaluation.md). A network trained to pick its cell from the *stale*
observation an agent sees between two simulations (``simulate_every`` > 1) can capture part of
that gain at the cost of the cheap schedule: the idea of expert iteration and of DQfD's
large-margin loss on demonstrations (Hester et al. 2018, "Deep Q-learning from demonstrations",
AAAI; :func:`fuelrl.agents.losses.large_margin_loss`).
"""

from __future__ import annotations

import torch


def greedy_labels(score: torch.Tensor, available: torch.Tensor) -> torch.Tensor:
    """int64 [B]: per tile, the available cell of highest ``score`` (float [B, H, W] or [B, N]).

    ``available``: bool [B, N]. Ties go to the lowest cell index (deterministic). -1 where no
    available cell has a positive score (no fire reaches one: there is nothing to imitate).
    """
    flat = score.reshape(score.shape[0], -1).double()
    masked = torch.where(available, flat, -torch.inf)
    best, idx = masked.max(dim=1)
    return torch.where(best > 0, idx, torch.full_like(idx, -1))
