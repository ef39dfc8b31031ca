"""How well does a score map predict where fires it has not seen flow? (docs/pretrained.md)

At the first state of a plan (no breaks) on the Worcester training window (rows 0-199, cols
150-349; 30 mph from 300 deg, moistures 3/4/10/53/131 %, 400 min), prints for the DPV of 100
planning fires and for each checkpoint's Q map the share of the DPV of 400 held-out fires that the
map's top cells of one interval (5 % budget / 20) hold, against the best possible share; then the
same within 40 x 40 windows, each normalised by its own maximum as a FireEnv training tile is.

    python scripts/dpv_capture.py pretrained runs/pretrained/checkpoints/last.ckpt
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from fuelrl import registry
from fuelrl.baselines.agent import AgentPlanner
from fuelrl.baselines.agent_checkpoint import pretrained_checkpoint_path
from fuelrl.baselines.scoring import fire_sets
from fuelrl.envs.observation import weather_planes
from fuelrl.landscape.readers import open_landscape
from fuelrl.simulators.base import TileBatch
from fuelrl.simulators.scenarios import WeatherDistribution
from fuelrl.simulators.trees import dpv

LANDSCAPE = "../shared/data/landscapes/worcester_vt#rows=0:200,cols=150:350"
WEATHER = WeatherDistribution(
    wind_speed_20ft_mph=30.0, wind_from_deg=300.0, moisture_pct=(3, 4, 10, 53, 131), duration_min=400.0
)


def capture(score: np.ndarray, held: np.ndarray, legal: np.ndarray, k: int) -> float:
    """Held-out DPV in the k legal cells of highest ``score``, over the most k legal cells hold."""
    s = np.where(legal, score, -np.inf).reshape(-1)
    top = np.argsort(-s, kind="stable")[:k]
    best = np.sort(np.where(legal, held, -np.inf).reshape(-1))[::-1][:k].sum()
    return float(held.reshape(-1)[top].sum() / best) if best > 0 else float("nan")


def main(checkpoints: list[str]) -> None:
    land = open_landscape(LANDSCAPE)
    backend = registry.create("threaded")
    tiles = TileBatch.stack([land], device=backend.device)
    burnable, valid = np.asarray(land.burnable), np.asarray(land.valid)
    planning, held_out, _ = fire_sets(burnable, WEATHER, planning_fires=100, scoring_fires=400, seed=0)
    none = torch.zeros((1, *land.shape), dtype=torch.bool)

    def grown(fires):
        prepared = backend.prepare(tiles, fires)
        result = backend.simulate_prepared(prepared, none)
        return dpv(prepared, none, result.arrival_min)[0].numpy(), result.burn_probability()[0].numpy()

    dpv_plan, bp = grown(planning)
    dpv_held, _ = grown(held_out)
    legal = burnable.copy()
    legal.reshape(-1)[planning.ignition_cell.numpy().reshape(-1)] = False
    k = round(burnable.sum() * 0.05 / 20)
    weather = weather_planes(planning, (1, 1))[0, :, 0, 0]
    t = 40
    boxes = [(r, c) for r in range(0, land.shape[0] - t + 1, t) for c in range(0, land.shape[1] - t + 1, t)
             if dpv_plan[r : r + t, c : c + t].max() > 0 and dpv_held[r : r + t, c : c + t].max() > 0]

    def windows(window_map) -> float:
        return float(np.mean([
            capture(window_map(r, c), dpv_held[r : r + t, c : c + t], legal[r : r + t, c : c + t], 4)
            for r, c in boxes
        ]))

    print(f"top {k} cells (one interval); {len(boxes)} windows of {t} x {t} cells (top 4 each)")
    print(f"{'dpv of the planning fires':40s} {capture(dpv_plan, dpv_held, legal, k):.3f}  windows "
          f"{windows(lambda r, c: dpv_plan[r : r + t, c : c + t]):.3f}")
    for ck in checkpoints:
        agent = AgentPlanner(pretrained_checkpoint_path() if ck == "pretrained" else ck, progress=False)
        norm = np.where(valid, dpv_plan / dpv_plan.max(), 0.0)
        q = agent.q_values(land, np.zeros(land.shape, bool), np.where(valid, bp, 0.0), 1.0, dpv=norm,
                           weather=weather)

        def window_q(r: int, c: int, agent: AgentPlanner = agent) -> np.ndarray:
            sub = np.zeros_like(dpv_plan)
            sub[r : r + t, c : c + t] = dpv_plan[r : r + t, c : c + t] / dpv_plan[r : r + t, c : c + t].max()
            x = agent.network_input(land, (r, r + t, c, c + t), np.zeros(land.shape, bool),
                                    np.where(valid, bp, 0.0), 1.0, dpv=sub, weather=weather)
            with torch.no_grad():
                return agent.qnet(x[:, :-1], x[:, -1, 0, 0].view(1, 1)).view(t, t).double().numpy()

        print(f"{agent.label:40s} {capture(q, dpv_held, legal, k):.3f}  windows {windows(window_q):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["pretrained"])
