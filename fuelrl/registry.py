"""Discovery of simulator backends through the entry-point group ``fuelrl.simulators``.

A backend is a class that follows :class:`fuelrl.simulators.base.SimulatorBackend`. It is made
public by an entry point in its distribution's ``pyproject.toml``::

    [project.entry-points."fuelrl.simulators"]
    mybackend = "my_package.module:MyBackend"

The entry-point name is the public backend name (``--backend mybackend``). fuelrl's own backends
register through the same group. Discovery runs once per process and is cached (:func:`refresh`
forgets it). A plugin that fails to import is reported by name with its error as a warning, and the
others still work; a second plugin with a name already taken warns and the first one is kept.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from fuelrl.errors import InputError

GROUP = "fuelrl.simulators"


class PluginWarning(UserWarning):
    """A simulator plugin could not be loaded, or its name was already taken."""


@dataclass(frozen=True)
class BackendInfo:
    """What the registry knows of one backend."""

    name: str
    distribution: str
    version: str
    cls: type
    description: str
    devices: tuple[str, ...]


_cache: dict[str, BackendInfo] | None = None


def _distribution_of(ep: EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "<unknown>", ""
    return dist.metadata["Name"] or "<unknown>", dist.version or ""


def _first_line(text: str | None) -> str:
    for line in (text or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def _info(name: str, cls: type, distribution: str, version: str) -> BackendInfo:
    description = getattr(cls, "description", None) or _first_line(cls.__doc__)
    devices = tuple(getattr(cls, "devices", ("cpu",)))
    return BackendInfo(name, distribution, version, cls, description, devices)


def _discover(eps: list[EntryPoint] | None = None) -> dict[str, BackendInfo]:
    found: dict[str, BackendInfo] = {}
    if eps is None:
        eps = list(entry_points(group=GROUP))
    for ep in eps:
        distribution, version = _distribution_of(ep)
        if ep.name in found:
            kept = found[ep.name]
            warnings.warn(
                f"simulator backend {ep.name!r} from {distribution} ({ep.value}) ignored: the name is "
                f"already taken by {kept.distribution} ({kept.cls.__module__}.{kept.cls.__qualname__})",
                PluginWarning,
                stacklevel=3,
            )
            continue
        try:
            cls = ep.load()
        except Exception as exc:  # a broken plugin must not take the others down
            warnings.warn(
                f"simulator backend {ep.name!r} from {distribution} ({ep.value}) failed to load: "
                f"{type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=3,
            )
            continue
        if not isinstance(cls, type) or not callable(getattr(cls, "simulate", None)):
            warnings.warn(
                f"simulator backend {ep.name!r} from {distribution} ({ep.value}) is not a backend class "
                "with a simulate() method; ignored",
                PluginWarning,
                stacklevel=3,
            )
            continue
        found[ep.name] = _info(ep.name, cls, distribution, version)
    return found


def _backends() -> dict[str, BackendInfo]:
    global _cache
    if _cache is None:
        _cache = _discover()
    return _cache


def refresh(eps: list[EntryPoint] | None = None) -> None:
    """Forget the cached discovery; with ``eps``, discover from those entry points instead (tests)."""
    global _cache
    _cache = None if eps is None else _discover(eps)


def register(name: str, cls: type, *, distribution: str = "<runtime>") -> None:
    """Register a backend class in this process without an entry point (notebooks, experiments)."""
    backends = _backends()
    if name in backends:
        raise InputError(f"simulator backend {name!r} is already registered by {backends[name].distribution}")
    backends[name] = _info(name, cls, distribution, "")


def available() -> list[str]:
    """The names of the backends that loaded, sorted."""
    return sorted(_backends())


def entries() -> list[BackendInfo]:
    """Everything known of each backend, sorted by name."""
    backends = _backends()
    return [backends[name] for name in sorted(backends)]


def get(name: str) -> type:
    """The backend class registered as ``name``; an unknown name raises an error listing the others."""
    backends = _backends()
    if name not in backends:
        names = ", ".join(sorted(backends)) or "none (is fuelrl installed with `pip install -e .`?)"
        raise InputError(f"unknown simulator backend {name!r}; available: {names}")
    return backends[name].cls


def create(name: str, **options):
    """Instantiate the backend ``name`` with its options (e.g. ``device="cuda"``)."""
    return get(name)(**options)
