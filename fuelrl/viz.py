"""PNG maps a person can read: a value layer over a hillshade (or fuel) underlay, with a colour
bar, a scale bar, a north arrow, a title and a "SYNTHETIC landscape" note for generated data.

One colour scheme for ``fuelrl simulate``, ``plan`` and ``evaluate`` (:data:`SCHEME`): burn
probability in :data:`BURN_PROBABILITY_CMAP`, arrival time in :data:`ARRIVAL_CMAP`, fuel breaks
cyan, non-burnable cells grey and water blue (drawn apart from burnable cells no fire reached,
which let the underlay through, as IFTDSS keeps -1 apart from 0), untreatable land hatched
purple, high-value cells outlined magenta, the best treatment units labelled by rank.

Used by the report writers (:mod:`fuelrl.reports`)::

    from fuelrl.viz import save_map
    save_map("bp.png", burn_probability, landscape, title="Burn probability (100 fires)",
             colorbar_label="fraction of fires", vmin=0, vmax=1, cmap="inferno",
             overlays=[(breaks, "#00e5ff", "fuel breaks")], points=[(row, col, "ignition")])

Matplotlib runs on the Agg backend (no display needed); nothing here touches pyplot's global state.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

#: burn probability maps of every command
BURN_PROBABILITY_CMAP = "YlOrRd"
#: fire arrival time (one fire)
ARRIVAL_CMAP = "viridis"
#: colours of the layers drawn over the values, the same on every map
SCHEME = {
    "breaks": "#00e5ff",
    "nonburnable": "#37474f",
    "water": "#4a90d9",
    "untreatable": "#7b3294",
    "values": "#ff00ff",
    "ignition": "#00c853",
    "unit_label": "#003a40",
}
#: fuel model of open water (non-burnable, drawn blue)
WATER_CODE = 98
#: treatment units labelled with their rank on a map (the ones that save the most)
LABELLED_UNITS = 5

# fuel groups for the fuel underlay: (label, colour, predicate on codes)
_FUEL_GROUPS: tuple[tuple[str, str], ...] = (
    ("nodata / non-burnable", "#d9d9d9"),
    ("grass", "#f3e79b"),
    ("grass-shrub / shrub", "#c9a66b"),
    ("timber understory / litter", "#6a9a58"),
    ("slash", "#8c6d5a"),
)


def fuel_groups(fuel_model: np.ndarray) -> np.ndarray:
    """Coarse fuel group per cell (index into the fuel legend): 0 non-burnable, 1 grass, 2 shrub,
    3 timber / litter, 4 slash (Scott & Burgan families; Anderson 1-13 mapped alike)."""
    f = np.asarray(fuel_model).astype(np.int64)
    g = np.zeros(f.shape, np.int64)
    g[((f >= 101) & (f <= 109)) | ((f >= 1) & (f <= 3))] = 1
    g[((f >= 121) & (f <= 149)) | ((f >= 4) & (f <= 7))] = 2
    g[((f >= 161) & (f <= 189)) | ((f >= 8) & (f <= 10))] = 3
    g[((f >= 201) & (f <= 204)) | ((f >= 11) & (f <= 13))] = 4
    return g


def nice_length(target: float) -> float:
    """The largest 1, 2 or 5 x 10^k not above ``target`` (for scale bars)."""
    if target <= 0:
        return 1.0
    exp = math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * 10**exp <= target:
            return float(m * 10**exp)
    return float(10**exp)


def _extent(landscape: Any, shape: tuple[int, int]) -> tuple[float, float, float, float]:
    h, w = shape
    t = getattr(landscape, "transform", None)
    if t is None:
        cs = float(getattr(landscape, "cell_size_m", 1.0))
        return 0.0, w * cs, 0.0, h * cs
    left, top = t.c, t.f
    return left, left + w * t.a, top + h * t.e, top


def _underlay(ax: Any, landscape: Any, extent: Any, kind: str) -> str | None:
    """Draw the underlay; returns the kind drawn (hillshade / fuel) or None."""
    if landscape is None or kind == "none":
        return None
    elev = getattr(landscape, "elevation_m", None)
    relief = elev is not None and np.nanmax(elev) - np.nanmin(elev) > 1.0
    if kind == "hillshade" or (kind == "auto" and relief):
        from fuelrl.landscape.terrain import hillshade

        shade = hillshade(np.asarray(elev, dtype=np.float64), float(landscape.cell_size_m))
        shade = np.where(np.asarray(landscape.valid), shade, np.nan)
        ax.imshow(shade, cmap="gray", vmin=0, vmax=1, extent=extent, interpolation="nearest", zorder=0)
        return "hillshade"
    groups = fuel_groups(landscape.fuel_model)
    cmap = ListedColormap([c for _, c in _FUEL_GROUPS])
    ax.imshow(groups, cmap=cmap, vmin=-0.5, vmax=len(_FUEL_GROUPS) - 0.5, extent=extent, zorder=0)
    return "fuel"


def _scale_bar(ax: Any, extent: Any, map_units_m: bool) -> None:
    left, right, bottom, top = extent
    width = right - left
    length = nice_length(width / 4.0)
    x0 = left + 0.04 * width
    y0 = bottom + 0.05 * (top - bottom)
    hgt = 0.012 * (top - bottom)
    half = length / 2
    ax.add_patch(Rectangle((x0, y0), half, hgt, facecolor="black", edgecolor="black", zorder=5))
    ax.add_patch(Rectangle((x0 + half, y0), half, hgt, facecolor="white", edgecolor="black", zorder=5))
    if map_units_m:
        label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    else:
        label = f"{length:g} map units"
    ax.text(
        x0 + length / 2,
        y0 + 2.2 * hgt,
        label,
        ha="center",
        va="bottom",
        fontsize=8,
        zorder=6,
        bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1.0},
    )


def _north_arrow(ax: Any) -> None:
    ax.annotate(
        "N",
        xy=(0.95, 0.95),
        xytext=(0.95, 0.85),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2},
        zorder=6,
    )


def save_map(path: str | Path, values: Any, landscape: Any = None, *, dpi: int = 120, **kw: Any) -> Path:
    """Write a PNG map of ``values`` [H, W] (numpy or torch) on ``landscape``'s grid; the keyword
    arguments are those of :func:`map_figure`."""
    fig = map_figure(values, landscape, dpi=dpi, **kw)
    path = Path(path)
    fig.savefig(path, format="png")
    return path


def map_figure(
    values: Any,
    landscape: Any = None,
    *,
    title: str,
    colorbar_label: str,
    cmap: str = "inferno",
    vmin: float | None = None,
    vmax: float | None = None,
    show: Any = None,
    underlay: str = "auto",
    alpha: float = 0.85,
    overlays: Sequence[tuple[Any, str, str]] = (),
    points: Sequence[tuple[float, float, str]] = (),
    note: str | None = None,
    dpi: int = 120,
    nonburnable: bool = True,
    untreatable: Any = None,
    values_at_risk: Any = None,
    units: Any = None,
) -> Figure:
    """A matplotlib Figure (Agg canvas) mapping ``values`` [H, W] on ``landscape``'s grid.

    ``show``: bool [H, W] of the cells to colour (default: finite values, and values > 0 when
    ``vmin`` is 0, so that zeros let the underlay through). ``underlay``: ``"auto"`` (hillshade
    where the landscape has relief, fuel groups otherwise), ``"hillshade"``, ``"fuel"`` or
    ``"none"``. ``overlays``: (bool mask, colour, legend label) drawn on top. ``points``: (row, col,
    label) markers. A landscape with ``synthetic=True`` gets a "SYNTHETIC landscape" note.
    ``nonburnable``: draw the landscape's non-burnable cells grey (water blue). ``untreatable``:
    bool [H, W] hatched purple. ``values_at_risk``: [H, W], its top decile of valued cells outlined.
    ``units``: (labels int [H, W], rank -> area saved) of treatment units; the
    :data:`LABELLED_UNITS` that save the most get their rank written on the map.
    """
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    vals = np.asarray(values, dtype=np.float64)
    if vals.ndim != 2:
        raise ValueError(f"save_map needs a [H, W] array, got shape {vals.shape}")
    h, w = vals.shape
    extent = _extent(landscape, (h, w))
    fig = Figure(figsize=(7.5, 7.5 * h / max(w, 1) * 0.9 + 0.8), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    drawn = _underlay(ax, landscape, extent, underlay)
    if show is None:
        show = np.isfinite(vals)
        if vmin is not None and vmin == 0:
            show &= vals > 0
    masked = np.ma.masked_where(~np.asarray(show, bool), vals)
    finite = vals[np.isfinite(vals)]
    lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    if hi <= lo:
        hi = lo + 1.0
    im = ax.imshow(
        masked,
        cmap=cmap,
        vmin=lo,
        vmax=hi,
        extent=extent,
        alpha=alpha if drawn else 1.0,
        interpolation="nearest",
        zorder=1,
    )
    cbar = fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02)
    cbar.set_label(colorbar_label)
    handles = []
    for mask, colour, label in overlays:
        m = np.asarray(mask.detach().cpu().numpy() if hasattr(mask, "detach") else mask, bool)
        if m.any():
            ax.imshow(
                np.ma.masked_where(~m, np.ones(m.shape)),
                cmap=ListedColormap([colour]),
                extent=extent,
                interpolation="nearest",
                zorder=3,
            )
            handles.append(Patch(facecolor=colour, label=label))
    if nonburnable and landscape is not None and hasattr(landscape, "burnable"):
        handles += _nonburnable(ax, landscape, extent)
    if untreatable is not None:
        handles += _untreatable(ax, np.asarray(untreatable, bool), extent)
    if values_at_risk is not None:
        handles += _high_values(ax, values_at_risk, extent)
    cs_x = (extent[1] - extent[0]) / w
    cs_y = (extent[3] - extent[2]) / h
    if units is not None and _label_units(ax, units, extent, (cs_x, cs_y)):
        handles.append(
            Patch(
                facecolor="white",
                edgecolor=SCHEME["unit_label"],
                label=f"#k: unit rank (top {LABELLED_UNITS} saved)",
            )
        )
    for row, col, label in points:
        x = extent[0] + (col + 0.5) * cs_x
        y = extent[3] - (row + 0.5) * cs_y
        ax.plot(
            [x], [y], marker="*", color=SCHEME["ignition"], markeredgecolor="black", markersize=12, zorder=4
        )
        if label:
            ax.annotate(label, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7, zorder=4)
    if drawn == "fuel":
        handles += [Patch(facecolor=c, label=lbl) for lbl, c in _FUEL_GROUPS]
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.8)
    crs = getattr(landscape, "crs", None)
    metric = True
    if crs is not None:
        try:
            metric = bool(crs.is_projected) and (crs.linear_units or "metre").lower() in (
                "metre",
                "meter",
                "m",
            )
        except AttributeError:
            metric = True
    _scale_bar(ax, extent, metric)
    _north_arrow(ax)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(f"x ({_crs_label(crs)})", fontsize=8)
    ax.set_ylabel("y", fontsize=8)
    ax.tick_params(labelsize=7)
    notes = []
    if landscape is not None and getattr(landscape, "synthetic", False):
        notes.append("SYNTHETIC landscape")
    if note:
        notes.append(note)
    if drawn:
        notes.append(f"underlay: {drawn}")
    if notes:
        fig.text(
            0.01, 0.01, " | ".join(notes), fontsize=8, color="#b00020" if "SYNTHETIC" in notes[0] else "black"
        )
    ax.ticklabel_format(useOffset=False, style="plain")
    fig.tight_layout()
    return fig


def _mask_layer(
    ax: Any, mask: np.ndarray, colour: str, extent: Any, zorder: float, alpha: float = 1.0
) -> None:
    ax.imshow(
        np.ma.masked_where(~mask, np.ones(mask.shape)),
        cmap=ListedColormap([colour]),
        extent=extent,
        interpolation="nearest",
        alpha=alpha,
        zorder=zorder,
    )


def _nonburnable(ax: Any, landscape: Any, extent: Any) -> list[Any]:
    """Grey non-burnable cells, blue water, over the values (they can never burn)."""
    valid = np.asarray(landscape.valid, bool)
    nb = valid & ~np.asarray(landscape.burnable, bool)
    water = nb & (np.asarray(landscape.fuel_model) == WATER_CODE)
    handles = []
    if (nb & ~water).any():
        _mask_layer(ax, nb & ~water, SCHEME["nonburnable"], extent, 2.0)
        handles.append(Patch(facecolor=SCHEME["nonburnable"], label="non-burnable"))
    if water.any():
        _mask_layer(ax, water, SCHEME["water"], extent, 2.0)
        handles.append(Patch(facecolor=SCHEME["water"], label="water"))
    return handles


def _untreatable(ax: Any, mask: np.ndarray, extent: Any) -> list[Any]:
    if not mask.any():
        return []
    colour = SCHEME["untreatable"]
    _mask_layer(ax, mask, colour, extent, 2.5, alpha=0.25)
    ax.contourf(
        mask.astype(float),
        levels=[0.5, 1.5],
        colors="none",
        hatches=["////"],
        extent=extent,
        origin="upper",
        zorder=2.6,
    )
    ax.contour(
        mask.astype(float),
        levels=[0.5],
        colors=[colour],
        linewidths=0.8,
        extent=extent,
        origin="upper",
        zorder=2.6,
    )
    return [Patch(facecolor=colour, alpha=0.35, hatch="////", edgecolor=colour, label="untreatable")]


def _high_values(ax: Any, values: Any, extent: Any) -> list[Any]:
    """Outline the top decile of the valued cells (nothing when every valued cell is alike)."""
    from matplotlib.lines import Line2D

    v = np.asarray(values.detach().cpu().numpy() if hasattr(values, "detach") else values, np.float64)
    pos = v[np.isfinite(v) & (v > 0)]
    if pos.size == 0 or pos.min() == pos.max():
        return []
    high = np.isfinite(v) & (v >= np.quantile(pos, 0.9))
    ax.contour(
        high.astype(float),
        levels=[0.5],
        colors=[SCHEME["values"]],
        linewidths=1.2,
        extent=extent,
        origin="upper",
        zorder=3.5,
    )
    return [Line2D([], [], color=SCHEME["values"], lw=1.2, label="high value (top 10% of valued cells)")]


def _label_units(ax: Any, units: Any, extent: Any, cell: tuple[float, float]) -> int:
    """Write the rank of the treatment units that save the most beside them; returns how many."""
    labels, saved = units
    labels = np.asarray(labels)
    order = sorted((r for r in saved if saved[r] > 0), key=lambda r: -saved[r])[:LABELLED_UNITS]
    for rank in order:
        rows, cols = np.nonzero(labels == rank)
        if rows.size == 0:
            continue
        x = extent[0] + (cols.mean() + 0.5) * cell[0]
        y = extent[3] - (rows.mean() + 0.5) * cell[1]
        ax.annotate(
            f"#{rank}",
            (x, y),
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=7,
            zorder=6,
            color=SCHEME["unit_label"],
            bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 0.8},
        )
    return len(order)


def _crs_label(crs) -> str:
    """A short name for the CRS (``EPSG:5070``, or the name in its WKT), never a whole WKT string."""
    if crs is None:
        return "map units"
    epsg = crs.to_epsg()
    if epsg is not None:
        return f"EPSG:{epsg}"
    match = re.match(r'\s*\w+\["([^"]+)"', crs.to_wkt())
    name = match.group(1) if match else crs.to_string()
    return name if len(name) <= 48 else name[:45] + "..."
