"""The ``fuelrl bench`` suite: simulators, env, training, warm-up and memory, in one run.

Each section returns a JSON-ready dict; :func:`run_suite` runs the chosen sections and returns the
whole report (machine info first). It reuses the per-topic benchmarks: tile and weather set-up of
:mod:`fuelrl.bench.simulators`, :func:`fuelrl.bench.env.measure` for the env, and
:mod:`fuelrl.bench.training` for everything that learns. Every timing is a median over repeats
after a warm-up, with its quartiles and min-max (:func:`fuelrl.bench.report.summarize`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from fuelrl.bench import report as rp
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


def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


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


# -------------------------------------------------------------------------------------- training
def default_profiles(device: torch.device, quick: bool) -> tuple[str, ...]:
    from fuelrl.bench.training import PROFILES

    if device.type == "cuda":
        return PROFILES
    return ("quickstart", "low_mem")


#: ``fuelrl fit`` options of the smoke-test scale (``--tiny``)
TINY_OPTIONS = (
    "--data.env.tile_size=8",
    "--data.env.fires_per_tile=2",
    "--data.env.batch_size=2",
    "--data.env.duration_min=60.0",
    "--data.frames_per_collect=8",
    "--data.updates_per_collect=2",
    "--data.batch_size=8",
)


def _profiles(opts: BenchOptions, device: torch.device):
    from fuelrl.bench.profiles import load_profile

    names = opts.profiles or (("quickstart",) if opts.tiny else default_profiles(device, opts.quick))
    options = TINY_OPTIONS if opts.tiny else ()
    return [load_profile(name, opts.configs_dir, device=device, options=options) for name in names]


def bench_updates(opts: BenchOptions, device: torch.device, profiles) -> list[dict[str, Any]]:
    from fuelrl.bench.updates import update_ratio

    rows = []
    for prof in profiles:
        acc = prof.accumulate_grad_batches
        heavy = prof.name in ("default", "high_mem") or prof.data["env"].tile_size >= 32
        if opts.tiny:
            warm, batches = 2, 4
        elif opts.quick:
            warm, batches = max(3, acc), (12 * acc if heavy and device.type == "cpu" else 40)
        else:
            warm, batches = max(5, 2 * acc), (24 * acc if heavy and device.type == "cpu" else 100)
        frames = 64 if opts.tiny else 512
        row = update_ratio(prof, repeats=opts.n_repeats, warmup=warm, batches=batches, replay_frames=frames)
        rows.append(row)
        _log(f"train {prof.name}: update_ratio_vs_bare {row['update_ratio_vs_bare']:.3f}")
    return rows


def bench_fits(opts: BenchOptions, device: torch.device, profiles) -> list[dict[str, Any]]:
    """One ``Trainer.fit`` from scratch per profile: end-to-end exp/s, warm-up curve, GPU memory."""
    from fuelrl.bench.training import fit_run

    rows = []
    for prof in profiles:
        if opts.tiny:
            steps, warm = 12, 16
        elif opts.quick:
            steps, warm = opts.fit_steps or 100, 256
        else:
            steps, warm = opts.fit_steps or 600, 2000
        configured = int(prof.data.get("warmup_frames", 0))
        warm = min(configured, warm) if configured else warm
        fpc = int(prof.data.get("frames_per_collect", 64))
        warm = max(warm, fpc)
        overrides = {
            "warmup_frames": warm,
            "prefill_frames": min(int(prof.data.get("prefill_frames", 0)), warm // 2),
            "buffer_size": min(int(prof.data.get("buffer_size", 20_000)), 20_000),
        }
        row = fit_run(prof, max_steps=steps, overrides=overrides)
        rows.append(row)
        _log(
            f"fit {prof.name}: {rp.fmt(row['end_to_end_exp_per_s'])} exp/s end to end; first episode / "
            f"steady {rp.fmt_ratio(row['warmup']['first_vs_steady'])}"
        )
    return rows


def bench_rss(opts: BenchOptions) -> dict[str, Any]:
    from fuelrl.bench.profiles import load_profile
    from fuelrl.bench.training import rss_run

    if opts.tiny:
        prof = load_profile("quickstart", opts.configs_dir, options=TINY_OPTIONS)
        buffer, total = opts.rss_frames or (32, 96)
    else:
        prof = load_profile("quickstart", opts.configs_dir)
        buffer, total = opts.rss_frames or ((1500, 4500) if opts.quick else (5000, 20000))
    row = rss_run(prof, buffer_frames=buffer, total_frames=total)
    _log(
        f"memory: host RSS {row['rss_at_fill_mib']:.0f} MiB at fill, "
        f"{row['rss_end_mib']:.0f} MiB at the end; "
        f"slope after fill {row['slope_after_fill_mib_per_1000_frames']} MiB/1000 frames"
    )
    return row


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
    profiles = _profiles(opts, device) if sections & {"train", "warmup", "memory"} else []
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
