"""A tiny array namespace so one implementation of the fire equations serves numpy and torch.

``namespace(*arrays)`` looks at its arguments: if any is a ``torch.Tensor`` the torch backend is
used (on that tensor's device, in float32 unless a float64 tensor is given), otherwise numpy in
float64. Equation code calls ``xp.exp``, ``xp.where`` ... and ordinary arithmetic operators, which
behave the same on both. torch is imported only when a tensor is passed in.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _is_tensor(x: Any) -> bool:
    cls = type(x)
    return cls.__module__.startswith("torch") and cls.__name__ in ("Tensor", "Parameter")


class NumpyNamespace:
    """numpy backend (float64)."""

    name = "numpy"
    pi = math.pi

    def __init__(self) -> None:
        self.dtype = np.float64
        self.device = None

    def asarray(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=self.dtype)

    def as_index(self, x: Any) -> np.ndarray:
        return np.asarray(x).astype(np.int64)

    def table_index(self, x: Any, size: int) -> tuple[np.ndarray, np.ndarray]:
        """(index, inside): integer codes as table rows, out-of-range codes mapped to row 0."""
        idx = np.asarray(x).astype(np.int64)
        inside = (idx >= 0) & (idx < size)
        return np.where(inside, idx, 0), inside

    def table(self, array: np.ndarray) -> np.ndarray:
        """A lookup table (numpy array of constants) in this backend's dtype/device."""
        return np.asarray(array, dtype=self.dtype)

    def bool_table(self, array: np.ndarray) -> np.ndarray:
        return np.asarray(array, dtype=bool)

    def where(self, cond, a, b):
        return np.where(cond, a, b)

    def maximum(self, a, b):
        return np.maximum(a, b)

    def minimum(self, a, b):
        return np.minimum(a, b)

    def clip(self, x, lo, hi):
        return np.clip(x, lo, hi)

    def sum(self, x, axis: int = -1):
        return np.sum(x, axis=axis)

    def stack(self, items, axis: int = -1):
        return np.stack(np.broadcast_arrays(*items), axis=axis)

    def broadcast_arrays(self, *items):
        return np.broadcast_arrays(*items)

    def broadcast_shape(self, *items) -> tuple[int, ...]:
        return np.broadcast_shapes(*(np.shape(i) for i in items))

    def broadcast_to(self, x, shape):
        """``x`` as a new, writable array of ``shape`` (numpy broadcasting rules)."""
        return np.array(np.broadcast_to(x, shape))

    def zeros_like(self, x):
        return np.zeros_like(x, dtype=self.dtype)

    def full_like(self, x, value):
        return np.full_like(x, value, dtype=self.dtype)

    def logical_and(self, a, b):
        return np.logical_and(a, b)

    def logical_or(self, a, b):
        return np.logical_or(a, b)

    def to_int(self, x):
        return np.asarray(x).astype(np.int64)

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    tan = staticmethod(np.tan)
    arctan = staticmethod(np.arctan)
    arctan2 = staticmethod(np.arctan2)
    hypot = staticmethod(np.hypot)
    abs = staticmethod(np.abs)
    isfinite = staticmethod(np.isfinite)
    round = staticmethod(np.round)


