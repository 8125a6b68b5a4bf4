"""The crop of a raster result at save_result, as Copernicus crops it.

Copernicus's save_result crops the cube to the extent its metadata holds, the load's
``spatial_extent`` (``strict_cropping``, on by default): the extent's four corners
reprojected into the cube's CRS and their envelope, and keeps the pixels overlapping it
(openeo-geopyspark-driver geopysparkdatacube.py L2023, L2093-2106, ``_reproject_extent``
L2931-2946; ``_collect_as_xarray`` L2782-2787: floor/ceil of the extent on the
layout). In the load's own CRS that is the load grid (:func:`crop_to_grid`, the
extent snapped outward); after ``resample_spatial`` to another CRS the extent's corners
are reprojected (:func:`crop_to_extents`), so the pixels the kernels' buffer or the
loads' own layout add around it are cut off there as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hybrid.grid import BBox, Grid


def crop_to_grid(data: Any, grid: Grid) -> Any:
    """The pixels of ``data`` that overlap ``grid``, whatever their size (a
    resample_spatial to 20 m keeps the 20 m pixels the extent touches)."""
    if "x" not in data.dims or "y" not in data.dims:
        return data
    return data.isel(
        x=overlapping_pixels(data["x"].values, grid.xmin, grid.xmax, grid.resolution),
        y=overlapping_pixels(data["y"].values, grid.ymin, grid.ymax, grid.resolution),
    )


def crop_to_extents(data: Any, extents: Sequence[BBox], crs: Any) -> Any:
    """The pixels of ``data`` (in ``crs``) that overlap the envelope of the ``extents``'
    corners reprojected into ``crs``; ``data`` itself without an extent."""
    from hybrid.grid import bounds_union, corner_envelope

    if not extents or "x" not in data.dims or "y" not in data.dims:
        return data
    xmin, ymin, xmax, ymax = bounds_union(
        corner_envelope((b.west, b.south, b.east, b.north), b.crs, crs) for b in extents
    )
    size = max(xmax - xmin, ymax - ymin)
    return data.isel(
        x=overlapping_pixels(data["x"].values, xmin, xmax, size),
        y=overlapping_pixels(data["y"].values, ymin, ymax, size),
    )


def overlapping_pixels(centres: Any, low: float, high: float, default: float) -> Any:
    """The pixels (given by their regular ``centres``) overlapping ``(low, high)`` by more
    than a millionth of a pixel: one run of them, a slice (:func:`hybrid.grid.kept_pixels`);
    ``default`` the pixel size of a single pixel. Copernicus's crop of an extent at
    save_result, also what filter_bbox and filter_spatial keep (their extent is the one
    save_result crops to)."""
    import numpy as np

    from hybrid.grid import kept_pixels, pixel_step

    centres = np.asarray(centres, dtype=np.float64)
    size = abs(pixel_step(centres, default))
    eps = 1e-6 * size
    return kept_pixels((centres - size / 2 < high - eps) & (centres + size / 2 > low + eps))
