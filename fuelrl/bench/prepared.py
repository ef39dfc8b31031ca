"""Benchmark: FireEnv steps and simulator calls with and without prepared spread fields, in one run.

    python -m fuelrl.bench.prepared [--tile-size 32] [--fires 8] [--batch-size 2] [--steps 40] [--rounds 5]

Within an episode only the break mask changes, so FireEnv asks its backend to
:meth:`~fuelrl.simulators.base.SimulatorBackend.prepare` the spread fields of the episode's tiles
and fires once and reuses them every step (``simulate_prepared``). This measures what that saves:
two FireEnvs built alike with the same seed, one as shipped and one whose backend precomputes
nothing (the base class's ``prepare``, i.e. every step recomputes the physics as ``simulate``
does), take the same actions (a seeded uniform draw over ``action_mask``) in alternating rounds,
so both see the same machine load; the rewards of the two are checked to be identical. Then
each backend's ``simulate`` and ``simulate_prepared`` on one batch with breaks, alternately.
Medians over rounds; ratios are prepared / unprepared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import types

import torch

from fuelrl import registry
from fuelrl.bench.env import config_from_args, describe_config, machine_load
from fuelrl.envs import EnvConfig, FireEnv
from fuelrl.simulators.base import SimulatorBackend


def _unprepared(env: FireEnv) -> FireEnv:
    """``env`` with a backend that precomputes nothing (the plugin default)."""
    env.backend.prepare = types.MethodType(SimulatorBackend.prepare, env.backend)
    return env


def _steps(env: FireEnv, td, gen: torch.Generator, n: int):
    rewards = []
    for _ in range(n):
        mask = td["action_mask"]
        td["action"] = torch.multinomial(mask.float(), 1, generator=gen).squeeze(-1)
        out, td = env.step_and_maybe_reset(td)
        rewards.append(out["next", "reward"].clone())
    return td, torch.cat(rewards)


def bench_env(cfg: EnvConfig, steps: int, rounds: int) -> dict[str, float]:
    envs = {"prepared": FireEnv(cfg, seed=0), "unprepared": _unprepared(FireEnv(cfg, seed=0))}
    tds = {k: e.reset() for k, e in envs.items()}
    gens = {k: torch.Generator().manual_seed(1) for k in envs}
    rewards: dict[str, list[torch.Tensor]] = {k: [] for k in envs}
    rates: dict[str, list[float]] = {k: [] for k in envs}
    for k in envs:  # warm-up
        tds[k], _ = _steps(envs[k], tds[k], gens[k], 5)
    for _ in range(rounds):
        for k, env in envs.items():
            t0 = time.perf_counter()
            tds[k], r = _steps(env, tds[k], gens[k], steps)
            rates[k].append(steps * cfg.batch_size / (time.perf_counter() - t0))
            rewards[k].append(r)
    same = torch.equal(torch.cat(rewards["prepared"]), torch.cat(rewards["unprepared"]))
    ratio = statistics.median(p / u for p, u in zip(rates["prepared"], rates["unprepared"], strict=True))
    return {
        "prepared": statistics.median(rates["prepared"]),
        "unprepared": statistics.median(rates["unprepared"]),
        "ratio": ratio,
        "same_rewards": same,
    }


def bench_backend(name: str, cfg: EnvConfig, rounds: int, calls: int) -> dict[str, float]:
    env = FireEnv(cfg, seed=0)
    env.reset()
    tiles, fires = env.tiles, env.scenarios
    gen = torch.Generator().manual_seed(2)
    avail = env.available().view(tiles.shape)
    breaks = avail & (torch.rand(tiles.shape, generator=gen) < 0.02)
    kw = {"device": "cpu", "cpu_threads": 1} if name == "torch" else {}
    backend = registry.create(name, options=env.backend.options, **kw)
    prepared = backend.prepare(tiles, fires)
    want = backend.simulate(tiles, breaks, fires).arrival_min
    same = torch.equal(backend.simulate_prepared(prepared, breaks).arrival_min, want)
    times: dict[str, list[float]] = {"simulate": [], "simulate_prepared": []}
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(calls):
            backend.simulate(tiles, breaks, fires)
        times["simulate"].append((time.perf_counter() - t0) / calls)
        t0 = time.perf_counter()
        for _ in range(calls):
            backend.simulate_prepared(prepared, breaks)
        times["simulate_prepared"].append((time.perf_counter() - t0) / calls)
    t0 = time.perf_counter()
    backend.prepare(tiles, fires)
    prepare_s = time.perf_counter() - t0
    ratio = statistics.median(
        u / p for u, p in zip(times["simulate"], times["simulate_prepared"], strict=True)
    )
    return {
        "simulate_ms": 1e3 * statistics.median(times["simulate"]),
        "prepared_ms": 1e3 * statistics.median(times["simulate_prepared"]),
        "prepare_ms": 1e3 * prepare_s,
        "speedup": ratio,
        "same": same,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fuelrl.bench.prepared", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--tile-size", type=int, default=32)
    parser.add_argument("--fires", type=int, default=8, help="fires per tile")
    parser.add_argument("--batch-size", type=int, default=2, help="tiles per FireEnv (B)")
    parser.add_argument("--steps", type=int, default=40, help="env steps per round and variant")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", default="numpy", help="FireEnv's backend")
    parser.add_argument("--budget-fraction", type=float, default=0.01)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cfg = config_from_args(args)
    print(
        f"prepared spread fields: {describe_config(cfg)}, {args.rounds} rounds of {args.steps} steps; "
        f"{machine_load()}"
    )
    r = bench_env(cfg, args.steps, args.rounds)
    print(f"{'FireEnv (' + args.backend + ')':<24}{'tile steps/s':>14}")
    print(f"{'  unprepared (before)':<24}{r['unprepared']:>14.1f}")
    print(f"{'  prepared (after)':<24}{r['prepared']:>14.1f}")
    print(
        f"  speed-up {r['ratio']:.2f}x (median of per-round ratios); identical rewards: {r['same_rewards']}"
    )
    print(
        f"{'backend':<12}{'simulate ms':>13}{'prepared ms':>13}{'speed-up':>10}{'prepare ms':>12}  identical"
    )
    for name in ("numpy", "threaded", "torch"):
        b = bench_backend(name, cfg, args.rounds, max(1, args.steps // 4))
        print(
            f"{name:<12}{b['simulate_ms']:>13.2f}{b['prepared_ms']:>13.2f}{b['speedup']:>9.2f}x"
            f"{b['prepare_ms']:>12.2f}  {b['same']}"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
