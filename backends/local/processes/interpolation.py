"""array_interpolate_linear on cubes as Copernicus runs it: by position, along an axis.

openeo-processes-dask's version interpolates one 1-D array only (inside
``apply_dimension`` it gets the whole cube and fails) and reads the positions from the
labels. Copernicus (OpenEOProcessScriptBuilder.scala ``linearInterpolation``, L367-392)
fills each run of nodata between two valid values linearly by index; nodata before the
first or after the last valid value stays nodata; infinities are values. Labels do not
matter: dekads or months of a composite are evenly spaced anyway. On an integer cube
(the int16 bands, or their medians per period) the filled values keep their integer
part, and the result stays integer (:mod:`hybrid.backends.local.cell_types`).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _fill(values: np.ndarray, integer: bool = False) -> np.ndarray:
    """Gaps (NaN) along the last axis filled by position, in float64, as Copernicus
    fills them: each from the value before it, filled or not, towards the next valid one
    (``y0 + (current - previous) * (next - y0) / (nextIndex - previous)``); ``integer``:
    the filled values keep their integer part, as the int tile Copernicus writes them into
    (``multibandMap`` L177-194 on ``tile.mutable``, geotrellis ``setDouble``)."""
    a = np.asarray(values, dtype=np.float64)
    n = a.shape[-1]
    if n == 0:
        return a
    valid = ~np.isnan(a)
    index = np.broadcast_to(np.arange(n), a.shape)
    after = np.minimum.accumulate(np.where(valid, index, n)[..., ::-1], axis=-1)[..., ::-1]
    following = np.take_along_axis(a, np.clip(after, 0, n - 1), axis=-1)
    out = a.copy()
    last = np.full(a.shape[:-1], np.nan)
    last_index = np.full(a.shape[:-1], -1)
    for current in range(n):
        here = out[..., current]
        gap = ~valid[..., current] & (last_index >= 0) & (after[..., current] < n)
        with np.errstate(all="ignore"):
            step = (following[..., current] - last) / (after[..., current] - last_index)
            filled = last + (current - last_index) * step
        if integer:
            filled = np.trunc(filled)
        here[...] = np.where(gap, filled, here)
        known = ~np.isnan(here)
        last = np.where(known, here, last)
        last_index = np.where(known, current, last_index)
    return out


def fill_along_axis(data: Any, axis: Any = None, integer: bool = False) -> Any:
    """Gaps of a numpy or dask array filled by position along ``axis`` (default: last);
    ``integer``: the filled values truncated (an integer cube, see :func:`_fill`)."""
    axis = -1 if axis is None else int(axis)
    if hasattr(data, "map_blocks"):
        import dask.array as da

        moved = da.moveaxis(data, axis, -1).rechunk({-1: -1})
        filled = moved.map_blocks(_fill, integer, dtype=np.float64)
        return da.moveaxis(filled, -1, axis)
    return np.moveaxis(_fill(np.moveaxis(np.asarray(data), axis, -1), integer), -1, axis)
