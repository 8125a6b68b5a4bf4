"""The NDVI workflow end to end: load, cloud mask (Gaussian dilation), NDVI, crop, aggregate."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal.windows import gaussian

from tests.reference.catalog import filter_items, items_per_date, parse_instant, read_items
from tests.reference.grid import aoi_lonlat_bounds, make_grid
from tests.reference.load import load_item, mosaic
from tests.reference.overlap import allowed_pixels
from tests.reference.processes import cloud_mask, ndvi
from tests.reference.temporal import aggregate

#: bands the NDVI needs (B02/B03 would be masked too but never reach the result)
NDVI_BANDS = ("B04", "B08", "SCL")


@dataclass(frozen=True, eq=False)
class ReferenceResult:
    """The aggregated NDVI cube; NaN is nodata."""

    #: period starts (or interval labels) as "YYYY-MM-DDT00:00:00Z"
    labels: list[str]
    #: float32, shape (t, y, x)
    data: np.ndarray
    #: pixel-centre coordinates, x ascending, y descending
    x: np.ndarray
    y: np.ndarray
    epsg: int
    #: loaded dates ("YYYY-MM-DD") after exclude_dates, before aggregation
    dates: list[str]
    #: output extent (xmin, ymin, xmax, ymax) in metres, buffer removed
    bounds: tuple[float, float, float, float]


def gaussian_kernel(size: int, std: float) -> np.ndarray:
    """outer(g, g) of a sampled Gaussian, normalised to sum 1."""
    g = gaussian(size, std=std)
    kernel = np.outer(g, g)
    return kernel / kernel.sum()


def reference_ndvi(
    collection_json: Path,
    aoi: dict[str, Any] | Path,
    start: str,
    end: str,
    *,
    max_cloud_cover: float | None = 20,
    cloud_classes: Sequence[int] = (8, 9),
    kernel_size: int = 11,
    kernel_std: float = 1.6,
    threshold: float = 0.1,
    period: str = "month",
    reducer: str = "mean",
    intervals: Sequence[Any] | None = None,
    exclude_dates: Sequence[str] = (),
    kernel: np.ndarray | None = None,
) -> ReferenceResult:
    """Compute the workflow's result the way the Copernicus backend would.

    ``kernel`` replaces the Gaussian (the load buffer still follows ``kernel_size``).
    """
    geojson = json.loads(aoi.read_text()) if isinstance(aoi, Path) else aoi
    grid = make_grid(geojson, kernel_size=kernel_size)
    # items are searched in the extent as given, in lon/lat: not in the kernel buffer
    # (load_params.py L224), nor in the grid covering it (load_stac.py L1543)
    lonlat = aoi_lonlat_bounds(geojson)
    items = filter_items(
        read_items(Path(collection_json)),
        start=parse_instant(start),
        end=parse_instant(end),
        max_cloud_cover=max_cloud_cover,
        lonlat_bounds=lonlat,
    )
    excluded = {dt.date.fromisoformat(d) for d in exclude_dates}
    all_dates = items_per_date(items)
    # load_stac: the items' CRS when they all share one (load_stac.py L621-638)
    native = {item.epsg for group in all_dates.values() for item in group}
    if len(native) == 1 and None not in native and grid.epsg not in native:
        grid = make_grid(geojson, kernel_size=kernel_size, epsg=native.pop())
    per_date = {date: group for date, group in all_dates.items() if date not in excluded}
    if kernel is None:
        kernel = gaussian_kernel(kernel_size, kernel_std)
    layers = []
    for group in per_date.values():
        loaded = [load_item(item, grid, NDVI_BANDS) for item in group]
        bands = mosaic(loaded, allowed_pixels(group, grid))
        masked = cloud_mask(bands["SCL"], classes=cloud_classes, kernel=kernel, threshold=threshold)
        red = np.where(masked, np.nan, bands["B04"])
        nir = np.where(masked, np.nan, bands["B08"])
        layers.append(grid.crop(ndvi(red, nir)))
    stack = np.stack(layers) if layers else np.empty((0, grid.height, grid.width), np.float32)
    dates = list(per_date)
    labels, data = aggregate(
        stack,
        dates,
        reducer=reducer,
        period=period,
        intervals=intervals,
        extent=(parse_instant(start), parse_instant(end)),
    )
    return ReferenceResult(
        labels=labels,
        data=data,
        x=grid.x,
        y=grid.y,
        epsg=grid.epsg,
        dates=[d.isoformat() for d in dates],
        bounds=grid.bounds,
    )
