"""The MTT graph and its solvers on explicit spread fields, where the answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fuelrl.simulators import mtt, solvers


def ellipse_ros_at_azimuth(ros_head_m_min, eccentricity, direction_max_deg, azimuth_deg):
    """Spread rate (m/min) toward ``azimuth_deg`` of an elliptical fire ignited at the rear focus:
    R(theta) = R_head (1 - e) / (1 - e cos(theta - theta_max)), the polar equation of an ellipse
    about its focus (Finney 1998, FARSITE, RMRS-RP-4, eq. 39 form): the explicit fields here."""
    theta = np.deg2rad(azimuth_deg - direction_max_deg)
    return ros_head_m_min * (1.0 - eccentricity) / (1.0 - eccentricity * np.cos(theta))


def _fields(h, w, ros_head, ecc, direction_deg):
    az = np.asarray(mtt.AZIMUTHS_DEG).reshape(-1, 1, 1)
    ros = ellipse_ros_at_azimuth(np.full((h, w), float(ros_head)), ecc, direction_deg, az)
    return 1.0 / ros


def _dijkstra(inv, cell, src_cell, limit=1e9):
    h, w = inv.shape[-2:]
    graph = solvers.corner_graph(h, w).matrix(mtt.edge_times(inv, cell))
    return solvers.solve_dijkstra(graph, mtt.ignition_corners(src_cell, w), limit, (h, w))


def test_azimuths_follow_map_convention():
    az = dict(zip(mtt.OFFSETS, mtt.AZIMUTHS_DEG, strict=True))
    assert az[(-1, 0)] == pytest.approx(0.0)  # row up = north
    assert az[(0, 1)] == pytest.approx(90.0)  # col right = east
    assert az[(1, 0)] == pytest.approx(180.0)
    assert az[(0, -1)] == pytest.approx(270.0)
    assert az[(-1, 2)] == pytest.approx(math.degrees(math.atan2(2, 1)))
    assert len(set(np.round(mtt.AZIMUTHS_DEG, 6))) == 16


def test_edge_times_integrate_through_crossed_cells():
    h = w = 5
    inv = np.ones((16, h, w))
    inv[:, 2, 3] = 3.0  # a slow cell
    t = mtt.edge_times(inv, 30.0)
    k = mtt.OFFSETS.index((1, 2))  # from corner (2, 2) to (3, 4): crosses cells (2, 2) and (2, 3)
    assert t[k, 2, 2] == pytest.approx(30.0 * math.sqrt(5) / 2 * (1.0 + 3.0))
    k = mtt.OFFSETS.index((1, 1))  # corner (2, 3) -> (3, 4) crosses cell (2, 3) only
    assert t[k, 2, 3] == pytest.approx(30.0 * math.sqrt(2) * 3.0)
    k = mtt.OFFSETS.index((0, 1))  # along the line between cells (1, 3) and (2, 3): the faster one
    assert t[k, 2, 3] == pytest.approx(30.0)
    k = mtt.OFFSETS.index((0, 1))
    assert np.isinf(t[k, :, w]).all()  # leaves the grid
    k = mtt.OFFSETS.index((-2, 1))
    assert np.isinf(t[k, :2, :]).all()


def test_uniform_isotropic_fire_arrives_at_distance_over_ros():
    h = w = 41
    cell = 30.0
    inv = _fields(h, w, 2.0, 0.0, 0.0)
    corners = _dijkstra(inv, cell, 20 * w + 20)
    rr, cc = np.mgrid[0 : h + 1, 0 : w + 1]
    # distance to the nearest of the ignition cell's corners
    dist = np.min([np.hypot(rr - r0, cc - c0) for r0 in (20, 21) for c0 in (20, 21)], axis=0) * cell
    exact = dist / 2.0
    far = dist > 5 * cell
    rel = (corners[far] - exact[far]) / exact[far]
    # 16-neighbour paths are never shorter than the straight line, and at most ~2.7% longer
    assert rel.min() > -1e-9
    assert rel.max() < 0.03


@pytest.mark.parametrize("direction_deg", [0.0, 60.0, 225.0])
def test_uniform_elliptical_fire_matches_ros_toward_each_cell(direction_deg):
    h = w = 61
    cell = 30.0
    ecc = 0.8
    inv = _fields(h, w, 10.0, ecc, direction_deg)
    src = 30 * w + 30
    corners = _dijkstra(inv, cell, src)
    arrival = mtt.cell_arrival(corners, np.ones((h, w), bool), np.inf)
    rr, cc = np.mgrid[0:h, 0:w]
    dy, dx = (rr - 30) * cell, (cc - 30) * cell
    dist = np.hypot(dx, dy)
    azimuth = np.degrees(np.arctan2(dx, -dy))
    exact = dist / ellipse_ros_at_azimuth(10.0, ecc, direction_deg, azimuth)
    far = dist > 8 * cell
    rel = np.abs(arrival[far] - exact[far]) / exact[far]
    assert np.median(rel) < 0.05
    assert rel.max() < 0.15
    # head fire is the fastest direction, backing the slowest
    head = np.abs(((azimuth - direction_deg + 180) % 360) - 180) < 5
    back = np.abs(((azimuth - direction_deg) % 360) - 180) < 5
    ring = far & (dist < 25 * cell)
    assert np.mean(dist[ring & head] / arrival[ring & head]) > 5 * np.mean(
        dist[ring & back] / arrival[ring & back]
    )


def test_nonburnable_wall_blocks_and_a_gap_lets_fire_through():
    h = w = 21
    inv = _fields(h, w, 5.0, 0.0, 0.0)
    wall = inv.copy()
    wall[:, :, 10] = np.inf
    corners = _dijkstra(wall, 30.0, 10 * w + 3)
    arrival = mtt.cell_arrival(corners, np.isfinite(wall[0]), np.inf)
    assert np.isfinite(arrival[:, :10]).all()
    assert np.isinf(arrival[:, 10:]).all()
    gap = wall.copy()
    gap[:, 0, 10] = 1 / 5.0
    arrival = mtt.cell_arrival(_dijkstra(gap, 30.0, 10 * w + 3), np.isfinite(gap[0]), np.inf)
    assert np.isfinite(arrival[:, 11:]).all()
    # the fire goes round through the gap: later than the same distance on the ignition side
    assert arrival[10, 17] > arrival[10, 3 - 0] + 14 * 30.0 / 5.0


def test_duration_and_horizon():
    h = w = 31
    inv = _fields(h, w, 1.0, 0.0, 0.0)
    corners = _dijkstra(inv, 30.0, 15 * w + 15)
    full = mtt.cell_arrival(corners, np.ones((h, w), bool), np.inf)
    cut = mtt.cell_arrival(corners, np.ones((h, w), bool), 200.0)
    assert np.array_equal(np.isfinite(cut), full <= 200.0)
    limited = _dijkstra(inv, 30.0, 15 * w + 15, limit=mtt.corner_limit_min(200.0))
    assert np.array_equal(mtt.cell_arrival(limited, np.ones((h, w), bool), 200.0), cut)


@pytest.mark.parametrize("use_torch", [False, True])
def test_relaxation_equals_dijkstra(use_torch):
    rng = np.random.default_rng(3)
    h, w = 37, 29
    inv = _fields(h, w, 4.0, 0.7, 130.0) * rng.uniform(0.3, 3.0, size=(1, h, w))
    inv[:, rng.random((h, w)) < 0.15] = np.inf
    sources = [5 * w + 5, 20 * w + 14, 30 * w + 25]
    times = mtt.edge_times(inv, 30.0)
    pulled = solvers.pull_weights(times[None])
    start = np.full((len(sources), h + 1, w + 1), np.inf)
    for i, s in enumerate(sources):
        start[i].reshape(-1)[list(mtt.ignition_corners(s, w))] = 0.0
    limit = np.array([300.0, 1e9, 800.0])
    if use_torch:
        got, _ = solvers.relax_min_plus(
            torch.from_numpy(pulled), torch.from_numpy(start), torch.from_numpy(limit)
        )
        got = got.numpy()
    else:
        got, _ = solvers.relax_min_plus(pulled, start, limit)
    for i, s in enumerate(sources):
        ref = _dijkstra(inv, 30.0, s, limit=limit[i])
        assert np.array_equal(np.isfinite(got[i]), np.isfinite(ref))
        fin = np.isfinite(ref)
        np.testing.assert_allclose(got[i][fin], ref[fin], rtol=1e-9, atol=1e-9)
