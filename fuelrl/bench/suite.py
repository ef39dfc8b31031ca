"""The ``fuelrl bench`` suite: simulators, env, training, warm-up and memory, in one run.

Each section returns a JSON-ready dict; :func:`run_suite` runs the chosen sections and returns the
whole report (machine info first). It reuses the per-topic benchmarks: tile and weather set-up of
:mod:`fuelrl.bench.simulators`, :func:`fuelrl.bench.env.measure` for the env, and
:mod:`fuelrl.bench.suite_training` for everything that learns. Every timing is a median over repeats
after a warm-up, with its quartiles and min-max (:func:`fuelrl.bench.report.summarize`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from fuelrl.bench import report as rp
from fuelrl.bench.suite_training import bench_fits, bench_rss, bench_updates, load_profiles
from fuelrl.errors import InputError

SECTIONS = ("sim", "trees", "env", "train", "warmup", "memory")


@dataclass
class BenchOptions:
    """What ``fuelrl bench`` runs (the command-line options, see fuelrl.commands.bench)."""

    quick: bool = False
    device: str = "auto"
    sections: tuple[str, ...] = SECTIONS
    repeats: int | None = None  # None: 3 (quick) / 5
    threads: int | None = None  # torch intra-op threads; None: torch's default
    sim_backends: tuple[str, ...] | None = None  # None: numpy, threaded, torch
    sim_sizes: tuple[int, ...] = (32, 64, 128, 256)
    sim_fires: tuple[int, ...] = (1, 16, 64)
    sim_tiles: int | None = None  # tiles per call (B); None: 1 (quick) / 2
    threaded_workers: tuple[int, ...] | None = None  # threaded rows; None: 1 and all usable cores
    torch_devices: tuple[str, ...] | None = None  # torch rows; None: cpu, plus the device if CUDA
    env_workers: tuple[int, ...] | None = None  # env worker counts; None: 1, 2 and all usable cores
    env_tile_size: int = 32
    env_steps: int | None = None
    profiles: tuple[str, ...] | None = None  # None: by device and mode
    configs_dir: str | None = None
    fit_steps: int | None = None
    rss_frames: tuple[int, int] | None = None  # (buffer, total)
    tiny: bool = False  # a smoke-test scale (tests): the smallest sizes and counts

    def resolve_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            dev = torch.device(self.device)
        except (RuntimeError, ValueError) as exc:
            raise InputError(f"--device: {self.device!r} is not a torch device (cpu, cuda, cuda:1)") from exc
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise InputError("--device cuda: torch.cuda.is_available() is False on this machine")
        if dev.type not in ("cpu", "cuda"):
            raise InputError(f"--device: expected cpu or cuda[:N], got {self.device!r}")
        return dev

    @property
    def n_repeats(self) -> int:
        if self.repeats is not None:
            return self.repeats
        return 2 if self.tiny else 3 if self.quick else 5


_log = rp.log


# ------------------------------------------------------------------------------------ simulators
def sim_tiles(size: int, count: int) -> tuple[list[Any], str]:
    """``count`` size x size tiles: windows of the Worcester, VT LANDFIRE clip when ../shared holds
    it (origins in :data:`fuelrl.bench.simulators.WINDOWS`), otherwise generated landscapes,
    labelled so. Sizes with no Worcester window (larger than the 549 x 613 clip, e.g. 1024) are
    generated landscapes too."""
    from fuelrl.bench import simulators as sb

    if size not in sb.WINDOWS:
        from fuelrl.landscape import generate_landscape

        tiles = [generate_landscape(seed=i, shape=(size, size)) for i in range(count)]
        return tiles, "generated (no Worcester window of this size)"
    return sb.load_tiles(size, count)


def _sim_runs(
    names: tuple[str, ...],
    device: torch.device,
    threaded_workers: tuple[int, ...] | None = None,
    torch_devices: tuple[str, ...] | None = None,
) -> list[tuple[str, str, dict[str, Any]]]:
    from fuelrl import registry

    workers = threaded_workers or tuple(dict.fromkeys((1, rp.usable_cores())))
    devices = torch_devices or (("cpu", str(device)) if device.type == "cuda" else ("cpu",))
    runs = []
    for name in names:
        registry.get(name)  # a clear error for an unknown backend
        if name == "threaded":
            runs += [("threaded", f"threaded x{n}", {"workers": n}) for n in workers]
        elif name == "torch":
            for dev in devices:
                try:
                    tdev = BenchOptions(device=dev).resolve_device()  # the same checks as --device
                except InputError as exc:
                    raise InputError(f"--torch-devices: {exc}") from exc
                runs.append(("torch", f"torch {tdev}", {"device": str(tdev)}))
        else:
            runs.append((name, name, {}))
    return runs


def bench_simulators(opts: BenchOptions, device: torch.device) -> dict[str, Any]:
    """Fires/s and cell-updates/s per backend, tile size and fires per call; threaded speed-up."""
    from fuelrl import registry
    from fuelrl.bench.simulators import WEATHER, scenarios_for
    from fuelrl.simulators.base import TileBatch

    names = opts.sim_backends or ("numpy", "threaded", "torch")
    runs = _sim_runs(tuple(names), device, opts.threaded_workers, opts.torch_devices)
    n_tiles = opts.sim_tiles or (1 if opts.quick or opts.tiny else 2)
    repeats = opts.n_repeats
    rows, sources = [], {}
    speedups = []
    for size in opts.sim_sizes:
        land, source = sim_tiles(size, n_tiles)
        sources[size] = source
        tiles = TileBatch.stack(land)
        breaks = torch.zeros(tiles.shape, dtype=torch.bool)
        for fires in opts.sim_fires:
            scenarios = scenarios_for(land, fires, False)
            n = n_tiles * fires
            by_label = {}
            for name, label, kw in runs:
                sim = registry.create(name, **kw)
                t_tiles, t_breaks, t_sc = (
                    tiles.to(sim.device),
                    breaks.to(sim.device),
                    scenarios.to(sim.device),
                )
                sync = (lambda d=sim.device: torch.cuda.synchronize(d)) if sim.device.type == "cuda" else None
                result = {}

                def call(sim=sim, t_tiles=t_tiles, t_breaks=t_breaks, t_sc=t_sc, result=result) -> None:
                    result["r"] = sim.simulate(t_tiles, t_breaks, t_sc)

                secs = rp.timed_repeats(call, repeats, warmup=1, sync=sync)
                fires_s = rp.summarize([n / s for s in secs])
                row = {
                    "size": size,
                    "fires_per_tile": fires,
                    "tiles": n_tiles,
                    "backend": label,
                    "seconds": rp.summarize(secs),
                    "fires_per_s": fires_s,
                    "cell_updates_per_s": rp.summarize([n * size * size / s for s in secs]),
                    "burned_ha_mean": float(result["r"].burned_ha.double().mean()),
                }
                rows.append(row)
                by_label[label] = row
                _log(f"sim {size}x{size} F={fires} {label}: {rp.fmt(fires_s)} fires/s")
            one, base = by_label.get("threaded x1"), by_label.get("numpy")
            for name, label, kw in runs:
                workers = kw.get("workers")
                if name != "threaded" or workers == 1 or not (one or base):
                    continue
                row = by_label[label]
                speedups.append(
                    {
                        "size": size,
                        "fires_per_tile": fires,
                        "workers": workers,
                        # (name kept from when the only other row was all usable cores)
                        "speedup_all_cores_vs_1": rp.ratio(one["seconds"], row["seconds"]) if one else None,
                        "speedup_vs_numpy": rp.ratio(base["seconds"], row["seconds"]) if base else None,
                    }
                )
    return {
        "what": (
            "8-h fires (480 min), 20 mph 20-ft wind from 225 deg, moistures 3/4/5/30/60 %, one weather per "
            "tile; ignitions from ScenarioSampler(seed 0), the same for every backend; per call B tiles x F "
            "fires; cell-updates/s = H x W x fires / s"
        ),
        "weather": WEATHER,
        "duration_min": 480.0,
        "tile_source": {str(k): v for k, v in sources.items()},
        "tiles_per_call": n_tiles,
        "repeats": repeats,
        "rows": rows,
        "threaded_speedup": speedups,
    }


# ------------------------------------------------------------------------------------------- env
def bench_env(opts: BenchOptions) -> dict[str, Any]:
    """Tile steps/s of SerialEnv and ParallelEnv with 1, 2 and N workers; scaling efficiency."""
    from fuelrl.bench.env import measure
    from fuelrl.envs import EnvConfig

    size = 16 if opts.tiny else opts.env_tile_size
    cfg = EnvConfig(
        tile_size=size,
        fires_per_tile=4 if opts.tiny else 8,
        batch_size=2,
        backend="numpy",
        budget_fraction=0.01,
    ).validate()
    steps = opts.env_steps or (4 if opts.tiny else 20 if opts.quick else 60)
    warmup = 1 if opts.tiny else 3
    cores = rp.usable_cores()
    counts = sorted(set(opts.env_workers or (1, 2, cores)))
    variants = [(f"SerialEnv({n})", n, True) for n in counts] + [
        (f"ParallelEnv({n})", n, False) for n in counts
    ]
    repeats = opts.n_repeats
    out_rows = []
    for name, n, serial in variants:
        results = [measure(cfg, n, serial, steps, warmup) for _ in range(repeats)]
        row = {
            "variant": name,
            "workers": n,
            "kind": "serial" if serial else "parallel",
            "tiles": results[0]["tiles"],
            "start_s": rp.summarize([r["start_s"] for r in results]),
            "env_steps_per_s": rp.summarize([r["steps_per_s"] for r in results]),
            "tile_steps_per_s": rp.summarize([r["tile_steps_per_s"] for r in results]),
            "burned_ha_mean": sum(r["burned_ha"] for r in results) / len(results),
        }
        out_rows.append(row)
        _log(f"env {name}: {rp.fmt(row['tile_steps_per_s'])} tile steps/s")
    base = next(r for r in out_rows if r["variant"] == "SerialEnv(1)")["tile_steps_per_s"]
    for row in out_rows:
        speedup = rp.ratio(row["tile_steps_per_s"], base)
        row["speedup_vs_serial1"] = speedup
        row["scaling_efficiency"] = None if speedup is None else speedup / row["workers"]
    return {
        "what": (
            f"FireEnv on {size}x{size} tiles of the generated landscape, {cfg.fires_per_tile} fires/tile, "
            f"B={cfg.batch_size} tiles per worker, numpy backend, random legal actions with "
            f"step_and_maybe_reset (fuelrl.bench.env.measure); {steps} timed steps after {warmup}; "
            "scaling efficiency = tile steps/s / (workers x SerialEnv(1) tile steps/s)"
        ),
        "tile_size": size,
        "fires_per_tile": cfg.fires_per_tile,
        "tiles_per_worker": cfg.batch_size,
        "steps": steps,
        "repeats": repeats,
        "cores": cores,
        "rows": out_rows,
    }


# --------------------------------------------------------------------------------------- runner
def run_suite(opts: BenchOptions, log: Callable[[str], None] = _log) -> dict[str, Any]:
    """Run the chosen sections; returns the report (``machine`` plus one key per section)."""
    unknown = sorted(set(opts.sections) - set(SECTIONS))
    if unknown:
        raise InputError(f"--sections: unknown {unknown}; choose from {','.join(SECTIONS)}")
    if opts.n_repeats < 1:
        raise InputError(f"--repeats: expected >= 1, got {opts.n_repeats}")
    device = opts.resolve_device()
    if opts.threads is not None:
        if opts.threads < 1:
            raise InputError(f"--threads: expected >= 1, got {opts.threads}")
        torch.set_num_threads(opts.threads)
    t0 = time.perf_counter()
    report: dict[str, Any] = {
        "fuelrl_bench": 1,
        "mode": "tiny" if opts.tiny else "quick" if opts.quick else "full",
        "machine": rp.machine_info(device),
        "sections": list(opts.sections),
    }
    log(f"device {device}, {rp.usable_cores()} cores, torch threads {torch.get_num_threads()}")
    sections = set(opts.sections)
    if "sim" in sections:
        report["simulators"] = bench_simulators(opts, device)
    if "trees" in sections:
        from fuelrl.bench.trees import bench_trees

        report["trees"] = bench_trees((64, 128) if opts.tiny else (256, 512, 1024), opts.n_repeats)
        log(f"trees: {[round(r['dpv_ms_per_fire']['median'], 1) for r in report['trees']['rows']]} ms/fire")
    if "env" in sections:
        report["env"] = bench_env(opts)
    profiles = load_profiles(opts, device) if sections & {"train", "warmup", "memory"} else []
    fits: list[dict[str, Any]] = []
    if "train" in sections:
        report["training"] = {"updates": bench_updates(opts, device, profiles)}
    if sections & {"train", "warmup"} or ("memory" in sections and device.type == "cuda"):
        fit_profiles = profiles if (device.type == "cuda" or not opts.quick) else profiles[:1]
        fits = bench_fits(opts, device, fit_profiles)
    if "train" in sections:
        report["training"]["end_to_end"] = [
            {
                k: f[k]
                for k in (
                    "profile",
                    "device",
                    "precision",
                    "num_workers",
                    "frames",
                    "optimizer_steps",
                    "wall_s",
                    "end_to_end_exp_per_s",
                    "env_exp_per_s",
                    "overrides",
                )
            }
            for f in fits
        ]
    if "warmup" in sections:
        report["warmup"] = [
            {"profile": f["profile"], **f["warmup"], "startup_s": f["startup_s"], "episodes": f["episodes"]}
            for f in fits
        ]
    if "memory" in sections:
        mem: dict[str, Any] = {}
        if device.type == "cuda":
            mem["gpu"] = [
                {"profile": f["profile"], "precision": f["precision"], **(f["gpu_memory"] or {})}
                for f in fits
            ]
            mem["gpu_goal_low_mem_gib"] = 3.5
        else:
            mem["gpu"] = "not measured: no CUDA"
        mem["host_rss"] = bench_rss(opts)
        report["memory"] = mem
    report["machine"]["load_average_end"] = rp.load_average()
    report["wall_s"] = time.perf_counter() - t0
    return report
