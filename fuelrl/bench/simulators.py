"""Time the simulator backends: fires/s and cell-updates/s on 64x64 and 256x256 tiles, 8-h fires.

    python -m fuelrl.bench.simulators                       # all built-ins (+ torch on CUDA if present)
    python -m fuelrl.bench.simulators --backends numpy,torch --sizes 64 --repeats 5 --json out.json

Tiles are windows of the real LANDFIRE Worcester, VT landscape (../shared/data/landscapes/
worcester_vt) when it is there, otherwise generated landscapes (labelled "generated" in the output).
Weather as in the pyretechnics comparison: dry fuels (1-h 3 %, 10-h 4 %, 100-h 5 %, herbaceous
30 %, woody 60 %), 20 mph 20-ft wind from 225 deg, foliar moisture 100 %, 480 min. Ignitions are
drawn by :class:`~fuelrl.simulators.scenarios.ScenarioSampler` (seed 0), the same for every backend.

Per backend and size it reports seconds per fire, fires/s and cell-updates/s (H x W x fires / s:
how many cell arrival times it produces per second), after one warm-up call, as the median of
``--repeats`` timed calls (wall clock; "cpu s/fire" is the process CPU time, summed over
threads, which shows how much of the wall time a loaded machine took away); plus, in the same
run, the threaded backend's speed-up over numpy and over itself on one worker, and the fastest
CPU backend against pyretechnics' level-set spread (0.09 s per 8-h fire on a 64x64 Worcester tile
with these fuels and wind, measured on the 2-core reference machine). ``--weather per-fire`` gives
every fire its own wind direction, so the physics runs once per fire instead of once per tile.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fuelrl.errors import InputError

PYRETECHNICS_S_PER_FIRE_64 = 0.09
WEATHER = {"wind_speed_20ft_mph": 20.0, "wind_from_deg": 225.0, "moisture_pct": (3, 4, 5, 30, 60)}
# (row, col) of the top-left cells of the Worcester windows: burnable, with relief
# Window origins (row, col) on the Worcester clip: burnable (>= 94 %) tiles with relief.
WINDOWS = {
    32: [(200, 250), (380, 120), (100, 300), (300, 400)],
    64: [(200, 250), (380, 120), (100, 300), (300, 400)],
    128: [(150, 150), (300, 100), (100, 300)],
    256: [(150, 150)],
}


def load_tiles(size: int, count: int) -> tuple[list[Any], str]:
    """``count`` tiles of size x size: Worcester windows when the shared data is present."""
    from fuelrl.landscape import generate_landscape, open_landscape

    shared = Path(os.environ.get("FUELRL_SHARED", Path(__file__).resolve().parents[2].parent / "shared"))
    folder = shared / "data" / "landscapes" / "worcester_vt"
    if folder.is_dir():
        land = open_landscape(folder)
        if size not in WINDOWS:
            raise InputError(f"bench: no Worcester window for {size}x{size} tiles; sizes: {sorted(WINDOWS)}")
        origins = WINDOWS[size] * count
        return [land.window(r, c, size, size) for r, c in origins[:count]], "Worcester VT (LANDFIRE)"
    return [
        generate_landscape(seed=i, shape=(size, size)) for i in range(count)
    ], "generated (no shared data)"


def scenarios_for(tiles: list[Any], fires: int, per_fire_weather: bool):
    from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution

    wx = WeatherDistribution(
        wind_speed_20ft_mph=WEATHER["wind_speed_20ft_mph"],
        wind_from_deg=None if per_fire_weather else WEATHER["wind_from_deg"],
        wind_from_center_deg=WEATHER["wind_from_deg"],
        wind_from_spread_deg=30.0,
        moisture_pct=WEATHER["moisture_pct"],
        duration_min=480.0,
    )
    burnable = np.stack([t.burnable for t in tiles])
    return ScenarioSampler(wx, fires=fires, seed=0).sample(burnable)


def time_backend(name: str, kw: dict[str, Any], tiles, breaks, scenarios, repeats: int) -> dict[str, Any]:
    from fuelrl import registry

    sim = registry.create(name, **kw)
    cuda = sim.device.type == "cuda"
    t_tiles, t_breaks, t_sc = tiles.to(sim.device), breaks.to(sim.device), scenarios.to(sim.device)
    result = sim.simulate(t_tiles, t_breaks, t_sc)  # warm-up (caches, CUDA context, thread pool)
    times, cpu_times = [], []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize(sim.device)
        start, cpu_start = time.perf_counter(), time.process_time()
        result = sim.simulate(t_tiles, t_breaks, t_sc)
        if cuda:
            torch.cuda.synchronize(sim.device)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    b, f = scenarios.shape
    h, w = tiles.shape[1:]
    sec = statistics.median(times)
    return {
        "seconds": sec,
        "seconds_min": min(times),
        "s_per_fire": sec / (b * f),
        "cpu_s_per_fire": statistics.median(cpu_times) / (b * f),
        "fires_per_s": b * f / sec,
        "cell_updates_per_s": b * f * h * w / sec,
        "burned_ha_mean": float(result.burned_ha.double().mean()),
        "arrival": result.arrival_min.detach().cpu(),
    }


def physics_seconds(tiles, breaks, scenarios) -> float:
    """Seconds the numpy physics + edge times take for the run's weather groups (once each)."""
    from fuelrl.simulators.base import SimulationOptions
    from fuelrl.simulators.mtt import edge_times
    from fuelrl.simulators.spread import PhysicsFormat, inverse_ros, weather_groups

    NUMPY = PhysicsFormat.for_device("cpu")
    groups = weather_groups(scenarios)
    start = time.perf_counter()
    inv, _ = inverse_ros(tiles, breaks, groups, np.arange(len(groups)), SimulationOptions(), NUMPY)
    edge_times(inv, tiles.cell_size_m)
    return time.perf_counter() - start


