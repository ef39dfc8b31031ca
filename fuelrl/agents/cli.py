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
- user errors (:class:`fuelrl.errors.FuelrlError`) print one line and exit with status 2.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI

from fuelrl.agents.data import ReplayDataModule
from fuelrl.agents.module import DQNAgent
from fuelrl.agents.precision import resolve_precision
from fuelrl.agents.profiles import expand_auto_config
from fuelrl.callbacks import BreakMapImages, MemoryMonitor, ThroughputMonitor
from fuelrl.errors import FuelrlError

log = logging.getLogger("fuelrl")


class FuelrlCLI(LightningCLI):
    """LightningCLI with fuelrl's links, forced callbacks and precision resolution."""

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
    return FuelrlCLI(
        DQNAgent,
        ReplayDataModule,
        args=expand_auto_config(argv),
        run=run,
        save_config_kwargs={"overwrite": True},
        parser_kwargs={"prog": "fuelrl", "description": "Train and evaluate the fuel-break DQN."},
        seed_everything_default=0,
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
        print(f"fuelrl {name}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    if cli.subcommand == "fit" and cli.trainer.is_global_zero:
        _print_outputs(cli)
    return 0


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
        last = Path(ckpt.dirpath) / "last.ckpt"
        if last.exists():
            lines.append(f"  plan with it: fuelrl plan LANDSCAPE --policy {last} --budget 0.05 --out DIR")
    print("\n".join(lines))
