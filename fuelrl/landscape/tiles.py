"""Tiles cut from many landscapes, a region-wise train / held-out split, and a tile sampler.

:class:`TileDataset` opens each source once (paths, folders, globs, ``synthetic:...`` specs),
scans it strip by strip (never the whole raster at once) to find the tiles of ``tile_size`` cells
every ``stride`` cells that have at most ``max_nodata_fraction`` nodata and at least
``min_burnable_fraction`` burnable cells, and reads a tile's window only when asked (``tile(i)``).

The split is by region: each landscape is cut into square blocks of ``region_size`` cells (or, with
``split_by="landscape"``, each landscape is one block); a seeded draw sends ``heldout_fraction`` of
the blocks that hold tiles to the held-out side. A tile belongs to a side only when every block it
touches is on that side, so train and held-out tiles never share a cell of ground.

:class:`TileSampler` draws tile indices for env resets: without replacement it walks seeded
permutations (every tile once per pass); with replacement it draws from uniform, burnable-weighted
or given probabilities; a fresh draw is made every ``reshuffle_every`` calls.
"""

from __future__ import annotations

import glob as globmod
import math
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from fuelrl.errors import InputError
from fuelrl.landscape.core import Landscape
from fuelrl.landscape.readers import (
    LandscapeReader,
    SyntheticReader,
    is_synthetic_spec,
    layer_from_name,
    open_reader,
)
from fuelrl.landscape.window import split_window

SPLITS = ("train", "heldout", "all")
SPLIT_BY = ("region", "landscape")
#: rows read at once while scanning a landscape for tile statistics
SCAN_ROWS = 256


@dataclass(frozen=True)
class TileRef:
    """One tile: its source (index into ``TileDataset.sources``), top-left cell, and statistics."""

    source: int
    row: int
    col: int
    nodata_fraction: float
    burnable_fraction: float
    region: int  # global block id (see TileDataset.regions)
    side: str  # "train", "heldout" or "boundary" (straddles both sides: in neither split)


def _is_landfire_folder(folder: Path, recursive: bool = False) -> bool:
    """True when the folder holds LANDFIRE layer files (at least elevation and fuel model)."""
    keys = set()
    for p in folder.rglob("*") if recursive else folder.iterdir():
        if p.is_file() and p.suffix.lower() in (".tif", ".tiff"):
            hit = layer_from_name(p.stem)
            if hit is not None:
                keys.add(hit[0])
    return {"elevation", "fuel_model"} <= keys


def _expand_folder(folder: Path) -> list[str]:
    if _is_landfire_folder(folder):
        return [str(folder)]
    found: list[str] = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_dir():
            found.extend(_expand_folder(p))
        elif p.suffix.lower() == ".lcp":
            found.append(str(p))
        elif p.suffix.lower() in (".tif", ".tiff"):
            import rasterio

            try:
                with rasterio.open(p) as ds:
                    if ds.count >= 8:
                        found.append(str(p))
            except Exception:  # noqa: BLE001 - opened (and reported) properly below if chosen
                found.append(str(p))
    return found


def expand_sources(sources: Sequence[str | Path] | str | Path) -> list[str]:
    """Landscape specs from paths, folders (a LANDFIRE folder, or a folder of landscapes searched
    recursively for .lcp, 8-band GeoTIFFs and LANDFIRE folders), glob patterns and synthetic specs."""
    if isinstance(sources, str | Path):
        sources = [sources]
    out: list[str] = []
    for spec in sources:
        text = str(spec)
        window = split_window(text)  # PATH#rows=R0:R1,cols=C0:C1: one landscape, windowed
        if window is not None:
            found = expand_sources(window.base)
            if len(found) != 1:
                raise InputError(
                    f"landscape window {text!r}: {window.base} holds {len(found)} landscapes; "
                    "expected one (put the window on each landscape's own path)"
                )
            out.append(f"{found[0]}#{text.rpartition('#')[2]}")
            continue
        if is_synthetic_spec(text):
            out.append(text.strip())
            continue
        if any(ch in text for ch in "*?["):
            matches = sorted(globmod.glob(str(Path(text).expanduser()), recursive=True))
            if not matches:
                raise InputError(f"landscape pattern {text!r} matches no file or folder")
            for m in matches:
                out.extend(_expand_folder(Path(m)) if Path(m).is_dir() else [m])
            continue
        path = Path(text).expanduser()
        if not path.exists():
            raise InputError(f"landscape not found: {path}")
        if path.is_dir():
            found = _expand_folder(path)
            if not found and _is_landfire_folder(path, recursive=True):
                found = [str(path)]  # a LANDFIRE download that keeps each layer in a sub-folder
            if not found:
                raise InputError(
                    f"{path}: no landscape in this folder "
                    "(expected LANDFIRE layer GeoTIFFs, 8-band GeoTIFFs or .lcp)"
                )
            out.extend(found)
        else:
            out.append(str(path))
    unique: list[str] = []
    seen: set[str] = set()
    for s in out:
        key = s if is_synthetic_spec(s) else str(Path(s).resolve())
        if key not in seen:
            seen.add(key)
            unique.append(s)
    return unique


