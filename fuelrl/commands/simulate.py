"""Grow fires on a landscape: arrival time, burn probability and burned area.

Examples::

    fuelrl simulate ../shared/data/landscapes/worcester_vt --ignition 1841940 2608590 \\
        --wind-speed 20 --wind-from 225 --duration 480 --out runs/one_fire
    fuelrl simulate ../shared/data/landscapes/worcester_vt --fires 200 --seed 1 --backend numpy \\
        --out runs/bp
    fuelrl simulate ../shared/data/landscapes/flammap_testmtt_19545/19545.tif --fires 50 \\
        --breaks runs/plan/breaks.tif --out runs/bp2      # the plan of `fuelrl plan --help`'s example
    fuelrl simulate synthetic:seed=7,size=96 --fires 50 --fires-per-chunk 10 --out runs/synthetic

Units are FlamMap's: 20-ft wind in mph, the azimuth it blows from in degrees, moistures and foliar
moisture in percent, duration in minutes; ignitions in the landscape's CRS. Outputs (all GeoTIFFs on
the input's exact grid): arrival_time.tif and arrival_time.png (one fire only),
burn_probability.tif, summary.json and burn_probability.png. Fires run in chunks of
--fires-per-chunk (default: what fits in about 1 GB), so memory does not grow with --fires; the
burn counts are summed over the chunks. See
docs/simulation.md. Launched as several processes (``torchrun --nproc_per_node N -m fuelrl.cli
simulate ...`` or ``srun``), each grows its block of the fires and rank 0 writes the same outputs
one process would (docs/scaling.md).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fuelrl import distributed
from fuelrl.commands import _options as opt
from fuelrl.commands import _plan_inputs as pi
from fuelrl.commands import _weather
from fuelrl.commands._sim_args import add_simulator_arguments, make_backend
from fuelrl.errors import InputError

#: bytes of backend memory per cell and fire (arrival times, spread rates, work arrays; measured
#: 14 on the Worcester clip with the threaded backend), used to size chunks
BYTES_PER_CELL_FIRE = 32
#: memory the fires of one chunk may take
CHUNK_BUDGET_BYTES = 1 << 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n", 2)[2]
    parser.add_argument(
        "landscape", help="8-band GeoTIFF, FlamMap .lcp, folder of LANDFIRE layers, or synthetic:…"
    )
    where = parser.add_argument_group("ignitions (one of)")
    where.add_argument(
        "--ignition",
        nargs=2,
        type=float,
        action="append",
        metavar=("X", "Y"),
        help="ignition point in the landscape's CRS; repeat for several fires (one fire each)",
    )
    where.add_argument(
        "--fires", type=int, help=f"draw N random ignitions on burnable cells instead (1..{opt.MAX_FIRES:,})"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random ignitions (default 0)")
    pi.add_ignition_argument(parser)
    pi.add_values_argument(parser)
    parser.add_argument(
        "--breaks", type=Path, help="GeoTIFF on the landscape's grid; non-zero cells are fuel breaks"
    )
    _weather.add_weather_arguments(parser, ranges=False)  # --wind-speed/--wind-from or --wind-grid, ...
    add_simulator_arguments(parser, "device for the backend, e.g. cpu or cuda (default: the backend's)")
    parser.add_argument(
        "--fires-per-chunk",
        type=int,
        metavar="N",
        help="fires simulated at once (default: as many as fit in about 1 GB); results do not depend on it",
    )
    opt.add_landscape_options(parser)
    opt.add_out_options(parser)


def fires_per_chunk(shape: tuple[int, int], fires: int, requested: int | None = None) -> int:
    """Fires per backend call: ``requested``, else as many as :data:`CHUNK_BUDGET_BYTES` holds."""
    if requested is not None:
        return max(1, min(int(requested), fires))
    per_fire = max(1, shape[0] * shape[1] * BYTES_PER_CELL_FIRE)
    return max(1, min(fires, CHUNK_BUDGET_BYTES // per_fire))


def simulate_chunked(
    backend,
    tiles,
    breaks_t,
    ign: np.ndarray,
    weather: dict[str, Any],
    chunk: int,
    flames: Any = None,
    values: Any = None,
    value_burned: np.ndarray | None = None,
):
    """Run the fires ``ign`` [F] in chunks; returns (burn counts [H, W] int64, burned ha [F],
    arrival minutes [H, W] of the first fire). Memory is that of one chunk, whatever F is.
    ``flames`` (a :class:`~fuelrl.simulators.companions.FlameStats`) counts each chunk's flame lengths;
    with ``values`` ([H, W] tensor on the backend's device), ``value_burned`` [F] is filled with the
    value each fire burns."""
    from fuelrl.progress import Progress
    from fuelrl.simulators.scenarios import make_scenarios

    n = len(ign)
    counts = None
    burned = np.empty(n, dtype=np.float64)
    first_arrival = None
    bar = Progress(n, "fires", "fire", enabled=None if distributed.is_main() else False, leave=False)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        scenarios = make_scenarios(ign[None, start:stop], device=backend.device, **weather)
        result = backend.simulate(tiles, breaks_t, scenarios)
        arrival = result.arrival_min[0]  # [f, H, W]
        chunk_counts = torch.isfinite(arrival).sum(dim=0, dtype=torch.int64).cpu().numpy()
        counts = chunk_counts if counts is None else counts + chunk_counts
        burned[start:stop] = result.burned_ha[0].detach().cpu().double().numpy()
        if values is not None:
            value = (result.burned[0].to(torch.float64) * values).sum(dim=(-2, -1))
            value_burned[start:stop] = value.detach().cpu().numpy()
        if flames is not None:
            flames.add(arrival, scenarios)
        if first_arrival is None:
            first_arrival = arrival[0].detach().cpu().numpy().copy()
        del result, arrival, scenarios
        bar.update(stop - start)
    bar.close()
    return counts, burned, first_arrival


def read_breaks(path: Path, landscape: Any) -> np.ndarray:
    """bool [H, W] break mask from a GeoTIFF that must be on the landscape's exact grid."""
    import rasterio

    if not path.exists():
        raise InputError(f"--breaks: file not found: {path}")
    try:
        with rasterio.open(path) as ds:
            data = ds.read(1, masked=True)
            crs, transform, shape = ds.crs, ds.transform, (ds.height, ds.width)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"--breaks: cannot read {path} as a raster: {exc}") from exc
    if shape != landscape.shape:
        raise InputError(f"--breaks: {path} is {shape[0]}x{shape[1]} cells, the landscape {landscape.shape}")
    if landscape.crs is not None and crs is not None and crs != landscape.crs:
        raise InputError(f"--breaks: {path} is in {crs}, the landscape in {landscape.crs}")
    if not transform.almost_equals(landscape.transform, precision=1e-6 * landscape.cell_size_m):
        raise InputError(
            f"--breaks: {path} is not on the landscape's grid (transform {tuple(transform)[:6]})"
        )
    return np.asarray(data.filled(0) != 0)


