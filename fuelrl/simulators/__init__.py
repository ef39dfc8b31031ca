"""Fire growth backends (numpy, threaded, torch, plugins) behind one contract; see base.py."""

from fuelrl.simulators.base import (
    MOISTURE_CLASSES,
    ScenarioSet,
    SimulationOptions,
    SimulationResult,
    SimulatorBackend,
    TileBatch,
)

__all__ = [
    "MOISTURE_CLASSES",
    "ScenarioSet",
    "SimulationOptions",
    "SimulationResult",
    "SimulatorBackend",
    "TileBatch",
]
