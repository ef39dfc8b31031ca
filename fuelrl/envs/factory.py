"""make_env: FireEnv alone, or N FireEnv workers in a SerialEnv / ParallelEnv, with ActionMask outside."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from functools import partial
from pathlib import Path

import torch
from torchrl.envs import EnvBase, ParallelEnv, SerialEnv, TransformedEnv
from torchrl.envs.transforms import ActionMask

from fuelrl.envs.config import EnvConfig
from fuelrl.envs.fire_env import FireEnv
from fuelrl.errors import FuelrlError, InputError


class _ReportingFireEnv(FireEnv):
    """A ParallelEnv worker's FireEnv: a user error (:class:`~fuelrl.errors.FuelrlError`) raised
    while resetting or stepping is written, on one line, to ``error_file`` and the worker exits
    quietly (no traceback); the parent (:class:`FireParallelEnv`) raises it as an InputError instead
    of TorchRL's "Cannot proceed, worker N dead"."""

    def __init__(self, *args, error_file: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._error_file = error_file

    def _report(self, exc: FuelrlError):
        Path(self._error_file).write_text(str(exc))
        os._exit(2)  # the parent reads the file; a traceback here would drown the message

    def _reset(self, *args, **kwargs):
        try:
            return super()._reset(*args, **kwargs)
        except FuelrlError as exc:
            self._report(exc)

    def _step(self, *args, **kwargs):
        try:
            return super()._step(*args, **kwargs)
        except FuelrlError as exc:
            self._report(exc)


class FireParallelEnv(ParallelEnv):
    """``ParallelEnv`` of :class:`_ReportingFireEnv` workers that turns a worker's user error back
    into the one-line :class:`~fuelrl.errors.InputError` it raised."""

    def __init__(self, num_workers: int, create_env_fn, *args, error_dir: str, **kwargs):
        self._error_dir = error_dir
        super().__init__(num_workers, create_env_fn, *args, **kwargs)

    def worker_error(self) -> str | None:
        """The message of the first worker that stopped on a user error, if any."""
        for path in sorted(Path(self._error_dir).glob("worker*.txt")):
            text = path.read_text().strip()
            if text:
                return text
        return None

    @contextlib.contextmanager
    def _user_errors(self):
        try:
            yield
        except RuntimeError:  # "Cannot proceed, worker N dead" / "At least one process failed"
            message = self.worker_error()
            if message is None:
                raise
            raise InputError(message) from None

    def _wait_for_workers(self, *args, **kwargs):  # every reset and step waits here
        with self._user_errors():
            return super()._wait_for_workers(*args, **kwargs)

    def close(self, *args, **kwargs):
        try:
            if self.worker_error() is not None and not self.is_closed:
                # a worker stopped on a user error: stop the others without asking them to
                for process in list(getattr(self, "_workers", None) or []):
                    try:
                        if process.is_alive():
                            process.terminate()
                            process.join(timeout=2.0)
                    except ValueError:  # already closed by TorchRL's own shutdown
                        pass
                self.is_closed = True
                return None
            return super().close(*args, **kwargs)
        finally:
            shutil.rmtree(self._error_dir, ignore_errors=True)


def worker_seeds(seed: int, num_workers: int) -> list[int]:
    """The seed of each worker: ``seed + i`` (distinct; worker 0 of N=1 matches a plain FireEnv)."""
    return [int(seed) + i for i in range(num_workers)]


def make_env(
    config: EnvConfig | None = None,
    num_workers: int = 0,
    seed: int = 0,
    *,
    serial: bool = False,
    device: str | torch.device | None = None,
    mp_start_method: str | None = None,
) -> EnvBase:
    """The environment training and evaluation use, wrapped in ``TransformedEnv(..., ActionMask())``.

    * ``num_workers=0``: one :class:`FireEnv` (batch [B]) in this process.
    * ``num_workers=N>=1``: a ``ParallelEnv(N)`` (``serial=True``: a ``SerialEnv(N)``) of FireEnv
      workers built from ``functools.partial`` (picklable under spawn), batch [N, B]. Worker ``i``
      gets seed ``seed + i`` and the landscape shard ``i`` of N (tiles whose dataset index ``% N ==
      i``), so workers never draw the same tile.

    The ActionMask transform on the outer env keeps ``env.rand_action`` and exploration inside
    ``action_mask``. For evaluation on fixed tiles and fires, build the env with the eval split and
    call ``env.set_seed(seed)`` before each pass: every pass then replays the same tiles and fires.
    """
    cfg = (config if config is not None else EnvConfig()).validate()
    if num_workers < 0:
        raise InputError(f"make_env: num_workers must be >= 0; got {num_workers}")
    if num_workers == 0:
        base: EnvBase = FireEnv(cfg, seed=seed, device=device)
    else:
        fns = [
            partial(FireEnv, cfg, seed=s, device=device, worker_index=i, num_workers=num_workers)
            for i, s in enumerate(worker_seeds(seed, num_workers))
        ]
        if serial:
            base = SerialEnv(num_workers, fns, device=device)
        else:
            errors = tempfile.mkdtemp(prefix="fuelrl-env-errors-")
            fns = [
                partial(
                    _ReportingFireEnv,
                    cfg,
                    seed=s,
                    device=device,
                    worker_index=i,
                    num_workers=num_workers,
                    error_file=str(Path(errors) / f"worker{i}.txt"),
                )
                for i, s in enumerate(worker_seeds(seed, num_workers))
            ]
            base = FireParallelEnv(
                num_workers, fns, device=device, mp_start_method=mp_start_method, error_dir=errors
            )
    return TransformedEnv(base, ActionMask())
