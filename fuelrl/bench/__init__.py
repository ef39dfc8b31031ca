"""Benchmarks (not tests): ``python -m fuelrl.bench.simulators`` times the simulator backends.

Benchmarks print what they measured and the ratios between the things measured in the same run;
they never assert a speed. Results and the commands that made them are kept in
docs/performance.md.
"""
