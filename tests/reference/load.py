"""Warp items onto the load grid (nearest), harmonise offsets, mosaic per date."""

from __future__ import annotations

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.warp import Resampling, reproject

from tests.reference.catalog import RefItem
from tests.reference.grid import Grid


def warp_band(href: str, grid: Grid) -> np.ndarray:
    """One asset on the load grid, nearest neighbour, as float64 with stored 0 -> NaN."""
    with rasterio.open(href) as src:
        out = np.zeros(grid.load_shape, dtype=src.dtypes[0])
        reproject(
            source=rasterio.band(src, 1),
            destination=out,
            src_nodata=0,
            dst_transform=grid.load_transform,
            dst_crs=CRS.from_epsg(grid.epsg),
            dst_nodata=0,
            resampling=Resampling.nearest,
        )
    values = out.astype(np.float64)
    values[out == 0] = np.nan
    return values


def load_item(item: RefItem, grid: Grid, bands: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Every requested band of one item on the load grid, offsets added (NaN stays NaN);
    a band the item has no asset for is all NaN (Copernicus inserts a NODATA band for it:
    FileLayerProvider.scala L1494-1511)."""
    return {
        band: warp_band(item.hrefs[band], grid) + item.offsets[band]
        if band in item.hrefs
        else np.full(grid.load_shape, np.nan)
        for band in bands
    }


def mosaic(
    layers: list[dict[str, np.ndarray]], allowed: list[np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Per band: the first allowed layer's valid value, in layer order.

    ``allowed`` (per layer, bool on the grid) says where a layer may deliver pixels
    (the per-key overlap rule, tests/reference/overlap.py); None: everywhere.
    """
    result = {band: np.full_like(values, np.nan) for band, values in layers[0].items()}
    for n, layer in enumerate(layers):
        for band, values in result.items():
            take = np.isnan(values) & ~np.isnan(layer[band])
            if allowed is not None:
                take &= allowed[n]
            values[take] = layer[band][take]
    return result
