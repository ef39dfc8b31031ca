"""Benchmarks (not tests): ``fuelrl bench`` runs them all (suite.py); ``python -m fuelrl.bench.simulators``
and ``python -m fuelrl.bench.env`` time the simulator backends and the env on their own.

Benchmarks print what they measured and the ratios between the things measured in the same run;
they never assert a speed. Results and the commands that made them are kept in
docs/performance.md.
"""
