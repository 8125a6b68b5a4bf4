"""The pixels a polygon covers, as geotrellis's scanline picks them (pixel centres).

Copernicus rasterizes polygons with ``PixelIsPoint`` options: aggregate_spatial
(openeo-geotrellis-extensions 2a25a26e LayerProvider.scala ``createMaskLayer`` L17-47,
AggregatePolygonProcess.scala L119, L179), mask_polygon (geopyspark ``RasterizerOptions()``,
geopysparkdatacube.py L1163-1174) and vector_to_raster (VectorCubeMethods.scala L109).
That is geotrellis ``PolygonRasterizer.runsPoint`` (locationtech/geotrellis 820a3294
``raster/rasterize/polygon/PolygonRasterizer.scala`` L104-116, L178-247, L398-426): per
pixel row, the scanline through the centres meets the rings' edges, in grid coordinates;
a crossing at an edge's upper end counts +1, at its lower end -1, between 0; on a row
holding a horizontal edge only one side's crossings stay (the one dropping fewer); the
crossings at one x are summed and kept for -1, 0 or 1; pairs of kept ``x + 0.5``,
truncated, give [start, stop) columns. Away from edges through pixel centres this is
"the centre lies inside", as GDAL's fill; on them it differs (a horizontal edge on a
row of centres with the polygon above it may keep or drop that row).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def polygon_mask(geometry: Any, transform: Any, shape: tuple[int, int]) -> np.ndarray:
    """(rows, cols) bool of the pixels a Polygon or MultiPolygon (in the grid's CRS)
    covers; ``transform`` an affine with square, north-up pixels."""
    out = np.zeros(shape, dtype=bool)
    parts = geometry.geoms if geometry.geom_type == "MultiPolygon" else [geometry]
    for polygon in parts:  # geotrellis rasterizes a MultiPolygon part by part
        out |= _part(polygon, transform, shape)
    return out


def _edges(polygon: Any, transform: Any) -> np.ndarray:
    """(n, 4) col1, row1, col2, row2 per ring segment, row1 <= row2."""
    segments = []
    for ring in (polygon.exterior, *polygon.interiors):
        xy = np.asarray(ring.coords, dtype=np.float64)[:, :2]
        col = (xy[:, 0] - transform.c) / transform.a
        row = (transform.f - xy[:, 1]) / -transform.e
        pairs = np.column_stack([col[:-1], row[:-1], col[1:], row[1:]])
        swap = ~(pairs[:, 1] < pairs[:, 3])
        pairs[swap] = pairs[swap][:, [2, 3, 0, 1]]
        segments.append(pairs)
    return np.concatenate(segments) if segments else np.zeros((0, 4))


def _crossings(edges: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, x, parity) of every crossing kept after the horizontal-edge rule."""
    c1, r1, c2, r2 = edges.T
    first = np.maximum(np.ceil(r1 - 0.5), 0).astype(np.int64)
    last = np.minimum(np.floor(r2 - 0.5), rows - 1).astype(np.int64)
    spans = np.maximum(last - first + 1, 0)
    edge = np.repeat(np.arange(len(edges)), spans)
    row = first[edge] + (np.arange(spans.sum()) - np.repeat(np.cumsum(spans) - spans, spans))
    y = row + 0.5
    a1, b1, a2, b2 = c1[edge], r1[edge], c2[edge], r2[edge]
    flat = b1 == b2
    parity = np.where(y == b1, 1, np.where(y == b2, -1, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        middle = ((a1 - a2) * y - (a1 * b2 - b1 * a2)) / (b1 - b2)
    x = np.where(y == b1, a1, np.where(y == b2, a2, middle))
    steep = ~flat
    hits = np.bincount(row[steep], minlength=rows)
    up = np.bincount(row[steep & (parity != 1)], minlength=rows)
    down = np.bincount(row[steep & (parity != -1)], minlength=rows)
    horizontal = np.bincount(row[flat], minlength=rows) > 0
    upward = (hits - up) < (hits - down)
    keep = steep & ~(horizontal[row] & np.where(upward[row], parity == 1, parity == -1))
    return row[keep], x[keep], parity[keep]


def _part(polygon: Any, transform: Any, shape: tuple[int, int]) -> np.ndarray:
    rows, cols = shape
    row, x, parity = _crossings(_edges(polygon, transform), rows)
    order = np.lexsort((x, row))
    row, x, parity = row[order], x[order], parity[order]
    new = np.ones(len(x), dtype=bool)
    new[1:] = (row[1:] != row[:-1]) | (x[1:] != x[:-1])
    starts = np.flatnonzero(new)
    total = np.add.reduceat(parity, starts) if len(starts) else parity[:0]
    kept = np.abs(total) <= 1
    row, x = row[starts][kept], x[starts][kept] + 0.5
    first_of_row = np.ones(len(row), dtype=bool)
    first_of_row[1:] = row[1:] != row[:-1]
    position = np.arange(len(row)) - np.maximum.accumulate(
        np.where(first_of_row, np.arange(len(row)), 0)
    )
    opening = np.flatnonzero(position % 2 == 0)
    opening = opening[(opening + 1 < len(row))]
    opening = opening[row[opening] == row[opening + 1]]
    start = np.clip(np.trunc(x[opening]), 0, cols).astype(np.int64)
    stop = np.clip(np.trunc(x[opening + 1]), 0, cols).astype(np.int64)
    out = np.zeros(shape, dtype=bool)
    for r, a, b in zip(row[opening].tolist(), start.tolist(), stop.tolist(), strict=True):
        out[r, a:b] = True
    return out
