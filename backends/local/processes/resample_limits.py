"""The size a resample_spatial may give a cube, as Copernicus limits it.

Copernicus's dry run hands a resample_spatial's resolution to the load, whose
``ExtentTooLarge`` check counts the pixels at that resolution (x * y * dates * bands)
and refuses more than :data:`MAX_PIXELS` with ``ProcessGraphComplexity``
(openeo-geopyspark-driver ``layercatalog.py`` ``load_collection`` L102-121,
``is_layer_too_large`` L1403-1410 and L1426-1444). Here the check runs before the new
grid is built: a resolution of 1e-9 m over a small area asked for a grid of 10^23 cells
and ran the server out of memory (a 500 ``MemoryError``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.errors import ExtentTooLarge

#: the most pixels Copernicus loads (``LARGE_LAYER_THRESHOLD_IN_PIXELS``, L78)
MAX_PIXELS = 10**11


def check_pixels(data: Any, source: Any, target: Any, res: Any) -> None:
    """Refuse a resolution ``res`` (odc-geo ``Resolution``, ``target`` units) that makes
    ``data`` (in ``source``) larger than :data:`MAX_PIXELS`."""
    from odc.geo.geobox import GeoBox

    x, y = np.asarray(data["x"].values, dtype=float), np.asarray(data["y"].values, dtype=float)
    if not x.size or not y.size:
        return
    step_x = abs(float(x[1] - x[0])) if x.size > 1 else 0.0
    step_y = abs(float(y[1] - y[0])) if y.size > 1 else 0.0
    west, east = float(x.min()) - step_x / 2, float(x.max()) + step_x / 2
    south, north = float(y.min()) - step_y / 2, float(y.max()) + step_y / 2
    extent = GeoBox.from_bbox((west, south, east, north), source, shape=(1, 1)).extent
    box = extent.to_crs(target).boundingbox
    columns = (box.right - box.left) / abs(res.x)
    rows = (box.top - box.bottom) / abs(res.y)
    others = data.size // max(x.size * y.size, 1)
    pixels = columns * rows * others
    if pixels > MAX_PIXELS:
        raise ExtentTooLarge(
            f"resample_spatial: resolution {abs(res.x):g} x {abs(res.y):g} makes the cube "
            f"{columns:.0f} x {rows:.0f} pixels ({pixels:.3g} with its other dimensions); "
            f"Copernicus computes at most {MAX_PIXELS:.0e}: choose a coarser resolution"
        )
