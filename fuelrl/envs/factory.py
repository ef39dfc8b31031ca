"""make_env: FireEnv alone, or N FireEnv workers in a SerialEnv / ParallelEnv, with ActionMask outside."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path

import torch
from torchrl.envs import EnvBase, ParallelEnv, SerialEnv, TransformedEnv
from torchrl.envs.transforms import ActionMask

from fuelrl.envs.cell_groups import cell_size_groups, group_config, worker_group
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


def worker_configs(cfg: EnvConfig, num_workers: int) -> list[tuple[EnvConfig, int, int]]:
    """``(config, worker_index, num_workers)`` of each of ``num_workers`` FireEnv workers.

    One cell size: ``(cfg, i, num_workers)``. Landscapes of several cell sizes
    (:mod:`fuelrl.envs.cell_groups`): worker ``i`` gets ``cfg`` restricted to the landscapes (and
    per-landscape lists) of group ``i % n_groups`` and its shard among that group's workers; fewer
    workers than cell sizes is a one-line InputError."""
    groups = cell_size_groups(cfg.landscapes)
    if len(groups) == 1:
        return [(cfg, i, num_workers) for i in range(num_workers)]
    worker_group(groups, 0, num_workers)  # raises when num_workers < n_groups
    out = []
    for i in range(num_workers):
        wg = worker_group(groups, i, num_workers)
        out.append((group_config(cfg, groups, wg.group), wg.worker_index, wg.num_workers))
    return out


#: the values ``data.env_device`` takes (besides "cuda:N")
ENV_DEVICES = ("cpu", "cuda", "auto")


def resolve_env_device(name: str, backend: str) -> torch.device:
    """The device the training envs run on for ``data.env_device`` = ``name``: "cpu", "cuda" /
    "cuda:N" (the simulator backend ``backend`` then grows the fires on that GPU), or "auto" (the
    first GPU when torch sees one and ``backend`` runs there, else the CPU). A GPU that torch does
    not see, or a backend that cannot run on it, is an :class:`InputError` (never a silent CPU)."""
    from fuelrl import registry

    text = str(name).strip().lower()
    devices = tuple(getattr(registry.get(backend), "devices", ("cpu",)))
    if text == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() and "cuda" in devices else "cpu")
    try:
        device = torch.device(text)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise InputError(f"data.env_device: expected one of cpu, cuda, cuda:N, auto; got {name!r}")
    if device.type == "cpu":
        return device
    if not torch.cuda.is_available():
        raise InputError(
            f"data.env_device {name!r}: torch {torch.__version__} sees no CUDA GPU; use cpu (or auto)"
        )
    index = 0 if device.index is None else device.index
    if index >= torch.cuda.device_count():
        raise InputError(
            f"data.env_device {name!r}: torch sees {torch.cuda.device_count()} CUDA GPU(s) (cuda:0 ...)"
        )
    if "cuda" not in devices:
        raise InputError(
            f"data.env_device {name!r}: simulator backend {backend!r} runs on {', '.join(devices)} only; "
            "set data.env.backend: torch (or env_device: cpu)"
        )
    return torch.device("cuda", index)


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
    * landscapes of several cell sizes: worker ``i`` takes the landscapes of cell-size group
      ``i % n_groups`` (smallest cell size first) and shard ``i // n_groups`` of that group's
      workers (:func:`worker_configs`); ``num_workers`` must be at least the number of cell sizes.

    The ActionMask transform on the outer env keeps ``env.rand_action`` and exploration inside
    ``action_mask``. For evaluation on fixed tiles and fires, build the env with the eval split and
    call ``env.set_seed(seed)`` before each pass: every pass then replays the same tiles and fires.
    """
    cfg = (config if config is not None else EnvConfig()).validate()
    if num_workers < 0:
        raise InputError(f"make_env: num_workers must be >= 0; got {num_workers}")
    if num_workers == 0:
        worker_configs(cfg, 0)  # landscapes of several cell sizes need one worker per cell size
        base: EnvBase = FireEnv(cfg, seed=seed, device=device)
    else:
        workers = list(zip(worker_configs(cfg, num_workers), worker_seeds(seed, num_workers), strict=True))
        if serial:
            fns = [
                partial(FireEnv, c, seed=s, device=device, worker_index=i, num_workers=n)
                for (c, i, n), s in workers
            ]
            base = SerialEnv(num_workers, fns, device=device)
        else:
            errors = tempfile.mkdtemp(prefix="fuelrl-env-errors-")
            fns = [
                partial(
                    _ReportingFireEnv,
                    c,
                    seed=s,
                    device=device,
                    worker_index=i,
                    num_workers=n,
                    error_file=str(Path(errors) / f"worker{k}.txt"),
                )
                for k, ((c, i, n), s) in enumerate(workers)
            ]
            base = FireParallelEnv(
                num_workers, fns, device=device, mp_start_method=mp_start_method, error_dir=errors
            )
    return TransformedEnv(base, ActionMask())


def make_eval_env(
    config: EnvConfig, tiles: int, seed: int = 0, *, device: str | torch.device | None = None
) -> EnvBase:
    """The evaluation env of ``tiles`` tiles drawn from ``config`` (its split): one FireEnv in this
    process; with landscapes of several cell sizes, a ``SerialEnv`` of one FireEnv per cell size
    with ``ceil(tiles / n_groups)`` tiles each, so every evaluation covers every cell size."""
    cfg = config.validate()
    n_groups = len(cell_size_groups(cfg.landscapes))
    if n_groups == 1:
        return make_env(replace(cfg, batch_size=int(tiles)), num_workers=0, seed=seed, device=device)
    per_group = -(-int(tiles) // n_groups)
    return make_env(
        replace(cfg, batch_size=per_group), num_workers=n_groups, seed=seed, serial=True, device=device
    )
