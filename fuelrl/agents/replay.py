"""The replay buffer: TorchRL ``TensorDictReplayBuffer`` in memory or memory-mapped on disk.

``ReplayStore`` adds what training needs on top of TorchRL's buffer: the transition keys worth
storing (no per-cell Q-values), an optional compact observation dtype, a seeded sampling generator,
and a small restart record for the on-disk buffer (``state()`` / ``restore()``): the memory-mapped
files stay in ``scratch_dir`` and a checkpoint stores only how many transitions they hold and where
the writer was, so resuming a run reopens its buffer instead of refilling it.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any, Literal

import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.data import LazyMemmapStorage, LazyTensorStorage, TensorDictReplayBuffer

from fuelrl.errors import InputError

log = logging.getLogger(__name__)

#: what a transition keeps (the collector also writes action values, trajectory ids, ...)
TRANSITION_KEYS: tuple = (
    "observation",
    "budget_left",
    "action_mask",
    "action",
    ("next", "observation"),
    ("next", "budget_left"),
    ("next", "action_mask"),
    ("next", "reward"),
    ("next", "done"),
    ("next", "terminated"),
    ("next", "truncated"),
    ("next", "burned_ha"),
)
#: kept when the env provides them (FireEnv's ``expert: dpv``, ``expert_lookahead``)
OPTIONAL_KEYS: tuple = ("expert_action", "expert_dpv", "expert_set")
_OBS_KEYS = ("observation", ("next", "observation"))
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class ReplayStore:
    """A uniform replay buffer of single transitions.

    Args:
        capacity: transitions kept (oldest overwritten first).
        storage: "memory" (``LazyTensorStorage``) or "memmap" (``LazyMemmapStorage`` in ``scratch_dir``).
        scratch_dir: folder of the memory-mapped files (required for "memmap").
        batch_size: transitions per sample.
        observation_dtype: dtype observations are stored in ("float32", "float16", "bfloat16");
            samples are returned as float32.
        seed: seed of the sampling generator.
    """

    def __init__(
        self,
        capacity: int,
        *,
        storage: Literal["memory", "memmap"] = "memory",
        scratch_dir: str | Path | None = None,
        batch_size: int = 64,
        observation_dtype: str = "float32",
        seed: int = 0,
    ):
        if capacity < 1:
            raise InputError(f"data.buffer_size: expected >= 1 transitions, got {capacity}")
        if observation_dtype not in _DTYPES:
            raise InputError(
                f"data.observation_dtype: expected one of {sorted(_DTYPES)}, got {observation_dtype!r}"
            )
        self.capacity = int(capacity)
        self.kind = storage
        self.batch_size = int(batch_size)
        self.obs_dtype = _DTYPES[observation_dtype]
        self.generator = torch.Generator().manual_seed(seed)
        if storage == "memory":
            self.scratch_dir = None
            store = LazyTensorStorage(self.capacity)
        elif storage == "memmap":
            if scratch_dir is None:
                raise InputError("data.scratch_dir: the memmap replay buffer needs a folder")
            self.scratch_dir = Path(scratch_dir)
            self.scratch_dir.mkdir(parents=True, exist_ok=True)
            store = LazyMemmapStorage(
                self.capacity, scratch_dir=self.scratch_dir, existsok=True, auto_cleanup=False
            )
        else:
            raise InputError(f"data.storage: expected 'memory' or 'memmap', got {storage!r}")
        self.buffer = TensorDictReplayBuffer(
            storage=store, batch_size=self.batch_size, generator=self.generator, prefetch=None
        )

    def __len__(self) -> int:
        return len(self.buffer)

    def extend(self, transitions: TensorDictBase) -> int:
        """Add a batch of transitions (any batch shape; flattened). Returns how many were added."""
        extra = [k for k in OPTIONAL_KEYS if k in transitions.keys()]
        td = transitions.select(*TRANSITION_KEYS, *extra).reshape(-1).to("cpu")
        for key in _OBS_KEYS:
            td.set(key, td.get(key).to(self.obs_dtype))
        td = TensorDict(td.to_dict(), batch_size=td.batch_size)  # plain tensordict: drop lazy stacks
        self.buffer.extend(td)
        return td.shape[0]

    def sample(self, batch_size: int | None = None) -> TensorDictBase:
        """A uniformly sampled batch (observations as float32), without the buffer's index bookkeeping."""
        td = self.buffer.sample(batch_size or self.batch_size)
        td = td.select(*TRANSITION_KEYS, *[k for k in OPTIONAL_KEYS if k in td.keys()])
        for key in _OBS_KEYS:
            td.set(key, td.get(key).float())
        return td

    # ----------------------------------------------------------------------- restart record
    def state(self) -> dict[str, Any]:
        """What a checkpoint needs to reopen an on-disk buffer (nothing for an in-memory one)."""
        if self.kind != "memmap" or len(self) == 0:
            return {"kind": self.kind, "len": 0}
        return {
            "kind": self.kind,
            "len": len(self),
            "cursor": int(self.buffer._writer._cursor),
            "scratch_dir": str(self.scratch_dir),
            "capacity": self.capacity,
            "generator": self.generator.get_state(),
        }

    def restore(self, state: dict[str, Any]) -> bool:
        """Reopen the memory-mapped transitions recorded by :meth:`state`; returns whether it did.

        The files may hold transitions written after the checkpoint (the run went on before it was
        killed): they are valid transitions of the same run and are kept.
        """
        if self.kind != "memmap" or state.get("kind") != "memmap" or not state.get("len"):
            return False
        path = Path(state["scratch_dir"])
        if state.get("capacity") != self.capacity or path.resolve() != self.scratch_dir.resolve():
            log.warning(
                "replay buffer not restored: checkpoint buffer %s (%s transitions) differs from %s (%s)",
                path,
                state.get("capacity"),
                self.scratch_dir,
                self.capacity,
            )
            return False
        try:
            data = TensorDict.load_memmap(path)
        except Exception as exc:  # noqa: BLE001 - a missing or torn buffer is refilled, not fatal
            log.warning("replay buffer not restored from %s (%s); it will be refilled", path, exc)
            return False
        if data.shape[0] != self.capacity:
            log.warning(
                "replay buffer not restored: %s holds %d slots, expected %d",
                path,
                data.shape[0],
                self.capacity,
            )
            return False
        storage = self.buffer._storage
        storage._storage = data
        storage.initialized = True
        storage._len = int(state["len"])
        self.buffer._writer._cursor = int(state["cursor"])
        if "generator" in state:
            self.generator.set_state(state["generator"])
        log.info("replay buffer restored from %s: %d transitions", path, len(self))
        return True

    def clear_disk(self) -> None:
        """Remove the memory-mapped files (a fresh run that does not resume)."""
        if self.scratch_dir is not None and self.scratch_dir.exists():
            shutil.rmtree(self.scratch_dir)
            self.scratch_dir.mkdir(parents=True, exist_ok=True)
