"""Benchmark: FireEnv steps per second in-process, in a SerialEnv and in a ParallelEnv of 1 and 2 workers.

    python -m fuelrl.bench.env [--tile-size 32] [--fires 8] [--batch-size 2] [--steps 40]

Each variant runs the same random policy (uniform over ``action_mask``) with
``step_and_maybe_reset`` (what collectors do: finished tiles are reset), after a warm-up. A "tile
step" is one break decision on one tile, so it is the number to compare across worker counts. The
simulation cost grows with the fires' size, which varies by tile (workers own different tiles): the
small default budget makes each variant cycle through many tiles, and the mean expected burned area
of the steps is printed as a measure of the workload. The
ratios are to SerialEnv(1), measured in the same run. The machine's load is printed: other
processes on the cores change the ParallelEnv numbers most.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from fuelrl.envs import EnvConfig, make_env


def measure(cfg: EnvConfig, num_workers: int, serial: bool, steps: int, warmup: int) -> dict[str, float]:
    t0 = time.perf_counter()
    env = make_env(cfg, num_workers=num_workers, seed=0, serial=serial)
    try:
        td = env.reset()
        start_s = time.perf_counter() - t0
        for _ in range(warmup):
            td = env.rand_action(td)
            _, td = env.step_and_maybe_reset(td)
        t1 = time.perf_counter()
        burned = []
        for _ in range(steps):
            td = env.rand_action(td)
            out, td = env.step_and_maybe_reset(td)
            burned.append(out["next", "burned_ha"].mean())
        elapsed = time.perf_counter() - t1
    finally:
        env.close()
    tiles = env.batch_size.numel()
    return {
        "start_s": start_s,
        "steps_per_s": steps / elapsed,
        "tile_steps_per_s": steps * tiles / elapsed,
        "tiles": tiles,
        "burned_ha": float(torch.stack(burned).mean()),
    }


def config_from_args(args: argparse.Namespace, **extra) -> EnvConfig:
    """The env of a bench command line (``--tile-size --fires --batch-size --backend
    --budget-fraction``), validated."""
    return EnvConfig(
        tile_size=args.tile_size,
        fires_per_tile=args.fires,
        batch_size=args.batch_size,
        backend=args.backend,
        budget_fraction=args.budget_fraction,
        **extra,
    ).validate()


def describe_config(cfg: EnvConfig) -> str:
    size = cfg.tile_size
    return (
        f"{size}x{size} tiles, {cfg.fires_per_tile} fires/tile, B={cfg.batch_size} tiles per FireEnv, "
        f"budget {cfg.budget_fraction:g}"
    )


def machine_load() -> str:
    return f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuelrl.bench.env", description=__doc__.splitlines()[0])
    parser.add_argument("--tile-size", type=int, default=32)
    parser.add_argument("--fires", type=int, default=8, help="fires per tile")
    parser.add_argument("--batch-size", type=int, default=2, help="tiles per FireEnv (B)")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per variant")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--simulate-every", type=int, default=1)
    parser.add_argument(
        "--budget-fraction",
        type=float,
        default=0.01,
        help="small, so that every variant cycles through many tiles (the workload varies by tile)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cfg = config_from_args(args, simulate_every=args.simulate_every)
    print(
        f"FireEnv benchmark: {describe_config(cfg)}, backend {args.backend}, simulate_every "
        f"{args.simulate_every}, {args.steps} timed steps; {machine_load()}"
    )
    variants = [
        ("FireEnv (in-process)", 0, False),
        ("SerialEnv(1)", 1, True),
        ("SerialEnv(2)", 2, True),
        ("ParallelEnv(1)", 1, False),
        ("ParallelEnv(2)", 2, False),
    ]
    results = {}
    for name, n, serial in variants:
        results[name] = measure(cfg, n, serial, args.steps, args.warmup)
    ref = results["SerialEnv(1)"]["tile_steps_per_s"]
    header = ("variant", "tiles", "start s", "env steps/s", "tile steps/s", "vs Serial(1)", "E[burned] ha")
    print(
        f"{header[0]:<22}{header[1]:>6}{header[2]:>9}{header[3]:>13}{header[4]:>14}{header[5]:>14}"
        f"{header[6]:>14}"
    )
    for name, r in results.items():
        print(
            f"{name:<22}{r['tiles']:>6}{r['start_s']:>9.2f}{r['steps_per_s']:>13.2f}"
            f"{r['tile_steps_per_s']:>14.2f}{r['tile_steps_per_s'] / ref:>13.2f}x{r['burned_ha']:>14.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
