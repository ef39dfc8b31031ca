"""fuelrl: deep Q-learning for fuel-break placement on real landscapes, scored by simulated fires."""

__version__ = "0.1.0"
