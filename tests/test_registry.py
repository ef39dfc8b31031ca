"""The plugin registry, against real entry points of distributions made for the test."""

from __future__ import annotations

import sys
import textwrap
import warnings
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from fuelrl import registry
from fuelrl.errors import InputError
from fuelrl.registry import GROUP, PluginWarning


def _make_dist(root: Path, dist: str, module: str, code: str, eps: dict[str, str]) -> None:
    """Write an installed distribution (a dist-info folder and a module) under ``root``."""
    (root / f"{module}.py").write_text(textwrap.dedent(code))
    info = root / f"{dist}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    lines = [f"[{GROUP}]"] + [f"{name} = {target}" for name, target in eps.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


GOOD = '''
class Good:
    """A backend made for the registry test.

    More text that is not the first line.
    """
    devices = ("cpu", "cuda")
    def __init__(self, **options):
        self.options = options
    def simulate(self, tiles, breaks, scenarios):
        return None
'''

OTHER = """
class Other:
    description = "the second backend called dup"
    def simulate(self, tiles, breaks, scenarios):
        return None
"""


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    _make_dist(
        first,
        "fuelrl_test_good",
        "fuelrl_test_good",
        GOOD,
        {"good": "fuelrl_test_good:Good", "dup": "fuelrl_test_good:Good"},
    )
    _make_dist(
        first,
        "fuelrl_test_broken",
        "fuelrl_test_broken",
        "raise ImportError('no module named xyz')\n",
        {"broken": "fuelrl_test_broken:Backend"},
    )
    _make_dist(second, "fuelrl_test_other", "fuelrl_test_other", OTHER, {"dup": "fuelrl_test_other:Other"})
    monkeypatch.setattr(sys, "path", [str(first), str(second), *sys.path])
    for mod in ("fuelrl_test_good", "fuelrl_test_broken", "fuelrl_test_other"):
        sys.modules.pop(mod, None)
    ours = [
        ep
        for ep in entry_points(group=GROUP)
        if ep.dist and ep.dist.metadata["Name"].startswith("fuelrl_test")
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        registry.refresh(ours)
    yield caught
    registry.refresh()


def test_discovers_plugin_from_entry_point(plugin_path):
    assert "good" in registry.available()
    info = {i.name: i for i in registry.entries()}["good"]
    assert info.distribution == "fuelrl_test_good"
    assert info.version == "1.2.3"
    assert info.devices == ("cpu", "cuda")
    assert info.description == "A backend made for the registry test."
    backend = registry.create("good", device="cpu")
    assert backend.options == {"device": "cpu"}


def test_broken_plugin_warns_by_name_and_others_work(plugin_path):
    messages = [str(w.message) for w in plugin_path if issubclass(w.category, PluginWarning)]
    assert any("'broken'" in m and "ImportError" in m and "no module named xyz" in m for m in messages)
    assert "broken" not in registry.available()
    assert "good" in registry.available()


def test_duplicate_name_warns_and_keeps_first(plugin_path):
    messages = [str(w.message) for w in plugin_path if issubclass(w.category, PluginWarning)]
    assert any("'dup'" in m and "fuelrl_test_other" in m and "already taken" in m for m in messages)
    assert registry.get("dup").__name__ == "Good"


def test_unknown_name_lists_available(plugin_path):
    with pytest.raises(InputError, match=r"unknown simulator backend 'nope'; available: .*dup, good"):
        registry.get("nope")


def test_discovery_is_cached(monkeypatch):
    registry.refresh()
    first = registry.entries()
    calls = []
    monkeypatch.setattr(registry, "entry_points", lambda **kw: calls.append(kw) or [])
    assert registry.entries() == first
    assert calls == []
    registry.refresh()
