"""Training profiles for the benchmarks, read the way ``fuelrl fit`` reads them: through LightningCLI.

A profile is a ``fuelrl fit`` config file (``configs/<name>.yaml``). :func:`load_profile` parses it
with :func:`fuelrl.agents.cli.build_cli` (``run=False``): the same defaults, links
(``model.in_channels`` from the env's channels), precision resolution and validation as a real run;
:meth:`Profile.cli` builds a fresh CLI (agent, data module and a ``Trainer`` with fuelrl's
callbacks and TensorBoard logger) for each timed run.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from fuelrl.errors import InputError

PROFILES = ("quickstart", "low_mem", "default", "high_mem")
_CLI_ONLY = ("in_channels", "observation_channels", "_instantiator")


def default_configs_dir() -> Path:
    """``configs/`` of the source checkout (the folder beside the ``fuelrl`` package)."""
    return Path(__file__).resolve().parents[2] / "configs"


def _device_options(device: torch.device) -> list[str]:
    if device.type == "cuda":
        return ["--trainer.accelerator=gpu", f"--trainer.devices=[{device.index or 0}]"]
    return ["--trainer.accelerator=cpu", "--trainer.devices=1"]


def build_profile_cli(path: Path, options: list[str]):
    """``build_cli(["--config", path, *options], run=False)``, its precision notice kept quiet (the
    bench reports the precision it ran)."""
    from fuelrl.agents.cli import _quiet_known_warnings, build_cli

    _quiet_known_warnings()
    quiet_lightning()
    with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_cli(["--config", str(path), *options], run=False)


@dataclass
class Profile:
    """A training config as ``fuelrl fit`` parses it, for one device."""

    name: str
    path: Path
    device: torch.device
    options: tuple[str, ...]  # extra ``fuelrl fit`` options (``--data.env.tile_size=8``)
    model: dict[str, Any]  # DQNAgent keyword arguments (net as QNetConfig), without the linked ones
    data: dict[str, Any]  # ReplayDataModule keyword arguments (env as EnvConfig)
    precision: str  # as resolved for ``device``
    accumulate_grad_batches: int
    log_every_n_steps: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        return int(self.data.get("batch_size", 64))

    def cli(self, root: str | Path, *options: str):
        """A fresh CLI (agent, data module, ``Trainer`` with fuelrl's callbacks) writing under ``root``."""
        return build_profile_cli(
            self.path,
            [
                *_device_options(self.device),
                *self.options,
                f"--trainer.default_root_dir={root}",
                "--trainer.enable_progress_bar=false",
                "--trainer.enable_model_summary=false",
                "--trainer.limit_val_batches=0",
                *options,
            ],
        )


def load_profile(
    name: str,
    configs_dir: str | Path | None = None,
    *,
    device: torch.device | str = "cpu",
    options: tuple[str, ...] | list[str] = (),
) -> Profile:
    """Parse ``<configs_dir>/<name>.yaml`` (a ``fuelrl fit`` config) for ``device``, with ``options``
    (``fuelrl fit`` command-line options) on top."""
    import tempfile

    folder = Path(configs_dir) if configs_dir is not None else default_configs_dir()
    path = folder / f"{name}.yaml"
    if not path.is_file():
        raise InputError(
            f"--profiles: {name!r}: no config file {path} (known profiles: {', '.join(PROFILES)}; "
            "--configs-dir points at the folder holding them)"
        )
    device = torch.device(device)
    with tempfile.TemporaryDirectory(prefix="fuelrl-bench-profile-") as root:
        cli = build_profile_cli(
            path, [*_device_options(device), *options, f"--trainer.default_root_dir={root}"]
        )
    from fuelrl.models import QNetConfig

    model = {k: v for k, v in cli.model.hparams.items() if k not in _CLI_ONLY}
    if isinstance(model.get("net"), dict):  # LightningCLI keeps the parsed config in hparams
        model["net"] = QNetConfig(**model["net"])
    data = cli.config.data.as_dict()
    data["env"] = cli.datamodule.env_config
    trainer = cli.trainer
    return Profile(
        name=name,
        path=path,
        device=device,
        options=tuple(options),
        model=model,
        data=data,
        precision=str(trainer.precision),
        accumulate_grad_batches=int(trainer.accumulate_grad_batches),
        log_every_n_steps=int(trainer.log_every_n_steps),
    )


def make_agent(profile: Profile, seed: int = 0):
    """A fresh :class:`~fuelrl.agents.DQNAgent` of the profile (initial weights from ``seed``)."""
    from fuelrl.agents import DQNAgent
    from fuelrl.envs.observation import channel_layout

    env = profile.data["env"]
    names = list(channel_layout(dpv_channel=env.dpv_channel, weather_channels=env.weather_channels))
    torch.manual_seed(seed)  # the network's initial weights (nn.Module init uses the global RNG)
    model = {**profile.model, "seed": seed}
    return DQNAgent(in_channels=len(names), observation_channels=names, **model)


def quiet_lightning() -> None:
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "torchrl"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for pattern in (
        r".*does not have many workers.*",
        r".*IterableDataset.*",
        r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",
        r".*You defined a `validation_step` but have no `val_dataloader`.*",
        r".*`training_step` returned `None`.*",
        r".*precision.*",
        r".*GPU available but not used.*",
        r".*TensorBoard.*",
        r".*litlogger.*",
    ):
        warnings.filterwarnings("ignore", message=pattern)
