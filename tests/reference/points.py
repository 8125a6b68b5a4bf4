"""Which pixel a point reads on Copernicus, written from geotrellis's code.

aggregate_spatial with Point geometries takes the path of the geometries as WKT
(openeo-geopyspark-driver 9baf2e10 geopysparkdatacube.py L1878, L1942-1955;
``utils.py`` ``to_projected_polygons`` L222-226 answers None for any Point), which is
openeo-geotrellis-extensions 2a25a26e AggregatePolygonProcess.scala
``aggregateSpatialForGeometry`` L102-158: each point is clipped to its layout key
(geotrellis ``ClipToGrid`` L183) and visited with ``Rasterizer.foreachCellByPoint``
(locationtech/geotrellis v3.7.1 raster/.../rasterize/Rasterizer.scala L148-152), i.e.
``RasterExtent.mapXToGrid``/``mapYToGrid`` (GridExtent.scala L80-89):
column ``(x - xmin) / width`` and row ``(ymax - y) / height``, each floored, except that a
value closer than ``1e-7`` to a whole number is that number (``floorWithTolerance``,
GridExtent.scala L388, L418-422).

So a point on a vertical pixel edge reads the pixel east of it, on a horizontal edge the
one south of it, on a corner the south-east one, and so does a point less than 1e-7 pixel
west of (or north of) such an edge. A point outside the grid reads nothing (no key).
"""

from __future__ import annotations

import math

#: geotrellis ``GridExtent.epsilon``
TOLERANCE = 0.0000001


def _grid_index(value: float) -> int:
    nearest = math.floor(value + 0.5)  # java Math.round
    if abs(value - nearest) < TOLERANCE:
        return int(nearest)
    return math.floor(value)


def point_cell(
    x: float, y: float, *, xmin: float, ymax: float, size: float, shape: tuple[int, int]
) -> tuple[int, int] | None:
    """(row, col) of the pixel a point at (x, y) reads on a north-up grid of square
    ``size`` pixels whose upper-left corner is (xmin, ymax); None outside the grid."""
    col = _grid_index((x - xmin) / size)
    row = _grid_index((ymax - y) / size)
    if 0 <= row < shape[0] and 0 <= col < shape[1]:
        return row, col
    return None
