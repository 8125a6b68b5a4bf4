"""The statistical reducers (sum, product, min, max, mean, median, sd, variance,
extrema) on lists and on the arrays a reducer gets from a cube.

On arrays they are openeo-processes-dask's, with three changes: an empty list gives
nodata (NaN) instead of a numpy error; a list holding arrays (``max(data=[x, y])``) is
reduced pixel by pixel; the mean skips nodata in one pass
(:mod:`hybrid.backends.local.processes.nan_mean`), and of a float32 cube mean, variance
and sd add in doubles, as geotrellis does (:func:`_in_doubles`); and the median of an
integer cube keeps its integer part, as Copernicus stores it (:func:`median`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from hybrid.backends.local.cell_types import integer_type
from hybrid.backends.local.processes import nan_mean
from hybrid.backends.local.processes.comparison import is_array
from hybrid.backends.local.processes.elementwise import float32_array, rounded_once
from hybrid.backends.local.stock import stock_process


def _members_stacked(data: Any, axis: Any, keepdims: bool = False) -> tuple[Any, Any, bool]:
    """A list holding arrays (``max(data=[x, y])``, the openeo client's
    ``overlap_resolver="max"``, ``sum([x, 2])`` in apply) as one array reduced over its
    new first axis: pixel by pixel, as Copernicus resolves; anything else unchanged.
    The members already have a pixel's shape, so that new axis is never kept (a callback
    of apply_dimension asks its reducers to keep the dimension it reduces)."""
    if not isinstance(data, list) or not any(is_array(v) for v in data):
        return data, axis, keepdims
    from hybrid.backends.local.processes.dimensions import stacked

    return stacked([getattr(v, "data", v) for v in data]), 0, False


def _empty_is_nodata(name: str, width: int = 1) -> Callable[..., Any]:
    """The stock reducer, but an empty list gives nodata (NaN) instead of a numpy error."""

    def reducer(
        data: Any, ignore_nodata: bool = True, axis: Any = None, keepdims: bool = False
    ) -> Any:
        if isinstance(data, list) and not data:
            return math.nan if width == 1 else [math.nan] * width
        data, axis, keepdims = _members_stacked(data, axis, keepdims)
        return stock_process(name)(data, ignore_nodata=ignore_nodata, axis=axis, keepdims=keepdims)

    reducer.__name__ = reducer.__qualname__ = name.lstrip("_")
    return reducer


_stock_sum = _empty_is_nodata("_sum")
_stock_product = _empty_is_nodata("product")
min_ = _empty_is_nodata("_min")
max_ = _empty_is_nodata("_max")
_stock_mean = _empty_is_nodata("mean")


def _of_cube(data: Any, axis: Any) -> bool:
    """Whether a reducer gets a cube's values (one array reduced along ``axis``), which
    Copernicus reduces tile by tile, rather than a list of numbers."""
    return is_array(data) and axis is not None


def sum_(
    data: Any,
    ignore_nodata: bool = True,
    axis: Any = None,
    keepdims: bool = False,
    input_cell_type: str | None = None,
) -> Any:
    """The stock sum; of a cube, a pixel with no valid value is nodata, not 0: Copernicus
    adds the tiles with ``AddIgnoreNodata``, which keeps nodata where both are nodata
    (openeo-geotrellis-extensions OpenEOProcessScriptBuilder.scala L1141,
    mapalgebra/AddIgnoreNodata.scala L11-21). Over time of an int16 or boolean cube
    (``input_cell_type``, set from the graph) in that type: :mod:`tile_folds`."""
    data, axis, keepdims = _members_stacked(data, axis, keepdims)
    folded = _folded(data, axis, keepdims, "sum", input_cell_type)
    if folded is not None:
        return folded
    total = _stock_sum(data, ignore_nodata=ignore_nodata, axis=axis, keepdims=keepdims)
    if not (_of_cube(data, axis) and ignore_nodata):
        return total
    empty = np.all(np.isnan(data), axis=axis, keepdims=keepdims)
    return np.where(empty, np.nan, total)


def product(
    data: Any,
    ignore_nodata: bool = True,
    axis: Any = None,
    keepdims: bool = False,
    input_cell_type: str | None = None,
) -> Any:
    """The stock product; of a cube, any nodata makes the pixel nodata whatever
    ``ignore_nodata``: Copernicus multiplies the tiles with geotrellis ``Multiply``,
    which keeps nodata (OpenEOProcessScriptBuilder.scala L1144); over time of an int16
    or boolean cube in that type (:mod:`tile_folds`)."""
    data, axis, keepdims = _members_stacked(data, axis, keepdims)
    folded = _folded(data, axis, keepdims, "product", input_cell_type)
    if folded is not None:
        return folded
    if _of_cube(data, axis):
        return np.prod(data, axis=axis, keepdims=keepdims)
    return _stock_product(data, ignore_nodata=ignore_nodata, axis=axis, keepdims=keepdims)


def _folded(data: Any, axis: Any, keepdims: bool, process: str, cell_type: str | None) -> Any:
    """The fold Copernicus computes for an int16/int32/boolean cube, or None."""
    from hybrid.backends.local.processes.tile_folds import fold

    if cell_type not in ("int16", "int32", "bool") or not _of_cube(data, axis) or keepdims:
        return None
    return fold(data, int(axis), process, cell_type)


def _in_doubles(data: Any, axis: Any) -> bool:
    """Whether a reducer gets a float32 cube's values, which geotrellis's ``Mean`` and
    ``Variance`` accumulate in doubles and store as float32 once (locationtech/geotrellis
    72e24891 Mean.scala L44-58, Variance.scala L48-64); numpy would add in float32."""
    return _of_cube(data, axis) and float32_array(data)


def mean(data: Any, ignore_nodata: bool = True, axis: Any = None, keepdims: bool = False) -> Any:
    """The stock mean; skipping nodata over one axis of float data, in one pass
    (:mod:`hybrid.backends.local.processes.nan_mean`, bit for bit numpy's). Of a cube
    nodata is skipped whatever ``ignore_nodata``: Copernicus's mean is geotrellis
    ``Mean`` of the valid values ("TODO take ignorenodata into account",
    OpenEOProcessScriptBuilder.scala L1161-1162), in doubles (:func:`_in_doubles`)."""
    data, axis, keepdims = _members_stacked(data, axis, keepdims)
    if _in_doubles(data, axis):
        return rounded_once(lambda doubles: mean(doubles, True, axis, keepdims), data)
    ignore_nodata = ignore_nodata or _of_cube(data, axis)
    if ignore_nodata and nan_mean.applies(data, axis, keepdims):
        return nan_mean.nan_mean_of(data, axis)
    return _stock_mean(data, ignore_nodata=ignore_nodata, axis=axis, keepdims=keepdims)


_stock_median = _empty_is_nodata("median")


def median(
    data: Any,
    ignore_nodata: bool = True,
    axis: Any = None,
    keepdims: bool = False,
    input_cell_type: str | None = None,
) -> Any:
    """The stock median; its integer part where it reduces an integer cube
    (``input_cell_type``, set from the graph by :mod:`hybrid.backends.local.cell_types`):
    Copernicus stores the median, computed in doubles, into a tile of the input's cell
    type (openeo-geotrellis-extensions OpenEOProcessScriptBuilder.scala ``median`` and
    ``multibandReduce`` L223-264, ``PRESERVE_DATATYPE_MODE`` L1167-1168), so on the int16
    cube the median of 1500 and 1501 is 1500."""
    result = _stock_median(data, ignore_nodata=ignore_nodata, axis=axis, keepdims=keepdims)
    return np.trunc(result) if integer_type(input_cell_type) else result


_stock_sd = _empty_is_nodata("sd")
_stock_variance = _empty_is_nodata("variance")


def variance(
    data: Any, ignore_nodata: bool = True, axis: Any = None, keepdims: bool = False
) -> Any:
    """The stock variance; of a float32 cube in doubles, stored as float32 once
    (:func:`_in_doubles`)."""
    data, axis, keepdims = _members_stacked(data, axis, keepdims)
    if _in_doubles(data, axis):
        return rounded_once(
            lambda doubles: _stock_variance(
                doubles, ignore_nodata=ignore_nodata, axis=axis, keepdims=keepdims
            ),
            data,
        )
    return _stock_variance(data, ignore_nodata=ignore_nodata, axis=axis, keepdims=keepdims)


def sd(data: Any, ignore_nodata: bool = True, axis: Any = None, keepdims: bool = False) -> Any:
    """The stock standard deviation; of a float32 cube the square root of the float32
    variance, as Copernicus composes ``Sqrt`` and ``Variance``
    (OpenEOProcessScriptBuilder.scala L1163-1166); float32's own square root is
    correctly rounded, as the double one rounded once would be."""
    data, axis, keepdims = _members_stacked(data, axis, keepdims)
    if _in_doubles(data, axis):
        return np.sqrt(variance(data, ignore_nodata=ignore_nodata, axis=axis, keepdims=keepdims))
    return _stock_sd(data, ignore_nodata=ignore_nodata, axis=axis, keepdims=keepdims)


def extrema(data: Any, ignore_nodata: bool = True, axis: Any = None, keepdims: bool = False) -> Any:
    """``[min, max]``: a list for a list; on an array the two stacked first along a new
    axis, so apply_dimension gets two values per pixel (openeo-processes-dask declares
    the result as shape (2,) whatever ``axis`` is)."""
    low = min_(data, ignore_nodata=ignore_nodata, axis=axis)
    high = max_(data, ignore_nodata=ignore_nodata, axis=axis)
    if isinstance(data, list):
        return [low, high] if not data else [_scalar(low), _scalar(high)]
    import dask.array as da

    if isinstance(low, da.Array) or isinstance(high, da.Array):
        return da.stack([da.asarray(low), da.asarray(high)])
    return np.stack([np.asarray(low), np.asarray(high)])


def _scalar(value: Any) -> Any:
    value = value.compute() if hasattr(value, "compute") else value
    return value.item() if hasattr(value, "item") else value