def _ignitions(args: argparse.Namespace, landscape: Any) -> tuple[np.ndarray, list[dict[str, Any]]]:
    from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution

    h, w = landscape.shape
    if args.ignition and args.fires is not None:
        raise InputError("give either --ignition X Y (repeatable) or --fires N, not both")
    if args.ignition:
        cells = []
        for x, y in args.ignition:
            row, col = landscape.xy_to_rowcol(x, y)
            if not landscape.valid[row, col]:
                raise InputError(f"--ignition {x} {y}: cell (row {row}, col {col}) is nodata")
            cells.append(row * w + col)
        ign = np.asarray(cells, dtype=np.int64)
    elif args.fires is not None:
        sampler = ScenarioSampler(WeatherDistribution(), fires=args.fires, seed=args.seed)
        weight = pi.ignition_density(args, landscape)
        ign = sampler.sample(landscape.burnable, ignition_weight=weight).ignition_cell.numpy()[0]
    else:
        raise InputError("say where fires start: --ignition X Y (repeatable) or --fires N [--seed S]")
    described = []
    for cell in ign.tolist():
        row, col = divmod(int(cell), w)
        x, y = landscape.rowcol_to_xy(row, col)
        described.append(
            {"row": row, "col": col, "x": x, "y": y, "burnable": bool(landscape.burnable[row, col])}
        )
    return ign, described


