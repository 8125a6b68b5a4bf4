"""Per-key tile-overlap resolution, written from FileLayerProvider.scala (resolveTileOverlap).

For every layout key (a square of ``side`` load-grid pixels from the upper-left corner)
and date, only some of the date's products may deliver pixels; the others do not fill
its gaps. Independent of ``hybrid``/``backends``.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, box, shape

from tests.reference.catalog import RefItem
from tests.reference.grid import RESOLUTION, Grid


def layout_side(cols: int, rows: int) -> int:
    """FileLayerProvider.selectLayoutScheme for one bbox, no experimental flag."""
    if cols < 256 and rows < 256:
        power = 1
        while power < max(cols, rows):
            power *= 2
        return max(16, power)
    return 512 if min(math.floor(rows / 256), math.floor(cols / 256)) >= 2 else 256


def item_outline(item: RefItem, epsg: int) -> Polygon:
    """Geometry (or bbox) in the target CRS, corners reprojected one by one."""
    if item.geometry is not None:
        lonlat = shape(item.geometry)
    else:
        assert item.bbox is not None, f"item {item.id} has neither geometry nor bbox"
        lonlat = box(*item.bbox)
    to_utm = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
    return shapely.transform(
        lonlat, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))
    )


def _choose(
    key: Polygon, candidates: list[tuple[int, Polygon, int | None]], epsg: int
) -> list[int]:
    """Indices serving ``key`` among (index, outline, item epsg) candidates."""
    if len(candidates) < 2:
        return [c[0] for c in candidates]
    kx0, ky0, kx1, ky1 = key.bounds
    side = max(kx1 - kx0, ky1 - ky0)
    facts = []
    for index, outline, item_epsg in candidates:
        covers = bool(outline.contains(key))
        inner = outline.buffer(-1.5 * side, 8)
        if inner.is_empty:
            far = key.distance(outline.centroid) + (0.0 if covers else 0.00001)
        else:
            far = key.distance(inner)
        ex0, ey0, ex1, ey1 = outline.bounds
        centres = math.hypot((kx0 + kx1) / 2 - (ex0 + ex1) / 2, (ky0 + ky1) / 2 - (ey0 + ey1) / 2)
        facts.append(
            {"i": index, "far": far, "covers": covers, "centres": centres, "epsg": item_epsg}
        )
    if all(f["far"] > 0 for f in facts):
        covering = [f["i"] for f in facts if f["covers"]]
        return covering if covering else [f["i"] for f in facts]
    near = [f for f in facts if f["far"] == 0]
    same_crs = [f["i"] for f in near if f["epsg"] == epsg]
    if same_crs:
        return same_crs
    return [min(near, key=lambda f: f["centres"])["i"]]


def allowed_pixels(items: list[RefItem], grid: Grid) -> list[np.ndarray]:
    """Per item, bool on the load grid: True where it may deliver pixels."""
    rows, cols = grid.load_shape
    side = layout_side(cols, rows)
    outlines = [item_outline(item, grid.epsg) for item in items]
    xmin, _, _, ymax = grid.load_bounds
    out = [np.zeros((rows, cols), dtype=bool) for _ in items]
    metres = side * RESOLUTION
    for top in range(0, rows, side):
        for left in range(0, cols, side):
            x0 = xmin + left * RESOLUTION
            y1 = ymax - top * RESOLUTION
            key = box(x0, y1 - metres, x0 + metres, y1)
            candidates = [
                (n, outline, items[n].epsg)
                for n, outline in enumerate(outlines)
                if outline.intersects(key)
            ]
            for n in _choose(key, candidates, grid.epsg):
                out[n][top : top + side, left : left + side] = True
    return out
