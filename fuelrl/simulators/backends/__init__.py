"""The built-in backends, registered under the ``fuelrl.simulators`` entry-point group:
``numpy`` (reference), ``threaded`` (a thread pool on CPU cores) and ``torch`` (any torch device)."""

from fuelrl.simulators.backends.numpy_backend import NumpyBackend
from fuelrl.simulators.backends.threaded import ThreadedBackend
from fuelrl.simulators.backends.torch_backend import TorchBackend

__all__ = ["NumpyBackend", "ThreadedBackend", "TorchBackend"]
