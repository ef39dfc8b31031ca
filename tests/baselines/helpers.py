"""Small hand-made landscapes and planning problems for the baseline tests."""

from __future__ import annotations

import numpy as np
import torch
from affine import Affine
from rasterio.crs import CRS

from fuelrl import registry
from fuelrl.baselines import PlanningProblem
from fuelrl.landscape import Landscape, generate_landscape
from fuelrl.simulators.base import SimulationOptions, TileBatch
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution, make_scenarios

GRASS = 102  # GR2
NB = 91  # NB1


def flat_landscape(fuel: np.ndarray, cell_size_m: float = 30.0, source: str = "hand-made") -> Landscape:
    """A flat landscape with the given fuel codes and no canopy, on an EPSG:5070 grid."""
    fuel = np.asarray(fuel, dtype=np.int16)
    z = np.zeros(fuel.shape, np.float32)
    return Landscape(
        elevation_m=z.copy(),
        slope_fraction=z.copy(),
        aspect_deg=z.copy(),
        fuel_model=fuel,
        canopy_cover_fraction=z.copy(),
        canopy_height_m=z.copy(),
        canopy_base_height_m=z.copy(),
        canopy_bulk_density_kg_m3=z.copy(),
        valid=np.ones(fuel.shape, bool),
        crs=CRS.from_epsg(5070),
        transform=Affine(cell_size_m, 0, -1_000_000.0, 0, -cell_size_m, 2_000_000.0),
        cell_size_m=cell_size_m,
        source=source,
    )


def corridor(h: int = 11, w: int = 25, wall_col: int = 8, gap_row: int = 5) -> Landscape:
    """Grass in two rooms split by a non-burnable wall (column ``wall_col``) with a one-cell gap."""
    fuel = np.full((h, w), GRASS, np.int16)
    fuel[:, wall_col] = NB
    fuel[gap_row, wall_col] = GRASS
    return flat_landscape(fuel, source="corridor")


def one_fire(
    landscape: Landscape,
    row: int,
    col: int,
    *,
    wind_mph: float = 10.0,
    wind_from: float = 270.0,
    duration_min: float = 600.0,
):
    _, w = landscape.shape
    return make_scenarios(
        [row * w + col],
        wind_speed_20ft_mph=wind_mph,
        wind_from_deg=wind_from,
        moisture_pct=(6, 7, 8, 60, 90),
        duration_min=duration_min,
    )


def small_problem(
    *,
    seed: int = 0,
    size: int = 32,
    fires: int = 8,
    budget: int = 20,
    recompute_every: int = 5,
    backend="numpy",
) -> PlanningProblem:
    landscape = generate_landscape(seed=seed, shape=(size, size))
    be = registry.create(backend, options=SimulationOptions())
    tiles = TileBatch.stack([landscape])
    weather = WeatherDistribution(wind_speed_20ft_mph=15.0, wind_from_deg=225.0, duration_min=120.0)
    scen = ScenarioSampler(weather, fires=fires, seed=seed).sample(landscape.burnable)
    return PlanningProblem(
        landscape, tiles, be, scen, budget_cells=budget, recompute_every=recompute_every, seed=seed
    )


def no_breaks(landscape: Landscape) -> torch.Tensor:
    return torch.zeros((1, *landscape.shape), dtype=torch.bool)


def score_at_5pct(landscape, planners, backend, weather, fires: int, planning_fires: int | None = None, **kw):
    """``plan_and_score`` of ``planners`` at a 5 % budget, seed 0: ``fires`` scoring fires and
    ``planning_fires`` (default: as many) planning fires; ``kw`` further options."""
    from fuelrl.baselines.evaluation import plan_and_score

    return plan_and_score(
        landscape,
        planners,
        backend,
        weather,
        budget=0.05,
        scoring_fires=fires,
        planning_fires=fires if planning_fires is None else planning_fires,
        seed=0,
        **kw,
    )


def save_checkpoint(tmp_path, stem: str, names, net, seed: int = 0):
    """An untrained agent reading ``names`` with ``net``, saved the way Lightning saves one."""
    import lightning

    from fuelrl.agents import DQNAgent

    torch.manual_seed(seed)
    agent = DQNAgent(in_channels=len(names), observation_channels=list(names), net=net)
    path = tmp_path / f"{stem}.ckpt"
    state = {"state_dict": agent.state_dict(), "hyper_parameters": dict(agent.hparams),
             "pytorch-lightning_version": lightning.__version__}
    torch.save(state, path)
    return path
