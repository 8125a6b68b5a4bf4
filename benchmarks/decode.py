"""The decode floor: only read and decode the COG windows the NDVI graph needs (SCL at
20 m, red and nir at 10 m, over the AOI plus the kernel buffer, every date), with one
thread per core and nothing else - no mask, kernel, NDVI, reduction or output. Every
pipeline's time is also given as a multiple of this one (``x decode``)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.fused import FusedInputs, _items
from hybrid.grid import BBox, Grid, kernel_buffer, output_grid

#: the assets the seed graph reads, with their resolution (m)
NEEDED = (("scl", 20), ("red", 10), ("nir", 10))


def _decode(href: str, grid: Grid, res: int) -> int:
    """Decode the window of ``grid`` from the COG at ``href``; the number of pixels."""
    import math

    import rasterio
    from rasterio.windows import Window

    with rasterio.open(href) as src:
        col = (grid.xmin - src.transform.c) / res
        row = (src.transform.f - grid.ymax) / res
        c0, r0 = math.floor(col), math.floor(row)
        w = math.ceil(col + grid.width * grid.resolution / res) - c0
        h = math.ceil(row + grid.height * grid.resolution / res) - r0
        return int(src.read(1, window=Window(c0, r0, w, h)).size)


def run_decode(inputs: FusedInputs, *, threads: int | None = None) -> int:
    """Decode every needed window of every date; the number of pixels decoded."""
    wf = inputs.workflow
    xmin, ymin, xmax, ymax = inputs.bounds
    grid = output_grid(BBox(xmin, ymin, xmax, ymax, crs=f"EPSG:{inputs.epsg}"))
    load = grid.buffered(kernel_buffer((wf.kernel_size, wf.kernel_size)))
    items = _items(inputs.catalog, wf.start, wf.end, wf.max_cloud_cover)
    jobs: list[tuple[str, int]] = [
        (item.assets[key].get_absolute_href(), res) for item in items for key, res in NEEDED
    ]

    def one(job: tuple[str, int]) -> int:
        return _decode(job[0], load, job[1])

    with ThreadPoolExecutor(max_workers=threads or os.cpu_count() or 1) as pool:
        pixels: list[Any] = list(pool.map(one, jobs))
    return int(sum(pixels))
