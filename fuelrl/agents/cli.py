"""``fuelrl fit | validate | test``: LightningCLI over :class:`DQNAgent` and :class:`ReplayDataModule`.

On top of plain LightningCLI:

- ``model.in_channels`` is linked from the data module (the env's observation channels);
- a ``ModelCheckpoint`` (``checkpoint.*``: ``save_last`` and every ``every_n_train_steps``, in
  ``<trainer.default_root_dir>/checkpoints`` unless ``checkpoint.dirpath`` says otherwise) and the
  training callbacks (``throughput.*``, ``memory.*``, ``break_maps.*``) are always added;
- ``trainer.precision`` is resolved to one the machine can run, with a notice
  (:func:`fuelrl.agents.precision.resolve_precision`), so every config runs on a CPU;
- ``fuelrl fit --config configs/auto.yaml`` picks a profile from the GPU's memory
  (:func:`fuelrl.agents.profiles.pick_profile`);
- user errors (:class:`fuelrl.errors.FuelrlError`) print one line and exit with status 2, and so
  do configuration errors (the key and the reason, not the whole usage) and ``--ckpt_path`` problems:
  a missing or unreadable checkpoint, or ``--model.*`` values that differ from the checkpoint's
  (LightningCLI would silently resume with the checkpoint's hyperparameters).
"""

from __future__ import annotations

import logging
import re
import signal
import sys
import warnings
from pathlib import Path
from typing import Any

from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from fuelrl.agents.data import ReplayDataModule
from fuelrl.agents.module import DQNAgent
from fuelrl.agents.precision import resolve_precision
from fuelrl.agents.profiles import expand_auto_config
from fuelrl.callbacks import BreakMapImages, MemoryMonitor, ThroughputMonitor
from fuelrl.errors import FuelrlError, InputError

log = logging.getLogger("fuelrl")


class ConfigError(FuelrlError):
    """A configuration or command-line error of ``fuelrl fit|validate|test``, on one line."""


_REASON = re.compile(
    r"not accepted|unrecognized|does not exist|not found|no such|expected|must be|invalid|unable", re.I
)


def one_line_config_error(message: str) -> str:
    """jsonargparse's multi-line message -> ``key model.net: Option 'widht' is not accepted``."""
    lines = [line.strip().lstrip("- ").strip() for line in str(message).splitlines() if line.strip()]
    if not lines:
        return "invalid configuration"
    head = lines[0].rstrip(":")
    reasons = [line for line in lines[1:] if _REASON.search(line) and "NoneType" not in line]
    key = re.match(r'Parser key "([^"]+)"', head)
    if key:
        return f"key {key.group(1)}: {reasons[0] if reasons else ' '.join(lines[1:3])}"
    return head


def _explicit_model_keys(argv: list[str]) -> dict[str, str]:
    """``--model.a.b V`` / ``--model.a.b=V`` given on the command line -> {"a.b": "V"}."""
    out: dict[str, str] = {}
    for i, word in enumerate(argv):
        if word.startswith("--model."):
            key, eq, value = word[len("--model.") :].partition("=")
            out[key] = value if eq else (argv[i + 1] if i + 1 < len(argv) else "")
    return out


def _flat(ns: Any, prefix: str = "") -> dict[str, Any]:
    d = ns.as_dict() if hasattr(ns, "as_dict") else ns
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            key = f"{prefix}{k}"
            if isinstance(v, dict):
                out.update(_flat(v, key + "."))
            out[key] = v
    return out


#: the Trainer of the latest CLI (the end message of a run that SIGTERM stopped reads its step)
_LAST_TRAINER: list = []


