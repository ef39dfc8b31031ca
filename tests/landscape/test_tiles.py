"""Tiles: filters, lazy windows, the region split and the sampler's distributions."""

from __future__ import annotations

import pickle
from collections import Counter

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from fuelrl.errors import InputError
from fuelrl.landscape import (
    LAYER_ATTRS,
    TileDataset,
    TileSampler,
    generate_landscape,
    open_landscape,
    write_landscape,
)
from fuelrl.simulators.base import TileBatch


@pytest.fixture
def two_landscapes(tmp_path):
    """Two generated 8-band files, one with a nodata hole, in a folder."""
    folder = tmp_path / "many"
    folder.mkdir()
    a = generate_landscape(seed=21, shape=(96, 80))
    a.valid[10:40, 5:35] = False
    for attr in LAYER_ATTRS:
        getattr(a, attr)[~a.valid] = 0
    write_landscape(a, folder / "a.tif")
    write_landscape(generate_landscape(seed=22, shape=(64, 112)), folder / "b.tif")
    return folder


def test_tiles_match_the_filters_and_the_whole_landscape(two_landscapes):
    ds = TileDataset(
        [two_landscapes], tile_size=16, stride=8, max_nodata_fraction=0.2, min_burnable_fraction=0.6
    )
    whole = {spec: open_landscape(spec) for spec in ds.specs}
    kept = {(ds.specs[t.source], t.row, t.col) for t in ds.tiles}
    n_positions = 0
    for spec, L in whole.items():
        h, w = L.shape
        for r in range(0, h - 16 + 1, 8):
            for c in range(0, w - 16 + 1, 8):
                n_positions += 1
                nodata = 1 - L.valid[r : r + 16, c : c + 16].mean()
                burnable = L.burnable[r : r + 16, c : c + 16].mean()
                expected = nodata <= 0.2 and burnable >= 0.6
                assert ((spec, r, c) in kept) == expected, (spec, r, c, nodata, burnable)
    assert 0 < len(ds) < n_positions  # the hole and NB patches removed some tiles
    for i in range(0, len(ds), 7):  # lazily read windows equal slices of the whole landscape
        spec, r0, c0, r1, c1 = ds.footprint(i)
        t = ds.tile(i)
        assert t.offset_rowcol == (r0, c0)
        for attr in (*LAYER_ATTRS, "valid"):
            np.testing.assert_array_equal(getattr(t, attr), getattr(whole[spec], attr)[r0:r1, c0:c1])
        assert t.transform == whole[spec].window(r0, c0, 16, 16).transform
        assert ds.tiles[i].burnable_fraction == pytest.approx(t.burnable.mean())


def test_tiles_stack_and_survive_pickling(two_landscapes):
    ds = TileDataset(str(two_landscapes / "*.tif"), tile_size=16)
    batch = TileBatch.stack([ds.tile(0), ds.tile(len(ds) - 1)])
    assert batch.shape == (2, 16, 16)
    clone = pickle.loads(pickle.dumps(ds))  # what a DataLoader / ParallelEnv worker receives
    np.testing.assert_array_equal(clone.tile(3).fuel_model, ds.tile(3).fuel_model)


def test_worcester_tiles(worcester_dir):
    ds = TileDataset(
        [worcester_dir], tile_size=64, stride=64, max_nodata_fraction=0.0, min_burnable_fraction=0.5
    )
    assert len(ds) > 10
    for i in range(len(ds)):
        assert ds.tiles[i].nodata_fraction == 0.0
    t = ds.tile(0)
    assert t.valid.all() and t.crs.to_epsg() == 5070


def _paint(ds: TileDataset) -> dict[str, np.ndarray]:
    masks = {spec: np.zeros(r.shape, dtype=np.int32) for spec, r in zip(ds.specs, ds.sources, strict=True)}
    for i in range(len(ds)):
        spec, r0, c0, r1, c1 = ds.footprint(i)
        masks[spec][r0:r1, c0:c1] += 1
    return masks


