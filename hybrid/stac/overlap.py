"""Where tiles overlap on a date: which product serves which layout key.

Copernicus decides per layout tile ("key") of the load grid, before reading any pixel
[openeo-geotrellis-extensions FileLayerProvider.scala, ``readKeysToRasterSources``,
the ``resolveTileOverlap`` block, and ``selectLayoutScheme``]:

- keys are ``key_size`` x ``key_size`` pixels of the (buffered) load grid from its
  upper-left corner; ``key_size`` is 256, 512 when the grid holds at least two keys
  each way, and for grids smaller than 256 px both ways the next power of two of the
  larger side (at least 16);
- a product is a candidate for a key when its footprint (item geometry, else bbox,
  reprojected vertex by vertex into the target CRS) intersects the key; one candidate
  serves the key alone;
- otherwise each candidate's footprint is shrunk by 1.5 x the key side. Its distance
  to the key is the distance of the key to the shrunk footprint, or, when nothing is
  left of it, the distance of the key to the footprint's centroid (+1e-5 unless the
  footprint contains the key);
- if no distance is 0: the candidates whose footprint contains the key serve it, or
  all candidates when none does;
- else, of the candidates at distance 0, those in the target CRS serve it; when none
  is, the one whose footprint envelope centre is nearest to the key centre;
- the serving products are merged in ascending source name order, the first valid
  value winning per pixel and band; dropped products never fill gaps.

FIELD_NOTES section 1 says "if a key lies inside the shrunk footprint of several
products"; the code acts as soon as one candidate's shrunk footprint touches the key,
and has the "contains the key" rule for keys touching none.

Not followed here:

- the merge puts a product whose read of the key was padded (the key reaches past the
  product's raster, geotrellis ``PaddedTile``) before the others (FileLayerProvider.scala
  ``loadPartition`` sortWith, L859-867 at 2a25a26e). For GeoTIFF/COG sources the raster
  is the load's whole target region for every product, so all or none are padded and
  the order stays the source name; only the GDAL/JP2 sources (CDSE's own STAC) read
  the product's raster extent (``featureExtentInLayout``), and there a padded product
  still serves a key only when no candidate's shrunk footprint touches it and none
  contains it. FIELD_NOTES does not have the rule.
- the layout keys start at the corner of the dry run's global extent (the requested
  extent aligned to the most common asset grid, post_dry_run.py L300-372, reprojected
  into the load's CRS by DatacubeSupport.getLayout L47-62), not at the load grid's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hybrid.stac.selection import item_epsg

if TYPE_CHECKING:
    import numpy as np

    from hybrid.grid import Grid

#: the default layout tile side, pixels
KEY_SIZE = 256
#: footprints are shrunk by this many key sides
SHRINK_KEYS = 1.5


def whole_keys(grid: Grid) -> tuple[Grid, int]:
    """``grid`` grown east and south to whole layout keys (the pixels Copernicus reads
    for its keys), and the keys' side."""
    from hybrid.grid import Grid

    side = key_size(grid.width, grid.height)
    step = side * grid.resolution
    width, height = math.ceil(grid.width / side) * step, math.ceil(grid.height / side) * step
    grown = Grid(
        grid.epsg, grid.xmin, grid.ymax - height, grid.xmin + width, grid.ymax, grid.resolution
    )
    return grown, side


