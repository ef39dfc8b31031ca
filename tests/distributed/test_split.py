"""fuelrl.distributed in one process: the fire split and the exact recombination of score maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fuelrl import distributed, registry
from fuelrl.baselines import DPVPlanner, PlanningProblem
from fuelrl.baselines.heuristics import combine_dpv_blocks, dpv_blocks
from fuelrl.errors import InputError
from fuelrl.landscape import generate_landscape
from fuelrl.simulators.base import SimulationOptions, TileBatch
from fuelrl.simulators.scenarios import ScenarioSampler, WeatherDistribution


@pytest.mark.parametrize("n", [0, 1, 2, 5, 7, 64])
@pytest.mark.parametrize("world", [1, 2, 3, 8])
def test_fire_ranges_are_contiguous_blocks_that_cover_the_set(n, world):
    ranges = [distributed.fire_range(n, rank_=r, world=world) for r in range(world)]
    assert ranges[0][0] == 0 and ranges[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    sizes = [b - a for a, b in ranges]
    assert max(sizes) - min(sizes) <= 1
    if n:
        assert ranges[0][1] > 0  # rank 0 holds fire 0 (the arrival-time raster of a one-fire run)


def test_layout_from_torchrun_or_slurm_and_none_for_one_process():
    assert distributed._env_layout({}) is None
    assert distributed._env_layout({"RANK": "0", "WORLD_SIZE": "1"}) is None
    assert distributed._env_layout({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == (3, 4, 1)
    slurm = {"SLURM_PROCID": "5", "SLURM_STEP_NUM_TASKS": "8", "SLURM_LOCALID": "1", "MASTER_ADDR": "n1"}
    assert distributed._env_layout(slurm) == (5, 8, 1)
    # the batch script itself (no srun step) is one process, whatever the job's task count
    assert distributed._env_layout({"SLURM_PROCID": "0", "SLURM_NTASKS": "64"}) is None
    # an srun step of several tasks that cannot find each other would run N copies: refused
    with pytest.raises(InputError, match="MASTER_ADDR"):
        distributed._env_layout({k: v for k, v in slurm.items() if k != "MASTER_ADDR"})


def test_one_process_helpers_are_no_ops():
    assert not distributed.active() and distributed.world_size() == 1 and distributed.is_main()
    assert not distributed.init()  # no launcher variables in the test environment
    x = np.arange(6, dtype=np.int64).reshape(2, 3)
    np.testing.assert_array_equal(distributed.sum_counts(x), x)
    np.testing.assert_array_equal(distributed.gather_fires(np.ones(3)), np.ones(3))
    assert distributed.local_device("cuda") == "cuda"
    obj = {"a": 1}
    assert distributed.from_rank0(obj) is obj


def test_a_process_group_made_by_someone_else_splits_nothing(monkeypatch):
    """Lightning's DDP group (fuelrl fit: every rank its own landscapes) must not split planners."""

    class Group:
        @staticmethod
        def is_initialized():
            return True

        @staticmethod
        def get_world_size():
            return 2

        @staticmethod
        def get_rank():
            return 1

    monkeypatch.setattr(distributed, "_dist", lambda: Group)
    assert not distributed.active() and distributed.fire_range(10) == (0, 10)
    monkeypatch.setitem(distributed._SPLIT, "on", True)  # what init() does on an existing group
    assert distributed.active() and distributed.fire_range(10) == (5, 10)


def _problem(weather: WeatherDistribution, fires: int = 9) -> PlanningProblem:
    land = generate_landscape(seed=3, shape=(28, 30))
    backend = registry.create("numpy", options=SimulationOptions())
    scen = ScenarioSampler(weather, fires=fires, seed=2).sample(land.burnable)
    return PlanningProblem(
        land, TileBatch.stack([land]), backend, scen, budget_cells=8, recompute_every=4, seed=0
    )


@pytest.mark.parametrize(
    "weather",
    [
        WeatherDistribution(wind_speed_20ft_mph=15.0, wind_from_deg=225.0, duration_min=120.0),
        WeatherDistribution(
            wind_speed_20ft_mph=(5.0, 25.0), duration_min=(60.0, 150.0)
        ),  # one group per fire
    ],
    ids=["one-weather", "varied-weather"],
)
@pytest.mark.parametrize("splits", [(0, 9), (0, 4, 9), (0, 1, 5, 6, 9)])
@pytest.mark.parametrize("shared_fields", [True, False], ids=["prepared-fields", "window-physics"])
def test_dpv_of_fire_blocks_is_the_whole_set_dpv_to_the_last_bit(weather, splits, shared_fields):
    """What N ranks compute (each its block of fires, recombined) equals one process's DPV map."""
    problem = _problem(weather)
    rng = np.random.default_rng(0)
    breaks = problem.legal & (rng.random(problem.shape) < 0.03)
    whole = DPVPlanner().scores(problem, breaks, int(breaks.sum()))
    blocks = []
    for start, stop in zip(splits, splits[1:], strict=False):
        part = distributed.fire_slice(problem.scenarios, start, stop)
        result = problem.backend.simulate(problem.tiles, torch.as_tensor(breaks[None]), part)
        spread = problem.spread_fields() if shared_fields else None
        blocks += dpv_blocks(problem, breaks, result.arrival_min[0], start, spread=spread)
    combined = combine_dpv_blocks(blocks, problem.scenarios, problem.shape)
    assert whole.dtype == combined.dtype == np.float64 and whole.any()
    assert whole.tobytes() == combined.tobytes()


def test_burn_counts_are_the_integer_burn_counts_of_the_planning_fires():
    problem = _problem(WeatherDistribution(wind_speed_20ft_mph=15.0, wind_from_deg=225.0, duration_min=120.0))
    none = np.zeros(problem.shape, bool)
    counts = problem.burn_counts(none)
    assert counts.dtype == np.int64
    expected = problem.simulate(none).burned[0].sum(dim=0).numpy()
    np.testing.assert_array_equal(counts, expected)
