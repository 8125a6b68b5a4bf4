"""Polygons on the 10 m grid as Copernicus uses them: aggregate_spatial, mask_polygon,
filter_spatial. Written from the driver code, sharing nothing with ``hybrid``:

- a pixel belongs to a polygon when its centre lies inside (geopyspark ``RasterizerOptions()``,
  ``PixelIsPoint``: geopysparkdatacube.py ``mask_polygon`` L1163-1174; the zones of
  AggregatePolygonProcess.scala), a centre on an edge as geotrellis's scanline decides
  (tests/reference/scanline.py); the polygon's vertices are reprojected one by one
  (``reproject_geometry``); a point reads the one pixel geotrellis maps it to
  (tests/reference/points.py);
- aggregate_spatial turns each pixel into a Spark row, nodata into null
  (AggregatePolygonProcess.scala L270-306) and reduces the rows per date and polygon with
  Spark's aggregates (SparkAggregateScriptBuilder.scala L122-146): ``avg``, ``max``,
  ``count`` of the non-null cells (0 when all are null), ``median`` (exact, the mean of the
  two middle values), ``stddev`` (sample; null for one value, Spark 3 default); a polygon
  around no pixel centre has no row;
- filter_spatial masks, then crops to the reprojected polygons' bounds as filter_bbox does
  (geopysparkdatacube.py ``filter_spatial`` L261-289, ``filter_bbox`` L258-259).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from tests.reference.grid import RESOLUTION, Grid, snap_outward
from tests.reference.points import point_cell
from tests.reference.scanline import polygon_cells

STATISTICS = ("mean", "median", "max", "min", "count", "sd")


def projected(geometry: dict[str, Any], epsg: int) -> Any:
    """A lon/lat GeoJSON geometry with its vertices reprojected to ``epsg``."""
    to_utm = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
    return shapely.transform(
        shape(geometry), lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))
    )


def centres_inside(geometry: dict[str, Any], grid: Grid) -> np.ndarray:
    """(y, x) bool: the output pixels whose centre lies inside the polygon, a centre on
    its boundary as geotrellis's scanline decides (tests/reference/scanline.py)."""
    polygon = projected(geometry, grid.epsg)
    xmin, _, _, ymax = grid.bounds
    shape = (grid.height, grid.width)
    if polygon.geom_type in ("Polygon", "MultiPolygon"):
        return polygon_cells(polygon, xmin=xmin, ymax=ymax, size=RESOLUTION, shape=shape)
    if polygon.geom_type == "Point":
        out = np.zeros(shape, dtype=bool)
        cell = point_cell(polygon.x, polygon.y, xmin=xmin, ymax=ymax, size=RESOLUTION, shape=shape)
        if cell is not None:
            out[cell] = True
        return out
    xs, ys = np.meshgrid(grid.x, grid.y)
    return shapely.contains_xy(polygon, xs, ys)


def statistic(values: np.ndarray, reducer: str, *, integer: bool = False) -> float | None:
    """One Spark aggregate over a polygon's cells of one date (NaN: null). ``integer``:
    an int16 cube's integer column, whose median is cast back to it (truncated:
    ``median(col).cast(col.expr.dataType)``, SparkAggregateScriptBuilder.scala L142)."""
    valid = values[~np.isnan(values)].astype(np.float64)
    if reducer == "count":
        return float(valid.size)
    if valid.size == 0 or (reducer == "sd" and valid.size < 2):
        return None
    if reducer == "mean":
        return float(valid.sum() / valid.size)
    if reducer == "median":
        return float(np.trunc(np.median(valid)) if integer else np.median(valid))
    if reducer == "max":
        return float(valid.max())
    if reducer == "min":
        return float(valid.min())
    if reducer == "sd":
        return float(valid.std(ddof=1))
    raise ValueError(f"unknown reducer {reducer!r}; use one of {', '.join(STATISTICS)}")


def aggregate_polygons(
    stack: np.ndarray,
    grid: Grid,
    geometries: list[dict[str, Any]],
    reducer: str,
    *,
    integer: bool = False,
) -> list[list[float | None] | None]:
    """Per date, per polygon: the statistic, or None for a polygon around no centre
    (no row at all) and for a null aggregate."""
    inside = [centres_inside(g, grid) for g in geometries]
    out: list[list[float | None] | None] = []
    for layer in stack:
        out.append(
            [statistic(layer[m], reducer, integer=integer) if m.any() else None for m in inside]
        )
    return out


def covers_a_centre(geometry: dict[str, Any], grid: Grid) -> bool:
    return bool(centres_inside(geometry, grid).any())


def mask_polygon(stack: np.ndarray, grid: Grid, geometry: dict[str, Any]) -> np.ndarray:
    """Nodata wherever the pixel centre lies outside the polygon (all dates)."""
    return np.where(centres_inside(geometry, grid), stack, np.nan)


def crop_window(grid: Grid, geometry: dict[str, Any]) -> tuple[slice, slice, Grid]:
    """filter_spatial/filter_bbox: the pixels of ``grid`` the reprojected bounds overlap."""
    xmin, ymin, xmax, ymax = snap_outward(projected(geometry, grid.epsg).bounds)
    gx0, _, _, gy1 = grid.bounds
    cols = slice(max(0, math.floor((xmin - gx0) / RESOLUTION)), round((xmax - gx0) / RESOLUTION))
    rows = slice(max(0, math.floor((gy1 - ymax) / RESOLUTION)), round((gy1 - ymin) / RESOLUTION))
    cols = slice(cols.start, min(cols.stop, grid.width))
    rows = slice(rows.start, min(rows.stop, grid.height))
    bounds = (
        gx0 + cols.start * RESOLUTION,
        gy1 - rows.stop * RESOLUTION,
        gx0 + cols.stop * RESOLUTION,
        gy1 - rows.start * RESOLUTION,
    )
    return rows, cols, Grid(epsg=grid.epsg, bounds=bounds, buffer=0)
