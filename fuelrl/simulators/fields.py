"""The numeric dialect of the simulator layer, and the spread fields a backend may hand to DPV.

* :class:`PhysicsFormat`: where and how arrays live (``xp`` = numpy or torch, ``dtype``,
  ``device``), with the few array operations whose spelling differs between the two. One rule
  picks the physics' format (:meth:`PhysicsFormat.for_device`): on a CPU device the physics runs
  in numpy float64 (the reference's numbers, and faster than torch float64 there); on another
  device it runs in torch on that device.
* :class:`TileSpread` / :class:`SpreadFields`: 1 / directional ROS (min/m) toward the 16 MTT edge
  azimuths of every cell, without breaks, for each weather group of a fire set: what a backend's
  :meth:`~fuelrl.simulators.base.SimulatorBackend.prepare` may put in
  :attr:`PreparedFires.spread <fuelrl.simulators.base.PreparedFires.spread>` so that the
  fire-path trees (:func:`fuelrl.simulators.trees.dpv`) read them instead of rerunning the physics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import torch


def _device(device: torch.device | str) -> torch.device:
    device = torch.device(device)
    if device.type == "cuda" and device.index is None and torch.cuda.is_available():
        device = torch.device("cuda", torch.cuda.current_device())
    return device


@dataclass(frozen=True)
class PhysicsFormat:
    """An array format: ``xp`` (the ``numpy`` or ``torch`` module), ``dtype`` (a torch float
    dtype, also for numpy arrays) and ``device`` (``cpu`` for numpy)."""

    xp: Any
    dtype: torch.dtype = torch.float64
    device: torch.device = field(default=torch.device("cpu"))

    def __post_init__(self) -> None:
        if self.xp not in (np, torch):
            raise ValueError(f"PhysicsFormat.xp must be numpy or torch, got {self.xp!r}")
        object.__setattr__(self, "device", _device(self.device))
        if self.xp is np and self.device.type != "cpu":
            raise ValueError(f"numpy arrays live on the CPU, not {self.device}")

    @classmethod
    def for_device(cls, device: torch.device | str, dtype: torch.dtype = torch.float64) -> PhysicsFormat:
        """The format the spread physics runs in for tiles on ``device``: numpy float64 on a CPU
        (``dtype`` ignored: float32 moves crown-fire thresholds and the wind limit, and torch
        float64 is slower there), torch ``dtype`` tensors on any other device."""
        device = torch.device(device)
        if device.type == "cpu":
            return cls(np, torch.float64, torch.device("cpu"))
        return cls(torch, dtype, device)

    @classmethod
    def of(cls, x: Any) -> PhysicsFormat:
        """The format of an existing array (numpy array or tensor)."""
        if isinstance(x, torch.Tensor):
            return _torch_format(x.dtype if x.is_floating_point() else torch.float32, x.device)
        return _NUMPY_F32 if getattr(x, "dtype", None) == np.float32 else _NUMPY_F64

    @property
    def is_numpy(self) -> bool:
        return self.xp is np

    @property
    def np_dtype(self) -> Any:
        return np.float32 if self.dtype == torch.float32 else np.float64

    # -- conversions ----------------------------------------------------------------------------
    def asarray(self, x: Any, dtype: Any = None) -> Any:
        """``x`` (numpy, tensor or scalars) in this format; ``dtype``: ``bool``, ``int`` or
        ``None`` (this format's float dtype)."""
        if self.is_numpy:
            if isinstance(x, torch.Tensor):
                x = x.detach().cpu().numpy()
            np_dtype = {bool: bool, int: np.int64, None: self.np_dtype}[dtype]
            return np.asarray(x, dtype=np_dtype)
        t_dtype = {bool: torch.bool, int: torch.int64, None: self.dtype}[dtype]
        return torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).to(
            self.device, t_dtype
        )

    def tensor(self, x: Any, device: torch.device | str | None = None) -> torch.Tensor:
        """An array of this format as a torch tensor on ``device`` (default: this format's);
        zero-copy for numpy on the CPU."""
        t = torch.from_numpy(x) if isinstance(x, np.ndarray) else torch.as_tensor(x)
        return t.to(device or self.device)

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)

    # -- the operations spelled differently -----------------------------------------------------
    def full(self, shape: tuple[int, ...], value: float, dtype: Any = None) -> Any:
        if self.is_numpy:
            return np.full(shape, value, dtype=self.np_dtype if dtype is None else dtype)
        return torch.full(shape, value, dtype=self.dtype if dtype is None else dtype, device=self.device)

    def empty_like(self, x: Any) -> Any:
        return self.xp.empty_like(x)

    def copy(self, x: Any) -> Any:
        return x.copy() if self.is_numpy else x.clone()

    def stack(self, items: list[Any], axis: int = 0) -> Any:
        return np.stack(items, axis=axis) if self.is_numpy else torch.stack(list(items), dim=axis)

    def concatenate(self, items: list[Any], axis: int = 0) -> Any:
        return np.concatenate(items, axis=axis) if self.is_numpy else torch.cat(list(items), dim=axis)

    def pad(self, x: Any, rows: tuple[int, int], cols: tuple[int, int], value: float = math.inf) -> Any:
        """Pad the last two axes by ``rows`` (before, after) and ``cols`` with ``value``."""
        if self.is_numpy:
            return np.pad(x, [(0, 0)] * (x.ndim - 2) + [rows, cols], constant_values=value)
        return torch.nn.functional.pad(x, (*cols, *rows), value=value)

    def any_along(self, x: Any, axis: int) -> np.ndarray:
        """``x.any(axis)`` as a numpy array (on the host)."""
        return self.to_numpy(x.any(axis) if self.is_numpy else x.any(dim=axis))

    def equal(self, a: Any, b: Any) -> bool:
        return bool(np.array_equal(a, b)) if self.is_numpy else bool(torch.equal(a, b))


