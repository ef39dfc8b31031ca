"""fuelrl-ca: an example third-party fuelrl simulator backend (a stochastic cellular automaton).

fuelrl finds it only through the ``fuelrl.simulators`` entry point declared in pyproject.toml:
``fuelrl simulate ... --backend ca`` or ``fuelrl.registry.create("ca", seed=1)``.
"""

from fuelrl_ca.backend import CellularAutomatonBackend

__all__ = ["CellularAutomatonBackend"]
__version__ = "0.1.0"
