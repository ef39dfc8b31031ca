"""``torch``: all fires of a batch at once on a torch device (CUDA when present, CPU otherwise)."""

from __future__ import annotations

import numpy as np
import torch

from fuelrl.errors import InputError
from fuelrl.simulators.base import (
    PreparedFires,
    ScenarioSet,
    SimulationOptions,
    SimulationResult,
    TileBatch,
)
from fuelrl.simulators.engine import (
    BuiltinBackend,
    FirePlan,
    solve_fires_relax,
    spread_fields,
)
from fuelrl.simulators.fields import PhysicsFormat, SpreadFields
from fuelrl.simulators.mtt import PAD


def _float_dtype(name: str, value: torch.dtype | str) -> torch.dtype:
    if isinstance(value, str):
        value = {"float32": torch.float32, "float64": torch.float64}.get(value.removeprefix("torch."), value)
    if value not in (torch.float32, torch.float64):
        raise InputError(f"torch backend: {name} must be float32 or float64, got {value}")
    return value


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class TorchBackend(BuiltinBackend):
    """Minimum travel time for all B x F fires at once on a torch device: the physics runs on the
    device, then every fire's corner times are relaxed together over the 16 shifted edges
    (min-plus, Gauss-Seidel by direction) until nothing changes.

    ``device``: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default CUDA when available. ``dtype``: of
    the relaxation, float32 (default) or float64; ``physics_dtype``: of the spread-rate physics,
    float64 by default (float32 moves crown-fire thresholds, see :func:`solve_fires_relax`).
    Weather groups and fires are processed in batches that fit ``memory_mb`` (default 2048 on
    CUDA, 512 on CPU). ``cpu_threads``: on a CPU device, run with this many torch intra-op
    threads (restored afterwards); default: torch's setting. Use 1 where the cores are shared
    (other processes, ParallelEnv workers): torch's OpenMP threads then spin-wait on each other and
    a call can take 10-100x longer (measured; see docs/performance.md).
    """

    description = "minimum travel time, all fires at once on a torch device (batched min-plus relaxation)"
    devices = ("cpu", "cuda")

    def __init__(
        self,
        *,
        device: str | torch.device | None = None,
        options: SimulationOptions | None = None,
        dtype: torch.dtype | str = torch.float32,
        physics_dtype: torch.dtype | str = torch.float64,
        memory_mb: float | None = None,
        cpu_threads: int | None = None,
    ):
        super().__init__(device=device or default_device(), options=options)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise InputError("torch backend: device 'cuda' requested but torch.cuda.is_available() is False")
        self.dtype = _float_dtype("dtype", dtype)
        self.physics_dtype = _float_dtype("physics_dtype", physics_dtype)
        self.memory_mb = float(memory_mb or (2048 if self.device.type == "cuda" else 512))
        if cpu_threads is not None and int(cpu_threads) < 1:
            raise InputError(f"torch backend: cpu_threads must be >= 1, got {cpu_threads}")
        self.cpu_threads = None if cpu_threads is None else int(cpu_threads)

    @property
    def solver_format(self) -> PhysicsFormat:
        """The relaxation's format: ``dtype`` tensors on the device."""
        return PhysicsFormat(torch, self.dtype, self.device)

    def physics_format(self) -> PhysicsFormat:
        return PhysicsFormat.for_device(self.device, self.physics_dtype)

    def prepare(self, tiles: TileBatch, scenarios: ScenarioSet) -> PreparedFires:
        """Compute the spread fields without breaks once, on the device (see :class:`PreparedFires`)."""
        return self._threads(super().prepare, tiles, scenarios)

    def _run(
        self, tiles: TileBatch, breaks: torch.Tensor, scenarios: ScenarioSet, spread: SpreadFields | None
    ) -> SimulationResult:
        return self._threads(super()._run, tiles, breaks, scenarios, spread)

    def _threads(self, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` with ``cpu_threads`` torch threads on a CPU device."""
        if self.device.type != "cpu" or self.cpu_threads is None:
            return fn(*args, **kwargs)
        previous = torch.get_num_threads()
        torch.set_num_threads(self.cpu_threads)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(previous)

    def _solve(self, tiles: TileBatch, breaks: torch.Tensor, plan: FirePlan, spread: SpreadFields | None):
        b, f, h, w = plan.shape
        nbytes = torch.finfo(self.dtype).bits // 8
        budget = self.memory_mb * 2**20
        nodes = (h + 1 + 2 * PAD + 2) * (w + 1 + 2 * PAD)
        # the spread fields of a few weather groups at a time: per group, 1/ROS and edge times in
        # float64 and edge times in ``dtype`` (16 corner grids each), and the physics' float64
        # intermediates (budgeted at 64 cell grids); then their fires in batches: a fire with its
        # own edge times takes 16 + 4 corner grids
        per_group = 16 * nodes * (8 + 8 + nbytes) + 64 * h * w * 8
        groups_per_call = max(1, int(budget // per_group))
        if self.device.type == "cpu":  # at most ~2^18 cells per call: bigger arrays fall out of cache
            groups_per_call = max(1, min(groups_per_call, 2**18 // (h * w)))
        fires_per_batch = max(1, int(budget // (20 * nodes * nbytes)))
        group_of_fire = plan.groups.group_of_fire.reshape(-1)
        order = plan.chunks(plan.n_fires)[0]  # by group, then ignition row and column
        bounds = np.searchsorted(
            group_of_fire[order], np.arange(0, len(plan.groups) + groups_per_call, groups_per_call)
        )
        arrival = torch.full((b * f, h, w), float("inf"), device=self.device)
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
            if stop <= start:
                continue
            fires = order[start:stop]
            ids = np.unique(group_of_fire[fires])
            times, burn = spread_fields(
                tiles,
                breaks,
                plan,
                ids,
                self.options,
                self.solver_format,
                physics_dtype=self.physics_dtype,
                spread=spread,
            )
            for i in range(0, fires.size, fires_per_batch):
                idx = fires[i : i + fires_per_batch]
                out = solve_fires_relax(
                    tiles,
                    breaks,
                    plan,
                    idx,
                    self.options,
                    self.solver_format,
                    fields=(times, burn, ids),
                )
                arrival.index_copy_(0, torch.as_tensor(idx, device=self.device), out)
        return arrival