def gil_check(land: Any, repeats: int = 3) -> dict[str, float]:
    """Do the solvers release the GIL? The same work on 1 and on 2 threads (one tile's graph):
    scipy's Dijkstra for 16 fires, and the numpy relaxation for 4 chunks of 16 fires."""
    from concurrent.futures import ThreadPoolExecutor

    from fuelrl.simulators.base import SimulationOptions, TileBatch
    from fuelrl.simulators.mtt import edge_times, ignition_corners
    from fuelrl.simulators.solvers import corner_graph, pull_weights, relax_min_plus, solve_dijkstra
    from fuelrl.simulators.spread import PhysicsFormat, inverse_ros, weather_groups

    NUMPY = PhysicsFormat.for_device("cpu")
    tiles = TileBatch.stack([land])
    h, w = land.shape
    scenarios = scenarios_for([land], 16, False)
    groups = weather_groups(scenarios)
    inv, burn = inverse_ros(
        tiles, torch.zeros(tiles.shape, dtype=torch.bool), groups, [0], SimulationOptions(), NUMPY
    )
    times = edge_times(inv, tiles.cell_size_m)[0]
    graph = corner_graph(h, w).matrix(times)
    cells = scenarios.ignition_cell.numpy()[0]
    pulled = pull_weights(times[None].astype(np.float32))

    def dijkstra_job(cell: int) -> None:
        solve_dijkstra(graph, ignition_corners(int(cell), w), 720.0, (h, w))

    def relax_job(_: int) -> None:
        start = np.full((16, h + 1, w + 1), np.inf, np.float32)
        for i, cell in enumerate(cells):
            start[i].reshape(-1)[list(ignition_corners(int(cell), w))] = 0.0
        relax_min_plus(pulled, start, np.full(16, 720.0, np.float32))

    out = {}
    for name, job, items in (
        ("scipy dijkstra", dijkstra_job, list(cells)),
        ("numpy relaxation", relax_job, [0] * 4),
    ):
        one, two = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            for item in items:
                job(item)
            one.append(time.perf_counter() - t)
            with ThreadPoolExecutor(2) as pool:
                t = time.perf_counter()
                list(pool.map(job, items))
                two.append(time.perf_counter() - t)
        out[name] = min(one) / min(two)
    return out


