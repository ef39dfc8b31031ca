"""Fires across processes: ``fuelrl simulate``, ``evaluate`` and ``plan`` under torch.distributed.

Launched by ``torchrun`` (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT in the
environment) or by ``srun`` (SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_LOCALID; MASTER_ADDR and
MASTER_PORT from the batch script), the same engine Lightning's DDP uses for ``fuelrl fit``; in a
plain process everything here is a no-op and the commands run as they always have.

The split is by fire: every process draws the *whole* seeded fire set (so every process knows
every fire), then simulates only the contiguous block of fire indices :func:`fire_range` gives
it. What the fires produce is combined exactly, never approximately:

* burn counts are integers, summed with :func:`sum_counts` (an integer all-reduce, so the sum does
  not depend on the order the processes add in);
* per-fire values (burned area of each fire, ...) are gathered with :func:`gather_fires` and put
  back in fire order, the same array one process would have made;
* float maps summed over fires (the DPV planner's score map) are gathered fire by fire and added
  in the order one process adds them (:func:`fuelrl.baselines.heuristics.split_dpv`).

So N processes write exactly what one process writes with the same seed; only timings differ. The
split is opt-in (:func:`init`, which the commands call): a process group made by someone else, such
as Lightning's DDP in ``fuelrl fit`` where every rank has its own landscapes, splits nothing. Rank
0 alone writes outputs (atomically, after every rank has delivered its fires); the other ranks
write nothing. A rank that fails makes its launcher stop the others (torchrun does; give ``srun``
``--kill-on-bad-exit=1``), and since no rank writes before the last collective, nothing is
written. Collectives run on the CPU with gloo whatever device the simulator uses; on a GPU node
each process takes the GPU of its ``LOCAL_RANK`` (:func:`local_device`). See docs/scaling.md.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

import numpy as np
import torch

from fuelrl.errors import FuelrlError, InputError

#: seconds a collective waits for the other ranks before the run fails (FUELRL_DIST_TIMEOUT_S)
DEFAULT_TIMEOUT_S = 1800


class PeerFailure(FuelrlError):
    """A collective failed: another process of the run failed, was killed or left."""


def _collective(what: str, call, *args, **kwargs) -> None:
    try:
        call(*args, **kwargs)
    except RuntimeError as exc:  # gloo: "Connection closed by peer", timeouts, DistError
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise PeerFailure(
            f"another process of this run failed or left while {what} ({detail}); "
            "see its own error above; nothing was written"
        ) from exc


def _dist():
    import torch.distributed as dist

    return dist if dist.is_available() else None


#: whether :func:`init` asked for the fire split (a process group made by someone else, e.g.
#: Lightning's DDP in ``fuelrl fit`` where every rank has its own landscapes, splits nothing)
_SPLIT = {"on": False, "owned": False}


def active() -> bool:
    """Whether fires are split: :func:`init` was called and this process is one of several."""
    dist = _dist()
    return bool(_SPLIT["on"] and dist is not None and dist.is_initialized() and dist.get_world_size() > 1)


def world_size() -> int:
    return _dist().get_world_size() if active() else 1


def rank() -> int:
    return _dist().get_rank() if active() else 0


def is_main() -> bool:
    """Whether this process writes the outputs (rank 0, or the only process)."""
    return rank() == 0


def _env_layout(env: dict[str, str] | None = None) -> tuple[int, int, int] | None:
    """(rank, world size, local rank) from torchrun's or SLURM's variables; None for one process."""
    env = os.environ if env is None else env
    if "WORLD_SIZE" in env and "RANK" in env:
        r, n = int(env["RANK"]), int(env["WORLD_SIZE"])
        local = int(env.get("LOCAL_RANK", "0"))
    elif "SLURM_STEP_NUM_TASKS" in env and "SLURM_PROCID" in env:  # a task of an srun step
        r, n = int(env["SLURM_PROCID"]), int(env["SLURM_STEP_NUM_TASKS"])
        local = int(env.get("SLURM_LOCALID", "0"))
        if n > 1 and "MASTER_ADDR" not in env:
            raise InputError(
                f"srun started {n} tasks but MASTER_ADDR is not set, so they cannot find each other: "
                'export MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1) in the '
                "batch script (docs/scaling.md)"
            )
    else:
        return None
    return (r, n, local) if n > 1 else None


def init() -> bool:
    """Join the process group the launcher describes (gloo); returns whether there is one.

    No-op (False) in a plain process or a one-process launch. The split is opt-in: the commands
    call this; a library user with a process group of their own calls it to split on that group
    (every rank must then hold the same problem and fires).
    """
    dist = _dist()
    if dist is None:
        return False
    if not dist.is_initialized():
        layout = _env_layout()
        if layout is None:
            return False
        r, n, _ = layout
        os.environ.setdefault("MASTER_PORT", "29500")
        timeout = datetime.timedelta(
            seconds=float(os.environ.get("FUELRL_DIST_TIMEOUT_S", DEFAULT_TIMEOUT_S))
        )
        dist.init_process_group("gloo", init_method="env://", rank=r, world_size=n, timeout=timeout)
        _SPLIT["owned"] = True
    _SPLIT["on"] = True
    return active()


def shutdown() -> None:
    """Stop splitting; leave the process group if :func:`init` made it."""
    dist = _dist()
    _SPLIT["on"] = False
    if _SPLIT["owned"] and dist is not None and dist.is_initialized():
        dist.destroy_process_group()
    _SPLIT["owned"] = False


def local_device(device: str | None) -> str | None:
    """``cuda`` (no index) becomes ``cuda:LOCAL_RANK`` when several processes share a node."""
    layout = _env_layout()
    if device == "cuda" and layout is not None and active():
        return f"cuda:{layout[2]}"
    return device


def fire_range(n: int, *, rank_: int | None = None, world: int | None = None) -> tuple[int, int]:
    """[start, stop) of this rank's fires among ``n``: contiguous blocks in rank order, the first
    ``n % world`` ranks one fire more (rank 0 always holds fire 0 when there is one)."""
    r = rank() if rank_ is None else int(rank_)
    w = world_size() if world is None else int(world)
    base, extra = divmod(int(n), w)
    start = r * base + min(r, extra)
    return start, start + base + (1 if r < extra else 0)


def sum_counts(counts: np.ndarray) -> np.ndarray:
    """Integer array summed over ranks (int64, exact); the array itself in one process."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    if not active():
        return counts
    t = torch.from_numpy(counts.copy())
    _collective("summing burn counts", _dist().all_reduce, t, op=_dist().ReduceOp.SUM)
    return t.numpy()