_NUMPY_F32 = PhysicsFormat(np, torch.float32)
_NUMPY_F64 = PhysicsFormat(np, torch.float64)


@lru_cache(maxsize=64)
def _torch_format(dtype: torch.dtype, device: torch.device) -> PhysicsFormat:
    return PhysicsFormat(torch, dtype, device)


@dataclass
class TileSpread:
    """The spread field of one tile without breaks, for each weather group of its fires.

    ``keys`` maps a group's weather (:func:`fuelrl.simulators.spread.weather_key`) to its row;
    ``inv_ros`` [g, 16, H, W] is 1 / directional ROS (min/m) toward each edge azimuth of
    :data:`fuelrl.simulators.mtt.OFFSETS` (``inf`` where fire cannot enter) and ``burnable``
    [g, H, W] the cells fire can enter, both arrays of the :class:`SpreadFields`' format.
    """

    keys: dict[tuple[float, ...], int]
    inv_ros: Any
    burnable: Any


@dataclass
class SpreadFields:
    """Spread fields without breaks of a batch of tiles (one :class:`TileSpread` per tile) in one
    :class:`PhysicsFormat`: the optional ``PreparedFires.spread`` of the backend contract."""

    tiles: list[TileSpread]
    format: PhysicsFormat

    def index(self, rows: list[int]) -> SpreadFields:
        return SpreadFields([self.tiles[i] for i in rows], self.format)

    def update(self, rows: list[int], new: SpreadFields) -> SpreadFields:
        """These fields with the tiles ``rows`` replaced by those of ``new`` (in its order)."""
        new = new.to_format(self.format)
        tiles = list(self.tiles)
        for i, t in zip(rows, new.tiles, strict=True):
            tiles[i] = t
        return SpreadFields(tiles, self.format)

    def to_format(self, fmt: PhysicsFormat) -> SpreadFields:
        """The same fields in ``fmt`` (``self`` when already there)."""
        if fmt == self.format:
            return self
        return SpreadFields(
            [
                TileSpread(dict(t.keys), fmt.asarray(t.inv_ros), fmt.asarray(t.burnable, bool))
                for t in self.tiles
            ],
            fmt,
        )