class TorchNamespace:
    """torch backend: float32 (or float64 when an input is float64), on the inputs' device."""

    name = "torch"
    pi = math.pi

    def __init__(self, dtype, device) -> None:
        import torch

        self.torch = torch
        self.dtype = dtype
        self.device = device

    def asarray(self, x: Any):
        t = self.torch
        if isinstance(x, t.Tensor):
            return x.to(device=self.device, dtype=self.dtype)
        return t.as_tensor(np.asarray(x, dtype=np.float64), dtype=self.dtype, device=self.device)

    def as_index(self, x: Any):
        t = self.torch
        if isinstance(x, t.Tensor):
            return x.to(device=self.device, dtype=t.int64)
        return t.as_tensor(np.asarray(x).astype(np.int64), device=self.device)

    def table_index(self, x: Any, size: int):
        """(index, inside): integer codes as table rows, out-of-range codes mapped to row 0."""
        idx = self.as_index(x)
        inside = (idx >= 0) & (idx < size)
        return self.torch.where(inside, idx, self.torch.zeros_like(idx)), inside

    def table(self, array: np.ndarray):
        # Lookup tables are module-level constants: cache one copy per (table, dtype, device).
        key = (id(array), self.dtype, str(self.device))
        cached = _TORCH_TABLES.get(key)
        if cached is None:
            cached = self.torch.as_tensor(
                np.asarray(array, dtype=np.float64), dtype=self.dtype, device=self.device
            )
            _TORCH_TABLES[key] = cached
        return cached

    def bool_table(self, array: np.ndarray):
        return self.torch.as_tensor(np.asarray(array, dtype=bool), device=self.device)

    def _t(self, x):
        if isinstance(x, self.torch.Tensor):
            return x
        return self.torch.as_tensor(x, dtype=self.dtype, device=self.device)

    def where(self, cond, a, b):
        return self.torch.where(self._t(cond).bool(), self._t(a), self._t(b))

    def maximum(self, a, b):
        return self.torch.maximum(self._t(a), self._t(b))

    def minimum(self, a, b):
        return self.torch.minimum(self._t(a), self._t(b))

    def clip(self, x, lo, hi):
        return self.torch.clamp(self._t(x), lo, hi)

    def sum(self, x, axis: int = -1):
        return self.torch.sum(x, dim=axis)

    def stack(self, items, axis: int = -1):
        items = self.torch.broadcast_tensors(*[self._t(i) for i in items])
        return self.torch.stack(items, dim=axis)

    def broadcast_arrays(self, *items):
        return self.torch.broadcast_tensors(*[self._t(i) for i in items])

    def broadcast_shape(self, *items) -> tuple[int, ...]:
        return tuple(self.torch.broadcast_shapes(*(tuple(self._t(i).shape) for i in items)))

    def broadcast_to(self, x, shape):
        """``x`` as a new, contiguous tensor of ``shape`` (numpy broadcasting rules)."""
        return self.torch.broadcast_to(self._t(x), shape).contiguous()

    def zeros_like(self, x):
        return self.torch.zeros_like(self._t(x), dtype=self.dtype)

    def full_like(self, x, value):
        return self.torch.full_like(self._t(x), value, dtype=self.dtype)

    def logical_and(self, a, b):
        return self.torch.logical_and(self._t(a), self._t(b))

    def logical_or(self, a, b):
        return self.torch.logical_or(self._t(a), self._t(b))

    def to_int(self, x):
        return self._t(x).to(self.torch.int64)

    def exp(self, x):
        return self.torch.exp(self._t(x))

    def log(self, x):
        return self.torch.log(self._t(x))

    def sqrt(self, x):
        return self.torch.sqrt(self._t(x))

    def sin(self, x):
        return self.torch.sin(self._t(x))

    def cos(self, x):
        return self.torch.cos(self._t(x))

    def tan(self, x):
        return self.torch.tan(self._t(x))

    def arctan(self, x):
        return self.torch.arctan(self._t(x))

    def arctan2(self, y, x):
        return self.torch.atan2(self._t(y), self._t(x))

    def hypot(self, a, b):
        return self.torch.hypot(self._t(a), self._t(b))

    def abs(self, x):
        return self.torch.abs(self._t(x))

    def isfinite(self, x):
        return self.torch.isfinite(self._t(x))

    def round(self, x):
        return self.torch.round(self._t(x))


_NUMPY = NumpyNamespace()
_TORCH_TABLES: dict[tuple, Any] = {}


def namespace(*arrays: Any) -> NumpyNamespace | TorchNamespace:
    """The backend for ``arrays``: torch if any is a tensor (its device; float64 if any tensor is
    float64, else float32), numpy float64 otherwise."""
    tensors = [a for a in arrays if _is_tensor(a)]
    if not tensors:
        return _NUMPY
    import torch

    device = tensors[0].device
    dtype = torch.float64 if any(t.dtype == torch.float64 for t in tensors) else torch.float32
    return TorchNamespace(dtype, device)