def _grow(
    backend,
    tiles,
    breaks: np.ndarray,
    ign: np.ndarray,
    weather: dict[str, Any],
    chunk: int,
    flames=None,
    value_burned: dict[str, Any] | None = None,
):
    """(burn counts, burned ha per fire, first fire's arrival, seconds) of all the fires: this
    process grows its block (:func:`fuelrl.distributed.fire_range`), the results are combined.
    ``value_burned``: ``{"values": [H, W] array}``, given ``"per_fire"``, the value each fire burns."""
    h, w = breaks.shape
    breaks_t = torch.as_tensor(breaks[None], device=backend.device)
    if backend.device.type == "cuda":
        torch.cuda.synchronize(backend.device)
    start = time.perf_counter()
    lo, hi = distributed.fire_range(len(ign))  # this process's block of the fires (all of them in one)
    extra: dict[str, Any] = {}
    if value_burned is not None:
        v = torch.as_tensor(np.asarray(value_burned["values"], np.float64), device=backend.device)
        extra = {"values": v, "value_burned": np.zeros(hi - lo, np.float64)}
    counts, burned_ha, first_arrival = simulate_chunked(
        backend, tiles, breaks_t, ign[lo:hi], weather, chunk, flames, **extra
    )
    if value_burned is not None:
        value_burned["per_fire"] = distributed.gather_fires(extra["value_burned"])
    if flames is not None:  # conditional flame length and flame-length probabilities of all fires
        flames.combined(distributed.all_gather(flames.state()))
    if backend.device.type == "cuda":
        torch.cuda.synchronize(backend.device)
    counts = distributed.sum_counts(np.zeros((h, w), np.int64) if counts is None else counts)
    burned_ha = distributed.gather_fires(burned_ha)
    return counts, burned_ha, first_arrival, time.perf_counter() - start


def run(args: argparse.Namespace) -> int:
    from fuelrl.landscape import open_landscape
    from fuelrl.reports.simulate import simulation_message, simulation_summary, write_simulation
    from fuelrl.simulators.base import TileBatch

    flags = _weather.parse_weather(args, ranges=False)  # scalar weather or raster paths, checked
    landscape = open_landscape(args.landscape, **opt.landscape_kwargs(args))
    h, w = landscape.shape
    breaks = read_breaks(args.breaks, landscape) if args.breaks else np.zeros((h, w), bool)
    ign, ignitions = _ignitions(args, landscape)
    grids = flags.read_grids(landscape)  # gridded weather on the landscape's grid, or None
    backend = make_backend(args, gridded_weather=grids is not None)  # unknown name or device: InputError
    tiles = TileBatch.stack([landscape], device=backend.device, weather=[grids])
    weather = flags.scenario_weather(grids)  # with a wind grid: its reference wind (docs/simulation.md)
    n = len(ign)
    chunk = fires_per_chunk((h, w), n, args.fires_per_chunk)
    from fuelrl.simulators.companions import FlameStats

    breaks_t = torch.as_tensor(breaks[None], device=backend.device)
    flames = FlameStats(tiles, breaks_t, backend.options)
    values = pi.values(args, landscape)
    value_burned = {"values": values} if values is not None else None
    counts, burned_ha, first_arrival, sim_seconds = _grow(
        backend, tiles, breaks, ign, weather, chunk, flames, value_burned
    )
    sim_seconds -= flames.seconds  # fire growth only; the flame statistics are reported apart
    if not distributed.is_main():
        return 0  # rank 0 writes

    prob = (counts / n).astype(np.float32)
    summary = simulation_summary(
        burned_ha=burned_ha,
        backend=backend,
        sim_seconds=sim_seconds,
        chunk=chunk,
        processes=distributed.world_size(),
        weather=weather,
        ignitions=ignitions,
        ignition_source="points" if args.ignition else f"random, seed {args.seed}",
        breaks=breaks,
        breaks_file=str(args.breaks) if args.breaks else None,
        landscape=landscape,
        extra={"flame_length": flames.describe()},
    )
    from fuelrl.reports.rasters import Raster

    extra = [Raster(**spec) for spec in flames.raster_specs(n)]
    if grids is not None:
        summary["weather"]["grids"] = flags.describe(grids)
    if value_burned is not None:  # --values: the value each fire burned, in the raster's units
        v = value_burned["per_fire"]
        summary.update(values=str(args.values), value_burned_mean=float(v.mean()), value_burned=v.tolist())
    write_simulation(args.out, landscape, summary, prob, first_arrival, breaks, extra_rasters=extra)
    print(simulation_message(summary, (h, w), args.out))
    return 0
