"""The pixels a polygon covers, as geotrellis 3.7.1 picks them (pixel centres).

Copernicus builds on geotrellis 3.7.1 (openeo-geotrellis-extensions 2a25a26e pom.xml
L16) and rasterizes polygons with ``PixelIsPoint`` options: aggregate_spatial
(LayerProvider.scala ``createMaskLayer`` L17-47, AggregatePolygonProcess.scala L119,
L179), mask_polygon (geopyspark ``RasterizerOptions()``, geopysparkdatacube.py
L1163-1174) and vector_to_raster (VectorCubeMethods.scala L109). That is
``PolygonRasterizer.foreachCellByPolygon`` with ``runsPoint`` (locationtech/geotrellis
v3.7.1 b16d847d ``raster/src/main/scala/geotrellis/raster/rasterize/polygon/
PolygonRasterizer.scala`` L106-119 ``lineAxisIntersection``, L188-270 ``runsPoint``,
L434-474 ``foreachCellByPolygon``; Rasterizer.scala L234-236 a MultiPolygon part by
part). Per pixel row, in grid coordinates, the scanline through the centres meets the
rings' edges: a crossing at an edge's upper end counts +1, at its lower end -1, between
0; on a row holding a horizontal edge only one side's crossings stay (the one dropping
fewer, L218-235). When two kept crossings of a row land on the same x (a double), the
row's crossings are computed again exactly (spire ``Rational``, L238-254) and rounded
back to doubles as spire 0.17.0 ``Rational.toDouble`` does (:func:`spire_double`);
the crossings at one x are summed and kept for -1, 0 or 1 (L256-265); pairs of kept
``x + 0.5``, truncated, give [start, stop) columns (L462-471). A row left with an odd
number of crossings fails the whole rasterization (L450-459): :class:`PolygonUnrasterizable`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from hybrid.errors import PolygonUnrasterizable


def polygon_mask(geometry: Any, transform: Any, shape: tuple[int, int]) -> np.ndarray:
    """(rows, cols) bool of the pixels a Polygon or MultiPolygon (in the grid's CRS)
    covers; ``transform`` an affine with square, north-up pixels."""
    out = np.zeros(shape, dtype=bool)
    parts = geometry.geoms if geometry.geom_type == "MultiPolygon" else [geometry]
    for polygon in parts:  # geotrellis rasterizes a MultiPolygon part by part
        out |= _part(polygon, transform, shape)
    return out


def spire_double(value: Fraction) -> float:
    """``value`` as spire 0.17.0 ``Rational.toDouble`` gives it (typelevel/spire
    core/src/main/scala/spire/math/Rational.scala L291-315): the magnitude cut to 54
    significant bits and rounded half up on the last one, a carry out of the 53 bits
    lost (a value a hair below a power of two becomes half that power)."""
    if value == 0:
        return 0.0
    if value < 0:
        return -spire_double(-value)
    exponent = value.numerator.bit_length() - value.denominator.bit_length()
    if value < Fraction(2) ** exponent:
        exponent -= 1  # now 2**exponent <= value < 2**(exponent + 1)
    bits54 = int(value / Fraction(2) ** (exponent - 53))  # in [2**53, 2**54)
    mantissa = (bits54 + 1) >> 1
    if mantissa == 1 << 53:
        mantissa = 1 << 52  # the carry spire's mask drops
    return math.ldexp(mantissa, exponent - 52)


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


def _crossings(edges: np.ndarray, rows: int) -> tuple[np.ndarray, ...]:
    """(row, x, parity, edge) of every crossing kept after the horizontal-edge rule."""
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
    return row[keep], x[keep], parity[keep], edge[keep]


def _exactly(x: np.ndarray, row: np.ndarray, parity: np.ndarray, edge: np.ndarray,
             edges: np.ndarray) -> np.ndarray:  # fmt: skip
    """``x`` with the between-ends crossings of every row where two crossings share an
    x computed again in exact arithmetic (PolygonRasterizer.scala L238-254)."""
    order = np.lexsort((x, row))
    same = (row[order][1:] == row[order][:-1]) & (x[order][1:] == x[order][:-1])
    redo = np.isin(row, row[order][1:][same]) & (parity == 0)
    x = x.copy()
    for k in np.flatnonzero(redo).tolist():
        c1, r1, c2, r2 = (Fraction(float(v)) for v in edges[edge[k]])
        y = Fraction(int(row[k])) + Fraction(1, 2)
        x[k] = spire_double(((c1 - c2) * y - (c1 * r2 - r1 * c2)) / (r1 - r2))
    return x


def _part(polygon: Any, transform: Any, shape: tuple[int, int]) -> np.ndarray:
    rows, cols = shape
    edges = _edges(polygon, transform)
    row, x, parity, edge = _crossings(edges, rows)
    x = _exactly(x, row, parity, edge, edges)
    order = np.lexsort((x, row))
    row, x, parity = row[order], x[order], parity[order]
    new = np.ones(len(x), dtype=bool)
    new[1:] = (row[1:] != row[:-1]) | (x[1:] != x[:-1])
    starts = np.flatnonzero(new)
    total = np.add.reduceat(parity, starts) if len(starts) else parity[:0]
    kept = np.abs(total) <= 1
    row, x = row[starts][kept], x[starts][kept] + 0.5
    _check_even(polygon, row, transform)
    opening = np.flatnonzero(_position_in_row(row) % 2 == 0)
    start = np.clip(np.trunc(x[opening]), 0, cols).astype(np.int64)
    stop = np.clip(np.trunc(x[opening + 1]), 0, cols).astype(np.int64)
    out = np.zeros(shape, dtype=bool)
    for r, a, b in zip(row[opening].tolist(), start.tolist(), stop.tolist(), strict=True):
        out[r, a:b] = True
    return out


def _position_in_row(row: np.ndarray) -> np.ndarray:
    """Each crossing's index among its row's (``row`` sorted)."""
    first_of_row = np.ones(len(row), dtype=bool)
    first_of_row[1:] = row[1:] != row[:-1]
    return np.arange(len(row)) - np.maximum.accumulate(
        np.where(first_of_row, np.arange(len(row)), 0)
    )


def _check_even(polygon: Any, row: np.ndarray, transform: Any) -> None:
    """geotrellis fails on a row with an odd number of kept crossings
    (PolygonRasterizer.scala L450-459): IllegalArgumentException for an invalid polygon,
    else IllegalStateException; the job fails on Copernicus (geopyspark-driver 9baf2e10
    backend.py L1097-1098, L1159: 400 BadRequest for the first, 500 for the second)."""
    counts = np.bincount(row) if len(row) else np.zeros(0, np.int64)
    odd = np.flatnonzero(counts % 2 == 1)
    if not len(odd):
        return
    y = transform.f + (int(odd[0]) + 0.5) * transform.e
    if not polygon.is_valid:
        raise PolygonUnrasterizable(
            "Cannot rasterize an invalid polygon (geotrellis, as on Copernicus): make the "
            "polygon valid, e.g. with shapely.make_valid or QGIS 'Fix geometries'"
        )
    raise PolygonUnrasterizable(
        "a polygon cannot be rasterized as Copernicus does: geotrellis finds an odd number "
        f"of edge crossings along the row of pixel centres at y = {y!r} (Copernicus fails "
        "with 'Rasterizer encountered an error: an odd number of X axis intersections'); "
        "move the polygon's vertices on that line off it, e.g. by a fraction of a pixel"
    )
