"""The `fuelrl` command.

``fit``, ``validate`` and ``test`` go to LightningCLI (training); every other subcommand lives in its
own module under :mod:`fuelrl.commands` and is imported only when used, so ``fuelrl --help`` is fast.
User errors (:class:`fuelrl.errors.FuelrlError`) print one line and exit with status 2; the
shared options are validated once for every command (:func:`fuelrl.commands._options.check_shared`)
before it runs. SIGTERM and SIGINT end a command with one line and status 128 + signal, after the
command has removed what it started (:mod:`fuelrl.outputs`); notices
(:class:`fuelrl.errors.FuelrlNotice`) print once as ``fuelrl: notice: ...``.

``simulate``, ``evaluate`` and ``plan`` also run as several processes (``torchrun ... -m fuelrl.cli``
or ``srun``): they join the launcher's process group first and split their fires across it
(:mod:`fuelrl.distributed`, docs/scaling.md).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
import warnings
from collections.abc import Iterator

from fuelrl import __version__
from fuelrl.errors import FuelrlError, FuelrlNotice, Interrupted

# name -> (module under fuelrl.commands, one-line help). Keep alphabetical within each group.
COMMANDS: dict[str, tuple[str, str]] = {
    "backends": ("backends", "list the simulator backends (built-in and plugins) with their devices"),
    "bench": (
        "bench",
        "measure simulator, env, training and memory performance; write bench.json and bench.md",
    ),
    "behave": (
        "behave",
        "fire behaviour of each row of a CSV (batch calculator) or every cell of a landscape (FlamMap maps)",
    ),
    "evaluate": (
        "evaluate",
        "compare an agent and baselines on the same fires: burned area with confidence intervals",
    ),
    "plan": ("plan", "place fuel breaks on a landscape with an agent or a heuristic; write a GeoTIFF plan"),
    "simulate": ("simulate", "grow fires on a landscape: arrival time, burn probability, burned area"),
}

#: commands that split their fires over the processes of a torchrun / srun launch
DISTRIBUTED_COMMANDS = frozenset({"evaluate", "plan", "simulate"})

# Subcommands handled by LightningCLI (fuelrl.agents.cli); listed in --help when training exists.
LIGHTNING_COMMANDS: dict[str, str] = {
    "fit": "train an agent (LightningCLI; e.g. fuelrl fit --config configs/quickstart.yaml)",
    "validate": "score a checkpoint's greedy plans against random placement on held-out tiles",
    "test": "like validate, on the test fires (a different fixed seed)",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fuelrl",
        description="Place fuel breaks with deep Q-learning, scored by simulated wildfires.",
    )
    parser.add_argument("--version", action="version", version=f"fuelrl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in LIGHTNING_COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    for name, (_, help_text) in sorted(COMMANDS.items()):
        sub.add_parser(name, help=help_text)
    return parser


def _show_notice(message, category, filename, lineno, file=None, line=None, _default=warnings.showwarning):
    if issubclass(category, FuelrlNotice):
        print(f"fuelrl: notice: {message}", file=sys.stderr if file is None else file)
    else:
        _default(message, category, filename, lineno, file, line)


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


@contextlib.contextmanager
def user_facing() -> Iterator[None]:
    """Notices as one line; SIGTERM / SIGINT as :class:`Interrupted` (so cleanup code runs)."""
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, _raise_interrupted)
        except ValueError:  # not the main thread
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("once", FuelrlNotice)
        warnings.showwarning = _show_notice
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in LIGHTNING_COMMANDS:
        from fuelrl.agents.cli import lightning_main

        return lightning_main(argv)
    if not argv or argv[0] not in COMMANDS:
        _parser().parse_args(argv or ["--help"])
        return 2
    name = argv[0]
    module_name, help_text = COMMANDS[name]
    module = importlib.import_module(f"fuelrl.commands.{module_name}")
    parser = argparse.ArgumentParser(prog=f"fuelrl {name}", description=module.__doc__.split("\n")[0])
    module.add_arguments(parser)
    dests = {action.dest for action in parser._actions}
    if "out" in dests and "overwrite" not in dests:  # every --out folder is reused the same way
        parser.add_argument(
            "--overwrite", action="store_true", help="replace --out if it holds an earlier run's outputs"
        )
    args = parser.parse_args(argv[1:])
    where = ""
    try:
        with user_facing():
            from fuelrl.commands._options import check_shared

            check_shared(args)
            if name in DISTRIBUTED_COMMANDS:
                from fuelrl import distributed

                if distributed.init():
                    where = f" (rank {distributed.rank()} of {distributed.world_size()})"
                    if hasattr(args, "device"):
                        args.device = distributed.local_device(args.device)
            return int(module.run(args) or 0)
    except FuelrlError as exc:
        print(f"fuelrl {name}: error{where}: {exc}", file=sys.stderr)
        return 2
    except (Interrupted, KeyboardInterrupt) as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)
        sig = signal.Signals(signum).name
        print(f"fuelrl {name}: interrupted ({sig}); partial outputs removed", file=sys.stderr)
        return 128 + signum
    finally:
        if where:
            from fuelrl import distributed

            distributed.shutdown()


if __name__ == "__main__":
    raise SystemExit(main())
