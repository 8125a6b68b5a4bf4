"""quantiles: of a list, and along an axis of a cube's array, vectorised.

On a cube openeo-processes-dask calls ``np.nanquantile``, which runs a Python function per pixel
once the array holds NaN, and makes a dask array numpy (computing it). Here the array
is sorted once along the axis (NaN last) and each probability is read from the sorted
values, lazily per block for dask.

As Copernicus (openeo-geotrellis-extensions ``OpenEOProcessScriptBuilder.scala``
``quantilesFunction``, L1326-1350): commons-math ``Percentile`` with estimation type
R_7 (linear interpolation between the closest ranks, numpy's default), nodata left
out (all nodata: nodata); with ``ignore_nodata`` false any nodata gives nodata. The
probabilities replace the reduced axis, in the order given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from hybrid.backends.local.cell_types import integer_type
from hybrid.backends.local.processes.comparison import is_array, is_nan_value, null_of
from hybrid.errors import ProcessParameterInvalid


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


def _probabilities(probabilities: Any, q: Any) -> list[float]:
    if probabilities is not None and q is not None:
        raise ProcessParameterInvalid(
            "quantiles: QuantilesParameterConflict: set either 'probabilities' or 'q', not both"
        )
    count = q if probabilities is None else probabilities
    if count is None:
        raise ProcessParameterInvalid(
            "quantiles: QuantilesParameterMissing: set 'probabilities' (or the deprecated 'q')"
        )
    if isinstance(count, int) and not isinstance(count, bool):
        if count < 2:
            raise ProcessParameterInvalid("quantiles: 'probabilities' as a count must be >= 2")
        return [k / count for k in range(1, count)]
    return [float(p) for p in count]


def _quantile(ordered: list[float], p: float) -> float:
    """Type 7 (linear) sample quantile of sorted values; infinities stay infinite."""
    position = p * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    a, b = ordered[low], ordered[high]
    if fraction == 0 or a == b:
        return a
    if math.isinf(a) or math.isinf(b):
        return a if math.isinf(a) else b
    return a + fraction * (b - a)


def quantiles(
    data: Any,
    probabilities: Any = None,
    q: Any = None,
    ignore_nodata: bool = True,
    axis: Any = None,
    keepdims: bool = False,
    nearest_rank: bool = False,
    input_cell_type: str | None = None,
) -> Any:
    """openEO quantiles; ``nearest_rank`` (set by the engine, not by graphs: see
    :mod:`hybrid.backends.local.spatial_reducers`) as aggregate_spatial computes them.
    Over an integer cube's time series (``input_cell_type``, set from the graph by
    :mod:`hybrid.backends.local.cell_types`) each quantile keeps its integer part:
    Copernicus stores them into tiles of its input's cell type
    (OpenEOProcessScriptBuilder.scala ``multibandMapToNewTiles`` L211, ``ArrayTile.empty(
    tile.cellType, ...)``; geotrellis ``ShortArrayTile.setDouble`` truncates)."""
    probs = _probabilities(probabilities, q)
    if nearest_rank and is_array(data) and axis is not None and not keepdims:
        return _nearest_ranks(np.asarray(data, dtype=np.float64), probs, axis)
    if is_array(data):
        found = _of_array(data, probs, axis, ignore_nodata, keepdims, (probabilities, q))
        return np.trunc(found) if integer_type(input_cell_type) else found
    values = list(data)
    valid = [v for v in values if v is not None and not is_nan_value(v)]
    if len(valid) < len(values) and not ignore_nodata:
        return [null_of(*values)] * len(probs)
    if not valid:
        return [math.nan] * len(probs)
    ordered = sorted(float(v) for v in valid)
    return [_quantile(ordered, p) for p in probs]


def _of_array(
    data: Any,
    probs: list[float],
    axis: Any,
    ignore_nodata: bool,
    keepdims: bool,
    given: tuple[Any, Any],
) -> Any:
    """The quantiles of an array: sorted once along ``axis`` (:func:`along`) where
    that is given, else openeo-processes-dask's (``given``: probabilities and q as the
    graph gives them)."""
    if axis is not None and not keepdims and np.ndim(data) > 1:
        return along(data, probs, axis, ignore_nodata)
    from hybrid.backends.local.stock import stock_implementations

    stock = stock_implementations().quantiles
    return stock(data, given[0], given[1], ignore_nodata, axis, keepdims)


#: percentile_approx's relative error at the accuracy Copernicus passes (100000)
_SPARK_RELATIVE_ERROR = 1e-5


def _nearest_ranks(values: np.ndarray, probabilities: Sequence[float], axis: int) -> np.ndarray:
    """Spark's ``percentile_approx`` of the values along ``axis``, NaN left out, per
    probability: the value of rank ceil(p n), the first below the relative error, the
    last above 1 minus it; exact while the values are fewer than the accuracy (Spark
    ``QuantileSummaries.query``, ``findApproxQuantile``). The probabilities replace the
    axis."""
    axis = axis % values.ndim
    ordered = np.sort(values, axis=axis)  # NaN sorts last
    count = np.sum(~np.isnan(values), axis=axis, keepdims=True)
    results = []
    for p in probabilities:
        if p <= _SPARK_RELATIVE_ERROR:
            rank = np.ones_like(count)
        elif p >= 1 - _SPARK_RELATIVE_ERROR:
            rank = count
        else:
            rank = np.ceil(p * count).astype(count.dtype)
        index = np.clip(rank - 1, 0, max(values.shape[axis] - 1, 0))
        picked = np.take_along_axis(ordered, index, axis=axis)
        results.append(np.where(count == 0, np.nan, picked))
    return np.concatenate(results, axis=axis)