def main(argv: list[str] | None = None) -> int:
    from fuelrl import registry
    from fuelrl.simulators.base import TileBatch

    p = argparse.ArgumentParser(prog="python -m fuelrl.bench.simulators", description=__doc__.split("\n")[0])
    p.add_argument("--backends", default="numpy,threaded,torch", help="comma-separated backend names")
    p.add_argument("--sizes", default="64,256", help="tile sizes (cells)")
    p.add_argument("--fires", default="64:16x4,256:32x1", help="per size: FIRES_PER_TILE x TILES")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--weather", choices=("shared", "per-fire"), default="shared")
    p.add_argument("--json", type=Path, help="also write the results as JSON")
    args = p.parse_args(argv)

    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    counts = dict(item.split(":") for item in args.fires.split(","))
    runs: list[tuple[str, str, dict[str, Any]]] = []
    for name in names:
        registry.get(name)
        if name == "threaded":
            runs += [("threaded", "threaded x1", {"workers": 1}), ("threaded", "threaded", {})]
        elif name == "torch":
            runs.append(("torch", "torch cpu", {"device": "cpu"}))
            runs.append(("torch", "torch cpu x1", {"device": "cpu", "cpu_threads": 1}))
            if torch.cuda.is_available():
                runs.append(("torch", "torch cuda", {"device": "cuda"}))
        else:
            runs.append((name, name, {}))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"fuelrl simulator benchmark  {dt.datetime.now().isoformat(timespec='seconds')}")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
        f"{torch.__version__} ({torch.get_num_threads()} threads), load average {load:.2f}"
    )
    print(
        f"weather: 20 mph from 225 deg, moistures 3/4/5/30/60 %, 480-min fires, "
        f"{'one weather per fire' if args.weather == 'per-fire' else 'shared weather per tile'}"
    )
    report: dict[str, Any] = {"date": dt.date.today().isoformat(), "load_average": load, "sizes": {}}
    gil = gil_check(load_tiles(64, 1)[0][0])
    report["two_thread_speedup"] = gil
    print("GIL check, the same work on 2 threads vs 1 (2.0x = both cores used, 1.0x = GIL-bound):")
    for name, ratio in gil.items():
        print(f"  {name}: {ratio:.2f}x")
    for size in [int(s) for s in args.sizes.split(",")]:
        fires, ntiles = (int(v) for v in counts.get(str(size), "8x1").split("x"))
        land, source = load_tiles(size, ntiles)
        tiles = TileBatch.stack(land)
        breaks = torch.zeros(tiles.shape, dtype=torch.bool)
        scenarios = scenarios_for(land, fires, args.weather == "per-fire")
        phys = physics_seconds(tiles, breaks, scenarios)
        n = fires * ntiles
        print(f"\n{size}x{size} tiles from {source}: {ntiles} tile(s) x {fires} fires = {n} fires")
        print(f"  physics + edge times (numpy, once per weather group): {phys:.3f} s")
        print(
            f"  {'backend':<14}{'s/fire':>10}{'cpu s/fire':>12}{'fires/s':>10}{'cell-upd/s':>12}"
            f"{'burned ha':>11}"
            "  max |dt| vs numpy"
        )
        rows: dict[str, dict[str, Any]] = {}
        for name, label, kw in runs:
            r = time_backend(name, kw, tiles, breaks, scenarios, args.repeats)
            rows[label] = r
            ref = rows.get("numpy")
            diff = ""
            if ref is not None and label != "numpy":
                a, b = r["arrival"].numpy(), ref["arrival"].numpy()
                both = np.isfinite(a) & np.isfinite(b)
                diff = f"{np.abs(a[both] - b[both]).max() if both.any() else 0.0:.2e} min"
            print(
                f"  {label:<14}{r['s_per_fire'] * 1e3:>8.2f}ms{r['cpu_s_per_fire'] * 1e3:>10.2f}ms"
                f"{r['fires_per_s']:>10.1f}"
                f"{r['cell_updates_per_s']:>12.3g}{r['burned_ha_mean']:>11.1f}  {diff}"
            )
        cpu = {k: v for k, v in rows.items() if "cuda" not in k}
        ratios: dict[str, float] = {}
        if "numpy" in rows and "threaded" in rows:
            ratios["threaded_speedup_over_numpy"] = rows["numpy"]["seconds"] / rows["threaded"]["seconds"]
        if "threaded x1" in rows and "threaded" in rows:
            ratios["threaded_speedup_over_1_worker"] = (
                rows["threaded x1"]["seconds"] / rows["threaded"]["seconds"]
            )
        if "numpy" in rows and "torch cpu" in rows:
            ratios["torch_cpu_speedup_over_numpy"] = rows["numpy"]["seconds"] / rows["torch cpu"]["seconds"]
        if "numpy" in rows and "torch cuda" in rows:
            ratios["torch_cuda_speedup_over_numpy"] = rows["numpy"]["seconds"] / rows["torch cuda"]["seconds"]
        if cpu:
            best = min(cpu, key=lambda k: cpu[k]["s_per_fire"])
            ratios["fastest_cpu_backend"] = best  # type: ignore[assignment]
            if size == 64:
                ratios["fastest_cpu_vs_pyretechnics"] = PYRETECHNICS_S_PER_FIRE_64 / cpu[best]["s_per_fire"]
        for k, v in ratios.items():
            print(f"  {k}: {v if isinstance(v, str) else f'{v:.2f}x'}")
        report["sizes"][size] = {
            "source": source,
            "fires": n,
            "physics_seconds": phys,
            "backends": {k: {kk: vv for kk, vv in v.items() if kk != "arrival"} for k, v in rows.items()},
            "ratios": ratios,
        }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
