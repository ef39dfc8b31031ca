"""Windows (sub-grids) of a landscape source: ``PATH#rows=400:600,cols=150:350``.

A landscape spec may end in ``#rows=R0:R1,cols=C0:C1``: half-open, 0-based cell indices on the
source's grid (either part optional; an empty bound means the grid's edge, e.g. ``rows=400:``).
The windowed source is read as a landscape of its own: its transform is shifted to the window's
origin (same CRS), so outputs written on its grid are georeferenced; its ``source`` keeps the whole
spec; ``offset_rowcol`` of what it reads is relative to the window.

Only a suffix starting with ``#rows=`` or ``#cols=`` is a window, so paths that really contain
``#`` are read as before; an existing path is never split. :func:`accepts_windows` adds windows to
any ``open_reader``-like function (it decorates :func:`fuelrl.landscape.open_reader`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affine import Affine

from fuelrl.errors import InputError
from fuelrl.landscape.core import GridReader, Landscape

__all__ = ["GridWindow", "WindowedReader", "accepts_windows", "split_window"]

_KEYS = ("rows", "cols")
_EXPECTED = "expected PATH#rows=R0:R1,cols=C0:C1 (half-open, 0-based cells; either part optional)"


@dataclass(frozen=True)
class GridWindow:
    """A parsed window suffix: ``rows`` / ``cols`` as (start, stop) with None for the grid's edge."""

    spec: str  # the whole landscape spec, for messages and ``source``
    base: str  # the spec without the window suffix
    rows: tuple[int | None, int | None] | None = None
    cols: tuple[int | None, int | None] | None = None

    def resolve(self, shape: tuple[int, int]) -> tuple[int, int, int, int]:
        """(row, col, height, width) on a grid of ``shape``; InputError when it does not fit."""
        out = []
        for name, bounds, size in (("rows", self.rows, shape[0]), ("cols", self.cols, shape[1])):
            start, stop = bounds if bounds is not None else (None, None)
            start = 0 if start is None else start
            stop = size if stop is None else stop
            if stop > size or start >= size:
                raise InputError(
                    f"landscape window {self.spec!r}: {name} {start}:{stop} is outside the "
                    f"{shape[0]}x{shape[1]} grid of {self.base}; expected 0 <= START < STOP <= {size}"
                )
            if start >= stop:
                raise InputError(
                    f"landscape window {self.spec!r}: {name} {start}:{stop} is empty; expected START < STOP"
                )
            out.append((start, stop - start))
        (r0, h), (c0, w) = out
        return r0, c0, h, w


def _parse_bounds(spec: str, item: str, value: str) -> tuple[int | None, int | None]:
    start_text, colon, stop_text = value.partition(":")
    try:
        if not colon or ":" in stop_text:
            raise ValueError
        start = int(start_text) if start_text.strip() else None
        stop = int(stop_text) if stop_text.strip() else None
    except ValueError:
        raise InputError(f"landscape window {spec!r}: cannot read {item!r}; {_EXPECTED}") from None
    if (start is not None and start < 0) or (stop is not None and stop < 0):
        raise InputError(f"landscape window {spec!r}: {item!r} has a negative index; {_EXPECTED}")
    if start is not None and stop is not None and start >= stop:
        raise InputError(f"landscape window {spec!r}: {item.strip()} is empty; expected START < STOP")
    return start, stop


def split_window(spec: Any) -> GridWindow | None:
    """The window a spec ends in, or None (no ``#rows=`` / ``#cols=`` suffix, or an existing path).

    Raises InputError for a malformed window, and for a window on a ``synthetic`` spec.
    """
    if not isinstance(spec, str | Path):
        return None
    text = str(spec)
    base, hash_, suffix = text.rpartition("#")
    if not hash_ or Path(text).expanduser().exists():
        return None
    head = suffix.strip().lower()
    looks_like = head.startswith(("rows=", "cols="))
    # a near miss ("#row=0:4") on an existing path: say so rather than "not found"
    if not looks_like and not ("=" in head and base and Path(base).expanduser().exists()):
        return None
    if not base.strip():
        raise InputError(f"landscape window {text!r}: no landscape before '#'; {_EXPECTED}")
    if base.strip().lower().partition(":")[0] == "synthetic":
        raise InputError(
            f"landscape window {text!r}: windows apply to landscape files, not to synthetic landscapes; "
            "expected PATH#rows=R0:R1,cols=C0:C1 (choose a generated size with synthetic:size=ROWSxCOLS)"
        )
    parts: dict[str, tuple[int | None, int | None]] = {}
    for item in filter(None, (p.strip() for p in suffix.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if not eq or key not in _KEYS:
            raise InputError(
                f"landscape window {text!r}: cannot read {item!r} (keys are rows= and cols=); {_EXPECTED}"
            )
        if key in parts:
            raise InputError(f"landscape window {text!r}: {key}= given twice; {_EXPECTED}")
        parts[key] = _parse_bounds(text, item, value)
    if not parts:
        raise InputError(f"landscape window {text!r}: no rows= or cols= after '#'; {_EXPECTED}")
    return GridWindow(text, base, parts.get("rows"), parts.get("cols"))


class WindowedReader(GridReader):
    """A reader of one window of another reader's grid, with the reader interface.

    ``shape``, ``transform`` (shifted to the window's origin), ``crs``, ``cell_size_m``, ``source``
    (the whole spec); ``read(row, col, height, width)`` is relative to the window.
    """

    synthetic = False

    def __init__(self, base: Any, window: GridWindow):
        if getattr(base, "synthetic", False):
            raise InputError(
                f"landscape window {window.spec!r}: windows apply to landscape files, not to synthetic "
                "landscapes"
            )
        self.base = base
        self.window = window
        self.row0, self.col0, h, w = window.resolve(base.shape)
        self.shape = (h, w)
        self.source = window.spec
        self.crs = base.crs
        self.transform: Affine = base.transform @ Affine.translation(self.col0, self.row0)
        self.cell_size_m = base.cell_size_m

    @property
    def bands(self) -> Any:
        return self.base.bands

    def _read(self, row: int, col: int, height: int, width: int, *, allow_empty: bool) -> Landscape:
        land = self.base.read(self.row0 + row, self.col0 + col, height, width, allow_empty=allow_empty)
        return dataclasses.replace(land, source=self.source, offset_rowcol=(row, col))

    def close(self) -> None:
        self.base.close()

    def __repr__(self) -> str:
        h, w = self.shape
        return f"WindowedReader({self.source!r}, {h}x{w} cells of {self.cell_size_m:g} m)"


def accepts_windows(open_reader: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an ``open_reader(spec, **kwargs)`` so that specs may end in a window suffix."""

    @functools.wraps(open_reader)
    def wrapper(spec: Any, *args: Any, **kwargs: Any) -> Any:
        window = split_window(spec)
        if window is None:
            return open_reader(spec, *args, **kwargs)
        return WindowedReader(open_reader(window.base, *args, **kwargs), window)

    return wrapper
