"""quantiles along an axis of a cube's array, vectorised.

openeo-processes-dask calls ``np.nanquantile``, which runs a Python function per pixel
once the array holds NaN, and makes a dask array numpy (computing it). Here the array is sorted once along the axis (NaN last) and
each probability is read from the sorted values, lazily per block for dask.

As Copernicus (openeo-geotrellis-extensions ``OpenEOProcessScriptBuilder.scala``
``quantilesFunction``, L1326-1350): commons-math ``Percentile`` with estimation type
R_7 (linear interpolation between the closest ranks, numpy's default), nodata left
out (all nodata: nodata); with ``ignore_nodata`` false any nodata gives nodata. The
probabilities replace the reduced axis, in the order given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _sorted_quantiles(
    block: np.ndarray, probabilities: Sequence[float], axis: int, ignore_nodata: bool
) -> np.ndarray:
    values = np.asarray(block, dtype=np.float64)
    ordered = np.sort(values, axis=axis)  # NaN sorts last
    count = np.sum(~np.isnan(values), axis=axis, keepdims=True)
    last = np.maximum(count - 1, 0)
    results = []
    for p in probabilities:
        position = p * last
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, last)
        a = np.take_along_axis(ordered, low, axis=axis)
        b = np.take_along_axis(ordered, high, axis=axis)
        fraction = position - low
        with np.errstate(invalid="ignore"):
            between = np.where((fraction == 0) | (a == b), a, a + fraction * (b - a))
        results.append(np.where(count == 0, np.nan, between))
    out = np.concatenate(results, axis=axis)
    if not ignore_nodata:
        out = np.where(count < values.shape[axis], np.nan, out)
    return out


def along(data: Any, probabilities: Sequence[float], axis: int, ignore_nodata: bool = True) -> Any:
    """The ``probabilities`` quantiles of ``data`` along ``axis``, which they replace."""
    import dask.array as da

    axis = axis % np.ndim(data)
    if not isinstance(data, da.Array):
        return _sorted_quantiles(np.asarray(data), probabilities, axis, ignore_nodata)
    whole = data.rechunk({axis: -1})
    chunks = list(whole.chunks)
    chunks[axis] = (len(probabilities),)
    return whole.map_blocks(
        _sorted_quantiles,
        list(probabilities),
        axis,
        ignore_nodata,
        chunks=tuple(chunks),
        dtype=np.float64,
    )
