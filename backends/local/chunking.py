"""Chunk sizes of a load: about TARGET_CHUNK pixels, in whole COG blocks."""

from __future__ import annotations

import math
from typing import Any

from hybrid.grid import Grid

#: the COG block side (pixels of the asset) assumed when it cannot be read
DEFAULT_BLOCK = 512
#: aimed-at side (output pixels) of a spatial chunk, whatever the area: large enough
#: that dask's per-task overhead stays small (same CPU seconds as 2048 in the
#: benchmark), small enough that a month of dates of the blocks in flight fits in
#: little memory (1024^2 float64 = 8 MiB); with 1024 a 2048^2 result has four blocks,
#: so both cores work already there and peak memory no longer grows with the area
#: beyond it (benchmarks/README.md)
TARGET_CHUNK = 1024


def block_pixels(item: Any, layout: Any, bands: tuple[str, ...], grid: Grid) -> int:
    """Side of the COG block of the first band the item has, in output pixels
    (DEFAULT_BLOCK if unknown)."""
    import rasterio

    from hybrid.stac.access import reading_env

    key = next((k for k in (layout.find_key(item, b) for b in bands) if k), None)
    if key is None:
        return DEFAULT_BLOCK
    href = item.assets[key].get_absolute_href()
    try:
        with reading_env([href]), rasterio.open(href) as src:
            block = int(src.block_shapes[0][0])
            resolution = abs(float(src.transform.a)) or grid.resolution
    except (rasterio.errors.RasterioError, OSError, IndexError):
        return DEFAULT_BLOCK
    return max(1, round(block * resolution / grid.resolution))


def chunk_side(side: int, block: int, target: int = TARGET_CHUNK) -> int:
    """A chunk side for an axis of ``side`` pixels: about ``target``, balanced so that no
    chunk is a sliver. For loads that cannot start on a block corner of the files; the
    others get chunks of whole blocks
    (:func:`hybrid.backends.local.aligned_reads.block_aligned`)."""
    aim = max(block, block * (target // block))
    count = max(1, round(side / aim))
    return math.ceil(side / count)


def load_chunks(item: Any, layout: Any, bands: tuple[str, ...], grid: Grid) -> dict[str, Any]:
    """odc-stac chunks of the load, from the COG block size and the grid."""
    block = block_pixels(item, layout, bands, grid)
    return {"y": chunk_side(grid.height, block), "x": chunk_side(grid.width, block)}