def all_gather(obj: Any) -> list[Any]:
    """Every rank's ``obj`` (picklable), in rank order, on every rank; ``[obj]`` in one process."""
    if not active():
        return [obj]
    out: list[Any] = [None] * world_size()
    _collective("gathering per-fire results", _dist().all_gather_object, out, obj)
    return out


def from_rank0(obj: Any) -> Any:
    """Rank 0's ``obj`` (picklable) on every rank; ``obj`` itself in one process."""
    if not active():
        return obj
    box = [obj]
    _collective("sharing rank 0's result", _dist().broadcast_object_list, box, src=0)
    return box[0]


def gather_fires(values: np.ndarray) -> np.ndarray:
    """Per-fire values of this rank's block (:func:`fire_range`), concatenated in fire order on
    every rank: the bytes one process would hold."""
    values = np.asarray(values)
    if not active():
        return values
    return np.concatenate(all_gather(values), axis=0)


def fire_slice(scenarios: Any, start: int, stop: int) -> Any:
    """Fires ``start:stop`` of a [B, F] :class:`~fuelrl.simulators.base.ScenarioSet`."""
    from dataclasses import fields, replace

    return replace(
        scenarios, **{f.name: getattr(scenarios, f.name)[:, start:stop] for f in fields(scenarios)}
    )


def local_fires(scenarios: Any) -> Any:
    """This rank's block of a [B, F] scenario set (the set itself in one process)."""
    if not active():
        return scenarios
    start, stop = fire_range(scenarios.shape[1])
    return fire_slice(scenarios, start, stop)


def describe() -> dict[str, Any]:
    """What summary files record about the run's processes (not part of the compared outputs)."""
    return {"world_size": world_size(), "backend": "gloo" if active() else None}
