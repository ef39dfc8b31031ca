"""Fire behaviour cell by cell on a whole landscape, and the intensity a cell burns with.

* :func:`landscape_behavior`: :func:`~fuelrl.physics.behavior.fire_behavior` on [H, W] layers with
  weather that is either one value or one value per cell (20-ft wind speed and direction [H, W],
  moistures [H, W, 5]), in blocks of rows so that memory stays bounded on large grids. The
  physics being cell by cell, a block holds the same numbers as the whole grid would, and a
  uniform weather grid gives exactly the numbers of the scalar weather (tested).
* :func:`crown_state`: FlamMap's crown-state codes (0 non-burnable / not spreading, 1 surface,
  2 passive, 3 active) -- the ``fire_type`` codes of :class:`FireBehavior`.
* :func:`behavior_at_rate`: fireline intensity and flame length of a cell's fire where its front
  advances at a given rate: Byram's intensity scaled by that rate (I = H R / 60 is linear in R;
  for a crown fire the burned canopy fuel is added at the cell's crown fraction burned, so again
  I ~ R) and the flame length of the cell's fire type (Byram 1959 for surface fires, Thomas 1963
  for crown fires). FlamMap MTT's fireline intensity map is built the same way (on TestMTT its
  ``FliMap`` is ``INTENSITY x ROS_mtt / SPREADRATE`` cell for cell).
  :func:`behavior_toward` does it at the ellipse's rate toward an azimuth.

numpy and torch alike (the :mod:`fuelrl.physics._xp` namespace of the inputs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fuelrl.physics import crown, surface, units
from fuelrl.physics._xp import namespace
from fuelrl.physics.behavior import LAYER_ARGS, FireBehavior, fire_behavior
from fuelrl.physics.ellipse import ros_at_azimuth

#: cells per fire_behavior call of :func:`landscape_behavior` (larger arrays fall out of cache)
BLOCK_CELLS = 1 << 18


def _rows(x: Any, lo: int, hi: int, per_cell_ndim: int) -> Any:
    """Rows ``lo:hi`` of a per-cell array (``ndim >= per_cell_ndim``); a scalar or a value that
    broadcasts (fewer dimensions) is passed through."""
    if x is None or np.ndim(x) < per_cell_ndim:
        return x
    return x[lo:hi]


def landscape_behavior(
    layers: dict[str, Any],
    *,
    wind_speed_20ft_m_min: Any,
    wind_from_deg: Any,
    moisture_fraction: Any,
    foliar_moisture_fraction: Any,
    conventions: str = "behave",
    crown_fire: bool = True,
    block_cells: int = BLOCK_CELLS,
    keep: tuple[str, ...] | None = None,
    on_rows: Callable[[int], Any] | None = None,
) -> FireBehavior:
    """:func:`fire_behavior` of every cell of [H, W] ``layers`` (the seven of :data:`LAYER_ARGS`,
    SI units) with per-cell or scalar weather: ``wind_speed_20ft_m_min`` and ``wind_from_deg``
    scalars or [H, W]; ``moisture_fraction`` [5] or [H, W, 5]; ``foliar_moisture_fraction`` a
    scalar or [H, W]. Returns a :class:`FireBehavior` of [H, W] arrays (numpy in, numpy out);
    with ``keep`` (field names) only those fields are kept (the others are ``None``), which bounds
    the memory of a large grid to what the caller needs; ``on_rows(n)`` is called after each
    block with its number of rows (a progress bar)."""
    h, w = np.shape(layers["fuel_model"])
    step = max(1, int(block_cells) // max(w, 1))
    parts: list[FireBehavior] = []
    for lo in range(0, h, step):
        hi = min(h, lo + step)
        with np.errstate(over="ignore"):  # FARSITE L/B's exp on cells that do not burn (masked)
            fb = fire_behavior(
                *(layers[k][lo:hi] for k in LAYER_ARGS),
                wind_speed_20ft_m_min=_rows(wind_speed_20ft_m_min, lo, hi, 2),
                wind_from_deg=_rows(wind_from_deg, lo, hi, 2),
                moisture_fraction=_rows(moisture_fraction, lo, hi, 3),
                foliar_moisture_fraction=_rows(foliar_moisture_fraction, lo, hi, 2),
                conventions=conventions,
                crown_fire=crown_fire,
            )
        if keep is not None:
            fb = FireBehavior(
                *(v if k in keep else None for k, v in zip(FireBehavior._fields, fb, strict=True))
            )
        parts.append(fb)
        if on_rows is not None:
            on_rows(hi - lo)
    if len(parts) == 1:
        return parts[0]
    xp = namespace(next(v for v in parts[0] if v is not None))
    cat = np.concatenate if xp.name == "numpy" else _torch_cat
    return FireBehavior(
        *(
            None if parts[0][i] is None else cat([p[i] for p in parts], 0)
            for i in range(len(FireBehavior._fields))
        )
    )


def _torch_cat(items: list[Any], axis: int) -> Any:
    import torch

    return torch.cat(items, dim=axis)


def crown_state(fb: FireBehavior) -> Any:
    """FlamMap's crown state codes: 0 no fire (non-burnable, or too wet to spread), 1 surface,
    2 passive crown, 3 active crown (= ``fb.fire_type``; FlamMap's CROWNSTATE on TestMTT agrees
    cell for cell, docs/science.md)."""
    return fb.fire_type


def behavior_at_rate(
    ros_head_m_min: Any, fireline_intensity_kw_m: Any, fire_type: Any, ros_m_min: Any
) -> tuple[Any, Any]:
    """(fireline intensity kW/m, flame length m) of a cell's fire where its front advances at
    ``ros_m_min`` (normal to the front); the other arguments are the cell's head fire
    (:class:`FireBehavior` fields).

    I = I_head R / R_head (Byram's I = H_A R / 60, and a crown fire's R (H_A + CFB W 18000) / 60,
    are both linear in R); flame length by Byram (1959), L = 0.45 I^0.46 ft, where the cell burns
    as a surface fire (``fire_type`` 1) and by Thomas (1963), L = 0.2 I^(2/3) ft, where it crowns
    (2 passive, 3 active). 0 where the head rate is 0.
    """
    xp = namespace(ros_head_m_min, fireline_intensity_kw_m, ros_m_min)
    head = xp.asarray(ros_head_m_min)
    burning = head > 0
    ratio = xp.where(burning, xp.asarray(ros_m_min) / xp.where(burning, head, 1.0), 0.0)
    fli = xp.asarray(fireline_intensity_kw_m) * ratio
    crowning = xp.asarray(fire_type) >= 2
    flame_ft = xp.where(
        crowning,
        crown.thomas_flame_length_m(fli, xp) / units.M_PER_FT,
        surface.byram_flame_length_ft(fli / units.KW_M_PER_BTU_FT_S, xp),
    )
    return fli, xp.where(burning, flame_ft * units.M_PER_FT, 0.0)


def behavior_toward(
    ros_head_m_min: Any,
    eccentricity: Any,
    direction_max_deg: Any,
    fireline_intensity_kw_m: Any,
    fire_type: Any,
    azimuth_deg: Any,
) -> tuple[Any, Any, Any]:
    """(spread rate m/min, fireline intensity kW/m, flame length m) of the fire spreading toward
    ``azimuth_deg`` from the rear focus of the cell's ellipse (R(theta), Catchpole et al. 1982),
    with :func:`behavior_at_rate`'s intensity and flame length at that rate."""
    xp = namespace(ros_head_m_min, eccentricity, direction_max_deg, fireline_intensity_kw_m, azimuth_deg)
    head = xp.asarray(ros_head_m_min)
    ros = ros_at_azimuth(head, xp.asarray(eccentricity), xp.asarray(direction_max_deg), azimuth_deg)
    ros = xp.where(head > 0, ros, 0.0)
    fli, flame = behavior_at_rate(head, fireline_intensity_kw_m, fire_type, ros)
    return ros, fli, flame
