"""Writing command outputs atomically: a run either leaves a complete output folder or none."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_output_dir(out: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success its files are moved into ``out``.

    On any exception the temporary folder is removed and ``out`` is left as it was, so a failed
    command never leaves half-written results. Files already in ``out`` with other names are kept.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    out.mkdir(parents=True, exist_ok=True)
    for item in tmp.iterdir():
        target = out / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        item.replace(target)
    tmp.rmdir()


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON (NaN/inf are not valid JSON: callers convert them)."""
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")