@pytest.mark.parametrize("split_by", ["region", "landscape"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_never_shares_ground(split_by, seed):
    sources = [f"synthetic:seed={s},size=160x144" for s in range(4)]
    kw = dict(tile_size=16, stride=8, min_burnable_fraction=0.3, split_by=split_by, region_size=48,
              heldout_fraction=0.25, seed=seed)  # fmt: skip
    train, held, every = (TileDataset(sources, split=s, **kw) for s in ("train", "heldout", "all"))
    assert len(train) > 0 and len(held) > 0
    a, b = _paint(train), _paint(held)
    for spec in a:
        assert not np.any((a[spec] > 0) & (b[spec] > 0)), spec  # no cell in both sides
    tr = {train.footprint(i) for i in range(len(train))}
    he = {held.footprint(i) for i in range(len(held))}
    boundary = {every.footprint(i) for i in range(len(every)) if every.tiles[i].side == "boundary"}
    assert not tr & he
    assert tr | he | boundary == {every.footprint(i) for i in range(len(every))}
    share = len({t.region for t in held.tiles}) / len(every.regions)
    assert 0.1 < share < 0.5
    assert 0.1 < len(held) / (len(train) + len(held)) < 0.45  # about heldout_fraction of the tiles
    if split_by == "landscape":
        assert not boundary and {s for s, *_ in tr}.isdisjoint({s for s, *_ in he})


def test_split_needs_two_regions():
    with pytest.raises(InputError, match="cannot split 1 region"):
        TileDataset(["synthetic:seed=1,size=32x32"], tile_size=16, split="train", min_burnable_fraction=0.0)


def test_no_tile_passes():
    with pytest.raises(InputError, match="passes the filters"):
        TileDataset(["synthetic:seed=1,size=64x64"], tile_size=64, min_burnable_fraction=1.0)


# --------------------------------------------------------------------------------------- sampler
@pytest.mark.parametrize("n", [4, 7])
def test_without_replacement_visits_every_tile_once_per_pass(n):
    sampler = TileSampler(28, replacement=False, generator=3)
    draws = [i for _ in range(28 * 5 // n) for i in sampler.next_indices(n)]
    for p in range(len(draws) // 28):
        assert sorted(draws[28 * p : 28 * (p + 1)]) == list(range(28)), p
    first, second = draws[:28], draws[28:56]
    assert first != second  # each pass is a new permutation


@pytest.mark.parametrize("weights", [None, "custom"])
def test_with_replacement_follows_the_distribution(weights):
    k = 12
    w = None if weights is None else np.arange(1, k + 1, dtype=float)
    sampler = TileSampler(k, replacement=True, weights=w, generator=torch.Generator().manual_seed(9))
    counts = Counter(i for _ in range(3000) for i in sampler.next_indices(8))
    observed = np.array([counts[i] for i in range(k)])
    p = np.ones(k) / k if w is None else w / w.sum()
    stat = chisquare(observed, p * observed.sum())
    assert stat.pvalue > 1e-3
    # and it can reject a wrong distribution: uniform is not the custom one
    if w is not None:
        assert chisquare(observed, np.full(k, observed.sum() / k)).pvalue < 1e-6


def test_burnable_weights(two_landscapes):
    ds = TileDataset(
        [two_landscapes], tile_size=16, stride=16, min_burnable_fraction=0.0, max_nodata_fraction=1.0
    )
    s = TileSampler(ds, replacement=True, weights="burnable", generator=0)
    expected = ds.burnable_fractions() / ds.burnable_fractions().sum()
    np.testing.assert_allclose(s.probabilities.numpy(), expected)
    zero = np.flatnonzero(expected == 0)
    drawn = {i for _ in range(200) for i in s.next_indices(16)}
    assert drawn.isdisjoint(zero.tolist())


def test_reshuffle_every_and_determinism():
    s = TileSampler(50, replacement=True, reshuffle_every=3, generator=5)
    seq = [s.next_indices(4) for _ in range(7)]
    assert seq[0] == seq[1] == seq[2] and seq[3] == seq[4] == seq[5] and seq[0] != seq[3]
    again = TileSampler(50, replacement=True, reshuffle_every=3, generator=5)
    assert [again.next_indices(4) for _ in range(7)] == seq
    state = s.state_dict()
    ahead = [s.next_indices(4) for _ in range(4)]
    s.load_state_dict(state)
    assert [s.next_indices(4) for _ in range(4)] == ahead


def test_sampler_bad_options():
    with pytest.raises(InputError, match="only with replacement"):
        TileSampler(5, replacement=False, weights=[1, 1, 1, 1, 1])
    with pytest.raises(InputError, match="non-negative"):
        TileSampler(3, replacement=True, weights=[1, -1, 1])
    with pytest.raises(InputError, match="reshuffle_every"):
        TileSampler(3, reshuffle_every=0)


def test_sources_nested_landfire_download_and_errors(tmp_path, small_landscape):
    from .conftest import write_landfire_folder

    flat = tmp_path / "flat_download"
    write_landfire_folder(small_landscape, flat)
    nested = tmp_path / "nested_download"
    for f in flat.iterdir():  # each layer in its own sub-folder, as some LANDFIRE zips unpack
        (nested / f.stem / "Tif").mkdir(parents=True)
        f.rename(nested / f.stem / "Tif" / f.name)
    ds = TileDataset([nested], tile_size=16, min_burnable_fraction=0.0)
    assert ds.specs == [str(nested)] and len(ds) == 6
    with pytest.raises(InputError, match="matches no file"):
        TileDataset([str(tmp_path / "*.lcp")], tile_size=16)
    with pytest.raises(InputError, match="landscape not found"):
        TileDataset([tmp_path / "missing"], tile_size=16)
