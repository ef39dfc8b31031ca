"""User-facing errors: one line that names the file, layer or option and what was expected."""


class FuelrlError(Exception):
    """An error caused by the user's input. The CLI prints it on one line and exits with status 2."""


class InputError(FuelrlError):
    """Bad input data or options (a missing file, a layer out of range, an unknown name)."""
