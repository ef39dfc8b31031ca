"""Fire growth backends (numpy, threaded, torch, plugins) behind one contract; see base.py.

Minimum-travel-time growth (Finney 2002) lives in :mod:`~fuelrl.simulators.mtt` (the graph),
:mod:`~fuelrl.simulators.spread` (spread rates from the physics, grouped by weather),
:mod:`~fuelrl.simulators.solvers` (Dijkstra and batched relaxation) and
:mod:`~fuelrl.simulators.engine` (the pipeline the built-in backends share); fires are drawn by
:mod:`~fuelrl.simulators.scenarios`. Backends are created by name through :mod:`fuelrl.registry`.
"""

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
