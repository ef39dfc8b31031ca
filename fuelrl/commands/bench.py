"""Measure simulator, env, training and memory performance; write bench.json and bench.md.

Examples::

    fuelrl bench --quick --out runs/bench_quick                  # a few minutes on 2 CPU cores
    fuelrl bench --quick --threads 1 --out runs/bench_quick      # a CPU shared with other jobs
    fuelrl bench --device cuda --out runs/bench_gpu              # all four profiles on the GPU
    fuelrl bench --sections sim,env --out runs/bench_sim         # only some sections

Sections: sim (fires/s and cell-updates/s per backend on 32-256 cell tiles, F = 1, 16, 64 fires;
threaded speed-up on all cores over one and over numpy; --threaded-workers and --torch-devices
choose the rows), trees (ms per fire of the DPV fire-path trees for the same fires on 256^2, 512^2
and 1024^2 flat landscapes), env (SerialEnv vs ParallelEnv with 1, 2, N workers; --env-workers),
train (Lightning vs bare-PyTorch update ratio; end-to-end experiences/s), warmup (first episode vs
steady state), memory (peak GPU memory per profile on CUDA; host RSS over a long collection run).
Every figure is the median over repeats after a warm-up, with its quartiles. Nothing is written
unless the whole run succeeds. See docs/performance.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fuelrl.errors import InputError


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _ints(name: str, value: str) -> tuple[int, ...]:
    try:
        out = tuple(int(v) for v in _csv(value))
    except ValueError as exc:
        raise InputError(f"{name}: expected comma-separated integers, got {value!r}") from exc
    if not out or any(v < 1 for v in out):
        raise InputError(f"{name}: expected positive integers, got {value!r}")
    return out


def _opt_ints(name: str, value: str | None) -> tuple[int, ...] | None:
    return None if value is None else _ints(name, value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n", 2)[2]
    parser.add_argument("--out", type=Path, required=True, help="folder for bench.json and bench.md")
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats and shorter runs (minutes on 2 cores)"
    )
    parser.add_argument("--device", default="auto", help="cpu, cuda or cuda:N (default: cuda when available)")
    parser.add_argument(
        "--sections",
        default="sim,trees,env,train,warmup,memory",
        help="comma-separated subset of sim,trees,env,train,warmup,memory",
    )
    parser.add_argument(
        "--repeats", type=int, help="timed repeats per figure (default 3 with --quick, else 5)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="torch intra-op threads (default: torch's, one per core); "
        "1 avoids OpenMP thrashing on a busy CPU",
    )
    parser.add_argument(
        "--profiles",
        help="training profiles (configs/NAME.yaml) for train/warmup/memory "
        "(default: all four on CUDA, quickstart,low_mem on a CPU)",
    )
    parser.add_argument(
        "--configs-dir", help="folder of the profile YAML files (default: the checkout's configs/)"
    )
    parser.add_argument(
        "--backends", help="simulator backends (default numpy,threaded,torch; see `fuelrl backends`)"
    )
    parser.add_argument(
        "--sizes", default="32,64,128,256", help="simulator tile sizes, cells (default 32,64,128,256)"
    )
    parser.add_argument(
        "--fires", default="1,16,64", help="fires per tile per simulator call (default 1,16,64)"
    )
    parser.add_argument(
        "--threaded-workers",
        help="worker counts of the threaded backend's rows, e.g. 1,2,4,8,16 (default: 1 and all cores)",
    )
    parser.add_argument(
        "--torch-devices",
        help="devices of the torch backend's rows, e.g. cuda (default: cpu, plus --device when it is CUDA)",
    )
    parser.add_argument(
        "--env-workers", help="worker counts of the env section, e.g. 1,2,4,8 (default: 1, 2 and all cores)"
    )
    parser.add_argument(
        "--fit-steps", type=int, help="optimizer steps of each end-to-end fit (default 100 quick / 600)"
    )
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # smoke-test scale (tests)


def run(args: argparse.Namespace) -> int:
    from fuelrl.bench.report import write_report
    from fuelrl.bench.suite import BenchOptions, run_suite
    from fuelrl.bench.tables import render_markdown

    if args.fit_steps is not None and args.fit_steps < 2:
        raise InputError(f"--fit-steps: expected >= 2, got {args.fit_steps}")
    opts = BenchOptions(
        quick=args.quick,
        device=args.device,
        sections=_csv(args.sections),
        repeats=args.repeats,
        threads=args.threads,
        sim_backends=_csv(args.backends) if args.backends else None,
        sim_sizes=_ints("--sizes", args.sizes),
        sim_fires=_ints("--fires", args.fires),
        threaded_workers=_opt_ints("--threaded-workers", args.threaded_workers),
        torch_devices=_csv(args.torch_devices) if args.torch_devices else None,
        env_workers=_opt_ints("--env-workers", args.env_workers),
        profiles=_csv(args.profiles) if args.profiles else None,
        configs_dir=args.configs_dir,
        fit_steps=args.fit_steps,
        tiny=args.tiny,
    )
    report = run_suite(opts)
    out = write_report(args.out, report, render_markdown(report))
    print(f"wrote {out / 'bench.json'} and {out / 'bench.md'} ({report['wall_s']:.0f} s)")
    return 0
