"""User-facing errors and notices: one line that names the file, layer or option and what was expected."""

from __future__ import annotations

import warnings


class FuelrlError(Exception):
    """An error caused by the user's input. The CLI prints it on one line and exits with status 2."""


class InputError(FuelrlError):
    """Bad input data or options (a missing file, a layer out of range, an unknown name)."""


class Interrupted(BaseException):
    """SIGTERM or SIGINT reached a command: what the run started is removed, exit 128 + signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = int(signum)


class FuelrlNotice(UserWarning):
    """Something the user should know that is not an error (a unit corrected by a check).

    The ``fuelrl`` command prints each one once, as ``fuelrl: notice: ...`` on one line, without
    Python's source-path prefix; in Python it is an ordinary :class:`UserWarning`."""


def notice(message: str) -> None:
    """Issue a :class:`FuelrlNotice` (one line)."""
    warnings.warn(message, FuelrlNotice, stacklevel=3)
