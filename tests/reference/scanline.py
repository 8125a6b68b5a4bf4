"""Which pixels a polygon covers on Copernicus: geotrellis's scanline, pixel centres.

Copernicus builds on geotrellis 3.7.1 (openeo-geotrellis-extensions 2a25a26e pom.xml L16).
aggregate_spatial rasterizes its polygons with ``Rasterizer.Options.DEFAULT``
(``PixelIsPoint``: LayerProvider.scala ``createMaskLayer`` L17-47;
``AggregatePolygonProcess.scala`` L119, L179 for geometries given as WKT), which is
geotrellis ``PolygonRasterizer.foreachCellByPolygon`` with ``runsPoint``
(locationtech/geotrellis v3.7.1 b16d847d
raster/src/main/scala/geotrellis/raster/rasterize/polygon/PolygonRasterizer.scala
L106-119 ``lineAxisIntersection``, L129-171 ``polygonToEdges``, L188-270 ``runsPoint``,
L434-474 ``foreachCellByPolygon``). Per pixel row, in grid coordinates (column
``(x - xmin) / width``, row ``(ymax - y) / height``), the scanline through the row's
centres meets the edges of every ring; a crossing at an edge's upper end counts +1, at
its lower end -1, elsewhere 0; where a horizontal edge lies on the scanline only the
crossings of one side are kept (the list whose length differs least from all). If two
kept crossings share an x, the row's crossings are all computed again with exact
rationals (L238-254) and turned back into doubles by spire 0.17.0's ``Rational.toDouble``
(typelevel/spire Rational.scala L291-315: nearest double, a half rounded up in
magnitude, and a value rounding up to a power of two coming out as half of it). The
crossings at one x are summed and kept when the sum is -1, 0 or 1; each kept x becomes
``x + 0.5``; a row with an odd number of them makes geotrellis throw (L450-459:
:class:`OddCrossings` here); the pairs, truncated to integers, are [start, stop) of
columns.

So where an edge passes exactly through pixel centres a vertical edge on the left
leaves its column out and one on the right keeps it ((start, stop] in x), horizontal
edges keep their row on top and at the bottom, and a vertex that is a polygon's
extreme point alone on its row covers nothing. Away from such coincidences this is
"the centre lies inside".
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

Edge = tuple[float, float, float, float]


class OddCrossings(ValueError):
    """geotrellis's scanline left an odd number of crossings on a row (it throws)."""

    def __init__(self, row: int, valid: bool) -> None:
        super().__init__(f"odd number of crossings on row {row} (valid polygon: {valid})")
        self.row, self.valid = row, valid


def spire_to_double(q: Fraction) -> float:
    """The double spire's Rational.toDouble answers for ``q``: the neighbouring doubles
    below and above, the upper one from half way up, halved when it is a power of two
    the lower one is not (spire drops that carry)."""
    if q < 0:
        return -spire_to_double(-q)
    near = float(q)
    below = near if Fraction(near) <= q else math.nextafter(near, 0.0)
    if Fraction(below) == q:
        return below
    above = math.nextafter(below, math.inf)
    if q - Fraction(below) < Fraction(above) - q:
        return below
    mantissa, _ = math.frexp(above)
    return above / 2 if mantissa == 0.5 else above


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


def _crossing(edge: Edge, row: float, exact: bool) -> tuple[float, int]:
    c1, r1, c2, r2 = edge
    if row == r1:
        return c1, 1
    if row == r2:
        return c2, -1
    if not exact:
        return ((c1 - c2) * row - (c1 * r2 - r1 * c2)) / (r1 - r2), 0
    a1, b1, a2, b2, y = map(Fraction, (c1, r1, c2, r2, row))
    return spire_to_double(((a1 - a2) * y - (a1 * b2 - b1 * a2)) / (b1 - b2)), 0


def _crossings(edges: list[Edge], row: float, exact: bool) -> list[tuple[float, int]]:
    """(x, parity) where the scanline meets the edges, horizontal ones resolved."""
    hits: list[tuple[float, int]] = []
    horizontal = False
    for edge in edges:
        if not edge[1] <= row <= edge[3]:
            continue
        if edge[1] == edge[3]:
            horizontal = True
        else:
            hits.append(_crossing(edge, row, exact))
    if not horizontal:
        return hits
    upward = [h for h in hits if h[1] != 1]
    downward = [h for h in hits if h[1] != -1]
    return upward if len(hits) - len(upward) < len(hits) - len(downward) else downward


def _row_runs(edges: list[Edge], row: float) -> list[float]:
    """The sorted ``x + 0.5`` of the crossings kept on one row."""
    hits = _crossings(edges, row, exact=False)
    if len({x for x, _ in hits}) < len(hits):
        hits = _crossings(edges, row, exact=True)
    sums: dict[float, int] = {}
    for x, parity in hits:
        sums[x] = sums.get(x, 0) + parity
    return sorted(x + 0.5 for x, total in sums.items() if total in (-1, 0, 1))


def polygon_cells(
    geometry: Any, *, xmin: float, ymax: float, size: float, shape: tuple[int, int]
) -> np.ndarray:
    """(rows, cols) bool: the pixels geotrellis visits for a (Multi)Polygon in the
    grid's CRS, the grid's upper-left corner at (xmin, ymax), square pixels of ``size``;
    :class:`OddCrossings` where geotrellis throws."""
    rows, cols = shape
    out = np.zeros(shape, dtype=bool)
    parts = geometry.geoms if geometry.geom_type == "MultiPolygon" else [geometry]
    for polygon in parts:
        edges = _edges(polygon, xmin, ymax, size)
        for r in range(rows):
            xs = _row_runs(edges, r + 0.5)
            if len(xs) % 2:
                raise OddCrossings(r, bool(polygon.is_valid))
            for a, b in zip(xs[0::2], xs[1::2], strict=False):
                start, stop = max(int(a), 0), min(int(b), cols)  # while (x < stop)
                if start < stop:
                    out[r, start:stop] = True
    return out