def _tile_counts(
    reader: LandscapeReader | SyntheticReader, tile: int, stride: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, valid_count[nr, nc], burnable_count[nr, nc]) for every tile position, reading
    the landscape in strips of :data:`SCAN_ROWS` rows (each window validated as it is read)."""
    h, w = reader.shape
    rows = np.arange(0, h - tile + 1, stride)
    cols = np.arange(0, w - tile + 1, stride)
    if rows.size == 0 or cols.size == 0:
        return rows, cols, np.zeros((0, 0), np.int64), np.zeros((0, 0), np.int64)
    # per-row sums over each tile's columns, then prefix sums over rows
    row_valid = np.zeros((h + 1, cols.size), dtype=np.int64)
    row_burn = np.zeros((h + 1, cols.size), dtype=np.int64)
    for r0 in range(0, h, SCAN_ROWS):
        n = min(SCAN_ROWS, h - r0)
        strip = reader.read(r0, 0, n, w, allow_empty=True)
        for mask, out in ((strip.valid, row_valid), (strip.burnable, row_burn)):
            cs = np.zeros((n, w + 1), dtype=np.int64)
            np.cumsum(mask, axis=1, out=cs[:, 1:])
            out[r0 + 1 : r0 + 1 + n] = cs[:, cols + tile] - cs[:, cols]
    pv, pb = np.cumsum(row_valid, axis=0), np.cumsum(row_burn, axis=0)
    return rows, cols, pv[rows + tile] - pv[rows], pb[rows + tile] - pb[rows]


class TileDataset(Dataset):
    """Tiles of ``tile_size`` x ``tile_size`` cells from many landscapes, read lazily.

    Args:
        sources: paths, folders, glob patterns or ``synthetic:...`` specs (see :func:`expand_sources`).
        tile_size: tile height and width in cells.
        stride: cells between tile origins (default ``tile_size``: tiles touch, no overlap).
        max_nodata_fraction: drop tiles with a larger share of cells lacking data.
        min_burnable_fraction: drop tiles with a smaller share of burnable cells.
        split: ``"train"``, ``"heldout"`` or ``"all"``.
        heldout_fraction: share of regions held out.
        split_by: ``"region"`` (square blocks of ``region_size`` cells) or ``"landscape"``.
        region_size: block size in cells (default ``4 * tile_size``; rounded up to a stride multiple).
        seed: seeds the split (the same seed and arguments give complementary train / held-out sets).
        mapping, units: passed to :func:`~fuelrl.landscape.open_reader` for every file source.
        cache_tiles: tiles kept in memory per process (an LRU; 0 disables).
    """

    def __init__(
        self,
        sources: Sequence[str | Path] | str | Path,
        tile_size: int,
        stride: int | None = None,
        *,
        max_nodata_fraction: float = 0.1,
        min_burnable_fraction: float = 0.5,
        split: str = "all",
        heldout_fraction: float = 0.2,
        split_by: str = "region",
        region_size: int | None = None,
        seed: int = 0,
        mapping: Mapping[str, Any] | None = None,
        units: Mapping[str, str] | None = None,
        cache_tiles: int = 64,
    ):
        if int(tile_size) < 1:
            raise InputError(f"tile_size must be a positive number of cells, got {tile_size}")
        self.tile_size = int(tile_size)
        self.stride = self.tile_size if stride is None else int(stride)
        if self.stride < 1:
            raise InputError(f"stride must be a positive number of cells, got {stride}")
        if split not in SPLITS:
            raise InputError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        if split_by not in SPLIT_BY:
            raise InputError(f"split_by must be one of {', '.join(SPLIT_BY)}, got {split_by!r}")
        for name, value in (
            ("max_nodata_fraction", max_nodata_fraction),
            ("min_burnable_fraction", min_burnable_fraction),
            ("heldout_fraction", heldout_fraction),
        ):
            if not 0.0 <= float(value) <= 1.0:
                raise InputError(f"{name} must be in [0, 1], got {value}")
        size = 4 * self.tile_size if region_size is None else int(region_size)
        if size < self.tile_size:
            raise InputError(f"region_size ({size}) must be at least tile_size ({self.tile_size})")
        self.region_size = int(math.ceil(size / self.stride) * self.stride)
        self.max_nodata_fraction = float(max_nodata_fraction)
        self.min_burnable_fraction = float(min_burnable_fraction)
        self.split, self.split_by = split, split_by
        self.heldout_fraction = float(heldout_fraction)
        self.seed = int(seed)
        self.cache_tiles = int(cache_tiles)
        self._cache: OrderedDict[int, Landscape] = OrderedDict()

        self.specs = expand_sources(sources)
        if not self.specs:
            raise InputError("TileDataset needs at least one landscape source")
        self.sources: list[LandscapeReader | SyntheticReader] = [
            open_reader(s, mapping=mapping, units=units) for s in self.specs
        ]
        cell_sizes = {r.cell_size_m for r in self.sources}
        if len(cell_sizes) > 1:
            raise InputError(
                f"landscapes in one dataset must share a cell size; got {sorted(cell_sizes)} m "
                f"({', '.join(f'{r.source}: {r.cell_size_m:g}' for r in self.sources)})"
            )
        if all(self.tile_size > min(r.shape) for r in self.sources):
            shapes = ", ".join(f"{r.source}: {r.shape[0]}x{r.shape[1]}" for r in self.sources)
            raise InputError(
                f"tile_size {self.tile_size} is larger than every landscape ({shapes}); "
                f"use a tile_size of at most {max(min(r.shape) for r in self.sources)} cells"
            )
        self.all_tiles, self.regions = self._cut()
        self.tiles: list[TileRef] = [t for t in self.all_tiles if split == "all" or t.side == split]
        if not self.tiles:
            raise InputError(
                f"no {split} tile of {self.tile_size}x{self.tile_size} cells passes the filters "
                f"(max_nodata_fraction={self.max_nodata_fraction}, min_burnable_fraction="
                f"{self.min_burnable_fraction}) in {', '.join(self.specs)}; "
                f"{len(self.all_tiles)} tiles pass before the split"
            )
        for reader in self.sources:  # scanning opened files; workers reopen lazily
            reader.close()

    # ------------------------------------------------------------------------------ cutting
    def _cut(self) -> tuple[list[TileRef], list[tuple[int, int, int]]]:
        t, area = self.tile_size, self.tile_size**2
        candidates: list[tuple[int, int, int, float, float, list[tuple[int, int, int]]]] = []
        for s, reader in enumerate(self.sources):
            rows, cols, valid, burn = _tile_counts(reader, t, self.stride)
            for i, r in enumerate(rows):
                for j, c in enumerate(cols):
                    nodata = 1.0 - valid[i, j] / area
                    burnable = burn[i, j] / area
                    if nodata > self.max_nodata_fraction or burnable < self.min_burnable_fraction:
                        continue
                    if self.split_by == "landscape":
                        blocks = [(s, 0, 0)]
                    else:
                        rs = range(int(r) // self.region_size, (int(r) + t - 1) // self.region_size + 1)
                        cs = range(int(c) // self.region_size, (int(c) + t - 1) // self.region_size + 1)
                        blocks = [(s, br, bc) for br in rs for bc in cs]
                    candidates.append((s, int(r), int(c), nodata, burnable, blocks))
        # blocks that hold a tile origin take part in the draw
        region_ids: dict[tuple[int, int, int], int] = {}
        for s, r, c, _, _, _blocks in candidates:
            origin = (
                (s, 0, 0)
                if self.split_by == "landscape"
                else (s, r // self.region_size, c // self.region_size)
            )
            region_ids.setdefault(origin, len(region_ids))
        regions = sorted(region_ids, key=region_ids.get)
        n = len(regions)
        if self.split != "all" and n < 2 and 0.0 < self.heldout_fraction < 1.0:
            raise InputError(
                f"cannot split {n} region(s) into train and held-out: use a smaller region_size "
                f"(now {self.region_size} cells) or more landscapes, or split='all'"
            )
        # tiles lying wholly inside each region: what a region brings to the side it is sent to
        inside = Counter(b[0] for *_, b in candidates if len(b) == 1)
        # walk the regions in a seeded random order, holding out until heldout_fraction of the
        # tiles is reached (at least one region and never all of them when 0 < fraction < 1)
        order = np.random.default_rng(np.random.SeedSequence([self.seed, 0x5B117])).permutation(n)
        target = self.heldout_fraction * sum(inside.values())
        heldout: set[tuple[int, int, int]] = set()
        held_tiles = 0
        for k in order:
            if self.heldout_fraction <= 0.0 or held_tiles >= target or len(heldout) == n - 1:
                break
            heldout.add(regions[k])
            held_tiles += inside[regions[k]]
        if self.heldout_fraction >= 1.0:
            heldout = set(regions)
        tiles = []
        for s, r, c, nodata, burnable, blocks in candidates:
            sides = {"heldout" if b in heldout else "train" for b in blocks if b in region_ids}
            sides |= {"train" for b in blocks if b not in region_ids}  # blocks with no tile origin
            side = sides.pop() if len(sides) == 1 else "boundary"
            origin = (
                (s, 0, 0)
                if self.split_by == "landscape"
                else (s, r // self.region_size, c // self.region_size)
            )
            tiles.append(TileRef(s, r, c, float(nodata), float(burnable), region_ids[origin], side))
        return tiles, regions

    # ------------------------------------------------------------------------------ access
    def __len__(self) -> int:
        return len(self.tiles)

    def tile(self, i: int) -> Landscape:
        """Tile ``i`` as a :class:`Landscape` (its own transform; ``offset_rowcol`` in its source)."""
        i = int(i)
        if not -len(self.tiles) <= i < len(self.tiles):
            raise IndexError(f"tile index {i} out of range for {len(self.tiles)} tiles")
        i %= len(self.tiles)
        cached = self._cache.get(i)
        if cached is not None:
            self._cache.move_to_end(i)
            return cached.window(0, 0, self.tile_size, self.tile_size)
        ref = self.tiles[i]
        tile = self.sources[ref.source].read(ref.row, ref.col, self.tile_size, self.tile_size)
        if self.cache_tiles > 0:
            self._cache[i] = tile
            while len(self._cache) > self.cache_tiles:
                self._cache.popitem(last=False)
            return tile.window(0, 0, self.tile_size, self.tile_size)
        return tile

    def __getitem__(self, i: int) -> Landscape:
        return self.tile(i)

    def burnable_fractions(self) -> np.ndarray:
        return np.array([t.burnable_fraction for t in self.tiles], dtype=np.float64)

    def footprint(self, i: int) -> tuple[str, int, int, int, int]:
        """(source spec, row0, col0, row1, col1) of tile ``i`` in its source raster."""
        ref = self.tiles[i]
        return (self.specs[ref.source], ref.row, ref.col, ref.row + self.tile_size, ref.col + self.tile_size)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()
        return state

    def __repr__(self) -> str:
        return (
            f"TileDataset({len(self)} {self.split} tiles of {self.tile_size}x{self.tile_size} cells, "
            f"stride {self.stride}, from {len(self.sources)} landscape(s))"
        )


class TileSampler:
    """Draws tile indices for env resets.

    Args:
        dataset: a :class:`TileDataset` (or a number of tiles).
        replacement: False walks seeded permutations: every tile once per pass (a draw that crosses
            the end of a pass continues into the next permutation); True draws independently from
            ``weights``.
        reshuffle_every: a fresh draw every k calls of :meth:`next_indices`; the calls between return
            the same tiles (k=1: new tiles every reset).
        weights: with replacement only: None (uniform), ``"burnable"`` (proportional to each tile's
            burnable fraction) or one non-negative weight per tile.
        generator: a ``torch.Generator`` or an int seed.
    """

    def __init__(
        self,
        dataset: TileDataset | int,
        *,
        replacement: bool = False,
        reshuffle_every: int = 1,
        weights: str | Sequence[float] | np.ndarray | None = None,
        generator: torch.Generator | int = 0,
    ):
        self.dataset = dataset if isinstance(dataset, TileDataset) else None
        self.num_tiles = len(dataset) if self.dataset is not None else int(dataset)
        if self.num_tiles < 1:
            raise InputError("TileSampler needs at least one tile")
        if int(reshuffle_every) < 1:
            raise InputError(f"reshuffle_every must be >= 1, got {reshuffle_every}")
        self.replacement = bool(replacement)
        self.reshuffle_every = int(reshuffle_every)
        if weights is not None and not self.replacement:
            raise InputError("TileSampler weights apply only with replacement=True")
        if isinstance(weights, str):
            if weights != "burnable":
                raise InputError(f"weights must be None, 'burnable' or one weight per tile; got {weights!r}")
            if self.dataset is None:
                raise InputError("weights='burnable' needs a TileDataset")
            w = self.dataset.burnable_fractions()
        elif weights is None:
            w = np.ones(self.num_tiles)
        else:
            w = np.asarray(weights, dtype=np.float64)
        if w.shape != (self.num_tiles,) or not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
            raise InputError(f"weights must be {self.num_tiles} non-negative numbers with a positive sum")
        self.probabilities = torch.as_tensor(w / w.sum(), dtype=torch.float64)
        if isinstance(generator, torch.Generator):
            self.generator = generator
        else:
            self.generator = torch.Generator().manual_seed(int(generator))
        self._perm = torch.empty(0, dtype=torch.long)
        self._pos = 0
        self.passes = 0  # permutations started (without replacement)
        self.calls = 0
        self._last: list[int] | None = None

    def _take_from_permutation(self, n: int) -> list[int]:
        out: list[int] = []
        while len(out) < n:
            if self._pos >= self._perm.numel():
                self._perm = torch.randperm(self.num_tiles, generator=self.generator)
                self._pos = 0
                self.passes += 1
            take = min(n - len(out), self._perm.numel() - self._pos)
            out.extend(self._perm[self._pos : self._pos + take].tolist())
            self._pos += take
        return out

    def next_indices(self, n: int) -> list[int]:
        """``n`` tile indices for the next reset (the same as last time between reshuffles)."""
        n = int(n)
        if n < 1:
            raise InputError(f"next_indices needs n >= 1, got {n}")
        fresh = self._last is None or len(self._last) != n or self.calls % self.reshuffle_every == 0
        self.calls += 1
        if not fresh:
            return list(self._last)
        if self.replacement:
            idx = torch.multinomial(
                self.probabilities, n, replacement=True, generator=self.generator
            ).tolist()
        else:
            idx = self._take_from_permutation(n)
        self._last = idx
        return list(idx)

    def next_tiles(self, n: int) -> list[Landscape]:
        if self.dataset is None:
            raise InputError("next_tiles needs a TileSampler built on a TileDataset")
        return [self.dataset.tile(i) for i in self.next_indices(n)]

    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator.get_state(),
            "perm": self._perm.clone(),
            "pos": self._pos,
            "passes": self.passes,
            "calls": self.calls,
            "last": None if self._last is None else list(self._last),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self._perm = state["perm"].clone()
        self._pos = int(state["pos"])
        self.passes = int(state["passes"])
        self.calls = int(state["calls"])
        self._last = None if state["last"] is None else list(state["last"])
