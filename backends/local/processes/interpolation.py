"""array_interpolate_linear on cubes as Copernicus runs it: by position, along an axis.

openeo-processes-dask's version interpolates one 1-D array only (inside
``apply_dimension`` it gets the whole cube and fails) and reads the positions from the
labels. Copernicus (OpenEOProcessScriptBuilder.scala ``linearInterpolation``, L367-392)
fills each run of nodata between two valid values linearly by index; nodata before the
first or after the last valid value stays nodata. Labels do not matter: dekads or
months of a composite are evenly spaced anyway.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _fill(values: np.ndarray) -> np.ndarray:
    """Gaps along the last axis filled linearly by position (float64)."""
    a = np.asarray(values, dtype=np.float64)
    n = a.shape[-1]
    if n == 0:
        return a
    index = np.broadcast_to(np.arange(n), a.shape)
    valid = np.isfinite(a)
    before = np.maximum.accumulate(np.where(valid, index, -1), axis=-1)
    after = np.minimum.accumulate(np.where(valid, index, n)[..., ::-1], axis=-1)[..., ::-1]
    gap = ~valid & (before >= 0) & (after < n)
    lo = np.take_along_axis(a, np.clip(before, 0, n - 1), axis=-1)
    hi = np.take_along_axis(a, np.clip(after, 0, n - 1), axis=-1)
    with np.errstate(all="ignore"):
        filled = lo + (index - before) * (hi - lo) / (after - before)
    return np.where(gap, filled, a)


def fill_along_axis(data: Any, axis: Any = None) -> Any:
    """Gaps of a numpy or dask array filled by position along ``axis`` (default: last)."""
    axis = -1 if axis is None else int(axis)
    if hasattr(data, "map_blocks"):
        import dask.array as da

        moved = da.moveaxis(data, axis, -1).rechunk({-1: -1})
        filled = moved.map_blocks(_fill, dtype=np.float64)
        return da.moveaxis(filled, -1, axis)
    return np.moveaxis(_fill(np.moveaxis(np.asarray(data), axis, -1)), -1, axis)
