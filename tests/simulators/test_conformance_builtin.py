"""The built-in backends pass the conformance suite every plugin is held to."""

from __future__ import annotations

import pytest

from fuelrl.testing import BackendConformance


class TestNumpyBackend(BackendConformance):
    backend_name = "numpy"


class TestThreadedBackend(BackendConformance):
    backend_name = "threaded"
    backend_options = {"workers": 2, "chunk_fires": 2}


class TestTorchBackendCPU(BackendConformance):
    backend_name = "torch"
    backend_options = {"device": "cpu"}


@pytest.mark.gpu
class TestTorchBackendCUDA(BackendConformance):
    backend_name = "torch"
    backend_options = {"device": "cuda"}