def key_size(width: int, height: int) -> int:
    """The layout tile side Copernicus picks for a load grid of ``width`` x ``height``."""
    if width < KEY_SIZE and height < KEY_SIZE:
        return max(16, _next_power_of_two(width), _next_power_of_two(height))
    if min(height // KEY_SIZE, width // KEY_SIZE) >= 2:
        return 2 * KEY_SIZE
    return KEY_SIZE


def _next_power_of_two(n: int) -> int:
    return 1 if n <= 0 else 1 << (n - 1).bit_length()


def footprint(item: Any, epsg: int) -> Any:
    """The item's footprint (geometry, else bbox) in ``epsg``, vertices reprojected."""
    import shapely
    from pyproj import Transformer
    from shapely.geometry import box, shape

    if item.geometry:
        geometry = shape(item.geometry)
    else:
        bb = item.bbox
        geometry = box(bb[0], bb[1], bb[3], bb[4]) if len(bb) == 6 else box(*bb)
    project = Transformer.from_crs(4326, epsg, always_xy=True).transform
    return shapely.transform(geometry, project, interleaved=False)


def serving_items(
    candidates: Sequence[tuple[Any, Any]], key: Any, *, target_epsg: int
) -> list[Any]:
    """Of ``(item, footprint)`` candidates intersecting ``key`` (a shapely box), the
    items that serve it."""
    if len(candidates) == 1:
        return [candidates[0][0]]
    side = max(key.bounds[2] - key.bounds[0], key.bounds[3] - key.bounds[1])
    rated = []
    for item, outline in candidates:
        contains = outline.contains(key)
        shrunk = outline.buffer(-SHRINK_KEYS * side, quad_segs=8)
        if shrunk.is_empty:
            distance = key.distance(outline.centroid) + (0.0 if contains else 1e-5)
        else:
            distance = key.distance(shrunk)
        env = outline.envelope.centroid
        centre = math.dist(
            ((key.bounds[0] + key.bounds[2]) / 2, (key.bounds[1] + key.bounds[3]) / 2),
            (env.x, env.y),
        )
        rated.append((item, distance, contains, centre))
    if min(r[1] for r in rated) > 0:
        inside = [r[0] for r in rated if r[2]]
        return inside or [r[0] for r in rated]
    touching = [r for r in rated if r[1] == 0]
    native = [r[0] for r in touching if item_epsg(r[0]) == target_epsg]
    return native or [min(touching, key=lambda r: r[3])[0]]


def serving_keys(items: Sequence[Any], grid: Grid, side: int | None = None) -> list[np.ndarray]:
    """Per item (in order), bool (rows, cols) of the layout keys of ``grid``
    (:func:`key_size` pixels each unless ``side`` is given, from the upper-left corner):
    the keys it may serve. One byte a key, not a pixel: :func:`key_mask` expands them
    block by block."""
    import numpy as np
    import shapely

    side = side or key_size(grid.width, grid.height)
    rows, cols = math.ceil(grid.height / side), math.ceil(grid.width / side)
    step = side * grid.resolution
    x0 = grid.xmin + step * np.arange(cols)
    y1 = grid.ymax - step * np.arange(rows)
    xx, yy = np.meshgrid(x0, y1)  # (rows, cols) upper-left corners
    boxes = shapely.box(xx, yy - step, xx + step, yy)
    outlines = [footprint(item, grid.epsg) for item in items]
    # candidates: footprint intersects the key (vectorised); one candidate serves alone
    keys = np.stack([shapely.intersects(o, boxes) for o in outlines]) if outlines else None
    if keys is None:
        return []
    for r, c in zip(*np.nonzero(keys.sum(axis=0) > 1), strict=True):
        candidates = [(int(n), outlines[n]) for n in np.flatnonzero(keys[:, r, c])]
        served = set(_serving_indices(items, candidates, boxes[r, c], grid.epsg))
        for n, _ in candidates:
            keys[n, r, c] = n in served
    return list(keys)


def key_mask(keys: np.ndarray, side: int, chunks: tuple[tuple[int, ...], ...]) -> Any:
    """A lazy bool dask array with ``chunks`` whose last two axes are pixels: ``keys``
    (same leading axes, then key rows and columns) repeated ``side`` x ``side``. Each
    block is built from the keys when computed, so memory follows the block, not the
    grid."""
    import dask.array as da
    import numpy as np

    def block(block_info: Any = None) -> np.ndarray:
        where = block_info[None]["array-location"]
        (y0, y1), (x0, x1) = where[-2], where[-1]
        lead = tuple(slice(a, b) for a, b in where[:-2])
        rows = np.arange(y0, y1) // side
        cols = np.arange(x0, x1) // side
        return np.asarray(keys[lead][..., rows, :][..., cols])

    return da.map_blocks(block, dtype=bool, chunks=chunks, meta=np.empty((0,) * len(chunks), bool))


def _serving_indices(
    items: Sequence[Any], candidates: list[tuple[int, Any]], key: Any, epsg: int
) -> list[int]:
    if not candidates:
        return []
    by_id = {id(items[n]): n for n, _ in candidates}
    served = serving_items([(items[n], o) for n, o in candidates], key, target_epsg=epsg)
    return [by_id[id(item)] for item in served]
