"""The (geometry, date) pairs of an aggregate_spatial over ``t`` for which Copernicus has
no row: no tile of the cube in any layout key holding one of the geometry's pixels.

Spark aggregates the pixel rows the tiles make (openeo-geotrellis-extensions 2a25a26e
AggregatePolygonProcess.scala ``aggregateSpatialGeneric`` L261-315, for points
``aggregateSpatialForGeometry`` L111-154), grouped by date and feature
(``aggregateByDateAndPolygon`` L364-373, the ``requiredRows`` of L368 being the pixel
rows' pairs), so a pair without a tile has no row: not in the CSV, null for each
statistic in the JSON (``count`` too: Spark counts 0 only over rows; openeo-python-driver
9e5b49b2 save_result.py ``AggregatePolygonResultCSV.get_data`` L712-723 reindexes each
date's rows by every feature), NaN in netCDF. A pair whose pixels are no data in a tile
that exists keeps its row (null statistics, ``count`` 0).

The tiles are read from the cube :mod:`hybrid.backends.local.tile_sources` names: a key
of it with no value in any band on a date is a missing tile. Only the pairs whose own
pixels hold no value are looked at (a pixel with a value lies in a tile).

Not followed: the keys are laid from the source cube's upper-left corner with the side
:func:`hybrid.stac.overlap.key_size` gives its grid, and read within that grid;
Copernicus lays them from its global extent's corner (DatacubeSupport.scala
``getLayout`` L42-97, buffered when there are several polygons), 256 px for several
polygons (FileLayerProvider.scala ``selectLayoutScheme`` L1218-1242), 128 px when each
polygon fits in a key (DatacubeSupport.scala ``optimizeChunkSize`` L122-142), and reads
whole keys past the extent. A field less than a key from a valid pixel can be decided
otherwise there.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def missing_tiles(
    data: Any, source: Any, pixels: list[tuple[Any, Any]], values: Any, index: list[Any]
) -> list[tuple[int, int]]:
    """(geometry, position along ``t``) pairs of ``data`` without a tile in ``source``.

    ``pixels``: each geometry's (rows, cols) in ``data``; ``values``: the covered pixels'
    values, (data's dims but x and y..., pixel); ``index``: each geometry's columns of
    ``values``."""
    others = [str(d) for d in data.dims if d not in ("x", "y")]
    if "t" not in others or "t" not in getattr(source, "dims", ()):
        return []
    empty = _empty_pairs(values, index, others.index("t"))
    if not empty:
        return []
    layout = _layout(source)
    if layout is None:
        return []
    keys = {g: _keys(data, pixels[g], layout) for g, _ in empty}
    labels = data["t"].values
    needed = sorted({k for g, _ in empty for k in keys[g]})
    valid = _valid_keys(source, layout, needed, labels)
    return [
        (g, ti)
        for g, ti in empty
        if keys[g] and not any(valid.get((k, labels[ti]), True) for k in keys[g])
    ]


def _empty_pairs(values: Any, index: list[Any], t_axis: int) -> list[tuple[int, int]]:
    """The (geometry, t position) pairs whose covered pixels hold no value in any band."""
    pairs = []
    for g, columns in enumerate(index):
        if columns.size == 0:
            continue  # no pixel: no row on any date already
        valid = ~np.isnan(values[..., columns])
        axes = tuple(a for a in range(valid.ndim) if a != t_axis)
        pairs += [(g, int(ti)) for ti in np.nonzero(~valid.any(axis=axes))[0]]
    return pairs


class _Layout:
    """Square keys of ``side`` pixels laid over a cube from its upper-left corner."""

    def __init__(self, west: float, north: float, res: float, side: int, shape: tuple[int, int]):
        self.west, self.north, self.res, self.side = west, north, res, side
        self.rows = math.ceil(shape[0] / side)
        self.cols = math.ceil(shape[1] / side)

    def key(self, x: Any, y: Any) -> Any:
        """The key number of each point, -1 outside the keys."""
        step = self.side * self.res
        rows = np.floor((self.north - y) / step).astype(int)
        cols = np.floor((x - self.west) / step).astype(int)
        inside = (rows >= 0) & (rows < self.rows) & (cols >= 0) & (cols < self.cols)
        return np.where(inside, rows * self.cols + cols, -1)


def _layout(source: Any) -> _Layout | None:
    """The keys over ``source``'s grid; None for a grid of one pixel across."""
    from hybrid.stac.overlap import key_size

    x, y = np.asarray(source["x"].values, float), np.asarray(source["y"].values, float)
    if x.size < 2 or y.size < 2:
        return None
    res = abs(float(x[1] - x[0]))
    side = key_size(x.size, y.size)
    return _Layout(float(x[0]) - res / 2, float(y[0]) + res / 2, res, side, (y.size, x.size))


def _keys(data: Any, pixels: tuple[Any, Any], layout: _Layout) -> list[int]:
    """The keys holding the pixel centres of one geometry (those inside the layout)."""
    rows, cols = pixels
    x = np.asarray(data["x"].values, float)[cols]
    y = np.asarray(data["y"].values, float)[rows]
    found = np.unique(layout.key(x, y))
    return [int(k) for k in found if k >= 0]


def _valid_keys(
    source: Any, layout: _Layout, keys: list[int], labels: Any
) -> dict[tuple[int, Any], bool]:
    """Per (key, date label of ``labels`` the source has), whether the key holds a value
    in some band of ``source`` that date; computed at once."""
    import dask

    from hybrid.backends.local.surviving_keys import with_data

    dates = [label for label in labels if label in set(source["t"].values)]
    if not dates or not keys:
        return {}
    flags = with_data(source.sel(t=dates))
    parts = []
    for key in keys:
        row, col = divmod(key, layout.cols)
        window = flags.isel(
            y=slice(row * layout.side, (row + 1) * layout.side),
            x=slice(col * layout.side, (col + 1) * layout.side),
        )
        parts.append(window.any(dim=[d for d in window.dims if d != "t"]))
    computed = dask.compute(*[getattr(p, "data", p) for p in parts])
    return {
        (key, date): bool(flag)
        for key, found in zip(keys, computed, strict=True)
        for date, flag in zip(dates, np.asarray(found).reshape(-1), strict=True)
    }
