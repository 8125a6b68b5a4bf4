"""The nodata-skipping mean of float arrays, one slice at a time.

``numpy.nanmean`` copies the whole input to put zeros where it is NaN, sums the copy,
then counts the valid cells with a second NaN test and a second sum. The temporal mean
of the NDVI graph (a period's dates, as float64) spent about twice the time of one
pass in it. :func:`nan_mean` walks the reduced axis instead, adding one slice at a time
(NaN as zero) and counting its valid cells, and divides as numpy does: the same
additions in the same order (numpy adds the slices of an axis that is not the
innermost one of a C-ordered array one after the other; along the innermost axis it
sums pairwise, so that case, and any other memory layout, stays numpy's), so the result
is bit for bit ``numpy.nanmean``'s, dtype included.

On a dask array whose reduced axis lies in one chunk it runs block by block; otherwise
(several chunks along the axis, integer data, ``keepdims``) the caller keeps numpy's.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def applies(data: Any, axis: Any, keepdims: bool) -> bool:
    """Whether :func:`nan_mean_of` can take this reduction: a numpy array, or a dask
    array with ``axis`` in one chunk (not an xarray object, a list, ...)."""
    import dask.array as da

    lazy = isinstance(data, da.Array)
    if keepdims or not (lazy or isinstance(data, np.ndarray)):
        return False
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        return False
    if np.dtype(data.dtype).kind != "f" or not -data.ndim <= axis < data.ndim:
        return False
    if data.shape[axis] == 0:
        return False
    return not lazy or len(data.chunks[axis]) == 1


def nan_mean_of(data: Any, axis: int) -> Any:
    """``numpy.nanmean(data, axis)`` for a numpy or dask array (see :func:`applies`)."""
    axis = int(axis) % data.ndim
    if isinstance(data, np.ndarray):
        result = nan_mean(data, axis)
        return result[()] if result.ndim == 0 else result
    import dask.array as da

    kept = tuple(i for i in range(data.ndim) if i != axis)
    meta = np.empty((0,) * len(kept), dtype=data.dtype)
    return da.blockwise(
        _one_block_mean, kept, data, tuple(range(data.ndim)), axis=axis,
        concatenate=False, dtype=data.dtype, meta=meta, token="nan_mean",
    )  # fmt: skip


def _one_block_mean(blocks: list[np.ndarray], axis: int) -> np.ndarray:
    """:func:`nan_mean` of the one block along ``axis`` (it lies in one chunk). dask
    hands a reduced axis's blocks as a list; ``map_blocks(drop_axis=...)`` concatenated
    that list of one into a copy of the block (float64, a period's dates: 56 MiB a
    1024^2 block of 7 dates) before every mean."""
    (block,) = blocks
    return nan_mean(block, axis)


def nan_mean(values: np.ndarray, axis: int) -> np.ndarray:
    """The mean over ``axis`` of the non-NaN values of a float array; NaN where none."""
    if axis == values.ndim - 1 or not values.flags.c_contiguous:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Mean of empty slice")
            return np.asarray(np.nanmean(values, axis=axis))
    lead: tuple[Any, ...] = (slice(None),) * axis
    total, valid = _kept(values[(*lead, 0)])
    count = valid.astype(np.intp)
    for i in range(1, values.shape[axis]):
        kept, valid = _kept(values[(*lead, i)])
        total += kept
        count += valid
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.true_divide(total, count, out=total, casting="unsafe")


def _kept(part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``part`` with NaN as zero (a new array), and where it is not NaN."""
    valid = ~np.isnan(part)
    return np.where(valid, part, part.dtype.type(0)), valid
