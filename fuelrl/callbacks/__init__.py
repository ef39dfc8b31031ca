"""Training callbacks: throughput meter, memory monitor, break-map images."""

from fuelrl.callbacks.maps import BreakMapImages, render_break_maps
from fuelrl.callbacks.memory import MemoryMonitor, host_peak_rss_mib, host_rss_mib, memory_metrics
from fuelrl.callbacks.throughput import ThroughputMonitor


def default_callbacks() -> list:
    """The callbacks ``fuelrl fit`` always adds (for Trainers built from Python)."""
    return [ThroughputMonitor(), MemoryMonitor(), BreakMapImages()]


__all__ = [
    "BreakMapImages",
    "MemoryMonitor",
    "ThroughputMonitor",
    "default_callbacks",
    "host_peak_rss_mib",
    "host_rss_mib",
    "memory_metrics",
    "render_break_maps",
]
