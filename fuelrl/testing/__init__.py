"""Test helpers for fuelrl and its plugins: the simulator conformance suite (needs pytest)."""

from fuelrl.testing.simulators import BackendConformance, dice, make_tiles, mixed_landscape

__all__ = ["BackendConformance", "dice", "make_tiles", "mixed_landscape"]
