"""A Sentinel-2 cube per date on the 10 m grid, optionally cloud-masked as the workflow masks.

Written from the driver code, like tests/reference/workflow.py (which it reuses for the
grid, the item selection, the per-date mosaic and the mask):

- a date whose products hold no value in any band of the load is no date of the cube
  (FileLayerProvider.scala ``rasterRegionsToTiles`` L708: ``!tile.bands.forall(_.isNoDataTile)``;
  the small grids here are one layout key);
- ``mask`` sets every band to nodata where the mask is true (geopysparkdatacube.py
  ``mask``, OpenEOProcesses.scala ``rasterMask``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.reference.catalog import filter_items, items_per_date, parse_instant, read_items
from tests.reference.grid import Grid, aoi_lonlat_bounds, make_grid
from tests.reference.load import load_item, mosaic
from tests.reference.overlap import allowed_pixels
from tests.reference.processes import cloud_mask
from tests.reference.workflow import gaussian_kernel


@dataclass(frozen=True, eq=False)
class RefCube:
    """Bands over (t, y, x) on the output grid (buffer removed), float64, NaN nodata."""

    dates: list[dt.date]
    grid: Grid
    bands: dict[str, np.ndarray]

    @property
    def labels(self) -> list[str]:
        return [f"{d.isoformat()}T00:00:00Z" for d in self.dates]


@dataclass(frozen=True)
class CloudMask:
    """The workflow's mask: SCL in ``classes``, convolved, ``> threshold``."""

    classes: tuple[int, ...] = (8, 9)
    kernel_size: int = 11
    kernel_std: float = 1.6
    threshold: float = 0.1


def load_cube(
    catalog: Path,
    aoi: dict[str, Any],
    start: str,
    end: str,
    bands: Sequence[str],
    *,
    max_cloud_cover: float | None = None,
    cloud: CloudMask | None = None,
) -> RefCube:
    """``load_collection`` of ``bands`` over the AOI's bbox, [start, end), then (with
    ``cloud``) every band masked by the cloud mask (SCL is loaded for it if absent)."""
    wanted = tuple(bands) + (("SCL",) if cloud is not None and "SCL" not in bands else ())
    grid = make_grid(aoi, kernel_size=cloud.kernel_size if cloud else 0)
    items = filter_items(
        read_items(Path(catalog)),
        start=parse_instant(start),
        end=parse_instant(end),
        max_cloud_cover=max_cloud_cover,
        lonlat_bounds=aoi_lonlat_bounds(aoi),
    )
    per_date = items_per_date(items)
    native = {item.epsg for group in per_date.values() for item in group}
    if len(native) == 1 and None not in native and grid.epsg not in native:
        grid = make_grid(aoi, kernel_size=cloud.kernel_size if cloud else 0, epsg=native.pop())
    dates: list[dt.date] = []
    layers: dict[str, list[np.ndarray]] = {band: [] for band in bands}
    for date, group in per_date.items():
        loaded = mosaic([load_item(i, grid, wanted) for i in group], allowed_pixels(group, grid))
        if all(np.isnan(values).all() for values in loaded.values()):
            continue
        if cloud is not None:
            kernel = gaussian_kernel(cloud.kernel_size, cloud.kernel_std)
            masked = cloud_mask(
                loaded["SCL"], classes=cloud.classes, kernel=kernel, threshold=cloud.threshold
            )
            loaded = {band: np.where(masked, np.nan, values) for band, values in loaded.items()}
        dates.append(date)
        for band in bands:
            layers[band].append(grid.crop(loaded[band]))
    empty = np.empty((0, grid.height, grid.width))
    stacks = {band: np.stack(v) if v else empty for band, v in layers.items()}
    return RefCube(dates=dates, grid=grid, bands=stacks)


def select_dates(cube: RefCube, start: dt.date, end: dt.date) -> RefCube:
    """``filter_temporal``: the labels in [start, end) (geopysparkdatacube.py L240-255,
    ``filter_by_times``)."""
    keep = [n for n, d in enumerate(cube.dates) if start <= d < end]
    return RefCube(
        dates=[cube.dates[n] for n in keep],
        grid=cube.grid,
        bands={band: values[keep] for band, values in cube.bands.items()},
    )
