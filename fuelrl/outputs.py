"""Command output folders: checked before computing, written atomically, never left half-done.

- :func:`check_output_dir` (called by every command before it reads or computes anything) refuses
  an ``--out`` that is a file, lies below a file, cannot be created or written, or already holds
  files: an earlier fuelrl run's outputs are replaced only with ``--overwrite``, and a folder
  holding anything else is never replaced. It also removes the temporary folders of earlier runs
  that were killed (SIGKILL leaves them; their process is gone).
- :func:`atomic_output_dir` yields a temporary folder beside ``out``; when the block succeeds the
  folder replaces ``out`` as a whole (a rename), so a reused folder never mixes two runs' files.
  On any exception, including SIGTERM and SIGINT (which :func:`fuelrl.cli.main` turns into
  :class:`fuelrl.errors.Interrupted`), the temporary folder is removed.
- Folders and files are created with the user's umask (not ``tempfile``'s 0700 / 0600).
- Each folder carries :data:`MARKER` (``.fuelrl-run.json``: the command and time) so a later run
  can tell an earlier run's outputs from other files.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fuelrl.errors import InputError

#: the file that marks a folder as a fuelrl run's outputs
MARKER = ".fuelrl-run.json"
_TMP_TAG = ".tmp-"
_OLD_TAG = ".old-"
#: temporary folders without a process id (older fuelrl) are removed once this old (seconds)
LEGACY_TMP_MAX_AGE_S = 3600.0



def _existing_folder_above(path: Path, flag: str) -> Path:
    """The nearest existing ancestor of ``path``; InputError when it is a file (nothing can be made
    below it)."""
    ancestor = path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"{flag} {path}: {ancestor} is a file, so no folder can be made below it")
    return ancestor

def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def chmod_umask(path: str | Path, *, folder: bool = False) -> None:
    """Give ``path`` the mode a plain ``open`` / ``mkdir`` would (0666 / 0777 less the umask)."""
    os.chmod(path, (0o777 if folder else 0o666) & ~current_umask())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temporaries(out: Path) -> list[Path]:
    """Remove ``.NAME.tmp-PID-*`` / ``.NAME.old-PID-*`` folders of ``out`` whose process is gone."""
    removed = []
    parent = out.parent
    if not parent.is_dir():
        return removed
    for tag in (_TMP_TAG, _OLD_TAG):
        for item in parent.glob(f".{out.name}{tag}*"):
            rest = item.name[len(out.name) + 1 + len(tag) :]
            pid_text = rest.split("-", 1)[0]
            if pid_text.isdigit():
                stale = not _pid_alive(int(pid_text))
            else:  # an older fuelrl's name, with no pid
                stale = time.time() - item.stat().st_mtime > LEGACY_TMP_MAX_AGE_S
            if stale and item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
                removed.append(item)
    return removed


def check_output_dir(out: str | Path, *, overwrite: bool = False, flag: str = "--out") -> Path:
    """InputError (one line) unless ``out`` can take this run's outputs; see the module docstring."""
    out = Path(out)
    if out.is_symlink() and not out.exists():
        raise InputError(f"{flag} {out} is a broken symbolic link")
    if out.exists() and not out.is_dir():
        raise InputError(f"{flag} {out} is a file; expected a folder (it would hold several outputs)")
    ancestor = _existing_folder_above(out, flag)
    writable = out.parent if out.parent.exists() else ancestor
    if not os.access(writable, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {out}: cannot write in {writable} (permission denied)")
    if out.is_dir():
        if not os.access(out, os.W_OK | os.X_OK):
            raise InputError(f"{flag} {out}: the folder is not writable (permission denied)")
        entries = sorted(p.name for p in out.iterdir())
        if entries:
            shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
            if MARKER not in entries:
                raise InputError(
                    f"{flag} {out} already holds files that are not a fuelrl run's outputs ({shown}); "
                    "choose an empty or new folder"
                )
            if not overwrite:
                raise InputError(
                    f"{flag} {out} already holds an earlier run's outputs ({shown}); pass --overwrite "
                    "to replace them or choose another folder"
                )
    clean_stale_temporaries(out)
    return out


def check_output_file(path: str | Path, *, flag: str = "--output") -> Path:
    """InputError unless ``path`` can be written as a file (replacing a file is fine)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{flag} {path} is a folder; expected a file name")
    ancestor = _existing_folder_above(path, flag)
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {path}: cannot write in {ancestor} (permission denied)")
    return path


def _marker(command: str | None) -> dict[str, Any]:
    return {
        "command": command if command is not None else " ".join(sys.argv),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "pid": os.getpid(),
    }


@contextlib.contextmanager
def atomic_output_dir(out: str | Path, *, command: str | None = None) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success it replaces ``out`` as a whole.

    On any exception (SIGTERM / SIGINT included, as :class:`~fuelrl.errors.Interrupted`) the
    temporary folder is removed and ``out`` is left as it was. ``command`` is recorded in
    :data:`MARKER` (default: ``sys.argv``).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}{_TMP_TAG}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        chmod_umask(tmp, folder=True)
        yield tmp
        (tmp / MARKER).write_text(json.dumps(_marker(command), indent=2) + "\n")
        _set_modes(tmp)
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _set_modes(folder: Path) -> None:
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            chmod_umask(Path(root) / d, folder=True)
        for f in files:
            chmod_umask(Path(root) / f)


def _replace(tmp: Path, out: Path) -> None:
    """Put ``tmp`` where ``out`` is: a rename; an existing ``out`` is moved aside, then removed."""
    if out.is_dir() and not out.is_symlink():
        old = out.parent / f".{out.name}{_OLD_TAG}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        out.rename(old)
        try:
            tmp.rename(out)
        except BaseException:
            old.rename(out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON (NaN/inf are not valid JSON: callers convert them)."""
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")
