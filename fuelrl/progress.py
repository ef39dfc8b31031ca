"""Progress bars for long work: a tqdm bar on stderr when it is a terminal, nothing otherwise.

Used by the agent planner (breaks placed), ``fuelrl simulate`` (fire chunks), ``fuelrl plan`` /
``evaluate`` (policies, treatment units scored)::

    with Progress(total=len(units), desc="scoring units", unit="unit") as bar:
        for u in units:
            ...
            bar.update(1)

``enabled=None`` (the default) shows the bar only when stderr is a TTY, so logs, pipes and CI stay
quiet; ``FUELRL_PROGRESS=0`` / ``1`` overrides that for every bar.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any


def progress_enabled(enabled: bool | None = None) -> bool:
    """Whether a bar is shown: ``enabled`` if given, else ``FUELRL_PROGRESS`` (0/1) if set, else
    whether stderr is a terminal."""
    if enabled is not None:
        return bool(enabled)
    env = os.environ.get("FUELRL_PROGRESS", "").strip()
    if env in ("0", "1"):
        return env == "1"
    stream = sys.stderr
    return bool(getattr(stream, "isatty", None) and stream.isatty())


class Progress:
    """A counter with a tqdm bar on a terminal; silent otherwise (or without tqdm)."""

    def __init__(
        self, total: int | None, desc: str, unit: str = "it", enabled: bool | None = None, leave: bool = True
    ):
        self.bar: Any = None
        if not progress_enabled(enabled):
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm comes with lightning
            return
        cols, rows = shutil.get_terminal_size((100, 24))
        self.bar = tqdm(
            total=None if total is None else int(total),
            desc=desc,
            unit=unit,
            file=sys.stderr,
            ncols=cols if cols >= 40 else 100,  # a pty with no size reports 0 columns
            nrows=rows if rows >= 2 else 24,  # ... and 0 rows, where tqdm would hide the bar
            mininterval=0.5,
            leave=leave,
        )

    def update(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def write(self, message: str) -> None:
        """Print ``message`` on stderr without breaking the bar."""
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr)

    def set_postfix(self, **values: Any) -> None:
        if self.bar is not None:
            self.bar.set_postfix(values, refresh=False)

    def set_description(self, desc: str) -> None:
        if self.bar is not None:
            self.bar.set_description(desc)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
