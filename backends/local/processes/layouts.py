"""Two cubes on one pixel layout before merge_cubes joins them, as Copernicus does.

Copernicus merges tile by tile on one layout: the right cube is reprojected onto the
left cube's CRS and layout with nearest neighbour (openeo-geotrellis-extensions
``OpenEOProcesses.scala`` L832-853 ``resampleCubeSpatial``, called by ``mergeCubes``
L936-945 and ``mergeSpatialCubes`` L926-935), then the keys of both are outer-joined,
so the result covers both extents on the left's pixel size and alignment. When only one
cube has time, the space-time cube is the left one (``mergeCubes_SpaceTime_Spatial``
L882-884; geopyspark-driver ``geopysparkdatacube.py`` L1083-1104 passes it first and
swaps the operands back).

The joined cube's extent is the bounding box of both (``mergeCubes`` L943 and
``mergeSpatialCubes`` L932: ``extent = left.extent.combine(right.extent)``, key bounds
``Bounds.combine`` in ``outerJoin`` L669-676), so cubes whose extents do not touch give
one raster with nodata between them: :func:`regular_labels` fills the x/y labels that
neither cube has.

A layout here is a cube's x/y labels: pixel size, alignment of the pixel centres, CRS.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hybrid.backends.local.processes.resampling import onto_grid
from hybrid.backends.local.processes.vector import cube_crs
from hybrid.errors import ProcessParameterInvalid
from hybrid.grid import pixel_step

#: metres (CRS units) within which two pixel centres are the same
_ATOL = 1e-6


def on_one_layout(cube1: Any, cube2: Any) -> tuple[Any, Any]:
    """``cube1`` and ``cube2``, the one not setting the layout resampled (nearest) onto
    the other's (``cube1``'s, unless only ``cube2`` has time); as given when they
    already share it, or when either has no x/y or no known CRS."""
    if not all(d in c.dims for c in (cube1, cube2) for d in ("x", "y")):
        return cube1, cube2
    swap = not _has_time(cube1) and _has_time(cube2)
    base, other = (cube2, cube1) if swap else (cube1, cube2)
    try:
        same_crs = cube_crs(base, "merge_cubes") == cube_crs(other, "merge_cubes")
    except ProcessParameterInvalid:
        return cube1, cube2  # no CRS to compare: the labels are taken as they are
    if same_crs and all(_aligned(base[d].values, other[d].values) for d in ("x", "y")):
        return cube1, cube2
    moved = _onto_layout(other, base, same_crs)
    return (moved, cube2) if swap else (cube1, moved)


def _has_time(cube: Any) -> bool:
    return any(str(d) == "t" or cube[d].dtype.kind == "M" for d in cube.dims)


def _step(labels: Any) -> float | None:
    return pixel_step(np.asarray(labels, dtype=np.float64))


def _aligned(base: Any, other: Any) -> bool:
    """Whether ``other``'s centres lie on ``base``'s pixel grid with its pixel size."""
    step, own = _step(base), _step(other)
    if step is None:
        return True  # one pixel: no pixel size to tell
    if own is not None and abs(own - step) > _ATOL:
        return False
    ratio = (float(other[0]) - float(base[0])) / step
    return abs(ratio - round(ratio)) * abs(step) <= _ATOL


def _onto_layout(cube: Any, base: Any, same_crs: bool) -> Any:
    """``cube`` on ``base``'s layout over its own extent (nearest neighbour)."""
    import xarray as xr

    if not same_crs:
        from hybrid.backends.local.processes.resampling import resample_spatial

        target = cube_crs(base, "merge_cubes")
        cube = resample_spatial(cube, projection=target.to_epsg() or target.to_wkt())
    labels = {d: _centres_within(base[d].values, cube[d].values) for d in ("x", "y")}
    reference = xr.DataArray(
        np.zeros((labels["y"].size, labels["x"].size), dtype=np.uint8),
        dims=("y", "x"),
        coords=labels,
        attrs=dict(base.attrs),
    )
    return onto_grid(cube, reference, "merge_cubes")


def regular_labels(labels: Any, *own: Any) -> Any:
    """x or y ``labels`` united from cubes on one layout (``own``: each cube's labels),
    with the pixel centres between them that neither cube has: a regular grid from the
    first to the last label in ``labels``' order, the given labels kept exactly. As
    given when no pixel size is known (one-pixel cubes) or a label is off the grid."""
    step = next((s for s in map(_step, own) if s is not None), None)
    values = np.asarray(labels, dtype=np.float64)
    if step is None or values.size < 2 or step == 0:
        return labels
    step = math.copysign(step, float(values[-1] - values[0]))
    ratios = (values - values[0]) / step
    index = np.rint(ratios).astype(np.int64)
    if np.any(np.abs(ratios - index) * abs(step) > _ATOL) or index[-1] + 1 == values.size:
        return labels
    grid = values[0] + step * np.arange(index[-1] + 1, dtype=np.float64)
    grid[index] = values
    return grid


def _centres_within(base: Any, labels: Any) -> Any:
    """The pixel centres of ``base``'s grid (its size and alignment, extended beyond
    it) that lie in the extent of the pixels centred on ``labels``: [left edge, right
    edge), in ``base``'s order (x ascending, y descending)."""
    step = _step(base)
    own = _step(labels)
    if step is None:
        return np.asarray(base, dtype=np.float64)
    half = abs(own if own is not None else step) / 2
    values = np.asarray(labels, dtype=np.float64)
    low, high = float(values.min()) - half, float(values.max()) + half
    origin = float(base[0])
    ends = sorted(((low - origin) / step, (high - origin) / step))
    first, last = math.ceil(ends[0] - 1e-9), math.floor(ends[1] + 1e-9)
    centres = origin + step * np.arange(first, last + 1, dtype=np.float64)
    inside = (centres >= low - _ATOL) & (centres < high - _ATOL)
    return centres[inside]