class FuelrlCLI(LightningCLI):
    """LightningCLI with fuelrl's links, forced callbacks and precision resolution."""

    argv: list[str] = []

    def instantiate_trainer(self, **kwargs):
        trainer = super().instantiate_trainer(**kwargs)
        _LAST_TRAINER[:] = [trainer]
        return trainer

    def init_parser(self, **kwargs):
        parser = super().init_parser(**kwargs)
        original = parser.error

        def error(message, ex=None):
            if not parser.exit_on_error:  # an inner parser: jsonargparse catches it
                return original(message, ex)
            raise ConfigError(one_line_config_error(message))

        parser.error = error
        return parser

    def _parse_ckpt_path(self) -> None:
        sub = self.config.get("subcommand")
        ckpt_path = self.config[sub].get("ckpt_path") if sub else None
        if not ckpt_path or ckpt_path in ("last", "best", "hpc", "registry"):
            return super()._parse_ckpt_path()
        path = Path(ckpt_path)
        if not path.is_file():
            raise InputError(f"--ckpt_path {ckpt_path}: checkpoint not found")
        import torch

        try:
            ckpt = torch.load(path, weights_only=True, map_location="cpu")
        except Exception as exc:  # noqa: BLE001 - truncated, not a checkpoint, wrong format
            first = type(exc).__name__
            raise InputError(
                f"--ckpt_path {ckpt_path}: cannot read the checkpoint (truncated or not a Lightning "
                f"checkpoint: {first})"
            ) from None
        if not isinstance(ckpt, dict):
            raise InputError(f"--ckpt_path {ckpt_path}: not a Lightning checkpoint")
        before = _flat(self.config[sub].get("model"))
        super()._parse_ckpt_path()
        after = _flat(self.config[sub].get("model"))
        for key, given in _explicit_model_keys(self.argv).items():
            if key in before and key in after and before[key] != after[key]:
                raise InputError(
                    f"--model.{key} {given}: the checkpoint {ckpt_path} was trained with "
                    f"model.{key}={after[key]}, which resuming keeps; drop --model.{key}, or train a "
                    "new model without --ckpt_path"
                )

    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("data.num_observation_channels", "model.in_channels", apply_on="instantiate")
        parser.link_arguments(
            "data.observation_channels", "model.observation_channels", apply_on="instantiate"
        )
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults(
            {
                "checkpoint.save_last": True,
                "checkpoint.every_n_train_steps": 500,
                "checkpoint.save_top_k": -1,
                "checkpoint.filename": "step{step:07d}",
                "checkpoint.auto_insert_metric_name": False,
                # SIGTERM (timeout, Slurm, docker stop) or an error mid-run: save the step reached
                # (Lightning writes checkpoints atomically: a temporary file, then a rename)
                "checkpoint.save_on_exception": True,
            }
        )
        parser.add_lightning_class_args(ThroughputMonitor, "throughput")
        parser.add_lightning_class_args(MemoryMonitor, "memory")
        parser.add_lightning_class_args(BreakMapImages, "break_maps")

    def before_instantiate_classes(self) -> None:
        cfg = self.config[self.subcommand] if self.subcommand else self.config
        trainer = cfg.trainer
        precision, notice = resolve_precision(trainer.precision, trainer.accelerator)
        if notice:
            log.warning("fuelrl: %s", notice)
            print(f"fuelrl: {notice}", file=sys.stderr)
            trainer.precision = precision
        if cfg.checkpoint.dirpath is None:
            root = trainer.default_root_dir or "."
            cfg.checkpoint.dirpath = str(Path(root) / "checkpoints")


