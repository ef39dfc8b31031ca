"""make_env: FireEnv alone, or N FireEnv workers in a SerialEnv / ParallelEnv, with ActionMask outside."""

from __future__ import annotations

from functools import partial

import torch
from torchrl.envs import EnvBase, ParallelEnv, SerialEnv, TransformedEnv
from torchrl.envs.transforms import ActionMask

from fuelrl.envs.config import EnvConfig
from fuelrl.envs.fire_env import FireEnv
from fuelrl.errors import InputError


def worker_seeds(seed: int, num_workers: int) -> list[int]:
    """The seed of each worker: ``seed + i`` (distinct; worker 0 of N=1 matches a plain FireEnv)."""
    return [int(seed) + i for i in range(num_workers)]


def make_env(
    config: EnvConfig | None = None,
    num_workers: int = 0,
    seed: int = 0,
    *,
    serial: bool = False,
    device: str | torch.device | None = None,
    mp_start_method: str | None = None,
) -> EnvBase:
    """The environment training and evaluation use, wrapped in ``TransformedEnv(..., ActionMask())``.

    * ``num_workers=0``: one :class:`FireEnv` (batch [B]) in this process.
    * ``num_workers=N>=1``: a ``ParallelEnv(N)`` (``serial=True``: a ``SerialEnv(N)``) of FireEnv
      workers built from ``functools.partial`` (picklable under spawn), batch [N, B]. Worker ``i``
      gets seed ``seed + i`` and the landscape shard ``i`` of N (tiles whose dataset index ``% N ==
      i``), so workers never draw the same tile.

    The ActionMask transform on the outer env keeps ``env.rand_action`` and exploration inside
    ``action_mask``. For evaluation on fixed tiles and fires, build the env with the eval split and
    call ``env.set_seed(seed)`` before each pass: every pass then replays the same tiles and fires.
    """
    cfg = (config if config is not None else EnvConfig()).validate()
    if num_workers < 0:
        raise InputError(f"make_env: num_workers must be >= 0; got {num_workers}")
    if num_workers == 0:
        base: EnvBase = FireEnv(cfg, seed=seed, device=device)
    else:
        fns = [
            partial(FireEnv, cfg, seed=s, device=device, worker_index=i, num_workers=num_workers)
            for i, s in enumerate(worker_seeds(seed, num_workers))
        ]
        if serial:
            base = SerialEnv(num_workers, fns, device=device)
        else:
            base = ParallelEnv(num_workers, fns, device=device, mp_start_method=mp_start_method)
    return TransformedEnv(base, ActionMask())
