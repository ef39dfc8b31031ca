"""fuelrl.landscape: LANDFIRE rasters in, tiles out, a generated default, GeoTIFFs out.

Public API (lower layers only: numpy, rasterio, torch for sampling; no simulator or env imports)::

    Landscape                      # dataclass: 8 layers [H, W] in SI units + valid mask + grid
        .elevation_m .slope_fraction .aspect_deg .fuel_model (int16) .canopy_cover_fraction
        .canopy_height_m .canopy_base_height_m .canopy_bulk_density_kg_m3   (float32 unless noted)
        .valid .crs .transform .cell_size_m .source .synthetic .offset_rowcol
        .shape .cell_area_ha .cell_area_acres .area_ha .burnable .bounds .layers() .describe()
        .window(row, col, height, width) -> Landscape
        .xy_to_rowcol(x, y) -> (row, col)      .rowcol_to_xy(row, col) -> (x, y) of the cell centre
    open_landscape(spec, *, mapping=None, units=None) -> Landscape
        spec: LANDFIRE folder | 8-band GeoTIFF | .lcp | "synthetic" | "synthetic:seed=7,size=128x96,cell=30"
    open_reader(spec, *, mapping=None, units=None) -> LandscapeReader | SyntheticReader
        .shape .crs .transform .cell_size_m .source .synthetic
        .read(row=0, col=0, height=None, width=None) -> Landscape   (lazy, by rasterio window)
    generate_landscape(seed=0, shape=(128, 128), cell_size_m=30.0) -> Landscape
    write_landscape(landscape, path) -> Path          # 8-band SI GeoTIFF, read back identically
    write_geotiff(path, array, like, *, nodata=None, description=None, tags=None, units=None) -> Path
    hillshade(elevation_m, cell_size_m, azimuth_deg=315, altitude_deg=45) -> float32 [0, 1]
    slope_aspect(elevation_m, cell_size_m) -> (slope_fraction, aspect_deg)

    TileDataset(sources, tile_size, stride=None, *, max_nodata_fraction=0.1,
                min_burnable_fraction=0.5, split="all", heldout_fraction=0.2, split_by="region",
                region_size=None, seed=0, mapping=None, units=None)
        len(ds), ds.tile(i) -> Landscape, ds[i] == ds.tile(i), ds.tiles (TileRef list: source,
        row, col, nodata_fraction, burnable_fraction, region, side), ds.footprint(i),
        ds.burnable_fractions(), ds.sources (readers), ds.specs
    TileSampler(dataset, *, replacement=False, reshuffle_every=1, weights=None, generator=0)
        .next_indices(n) -> list[int]; .next_tiles(n) -> list[Landscape]; .probabilities;
        .state_dict() / .load_state_dict()

See docs/landscapes.md for layouts, units, the generator, tiles and errors.
"""

from fuelrl.landscape.core import ACRES_PER_HA, LAYER_ATTRS, LAYERS, M2_PER_HA, Landscape
from fuelrl.landscape.geotiff import write_geotiff, write_landscape
from fuelrl.landscape.readers import LandscapeReader, SyntheticReader, open_landscape, open_reader
from fuelrl.landscape.synthetic import generate_landscape
from fuelrl.landscape.terrain import hillshade, slope_aspect
from fuelrl.landscape.tiles import TileDataset, TileRef, TileSampler, expand_sources

__all__ = [
    "ACRES_PER_HA",
    "LAYERS",
    "LAYER_ATTRS",
    "M2_PER_HA",
    "Landscape",
    "LandscapeReader",
    "SyntheticReader",
    "TileDataset",
    "TileRef",
    "TileSampler",
    "expand_sources",
    "generate_landscape",
    "hillshade",
    "open_landscape",
    "open_reader",
    "slope_aspect",
    "write_geotiff",
    "write_landscape",
]
