"""Which pixels a polygon covers on Copernicus: geotrellis's scanline, pixel centres.

aggregate_spatial rasterizes its polygons with ``Rasterizer.Options.DEFAULT``
(``PixelIsPoint``: openeo-geotrellis-extensions 2a25a26e LayerProvider.scala
``createMaskLayer`` L17-47; ``AggregatePolygonProcess.scala`` L119, L179 for geometries
given as WKT), which is geotrellis ``PolygonRasterizer.foreachCellByPolygon`` with
``runsPoint`` (locationtech/geotrellis 820a3294
raster/src/main/scala/geotrellis/raster/rasterize/polygon/PolygonRasterizer.scala
L104-116 ``lineAxisIntersection``, L125-162 ``polygonToEdges``, L178-247 ``runsPoint``,
L398-426 ``foreachCellByPolygon``). Per pixel row, in grid coordinates (column
``(x - xmin) / width``, row ``(ymax - y) / height``), the scanline through the row's
centres meets the edges of every ring; a crossing at an edge's upper end counts +1, at
its lower end -1, elsewhere 0; where a horizontal edge lies on the scanline only the
crossings of one side are kept (the list whose length differs least from all); the
crossings at one x are summed and kept when the sum is -1, 0 or 1; each kept x becomes
``x + 0.5`` and the pairs of them, truncated to integers, are [start, stop) of columns.

So where an edge passes exactly through pixel centres a vertical edge on the left
leaves its column out and one on the right keeps it ((start, stop] in x), horizontal
edges keep their row on top and at the bottom, and a vertex that is a polygon's
extreme point alone on its row covers nothing. Away from such coincidences this is
"the centre lies inside".
"""

from __future__ import annotations

from typing import Any

import numpy as np

Edge = tuple[float, float, float, float]


def _edges(polygon: Any, xmin: float, ymax: float, size: float) -> list[Edge]:
    """Every ring's segments in grid coordinates, the end with the smaller row first."""
    out: list[Edge] = []
    for ring in (polygon.exterior, *polygon.interiors):
        xy = np.asarray(ring.coords, dtype=np.float64)
        cols, rows = (xy[:, 0] - xmin) / size, (ymax - xy[:, 1]) / size
        for k in range(1, len(xy)):
            a, b = (cols[k - 1], rows[k - 1]), (cols[k], rows[k])
            (c1, r1), (c2, r2) = (a, b) if a[1] < b[1] else (b, a)
            out.append((float(c1), float(r1), float(c2), float(r2)))
    return out


def _crossings(edges: list[Edge], row: float) -> list[tuple[float, int]]:
    """(x, parity) where the scanline meets the edges, horizontal ones resolved."""
    hits: list[tuple[float, int]] = []
    horizontal = False
    for c1, r1, c2, r2 in edges:
        if not r1 <= row <= r2:
            continue
        if r1 == r2:
            horizontal = True
        elif row == r1:
            hits.append((c1, 1))
        elif row == r2:
            hits.append((c2, -1))
        else:
            hits.append((((c1 - c2) * row - (c1 * r2 - r1 * c2)) / (r1 - r2), 0))
    if not horizontal:
        return hits
    upward = [h for h in hits if h[1] != 1]
    downward = [h for h in hits if h[1] != -1]
    return upward if len(hits) - len(upward) < len(hits) - len(downward) else downward


def polygon_cells(
    geometry: Any, *, xmin: float, ymax: float, size: float, shape: tuple[int, int]
) -> np.ndarray:
    """(rows, cols) bool: the pixels geotrellis visits for a (Multi)Polygon in the
    grid's CRS, the grid's upper-left corner at (xmin, ymax), square pixels of ``size``."""
    rows, cols = shape
    out = np.zeros(shape, dtype=bool)
    parts = geometry.geoms if geometry.geom_type == "MultiPolygon" else [geometry]
    for polygon in parts:
        edges = _edges(polygon, xmin, ymax, size)
        for r in range(rows):
            sums: dict[float, int] = {}
            for x, parity in _crossings(edges, r + 0.5):
                sums[x] = sums.get(x, 0) + parity
            xs = sorted(x + 0.5 for x, total in sums.items() if total in (-1, 0, 1))
            for a, b in zip(xs[0::2], xs[1::2], strict=False):
                start, stop = max(int(a), 0), min(int(b), cols)  # while (x < stop)
                if start < stop:
                    out[r, start:stop] = True
    return out