def _quiet_known_warnings() -> None:
    # Replay batches come from the collector in this process; DataLoader workers would copy the env.
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=r".*IterableDataset.*__len__.*")
    warnings.filterwarnings("ignore", message=r".*is an IterableDataset.*")
    warnings.filterwarnings("ignore", message=r".*Your `IterableDataset` has `__len__` defined.*")
    # lightning_main passes argv explicitly and keeps sys.argv for DDP's re-launch of the command
    warnings.filterwarnings("ignore", message=r".*LightningCLI's args parameter is intended.*")
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)` is deprecated.*")


def build_cli(argv: list[str], *, run: bool = True) -> FuelrlCLI:
    """Build (and by default run) the CLI on ``argv`` = ``[subcommand, *options]``."""
    FuelrlCLI.argv = list(argv)
    return FuelrlCLI(
        DQNAgent,
        ReplayDataModule,
        args=expand_auto_config(argv),
        run=run,
        save_config_kwargs={"overwrite": True},
        parser_kwargs={"prog": "fuelrl", "description": "Train and evaluate the fuel-break DQN."},
        seed_everything_default=0,
        # Lightning's bar on a terminal only, quiet in logs and CI (--trainer.enable_progress_bar)
        trainer_defaults={"enable_progress_bar": sys.stdout.isatty()},
    )


def lightning_main(argv: list[str]) -> int:
    """Entry point of ``fuelrl fit|validate|test`` (called by :func:`fuelrl.cli.main`)."""
    _quiet_known_warnings()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("torchrl").setLevel(logging.WARNING)
    try:
        cli = build_cli(list(argv))
    except FuelrlError as exc:
        name = argv[0] if argv else "fit"
        configs = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("--config", "-c")]
        configs += [a.split("=", 1)[1] for a in argv if a.startswith("--config=")]
        where = f" (config: {', '.join(configs)})" if isinstance(exc, ConfigError) and configs else ""
        print(f"fuelrl {name}: error: {exc}{where}", file=sys.stderr)
        return 2
    except SIGTERMException:  # a SystemExit (code None): before the handler below
        _stop_collection()
        print(_interrupted_line(argv[0] if argv else "fit"), file=sys.stderr)
        return 128 + int(signal.SIGTERM)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    if cli.subcommand == "fit" and cli.trainer.is_global_zero:
        _print_outputs(cli)
    return 0


def _stop_collection() -> None:
    """Shut the collector and its env workers down: Lightning skips the data module's teardown when
    a run is interrupted, and the interpreter would then wait for the workers at exit forever."""
    trainer = _LAST_TRAINER[0] if _LAST_TRAINER else None
    dm = getattr(trainer, "datamodule", None) if trainer is not None else None
    if dm is not None and hasattr(dm, "teardown"):
        dm.teardown("fit")


def _interrupted_line(name: str) -> str:
    """``fuelrl fit: interrupted (SIGTERM) at step N; last checkpoint: PATH (resume: ...)``."""
    trainer = _LAST_TRAINER[0] if _LAST_TRAINER else None
    if trainer is None:
        return f"fuelrl {name}: interrupted (SIGTERM)"
    ckpt = next((c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)), None)
    last = ckpt.last_model_path if ckpt is not None else ""
    where = (
        f"; last checkpoint: {last} (resume: add --ckpt_path last)" if last and Path(last).exists() else ""
    )
    return f"fuelrl {name}: interrupted (SIGTERM) at step {trainer.global_step}{where}"


def _print_outputs(cli: FuelrlCLI) -> None:
    """Tell the user where a fit's outputs are and how its last evaluation went."""
    trainer = cli.trainer
    ckpt = next((c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)), None)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("eval/")}
    lines = [f"fuelrl fit: finished at step {trainer.global_step}"]
    if "eval/burned_ha" in metrics and "eval/burned_ha_random" in metrics:
        agent, rand = metrics["eval/burned_ha"], metrics["eval/burned_ha_random"]
        dpv = metrics.get("eval/burned_ha_dpv")
        heuristic = f", DPV-greedy {dpv:.2f} ha" if dpv is not None else ""
        lines.append(
            f"  last eval (held-out tiles, the same fires for every policy): agent {agent:.2f} ha per "
            f"fire, random placement {rand:.2f} ha{heuristic}"
        )
        vs = [f"{100.0 * (agent - rand) / rand:+.1f}% vs random"] if rand > 0 else []
        if dpv:
            vs.append(f"{100.0 * (agent - dpv) / dpv:+.1f}% vs DPV-greedy")
        if vs:
            lines.append(f"  the agent burns {', '.join(vs)} (negative: less)")
    # the logger's own log_dir: Trainer.log_dir broadcasts across ranks, and only rank 0 is here
    log_dir = getattr(trainer.logger, "log_dir", None)
    if log_dir:
        lines.append(f"  TensorBoard logs: {log_dir}  (tensorboard --logdir {log_dir})")
    if ckpt is not None and ckpt.dirpath:
        lines.append(f"  checkpoints: {ckpt.dirpath} (resume: add --ckpt_path last)")
        # this run's own last checkpoint: a second fit in the same folder writes last-v1.ckpt
        last = Path(ckpt.last_model_path) if ckpt.last_model_path else Path(ckpt.dirpath) / "last.ckpt"
        if last.exists():
            lines.append(f"  plan with it: fuelrl plan LANDSCAPE --policy {last} --budget 0.05 --out DIR")
    print("\n".join(lines))
